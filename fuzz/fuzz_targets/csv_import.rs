//! The people and the answers CSV imports.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| touchtone_server::fuzzing::csv_imports(data));
