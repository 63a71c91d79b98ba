//! Plugs the reset flow into the SIP engine: every answered call (to one
//! of the configured numbers, or to any when none are configured) runs
//! [`ResetFlow`] on a [`SipLine`].

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;
use touchtone_sip::{CallHandler, Channel};

use crate::backend::CallContext;
use crate::flow::{FlowOutcome, ResetFlow};
use crate::line::SipLine;
use crate::voice::Voice;

pub struct IvrHandler {
    flow: ResetFlow,
    voice: Arc<Voice>,
    /// Request-URI user parts that reach the flow; empty: all.
    numbers: Vec<String>,
    reports: Option<mpsc::Sender<FlowOutcome>>,
}

impl IvrHandler {
    pub fn new(flow: ResetFlow, voice: Arc<Voice>) -> IvrHandler {
        IvrHandler {
            flow,
            voice,
            numbers: Vec::new(),
            reports: None,
        }
    }

    /// Only calls to these numbers (request-URI user parts) are answered.
    pub fn with_numbers(mut self, numbers: Vec<String>) -> IvrHandler {
        self.numbers = numbers;
        self
    }

    /// Each call's outcome is sent here (dropped when the receiver lags:
    /// reports must never hold up a call).
    pub fn with_reports(mut self, reports: mpsc::Sender<FlowOutcome>) -> IvrHandler {
        self.reports = Some(reports);
        self
    }
}

#[async_trait]
impl CallHandler for IvrHandler {
    async fn handle(&self, channel: Channel) {
        let call = CallContext {
            call_id: channel.info.call_id.clone(),
            // The address the peer asked for media at: the signalling
            // source is not exposed by the engine, and for audit and the
            // session's address binding either identifies the peer.
            peer_ip: channel.info.remote_media.ip(),
            caller_number: channel.info.caller.clone(),
        };
        let mut line = SipLine::new(channel, self.voice.clone());
        let outcome = self.flow.run(&mut line, &call).await;
        if let Some(reports) = &self.reports {
            let _ = reports.try_send(outcome);
        }
    }

    fn accepts(&self, called: Option<&str>) -> bool {
        self.numbers.is_empty() || called.is_some_and(|c| self.numbers.iter().any(|n| n == c))
    }
}
