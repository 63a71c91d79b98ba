//! A small call flow for exercising the engine end to end before the real
//! flows exist: answer, play a tone, collect digits ending with `#`, play
//! them back as DTMF tones, hang up. `touchtone sip-test` runs it.

use crate::channel::{Channel, CollectSpec};
use crate::dtmf::Digit;
use crate::engine::CallHandler;
use crate::prompt::Prompt;
use async_trait::async_trait;
use std::time::Duration;
use tokio::sync::mpsc;
use tracing::info;

/// What one run of the flow saw (for tests and the CLI's log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestFlowReport {
    pub call_id: String,
    pub digits: Option<String>,
    pub hung_up_by_caller: bool,
}

pub struct TestFlow {
    pub greeting: Prompt,
    pub reports: Option<mpsc::Sender<TestFlowReport>>,
    pub spec: CollectSpec,
}

impl Default for TestFlow {
    fn default() -> Self {
        TestFlow {
            // A 440 Hz beep after half a second of silence.
            greeting: Prompt::concat(&[Prompt::silence(500), Prompt::tone(440.0, 400, -12.0)]),
            reports: None,
            spec: CollectSpec {
                first_digit_timeout: Duration::from_secs(10),
                ..CollectSpec::default()
            },
        }
    }
}

/// The prompts that read `digits` back: each key's DTMF tone then a pause.
pub fn read_back(digits: &str) -> Vec<Prompt> {
    let keys: Vec<Digit> = digits.chars().filter_map(Digit::from_char).collect();
    Prompt::dtmf_keys(&keys, 80, 80)
}

#[async_trait]
impl CallHandler for TestFlow {
    async fn handle(&self, mut channel: Channel) {
        let call_id = channel.info.call_id.clone();
        let mut report = TestFlowReport {
            call_id: call_id.clone(),
            digits: None,
            hung_up_by_caller: false,
        };
        match channel
            .play_and_collect(std::slice::from_ref(&self.greeting), &self.spec)
            .await
        {
            Ok(collected) => {
                info!(%call_id, digits = collected.digits.len(), end = ?collected.end, "test flow collected digits");
                let prompts = read_back(&collected.digits);
                report.digits = Some(collected.digits);
                if channel.play(&prompts, false).await.is_err() {
                    report.hung_up_by_caller = true;
                }
            }
            Err(_) => report.hung_up_by_caller = true,
        }
        if let Some(tx) = &self.reports {
            let _ = tx.send(report).await;
        }
        channel.hangup().await;
    }
}
