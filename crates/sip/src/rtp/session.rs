//! One call's media session, as the call sees it: started on the call's
//! RTP socket with what SDP negotiated (its stream joins a pacer thread),
//! re-negotiated by a re-INVITE, stopped when the call ends. The stream
//! itself, both halves, is in `stream`.

use super::pacer::{Pacer, PacerFull};
use super::stream::{Inbound, MediaCounters, MediaParams, OutboundStream};
use crate::dtmf::{Digit, DigitSource};
use crate::g711::Codec;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::mpsc;

pub struct MediaSession {
    pub outbound: Arc<OutboundStream>,
    pub local: SocketAddr,
    pub counters: Arc<MediaCounters>,
    pub started: Instant,
}

impl MediaSession {
    /// Starts sending (silence until a prompt is queued) and receiving:
    /// the pacer thread that sends a call's audio also reads what arrived
    /// on its socket, once per 20 ms visit, so a received packet costs a
    /// read and never a wake-up of the runtime (a digit is seen at most
    /// 20 ms later).
    pub fn start(
        socket: UdpSocket,
        params: MediaParams,
        pacer: &Pacer,
        digits: mpsc::Sender<(Digit, DigitSource)>,
    ) -> Result<Self, std::io::Error> {
        let local = socket.local_addr()?;
        let outbound =
            OutboundStream::new(socket, params.remote, params.codec, params.payload_type);
        {
            let mut st = outbound.state();
            st.telephone_event = params.telephone_event;
            st.send_silence = params.send_silence;
        }
        let counters = Arc::new(MediaCounters::default());
        let started = Instant::now();
        outbound.set_inbound(Inbound::new(params, digits, counters.clone(), started));
        pacer
            .add(outbound.clone())
            .map_err(|PacerFull| std::io::Error::other("media pacer is overloaded"))?;
        Ok(MediaSession {
            outbound,
            local,
            counters,
            started,
        })
    }

    /// Applies a re-negotiation (re-INVITE): new address, codec or hold.
    /// A new address is learnt again from the packets that come.
    pub fn update(&self, remote: SocketAddr, codec: Codec, payload_type: u8, sending: bool) {
        if self.outbound.state().remote != remote {
            self.outbound.relearn_source();
        }
        let mut st = self.outbound.state();
        st.remote = remote;
        st.codec = codec;
        st.payload_type = payload_type;
        st.sending = sending;
    }

    pub fn stop(&self) {
        self.outbound.close();
    }
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rtp::stream::InBandDtmf;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    fn pcmu_packet(ssrc: u32) -> Vec<u8> {
        let mut packet = vec![0x80, 0x00, 0x00, 0x01, 0, 0, 0, 160];
        packet.extend_from_slice(&ssrc.to_be_bytes());
        packet.extend_from_slice(&[0xFF; 160]);
        packet
    }

