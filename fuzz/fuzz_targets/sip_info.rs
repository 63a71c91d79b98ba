//! A SIP INFO body (first line: its Content-Type).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| touchtone_sip::fuzzing::info(data));
