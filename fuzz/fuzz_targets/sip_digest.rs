//! The digest challenge and credentials rewrite on any SIP message.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| touchtone_sip::fuzzing::digest(data));
