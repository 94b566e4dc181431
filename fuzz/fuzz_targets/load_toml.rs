//! Any bytes, read as a `rave.toml`: loading, validating and rendering the problems must never
//! panic, hang or exhaust memory.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    rave::fuzzing::load_bytes(bytes, true);
});
