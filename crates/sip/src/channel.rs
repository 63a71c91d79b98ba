//! `Channel`: what a call flow sees of a call. Play prompts, collect digits,
//! transfer, hang up; every operation returns `Err(ChannelError::HungUp)`
//! as soon as the other side hangs up, whatever it was waiting for.

use crate::dtmf::{Digit, DigitSource};
use crate::prompt::Prompt;
use crate::rtp::session::MediaSession;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ChannelError {
    #[error("the call has ended")]
    HungUp,
}

/// How `play_and_collect` gathers digits.
#[derive(Debug, Clone)]
pub struct CollectSpec {
    pub max_digits: usize,
    /// The key that ends input early (not included in the digits), e.g. `#`.
    pub terminator: Option<Digit>,
    /// How long to wait for the first digit once the prompt has finished.
    pub first_digit_timeout: Duration,
    /// How long to wait for each further digit.
    pub inter_digit_timeout: Duration,
    /// Whether a key pressed during the prompt stops it (and counts as the
    /// first digit). Without barge-in, keys pressed during the prompt are
    /// discarded.
    pub barge_in: bool,
}

impl Default for CollectSpec {
    fn default() -> Self {
        CollectSpec {
            max_digits: 20,
            terminator: Digit::from_char('#'),
            first_digit_timeout: Duration::from_secs(8),
            inter_digit_timeout: Duration::from_secs(5),
            barge_in: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectEnd {
    Terminator,
    MaxDigits,
    Timeout,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collected {
    pub digits: String,
    pub end: CollectEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlayOutcome {
    Completed,
    Interrupted(Digit),
}

/// The result of a blind transfer (REFER, RFC 3515).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransferOutcome {
    /// The transfer target answered (NOTIFY carried a 2xx); our leg is
    /// hung up.
    Completed,
    /// The peer refused the REFER, or the target failed, with this status.
    Failed(Option<u16>),
    /// No final NOTIFY arrived in time.
    TimedOut,
}

/// Who is on the line.
#[derive(Debug, Clone)]
pub struct CallInfo {
    pub call_id: String,
    /// The user part of From (the calling number for calls from a trunk).
    pub caller: Option<String>,
    pub caller_display_name: Option<String>,
    /// The user part of the request URI (the number that was dialled).
    pub called: Option<String>,
    pub inbound: bool,
    /// Where the peer asked for RTP when the call was set up (symmetric
    /// RTP may later send elsewhere).
    pub remote_media: SocketAddr,
}

pub(crate) enum CallCommand {
    Hangup,
    Transfer {
        target: String,
        reply: oneshot::Sender<TransferOutcome>,
    },
}

pub struct Channel {
    pub info: CallInfo,
    media: Arc<MediaSession>,
    digits: mpsc::Receiver<(Digit, DigitSource)>,
    commands: mpsc::Sender<CallCommand>,
    ended: CancellationToken,
}

impl Channel {
    pub(crate) fn new(
        info: CallInfo,
        media: Arc<MediaSession>,
        digits: mpsc::Receiver<(Digit, DigitSource)>,
        commands: mpsc::Sender<CallCommand>,
        ended: CancellationToken,
    ) -> Self {
        Channel {
            info,
            media,
            digits,
            commands,
            ended,
        }
    }

    pub fn is_ended(&self) -> bool {
        self.ended.is_cancelled()
    }

    /// Resolves when the call ends, for whatever reason.
    pub async fn ended(&self) {
        self.ended.cancelled().await
    }

    /// Plays prompts back to back. With `barge_in`, a key press stops the
    /// prompt and is returned; without, keys pressed meanwhile are dropped.
    pub async fn play(
        &mut self,
        prompts: &[Prompt],
        barge_in: bool,
    ) -> Result<PlayOutcome, ChannelError> {
        if self.is_ended() {
            return Err(ChannelError::HungUp);
        }
        let Some((last, first)) = prompts.split_last() else {
            return Ok(PlayOutcome::Completed);
        };
        let (done_tx, mut done_rx) = oneshot::channel();
        for p in first {
            self.media.outbound.enqueue(p.ulaw().clone(), None);
        }
        self.media
            .outbound
            .enqueue(last.ulaw().clone(), Some(done_tx));
        loop {
            tokio::select! {
                biased;
                _ = self.ended.cancelled() => return Err(ChannelError::HungUp),
                r = &mut done_rx => {
                    // Err: cleared by someone else; either way playback is over.
                    let _ = r;
                    if !barge_in {
                        while self.digits.try_recv().is_ok() {}
                    }
                    return Ok(PlayOutcome::Completed);
                }
                d = self.digits.recv() => {
                    let Some((digit, _)) = d else { return Err(ChannelError::HungUp) };
                    if barge_in {
                        self.media.outbound.clear();
                        return Ok(PlayOutcome::Interrupted(digit));
                    }
                }
            }
        }
    }

    /// Plays prompts, then collects digits as `spec` says.
    pub async fn play_and_collect(
        &mut self,
        prompts: &[Prompt],
        spec: &CollectSpec,
    ) -> Result<Collected, ChannelError> {
        let mut digits = String::new();
        if let PlayOutcome::Interrupted(d) = self.play(prompts, spec.barge_in).await? {
            if Some(d) == spec.terminator {
                return Ok(Collected {
                    digits,
                    end: CollectEnd::Terminator,
                });
            }
            digits.push(d.as_char());
        }
        loop {
            if digits.len() >= spec.max_digits {
                return Ok(Collected {
                    digits,
                    end: CollectEnd::MaxDigits,
                });
            }
            let wait = if digits.is_empty() {
                spec.first_digit_timeout
            } else {
                spec.inter_digit_timeout
            };
            let next = tokio::select! {
                biased;
                _ = self.ended.cancelled() => return Err(ChannelError::HungUp),
                d = tokio::time::timeout(wait, self.digits.recv()) => d,
            };
            match next {
                Err(_) => {
                    return Ok(Collected {
                        digits,
                        end: CollectEnd::Timeout,
                    });
                }
                Ok(None) => return Err(ChannelError::HungUp),
                Ok(Some((d, _))) if Some(d) == spec.terminator => {
                    return Ok(Collected {
                        digits,
                        end: CollectEnd::Terminator,
                    });
                }
                Ok(Some((d, _))) => digits.push(d.as_char()),
            }
        }
    }

    /// Sends keys to the peer: as RFC 4733 events when it negotiated
    /// telephone-event (100 ms each, 100 ms apart), else as in-band tones.
    /// Returns once the last key has been sent.
    pub async fn send_digits(&mut self, keys: &str) -> Result<(), ChannelError> {
        let digits: Vec<Digit> = keys.chars().filter_map(Digit::from_char).collect();
        let codes: Vec<u8> = digits.iter().map(|d| d.event_code()).collect();
        let (done_tx, done_rx) = oneshot::channel();
        if !self.media.outbound.send_events(&codes, 100, 100, done_tx) {
            let tones = Prompt::dtmf_keys(&digits, 100, 100);
            return self.play(&tones, false).await.map(|_| ());
        }
        tokio::select! {
            _ = self.ended.cancelled() => Err(ChannelError::HungUp),
            _ = done_rx => Ok(()),
        }
    }

    /// Blind transfer by REFER. On `Completed` the call is over.
    pub async fn transfer(&mut self, target: &str) -> Result<TransferOutcome, ChannelError> {
        let (reply, outcome) = oneshot::channel();
        self.commands
            .send(CallCommand::Transfer {
                target: target.to_string(),
                reply,
            })
            .await
            .map_err(|_| ChannelError::HungUp)?;
        tokio::select! {
            r = outcome => r.map_err(|_| ChannelError::HungUp),
            _ = self.ended.cancelled() => Err(ChannelError::HungUp),
        }
    }

    /// Ends the call (BYE). Returns once the call is over.
    pub async fn hangup(&mut self) {
        if self.is_ended() {
            return;
        }
        let _ = self.commands.send(CallCommand::Hangup).await;
        self.ended.cancelled().await;
    }

    /// Our RTP socket's address (for tests and diagnostics).
    pub fn local_rtp(&self) -> SocketAddr {
        self.media.local
    }

    /// RTP packets received so far (for tests and diagnostics).
    pub fn packets_received(&self) -> u64 {
        self.media
            .counters
            .packets_received
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::g711::Codec;
    use crate::rtp::pacer::{Pacer, PacerOptions};
    use crate::rtp::stream::{InBandDtmf, MediaParams};

    struct Harness {
        digits: mpsc::Sender<(Digit, DigitSource)>,
        ended: CancellationToken,
        /// Held so the channel's command queue stays open.
        _commands: mpsc::Receiver<CallCommand>,
    }

    /// A channel over a real loopback socket, with the digit queue exposed.
    fn channel(pacer: &Pacer) -> (Channel, Harness) {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        let params = MediaParams {
            remote: "127.0.0.1:9".parse().unwrap(),
            codec: Codec::Pcmu,
            payload_type: 0,
            telephone_event: Some(101),
            own_telephone_event: Some(101),
            in_band: InBandDtmf::Never,
            strict: true,
            send_silence: true,
        };
        let (digit_tx, digit_rx) = mpsc::channel(16);
        let media = Arc::new(MediaSession::start(socket, params, pacer, digit_tx.clone()).unwrap());
        let (command_tx, command_rx) = mpsc::channel(1);
        let ended = CancellationToken::new();
        let info = CallInfo {
            call_id: "test".into(),
            caller: None,
            caller_display_name: None,
            called: None,
            inbound: true,
            remote_media: "127.0.0.1:9".parse().unwrap(),
        };
        let harness = Harness {
            digits: digit_tx,
            ended: ended.clone(),
            _commands: command_rx,
        };
        (
            Channel::new(info, media, digit_rx, command_tx, ended),
            harness,
        )
    }

    fn key(c: char) -> (Digit, DigitSource) {
        (Digit::from_char(c).unwrap(), DigitSource::Rfc4733)
    }

    fn spec() -> CollectSpec {
        CollectSpec {
            max_digits: 4,
            first_digit_timeout: Duration::from_secs(5),
            inter_digit_timeout: Duration::from_secs(2),
            ..CollectSpec::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_digit_timeout_ends_an_empty_collection() {
        let pacer = Pacer::start(1, PacerOptions::default()).unwrap();
        let (mut ch, _h) = channel(&pacer);
        let started = tokio::time::Instant::now();
        let got = ch.play_and_collect(&[], &spec()).await.unwrap();
        assert_eq!(
            got,
            Collected {
                digits: String::new(),
                end: CollectEnd::Timeout
            }
        );
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn the_inter_digit_timeout_runs_from_the_last_key() {
        let pacer = Pacer::start(1, PacerOptions::default()).unwrap();
        let (mut ch, h) = channel(&pacer);
        let digits = h.digits.clone();
        let started = tokio::time::Instant::now();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(4)).await;
            digits.send(key('1')).await.unwrap();
            tokio::time::sleep(Duration::from_millis(1900)).await;
            digits.send(key('2')).await.unwrap();
        });
        let got = ch.play_and_collect(&[], &spec()).await.unwrap();
        assert_eq!(
            got,
            Collected {
                digits: "12".into(),
                end: CollectEnd::Timeout
            }
        );
        assert_eq!(started.elapsed(), Duration::from_millis(4000 + 1900 + 2000));
    }

    #[tokio::test(start_paused = true)]
    async fn terminator_and_max_digits_end_collection() {
        let pacer = Pacer::start(1, PacerOptions::default()).unwrap();
        let (mut ch, h) = channel(&pacer);
        let digits = h.digits.clone();
        for c in "12#9".chars() {
            digits.send(key(c)).await.unwrap();
        }
        let got = ch.play_and_collect(&[], &spec()).await.unwrap();
        assert_eq!(
            got,
            Collected {
                digits: "12".into(),
                end: CollectEnd::Terminator
            }
        );
        for c in "34567".chars() {
            digits.send(key(c)).await.unwrap();
        }
        // '9' was typed ahead and is kept for the next collection.
        let got = ch.play_and_collect(&[], &spec()).await.unwrap();
        assert_eq!(
            got,
            Collected {
                digits: "9345".into(),
                end: CollectEnd::MaxDigits
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_hang_up_ends_a_collection_at_once() {
        let pacer = Pacer::start(1, PacerOptions::default()).unwrap();
        let (mut ch, h) = channel(&pacer);
        let ended = h.ended.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            ended.cancel();
        });
        let started = tokio::time::Instant::now();
        assert_eq!(
            ch.play_and_collect(&[], &spec()).await,
            Err(ChannelError::HungUp)
        );
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        assert_eq!(
            ch.play(&[Prompt::silence(100)], true).await,
            Err(ChannelError::HungUp)
        );
    }

    #[tokio::test]
    async fn barge_in_stops_a_prompt_and_keeps_the_key() {
        let pacer = Pacer::start(1, PacerOptions::default()).unwrap();
        let (mut ch, h) = channel(&pacer);
        let digits = h.digits.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            digits.send(key('7')).await.unwrap();
            digits.send(key('#')).await.unwrap();
        });
        let started = std::time::Instant::now();
        let got = ch
            .play_and_collect(&[Prompt::silence(5000)], &spec())
            .await
            .unwrap();
        assert_eq!(
            got,
            Collected {
                digits: "7".into(),
                end: CollectEnd::Terminator
            }
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "the 5 s prompt was cut short"
        );
    }

    #[tokio::test]
    async fn without_barge_in_keys_during_the_prompt_are_dropped() {
        let pacer = Pacer::start(1, PacerOptions::default()).unwrap();
        let (mut ch, h) = channel(&pacer);
        let digits = h.digits.clone();
        digits.send(key('5')).await.unwrap();
        let outcome = ch.play(&[Prompt::silence(300)], false).await.unwrap();
        assert_eq!(outcome, PlayOutcome::Completed);
        let got = ch
            .play_and_collect(
                &[],
                &CollectSpec {
                    first_digit_timeout: Duration::from_millis(100),
                    ..spec()
                },
            )
            .await
            .unwrap();
        assert_eq!(got.digits, "");
    }
}
