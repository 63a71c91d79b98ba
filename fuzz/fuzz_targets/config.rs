//! touchtone.toml.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| touchtone_server::fuzzing::config(data));