    /// Waits (up to 2 s) until the stream's send address is `want` and it
    /// is connected or not as asked.
    #[track_caller]
    fn wait_for(media: &MediaSession, want: SocketAddr, connected: bool) {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            {
                let st = media.outbound.state();
                if st.remote == want && st.connected == connected {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "send address {} connected {}, wanted {want} {connected}",
                    st.remote,
                    st.connected
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A strict-RTP PCMU session on `pacer`, on an explicit port (as the
    /// engine's port range gives: Linux keeps it through a disconnect, an
    /// ephemeral port would be released), with that port.
    fn strict_pcmu_session(pacer: &Pacer) -> (MediaSession, u16) {
        let port = touchtone_testkit::ports::port();
        let socket = UdpSocket::bind(("127.0.0.1", port)).unwrap();
        socket.set_nonblocking(true).unwrap();
        let params = MediaParams {
            remote: "127.0.0.1:9".parse().unwrap(),
            codec: Codec::Pcmu,
            payload_type: 0,
            telephone_event: None,
            own_telephone_event: None,
            in_band: InBandDtmf::Never,
            strict: true,
            send_silence: true,
        };
        // No digit can come (no telephone-event, in-band detection off),
        // so the receiving end is not kept.
        let (digits, _) = mpsc::channel(4);
        (
            MediaSession::start(socket, params, pacer, digits).unwrap(),
            port,
        )
    }

    #[test]
    fn strict_rtp_connects_to_the_first_source_and_relearns_after_a_move() {
        strict_rtp_case(true);
    }

    #[test]
    fn strict_rtp_without_io_uring() {
        strict_rtp_case(false);
    }

    fn strict_rtp_case(io_uring: bool) {
        let options = crate::rtp::pacer::PacerOptions {
            io_uring,
            ..Default::default()
        };
        let pacer = Pacer::start(1, options).unwrap();
        let ring = io_uring && crate::rtp::uring::usable();
        let (media, port) = strict_pcmu_session(&pacer);
        let first = UdpSocket::bind("127.0.0.1:0").unwrap();
        let moved = UdpSocket::bind("127.0.0.1:0").unwrap();
        let intruder = UdpSocket::bind("127.0.0.1:0").unwrap();
        let ours = media.local;

        first.send_to(&pcmu_packet(1), ours).unwrap();
        wait_for(&media, first.local_addr().unwrap(), true);
        // Someone else's packet (another SSRC) is dropped by the kernel.
        intruder.send_to(&pcmu_packet(2), ours).unwrap();
        std::thread::sleep(Duration::from_millis(60));
        wait_for(&media, first.local_addr().unwrap(), true);
        assert_eq!(media.counters.packets_received.load(Ordering::Relaxed), 1);
        // The socket is read by the pacer's ring where io_uring works (a
        // receive armed on the call's first visit): once connected the
        // peer's packets all arrive, the intruder's do not.
        assert_eq!(
            pacer.stats.io_uring_workers.load(Ordering::Relaxed),
            usize::from(ring)
        );
        for _ in 0..5 {
            first.send_to(&pcmu_packet(1), ours).unwrap();
            intruder.send_to(&pcmu_packet(2), ours).unwrap();
            std::thread::sleep(Duration::from_millis(10));
        }
        wait_for_received(&media, 6);
        let ring_receives = pacer.stats.ring_receives.load(Ordering::Relaxed);
        assert!(if ring {
            ring_receives >= 4
        } else {
            ring_receives == 0
        });

        // A re-INVITE moves the peer's media: the socket is disconnected
        // and the next packet, even with the same SSRC, latches again.
        let to = moved.local_addr().unwrap();
        media.update(to, Codec::Pcmu, 0, true);
        wait_for(&media, to, false);
        moved.send_to(&pcmu_packet(1), ours).unwrap();
        wait_for(&media, to, true);
        assert_eq!(media.counters.packets_received.load(Ordering::Relaxed), 7);
        std::thread::sleep(Duration::from_millis(60));
        moved.send_to(&pcmu_packet(1), ours).unwrap();
        first.send_to(&pcmu_packet(1), ours).unwrap();
        wait_for_received(&media, 8);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(media.counters.packets_received.load(Ordering::Relaxed), 8);

        // The call ends: the port is free again once the pacer has let go
        // of the socket (after its armed receive is cancelled).
        drop(media);
        let deadline = Instant::now() + Duration::from_secs(2);
        while UdpSocket::bind(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "port {port} still held");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A re-INVITE moves the media of a call whose socket the ring reads;
    /// the first packet after the move comes from behind a NAT, not from
    /// the address the SDP gave. Symmetric RTP must latch where it came
    /// from. (The ring once read connected sockets without source
    /// addresses, so such a packet, arriving before the pacer's next visit
    /// cancelled that receive, latched the SDP's address, and the kernel
    /// then dropped the peer's real packets.)
    #[test]
    fn after_a_move_the_first_packet_latches_its_real_source() {
        let pacer = Pacer::start(1, crate::rtp::pacer::PacerOptions::default()).unwrap();
        let (media, _port) = strict_pcmu_session(&pacer);
        let ours = media.local;
        let mut peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        peer.send_to(&pcmu_packet(1), ours).unwrap();
        wait_for(&media, peer.local_addr().unwrap(), true);
        for moves in 1..=5 {
            // Two visits: the ring's receive is armed.
            std::thread::sleep(Duration::from_millis(45));
            let announced = UdpSocket::bind("127.0.0.1:0").unwrap();
            let behind_nat = UdpSocket::bind("127.0.0.1:0").unwrap();
            media.update(announced.local_addr().unwrap(), Codec::Pcmu, 0, true);
            behind_nat.send_to(&pcmu_packet(1), ours).unwrap();
            wait_for(&media, behind_nat.local_addr().unwrap(), true);
            assert_eq!(
                media.counters.packets_received.load(Ordering::Relaxed),
                1 + moves
            );
            peer = behind_nat;
        }
        drop(peer);
    }

    #[track_caller]
    fn wait_for_received(media: &MediaSession, want: u64) {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let got = media.counters.packets_received.load(Ordering::Relaxed);
            if got == want {
                return;
            }
            assert!(
                got < want && Instant::now() < deadline,
                "received {got}, wanted {want}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
