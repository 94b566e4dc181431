//! Any bytes, read as TOML by rave's fast reader and by `toml`, whole and cut in pieces as a large
//! file is cut: the fast reader must decline, or read exactly what `toml` reads (values, key
//! order, positions).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    rave::fuzzing::toml_fast_path_agrees(bytes);
});
