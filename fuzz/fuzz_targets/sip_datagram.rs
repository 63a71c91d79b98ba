//! A SIP datagram as the engine receives it: the wire guard, then rsipstack.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| touchtone_sip::fuzzing::datagram(data));
