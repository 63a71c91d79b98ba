//! The JSON request body of every API function, and the error message for one that does not fit.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| touchtone_server::fuzzing::api_json(data));
