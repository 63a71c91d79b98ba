//! Batched RTP I/O through io_uring, one ring per pacer thread.
//!
//! With a socket per call, the plain path costs the pacer one system call
//! per packet sent and, per call visit, one per packet read plus one that
//! finds nothing (`EAGAIN`). Here a tick's sends for every call in the slot
//! go to the kernel in one `io_uring_enter` (with the destination address
//! when the socket is not connected), and each call's socket has one
//! multishot `recvmsg` armed on it: the kernel reads each arriving packet,
//! with its source address, into a buffer of a shared buffer ring while it
//! runs the ring's deferred work in that same `io_uring_enter`, so reading
//! costs no system call at all, and a call that receives nothing costs
//! nothing to read. The source address is what symmetric RTP latches: the
//! first packet of a call, and the first after a re-INVITE moves the media
//! (the socket is then disconnected), whoever sends it.
//!
//! The `io-uring` crate (tokio-rs) gives the ring, the opcodes and the
//! registration calls; what is written here is the buffer ring's
//! bookkeeping and the mapping of completions back to calls, which that
//! crate leaves to its user.
//!
//! Sends carry `MSG_DONTWAIT`, so io_uring completes each one during the
//! submitting `io_uring_enter` (a full socket buffer fails it with `EAGAIN`
//! instead of parking it for later, the same "drop the frame" as the plain
//! path) and the packet buffers may be rewritten once that call returns.
//! Successful sends post no completion (`IOSQE_CQE_SKIP_SUCCESS`).

use io_uring::{IoUring, cqueue, opcode, squeue, types};
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU16, Ordering};

/// Submission queue entries: a tick's sends for one slot fit many times
/// over (a fuller queue is submitted early, never overrun).
const ENTRIES: u32 = 1024;
/// Completion queue: receives of two ticks at the heaviest load, with room.
const CQ_ENTRIES: u32 = 8192;
/// Receive buffers shared by the thread's calls: a power of two, as the
/// kernel requires. They are all back in the ring after every tick.
const BUFFERS: u16 = 2048;
/// One datagram each: an Ethernet MTU's worth, well above G.711 at the
/// longest common packet time (60 ms is 492 bytes). A longer datagram is
/// cut to this length, which no RTP we negotiate produces.
const BUFFER_LEN: usize = 1536;
/// Room for the source address in each buffer (IPv4 or IPv6).
const NAME_LEN: usize = std::mem::size_of::<libc::sockaddr_in6>();
const BUFFER_GROUP: u16 = 0x7470;

/// Most calls a thread's ring knows by a registered (fixed) file, which
/// spares the kernel a file-table lookup and two atomic reference counts
/// per send (about 5 % of a loaded pacer's time was `fget`); the table may
/// not be larger than the open-file limit. Calls beyond it use their fd.
const FIXED_FILES: u32 = 65_536;

/// `user_data` of a send (only failures complete).
const SEND: u64 = u64::MAX;
/// `user_data` of a cancellation request (its own completion is ignored).
const CANCEL: u64 = u64::MAX - 1;

/// What a completion meant, handed to the pacer's callback.
pub(crate) enum Completion<'a> {
    /// A send failed (the frame is dropped).
    SendFailed,
    /// A datagram arrived from `from` for the receive armed under `key`.
    Received {
        key: u32,
        bytes: &'a [u8],
        from: SocketAddr,
    },
    /// The receive armed under `key` has ended (cancelled, out of buffers,
    /// or the socket failed): nothing more will come for that key.
    ReceiveEnded { key: u32 },
}

/// The buffer ring: entries the kernel reads buffers from, and the buffers.
struct BufferRing {
    entries: *mut types::BufRingEntry,
    layout: Layout,
    buffers: Box<[u8]>,
    tail: u16,
}

impl BufferRing {
    fn new() -> std::io::Result<Self> {
        let layout = Layout::from_size_align(
            usize::from(BUFFERS) * std::mem::size_of::<types::BufRingEntry>(),
            4096,
        )
        .map_err(std::io::Error::other)?;
        // SAFETY: the layout has a non-zero size.
        let entries = unsafe { alloc_zeroed(layout) } as *mut types::BufRingEntry;
        if entries.is_null() {
            return Err(std::io::Error::other("no memory for the RTP buffer ring"));
        }
        let mut ring = BufferRing {
            entries,
            layout,
            buffers: vec![0u8; usize::from(BUFFERS) * BUFFER_LEN].into_boxed_slice(),
            tail: 0,
        };
        for bid in 0..BUFFERS {
            ring.give(bid);
        }
        ring.publish();
        Ok(ring)
    }

