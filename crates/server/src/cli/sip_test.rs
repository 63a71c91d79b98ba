//! `touchtone sip-test`: runs the SIP engine with its small test flow
//! (answer, beep, collect digits ending with #, play them back as DTMF
//! tones, hang up), so the telephony side can be tried with a softphone
//! before any configuration exists.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use tokio::sync::mpsc;
use touchtone_sip::testflow::TestFlow;
use touchtone_sip::{Engine, SipConfig};

#[derive(Debug, Args)]
pub struct SipTestArgs {
    /// UDP address to receive SIP on.
    #[arg(long, default_value = "127.0.0.1:5080")]
    pub listen: SocketAddr,
    /// Address to put in SDP and Contact (needed when --listen is 0.0.0.0).
    #[arg(long)]
    pub public_address: Option<IpAddr>,
    /// First and last RTP port.
    #[arg(long, default_value_t = 30000)]
    pub rtp_port_min: u16,
    #[arg(long, default_value_t = 30998)]
    pub rtp_port_max: u16,
}

pub async fn run(args: SipTestArgs) -> anyhow::Result<()> {
    let config = SipConfig {
        udp: Some(args.listen),
        public_address: args.public_address,
        rtp_port_min: args.rtp_port_min,
        rtp_port_max: args.rtp_port_max,
        ..SipConfig::default()
    };
    let (reports_tx, mut reports) = mpsc::channel(64);
    let flow = TestFlow {
        reports: Some(reports_tx),
        ..TestFlow::default()
    };
    let engine = Engine::start(config, Arc::new(flow))
        .await
        .context("starting the SIP engine")?;
    println!(
        "touchtone sip-test: call sip:test@{} (PCMU/PCMA); key digits then #, and hear them played back",
        engine.sip_addr()
    );
    loop {
        tokio::select! {
            report = reports.recv() => match report {
                Some(r) => println!(
                    "call {}: digits {:?}{}",
                    r.call_id,
                    r.digits.unwrap_or_default(),
                    if r.hung_up_by_caller { " (caller hung up)" } else { "" }
                ),
                None => break,
            },
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    engine.shutdown();
    Ok(())
}
