//! Any UTF-8 text, read as YAML by the fast reader of the common subset and by saphyr: whenever
//! the fast reader does not fall back, both must give the same events at the same positions and
//! the same tree (`rave::fuzzing::compare_yaml_readers` panics otherwise).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        rave::fuzzing::compare_yaml_readers(text);
    }
});