    /// Puts buffer `bid` back at the ring's tail (seen once published).
    fn give(&mut self, bid: u16) {
        let addr = self.buffers[usize::from(bid) * BUFFER_LEN..].as_mut_ptr() as u64;
        // SAFETY: `tail & mask` indexes one of the BUFFERS entries we
        // allocated; the kernel only reads entries up to the published tail.
        let entry = unsafe { &mut *self.entries.add(usize::from(self.tail & (BUFFERS - 1))) };
        entry.set_addr(addr);
        entry.set_len(BUFFER_LEN as u32);
        entry.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes the buffers given back visible to the kernel.
    fn publish(&self) {
        // SAFETY: the tail field lives inside the first entry, which we
        // own; the kernel reads it with acquire ordering.
        unsafe {
            let tail = types::BufRingEntry::tail(self.entries) as *mut u16;
            AtomicU16::from_ptr(tail).store(self.tail, Ordering::Release);
        }
    }

    fn buffer(&self, bid: u16, len: usize) -> &[u8] {
        let start = usize::from(bid) * BUFFER_LEN;
        &self.buffers[start..start + len.min(BUFFER_LEN)]
    }
}

impl Drop for BufferRing {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; the ring that used
        // it was dropped first (field order of `RtpRing`).
        unsafe { dealloc(self.entries as *mut u8, self.layout) };
    }
}

