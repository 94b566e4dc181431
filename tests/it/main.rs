//! Integration tests: the real `rave` binary, run in temporary directories.
