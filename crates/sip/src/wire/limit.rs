//! Per-source request limits, like Kamailio's pike module: a source that
//! sends requests faster than `[sip.limit]` allows is answered 503 with
//! Retry-After, then ignored until its block ends. Trusted sources (the
//! trunk, a proxy in front of us) are never limited.
//!
//! The rate itself is governor's keyed GCRA; what we add is the block and
//! keeping both tables bounded.

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `[sip.limit]`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SourceLimit {
    /// Requests a second one source may send in the long run (0 = no
    /// limit).
    pub requests_per_sec: u32,
    /// Requests one source may send at once before the rate applies.
    pub burst: u32,
    /// How long a source that went over is ignored.
    pub block_secs: u64,
    /// Sources never limited: the trunk, a Kamailio or SBC in front of us
    /// (every call arrives from them). Loopback is not trusted by default.
    pub trusted: Vec<IpNet>,
}

impl Default for SourceLimit {
    fn default() -> Self {
        // Generous for one PBX or phone (a call costs three or four
        // requests); a proxy carrying many callers belongs in `trusted`.
        SourceLimit {
            requests_per_sec: 50,
            burst: 200,
            block_secs: 60,
            trusted: Vec::new(),
        }
    }
}

/// What to do with one request from a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Pass,
    /// Over the limit: answer 503 with this Retry-After.
    Refuse {
        retry_after_secs: u64,
    },
    /// Blocked: ignore.
    Ignore,
}

/// Blocked sources kept at most; past this the oldest blocks are
/// forgotten first (their sources would just be limited again).
const MAX_BLOCKED: usize = 65_536;
/// How often the tables are swept of forgotten sources.
const SWEEP: Duration = Duration::from_secs(5);

pub(crate) struct Limiter {
    config: SourceLimit,
    rate: DefaultKeyedRateLimiter<IpAddr>,
    state: Mutex<State>,
}

struct Block {
    until: Instant,
    /// When this source was last told 503: at most once a second, so a
    /// flood is not answered packet for packet.
    last_refusal: Instant,
}

struct State {
    blocked: HashMap<IpAddr, Block>,
    swept: Instant,
}

impl Limiter {
    /// `None` when the limit is off.
    pub(crate) fn new(config: SourceLimit) -> Option<Limiter> {
        let rate = NonZeroU32::new(config.requests_per_sec)?;
        let burst = NonZeroU32::new(config.burst.max(config.requests_per_sec)).unwrap_or(rate);
        Some(Limiter {
            rate: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            config,
            state: Mutex::new(State {
                blocked: HashMap::new(),
                swept: Instant::now(),
            }),
        })
    }

    pub(crate) fn decide(&self, source: IpAddr) -> Decision {
        if self.config.trusted.iter().any(|n| n.contains(&source)) {
            return Decision::Pass;
        }
        let now = Instant::now();
        let Ok(mut state) = self.state.lock() else {
            return Decision::Pass;
        };
        if now.duration_since(state.swept) >= SWEEP {
            state.blocked.retain(|_, b| b.until > now);
            self.rate.retain_recent();
            state.swept = now;
        }
        if let Some(block) = state.blocked.get_mut(&source) {
            if block.until > now {
                if now.duration_since(block.last_refusal) >= Duration::from_secs(1) {
                    block.last_refusal = now;
                    return Decision::Refuse {
                        retry_after_secs: block.until.duration_since(now).as_secs().max(1),
                    };
                }
                return Decision::Ignore;
            }
            state.blocked.remove(&source);
        }
        if self.rate.check_key(&source).is_ok() {
            return Decision::Pass;
        }
        if state.blocked.len() >= MAX_BLOCKED
            && let Some(oldest) = state
                .blocked
                .iter()
                .min_by_key(|(_, b)| b.until)
                .map(|(ip, _)| *ip)
        {
            state.blocked.remove(&oldest);
        }
        let block_for = Duration::from_secs(self.config.block_secs.max(1));
        state.blocked.insert(
            source,
            Block {
                until: now + block_for,
                last_refusal: now,
            },
        );
        Decision::Refuse {
            retry_after_secs: block_for.as_secs(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_over_its_rate_is_refused_once_then_ignored_and_others_pass() {
        let limiter = Limiter::new(SourceLimit {
            requests_per_sec: 5,
            burst: 10,
            block_secs: 30,
            trusted: vec!["127.0.0.9/32".parse().unwrap()],
        })
        .unwrap();
        let flood: IpAddr = "127.0.0.2".parse().unwrap();
        let caller: IpAddr = "127.0.0.1".parse().unwrap();
        let trusted: IpAddr = "127.0.0.9".parse().unwrap();
        for _ in 0..10 {
            assert_eq!(limiter.decide(flood), Decision::Pass);
        }
        assert_eq!(
            limiter.decide(flood),
            Decision::Refuse {
                retry_after_secs: 30
            }
        );
        for _ in 0..100 {
            assert_eq!(limiter.decide(flood), Decision::Ignore);
            assert_eq!(limiter.decide(trusted), Decision::Pass);
        }
        assert_eq!(limiter.decide(caller), Decision::Pass);
        assert!(
            Limiter::new(SourceLimit {
                requests_per_sec: 0,
                ..SourceLimit::default()
            })
            .is_none()
        );
    }
}
