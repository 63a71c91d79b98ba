//! An RTP packet and an RFC 4733 telephone-event payload.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| touchtone_sip::fuzzing::rtp(data));