/// A pacer thread's ring. Not `Send`: it is created and used by one thread
/// (`IORING_SETUP_SINGLE_ISSUER`).
pub(crate) struct RtpRing {
    // Dropped before `buffers`: closing the ring ends every request that
    // could still write into them.
    ring: IoUring,
    buffers: BufferRing,
    /// What the multishot receives ask for besides the payload: only the
    /// source address. Boxed: the kernel reads it through a pointer.
    msghdr: Box<libc::msghdr>,
    /// Size of the registered-file table (0: none could be registered),
    /// and which of its places hold a call's socket.
    fixed_capacity: u32,
    fixed: Vec<bool>,
    queued: u32,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl RtpRing {
    /// A ring with its buffer ring registered, or the reason io_uring
    /// cannot be used here (an old kernel, a seccomp filter that forbids
    /// it, `kernel.io_uring_disabled`).
    pub(crate) fn new() -> std::io::Result<Self> {
        let ring = IoUring::builder()
            .setup_cqsize(CQ_ENTRIES)
            .setup_single_issuer()
            // Completions are produced only when this thread enters the
            // kernel (once per tick) instead of interrupting it.
            .setup_defer_taskrun()
            .build(ENTRIES)?;
        let buffers = BufferRing::new()?;
        // SAFETY: the entries stay allocated until after the ring is
        // dropped (field order), and BUFFERS is a power of two.
        unsafe {
            ring.submitter().register_buf_ring_with_flags(
                buffers.entries as u64,
                BUFFERS,
                BUFFER_GROUP,
                0,
            )?;
        }
        // SAFETY: an all-zero msghdr is valid (no buffers, no control).
        let mut msghdr: Box<libc::msghdr> = Box::new(unsafe { std::mem::zeroed() });
        msghdr.msg_namelen = NAME_LEN as libc::socklen_t;
        let fixed_capacity = open_file_limit().min(FIXED_FILES);
        let fixed_capacity = match ring.submitter().register_files_sparse(fixed_capacity) {
            Ok(()) => fixed_capacity,
            Err(e) => {
                tracing::debug!(error = %e, "no registered files for RTP: sockets go by fd");
                0
            }
        };
        Ok(RtpRing {
            ring,
            buffers,
            msghdr,
            fixed_capacity,
            fixed: Vec::new(),
            queued: 0,
            _not_send: std::marker::PhantomData,
        })
    }

    /// Registers `fd` as the call `key`'s socket, so the ring's requests
    /// for it name it by `key` instead (where the table has room).
    pub(crate) fn register(&mut self, key: u32, fd: RawFd) {
        if key >= self.fixed_capacity {
            return;
        }
        let index = key as usize;
        if self.fixed.len() <= index {
            self.fixed.resize(index + 1, false);
        }
        self.fixed[index] = matches!(
            self.ring.submitter().register_files_update(key, &[fd]),
            Ok(1)
        );
    }

    /// Lets go of call `key`'s socket (the kernel drops its reference
    /// once no request uses it, so the port can be bound again).
    pub(crate) fn unregister(&mut self, key: u32) {
        if let Some(registered) = self.fixed.get_mut(key as usize)
            && std::mem::take(registered)
            && let Err(e) = self.ring.submitter().register_files_update(key, &[-1])
        {
            tracing::warn!(error = %e, "an RTP socket stays registered with io_uring");
        }
    }

    /// How requests for call `key` name its socket.
    fn target(&self, key: u32, fd: RawFd) -> Target {
        if self.fixed.get(key as usize).copied().unwrap_or(false) {
            Target::Fixed(key)
        } else {
            Target::Fd(fd)
        }
    }

    /// Queues `entry`; false if the queue is full and the kernel would not
    /// take what is in it (then nothing was queued).
    fn push(&mut self, entry: &squeue::Entry) -> bool {
        // SAFETY (for callers' entries): every pointer an entry carries
        // stays valid until the `io_uring_enter` that submits it returns.
        while unsafe { self.ring.submission().push(entry) }.is_err() {
            // Full: hand what is queued to the kernel and go on.
            if let Err(e) = self.enter() {
                tracing::warn!(error = %e, "io_uring submission queue stuck");
                return false;
            }
        }
        self.queued += 1;
        true
    }

    /// Queues a send of `packet` on call `key`'s socket `fd`: to `to` (as `sendto`),
    /// or to its peer when it is connected (`to` None). Sending to an
    /// address needs Linux 6.1, which the ring's set-up requires anyway
    /// (`IORING_SETUP_DEFER_TASKRUN`).
    ///
    /// # Safety
    /// `packet` and `to` must stay valid and unchanged until the next
    /// `submit` returns. Returns false if it could not be queued (the
    /// frame is dropped).
    pub(crate) unsafe fn send(
        &mut self,
        key: u32,
        fd: RawFd,
        packet: &[u8],
        to: Option<&socket2::SockAddr>,
    ) -> bool {
        let (ptr, len) = (packet.as_ptr(), packet.len() as u32);
        let mut send = match self.target(key, fd) {
            Target::Fixed(index) => opcode::Send::new(types::Fixed(index), ptr, len),
            Target::Fd(fd) => opcode::Send::new(types::Fd(fd), ptr, len),
        }
        .flags(libc::MSG_DONTWAIT);
        if let Some(to) = to {
            send = send
                .dest_addr(to.as_ptr().cast::<libc::sockaddr>())
                .dest_addr_len(to.len());
        }
        let entry = send
            .build()
            .flags(squeue::Flags::SKIP_SUCCESS)
            .user_data(SEND);
        self.push(&entry)
    }

    /// Arms a multishot receive on `fd`; its datagrams complete under `key`
    /// until `ReceiveEnded { key }`. The socket must stay open until then.
    /// Returns false if it could not be queued (the socket is then still
    /// to be read some other way).
    pub(crate) fn arm_receive(&mut self, fd: RawFd, key: u32) -> bool {
        let entry = match self.target(key, fd) {
            Target::Fixed(index) => {
                opcode::RecvMsgMulti::new(types::Fixed(index), &*self.msghdr, BUFFER_GROUP)
            }
            Target::Fd(fd) => opcode::RecvMsgMulti::new(types::Fd(fd), &*self.msghdr, BUFFER_GROUP),
        }
        .build()
        .user_data(u64::from(key));
        self.push(&entry)
    }

    /// Asks for the receive armed under `key` to end (its `ReceiveEnded`
    /// follows). Returns false if the request could not be queued.
    pub(crate) fn cancel_receive(&mut self, key: u32) -> bool {
        let entry = opcode::AsyncCancel::new(u64::from(key))
            .build()
            .user_data(CANCEL);
        self.push(&entry)
    }

    fn enter(&mut self) -> std::io::Result<usize> {
        self.ring.submission().sync();
        let queued = std::mem::take(&mut self.queued);
        // SAFETY: plain io_uring_enter with no extra argument.
        let result = unsafe {
            self.ring.submitter().enter::<libc::sigset_t>(
                queued,
                0,
                io_uring::EnterFlags::GETEVENTS.bits(),
                None,
            )
        };
        match result {
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => Ok(0),
            other => other,
        }
    }

    /// Submits what is queued (the tick's sends go out during this call)
    /// and lets the kernel deliver what has arrived on armed sockets.
    pub(crate) fn submit(&mut self) {
        if let Err(e) = self.enter() {
            tracing::warn!(error = %e, "io_uring_enter failed for RTP");
        }
    }

    /// Hands every completion posted so far to `handle`.
    pub(crate) fn reap(&mut self, mut handle: impl FnMut(Completion<'_>)) {
        let mut given_back = false;
        let mut completion = self.ring.completion();
        completion.sync();
        for cqe in &mut completion {
            match cqe.user_data() {
                SEND => handle(Completion::SendFailed),
                CANCEL => {}
                key => {
                    let key = key as u32;
                    if let Some(bid) = cqueue::buffer_select(cqe.flags()) {
                        if let Ok(len) = usize::try_from(cqe.result())
                            && let Ok(out) = types::RecvMsgOut::parse(
                                self.buffers.buffer(bid, len),
                                &self.msghdr,
                            )
                            && let Some(from) = socket_addr(out.name_data())
                        {
                            handle(Completion::Received {
                                key,
                                bytes: out.payload_data(),
                                from,
                            });
                        }
                        self.buffers.give(bid);
                        given_back = true;
                    }
                    if !cqueue::more(cqe.flags()) {
                        handle(Completion::ReceiveEnded { key });
                    }
                }
            }
        }
        drop(completion);
        if given_back {
            self.buffers.publish();
        }
    }
}

/// How a request names a call's socket.
enum Target {
    Fixed(u32),
    Fd(RawFd),
}

/// The soft limit on open files (what a registered-file table may hold).
fn open_file_limit() -> u32 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    u32::try_from(limit.rlim_cur).unwrap_or(u32::MAX)
}

/// The source address the kernel wrote for a received datagram (a
/// `sockaddr_in` or `sockaddr_in6`); None for anything else.
fn socket_addr(name: &[u8]) -> Option<SocketAddr> {
    let family = libc::sa_family_t::from_ne_bytes(name.get(..2)?.try_into().ok()?);
    match i32::from(family) {
        libc::AF_INET if name.len() >= std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the length is checked; read_unaligned copes with the
            // buffer's alignment.
            let sin = unsafe { name.as_ptr().cast::<libc::sockaddr_in>().read_unaligned() };
            Some(SocketAddr::from((
                Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if name.len() >= std::mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above.
            let sin6 = unsafe { name.as_ptr().cast::<libc::sockaddr_in6>().read_unaligned() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Whether this kernel lets us set up a ring (tests that must know which
/// path the pacer took ask this).
#[cfg(test)]
pub(crate) fn usable() -> bool {
    RtpRing::new().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;
    use std::time::Duration;

    /// A registered socket is named by its key: a send given no usable fd
    /// still goes out, and after `unregister` the port is free at once
    /// (the ring holds no reference to the closed socket).
    #[test]
    fn a_registered_socket_is_sent_to_by_key_and_let_go_on_unregister() {
        let Ok(mut ring) = RtpRing::new() else {
            return; // this kernel refuses io_uring: the plain path is tested elsewhere
        };
        assert!(
            ring.fixed_capacity > 0,
            "a registered-file table was set up"
        );
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        receiver
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = sender.local_addr().unwrap().port();
        ring.register(3, sender.as_raw_fd());
        let to = socket2::SockAddr::from(receiver.local_addr().unwrap());
        let packet = [9u8; 20];
        // SAFETY: packet and address outlive the submit below.
        assert!(unsafe { ring.send(3, -1, &packet, Some(&to)) });
        assert_eq!(
            submit_and_count_failures(&mut ring),
            0,
            "sent through the registered file, not fd -1"
        );
        let mut buf = [0u8; 64];
        assert_eq!(receiver.recv(&mut buf).unwrap(), 20);
        ring.unregister(3);
        drop(sender);
        UdpSocket::bind(("127.0.0.1", port)).expect("the port is free again");
        // Unregistered, the key no longer names a socket: fd -1 is used.
        // SAFETY: as above.
        assert!(unsafe { ring.send(3, -1, &packet, Some(&to)) });
        assert_eq!(submit_and_count_failures(&mut ring), 1);
    }

    /// Submits what is queued and counts the sends that failed.
    fn submit_and_count_failures(ring: &mut RtpRing) -> usize {
        ring.submit();
        let mut failed = 0;
        ring.reap(|c| {
            if matches!(c, Completion::SendFailed) {
                failed += 1;
            }
        });
        failed
    }
}
