//! Free text to speech with the real espeak-ng (Debian package
//! `espeak-ng`, installed by `.ci/run`), its cache, and the fallbacks.

use std::path::PathBuf;

use touchtone_ivr::PromptSet;
use touchtone_ivr::tts::Tts;
use touchtone_ivr::{Say, Voice};
use touchtone_sip::g711;

fn loud_fraction(samples: &[u8]) -> f64 {
    let loud = samples
        .iter()
        .filter(|&&b| g711::ulaw_to_linear(b).unsigned_abs() > 1000)
        .count();
    loud as f64 / samples.len().max(1) as f64
}

#[tokio::test]
async fn espeak_speaks_a_question_once_and_the_cache_serves_it_after() {
    touchtone_testkit::programs::require("espeak-ng", "espeak-ng");
    let cache = tempfile::tempdir().unwrap();
    let tts = Tts::detect("en-us", Some(cache.path().to_path_buf())).expect("espeak-ng found");
    let text = "What was the name of your first pet?";
    let spoken = tts.speak(text).await.unwrap();
    assert!(
        (1000..6000).contains(&spoken.duration_ms()),
        "{} ms",
        spoken.duration_ms()
    );
    assert!(loud_fraction(spoken.ulaw()) > 0.2, "speech, not silence");
    let files: Vec<_> = std::fs::read_dir(cache.path()).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "one cached rendering");

    // Another process (a restart) finds it on disk: no synthesiser needed.
    let restarted = Tts::new(
        PathBuf::from("/nonexistent/espeak-ng"),
        "en-us",
        Some(cache.path().to_path_buf()),
    );
    assert_eq!(restarted.speak(text).await.unwrap(), spoken);
    // Another voice or text is another entry, and fails without a synthesiser.
    assert!(restarted.speak("Another question?").await.is_err());
    assert!(restarted.speak("").await.is_err());
}

#[tokio::test]
async fn without_a_synthesiser_free_text_is_spelled_and_recordings_win() {
    let prompts = PromptSet::embedded("en").unwrap();
    let broken = Tts::new(PathBuf::from("/nonexistent/espeak-ng"), "en-us", None);
    let voice = Voice::new(prompts.clone(), Some(broken));
    let spelled = voice.render(&[Say::text("Bo 7")]).await.unwrap();
    let expected = vec![
        prompts.get("nato-bravo").unwrap(),
        prompts.get("nato-oscar").unwrap(),
        touchtone_sip::Prompt::silence(300),
        prompts.get("digit-7").unwrap(),
    ];
    assert_eq!(spelled, expected);

    // An operator's recording for a question replaces its text.
    let voice = Voice::new(prompts.clone(), None);
    let said = voice
        .render(&[Say::Text {
            text: "ignored".into(),
            recording: Some("goodbye".into()),
        }])
        .await
        .unwrap();
    assert_eq!(said, vec![prompts.get("goodbye").unwrap()]);
    // A missing fixed prompt is an error, not silence.
    assert!(
        voice
            .render(&[Say::Prompt("no-such-prompt")])
            .await
            .is_err()
    );
}
