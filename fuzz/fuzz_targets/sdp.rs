//! An SDP offer or answer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| touchtone_sip::fuzzing::sdp(data));
