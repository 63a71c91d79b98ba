//! Real DTMF key tones rendered by `sox` (Debian package `sox`), as 8 kHz
//! µ-law for a peer to stream: what a caller's phone sends in band.

/// The two frequencies of a key (ITU-T Q.23).
fn frequencies(key: char) -> (u32, u32) {
    let row = match key {
        '1' | '2' | '3' | 'A' => 697,
        '4' | '5' | '6' | 'B' => 770,
        '7' | '8' | '9' | 'C' => 852,
        '*' | '0' | '#' | 'D' => 941,
        _ => panic!("no DTMF tone for {key:?}"),
    };
    let column = match key {
        '1' | '4' | '7' | '*' => 1209,
        '2' | '5' | '8' | '0' => 1336,
        '3' | '6' | '9' | '#' => 1477,
        _ => 1633,
    };
    (row, column)
}

/// Half a second of silence, then each group's keys (80 ms tone, 80 ms
/// gap) followed by that group's pause in milliseconds.
pub fn dtmf_ulaw(groups: &[(&str, u32)]) -> Vec<u8> {
    crate::programs::require("sox", "sox");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("part.ulaw");
    let run = |args: &[&str]| {
        let status = std::process::Command::new("sox")
            .args(["-n", "-r", "8000", "-c", "1", "-e", "mu-law", "-t", "raw"])
            .arg(&out)
            .args(args)
            .status()
            .expect("sox runs");
        assert!(status.success(), "sox {args:?}");
        std::fs::read(&out).expect("sox wrote its output")
    };
    let silence = |ms: u32| run(&["trim", "0", &format!("{:.3}", f64::from(ms) / 1000.0)]);
    let mut audio = silence(500);
    for (keys, pause_ms) in groups {
        for key in keys.chars() {
            let (low, high) = frequencies(key);
            audio.extend(run(&[
                "synth",
                "0.08",
                "sine",
                &low.to_string(),
                "sine",
                &high.to_string(),
                "channels",
                "1",
                "vol",
                "-8dB",
            ]));
            audio.extend(silence(80));
        }
        audio.extend(silence(*pause_ms));
    }
    audio
}
