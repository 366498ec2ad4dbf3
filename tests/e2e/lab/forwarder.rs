//! The lab's wire: a userspace IPv4 forwarder between TUN devices, one per node namespace.
//!
//! This kernel has no `netem`, so delay and loss are made here. Each node's namespace holds one
//! TUN device (`10.77.0.<index + 1>/24`); every packet a node sends to another node leaves the
//! kernel through that device and is read by a thread of this forwarder, which looks at the IPv4
//! destination, applies the current [`Faults`] and writes the packet into the destination's TUN
//! device, where the destination's kernel receives it. The nodes' TCP stacks are real: a lost
//! packet is retransmitted by the kernel with its usual back-off, exactly as across a lossy path.
//!
//! Faults, checked for every packet:
//! - *blocked* `(from, to)` pairs: the packet is dropped (a partition; one pair alone is a one-way
//!   partition, as a cut that drops packets on the receiving side only);
//! - *loss*: dropped with this probability, drawn from a seeded xorshift per sending node (the
//!   sequence of draws is reproducible; which packet meets which draw depends on timing);
//! - *delay*: held this long (one way) in a queue sorted by due time, then written.
//!
//! The forwarder owns the devices: when it is dropped, its threads stop and the devices close,
//! which removes their interfaces.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The subnet of the nodes' TUN devices, inside their own namespaces.
pub const SUBNET: [u8; 3] = [10, 77, 0];

/// The address of node `i` on the lab's wire.
pub fn node_addr(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(SUBNET[0], SUBNET[1], SUBNET[2], (i + 1) as u8)
}

/// What the wire does to packets now.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// `(from, to)` node pairs whose packets are dropped.
    pub blocked: BTreeSet<(usize, usize)>,
    /// One-way delay of every packet.
    pub delay: Duration,
    /// Probability in `[0, 1]` that a packet is dropped.
    pub loss: f64,
}

/// Packet counters since the forwarder started.
#[derive(Debug, Default)]
pub struct Counters {
    /// Packets written to their destination.
    pub forwarded: AtomicU64,
    /// Packets dropped by a partition.
    pub partitioned: AtomicU64,
    /// Packets dropped by random loss.
    pub lost: AtomicU64,
}

/// A packet waiting out its delay: due time, arrival order, destination, bytes.
type Held = Reverse<(Instant, u64, usize, Vec<u8>)>;

struct Shared {
    devices: Vec<tun::Device>,
    faults: Mutex<Faults>,
    queue: Mutex<BinaryHeap<Held>>,
    queued: Condvar,
    stop: AtomicBool,
    /// Arrival order of held packets.
    seq: AtomicU64,
    counters: Counters,
}

impl Shared {
    fn blocked(&self, from: usize, to: usize) -> bool {
        self.faults
            .lock()
            .map(|f| f.blocked.contains(&(from, to)))
            .unwrap_or(true)
    }

    fn deliver(&self, from: usize, to: usize, packet: &[u8]) {
        if self.blocked(from, to) {
            self.counters.partitioned.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // A full device queue drops the packet, as a full router queue would.
        if self.devices[to].send(packet).is_ok() {
            self.counters.forwarded.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// The running forwarder.
pub struct Forwarder {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Forwarder {
    /// Starts forwarding between `devices` (device `i` belongs to node `i`), with randomness from
    /// `seed`.
    pub fn start(devices: Vec<tun::Device>, seed: u64) -> Self {
        let shared = Arc::new(Shared {
            devices,
            faults: Mutex::new(Faults::default()),
            queue: Mutex::new(BinaryHeap::new()),
            queued: Condvar::new(),
            stop: AtomicBool::new(false),
            seq: AtomicU64::new(0),
            counters: Counters::default(),
        });
        let mut threads = Vec::new();
        for i in 0..shared.devices.len() {
            let shared = shared.clone();
            let seed = seed ^ (0x9e37_79b9_7f4a_7c15_u64.wrapping_mul(i as u64 + 1));
            threads.push(std::thread::spawn(move || read_loop(&shared, i, seed)));
        }
        let s = shared.clone();
        threads.push(std::thread::spawn(move || delay_loop(&s)));
        Self { shared, threads }
    }

    /// Replaces the faults.
    pub fn set(&self, faults: Faults) {
        if let Ok(mut f) = self.shared.faults.lock() {
            *f = faults;
        }
    }

    /// The packet counters.
    pub fn counters(&self) -> &Counters {
        &self.shared.counters
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.queued.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Reads node `from`'s outgoing packets until stopped.
fn read_loop(shared: &Shared, from: usize, seed: u64) {
    let mut rng = seed | 1;
    let mut buf = vec![0u8; 65_536];
    while !shared.stop.load(Ordering::SeqCst) {
        // The timeout only bounds how late the thread notices `stop`.
        let n = match shared.devices[from].recv_timeout(&mut buf, Duration::from_millis(100)) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => continue,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let packet = &buf[..n];
        // IPv4 only (the kernel also sends IPv6 router solicitations, which go nowhere).
        if n < 20 || packet[0] >> 4 != 4 || packet[16..19] != SUBNET {
            continue;
        }
        let to = usize::from(packet[19]).wrapping_sub(1);
        if to >= shared.devices.len() || to == from {
            continue;
        }
        let (delay, loss) = match shared.faults.lock() {
            Ok(f) => (f.delay, f.loss),
            Err(_) => return,
        };
        // xorshift64: one draw per packet.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        if loss > 0.0 && (rng >> 11) as f64 / (1u64 << 53) as f64 <= loss {
            shared.counters.lost.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if delay.is_zero() {
            shared.deliver(from, to, packet);
            continue;
        }
        let Ok(mut q) = shared.queue.lock() else {
            return;
        };
        // Arrival order breaks ties, so equal delays keep the packets' order.
        let order = shared.seq.fetch_add(1, Ordering::Relaxed);
        q.push(Reverse((
            Instant::now() + delay,
            order,
            from * 256 + to,
            packet.to_vec(),
        )));
        drop(q);
        shared.queued.notify_one();
    }
}

/// Writes held packets when their delay is over, until stopped.
fn delay_loop(shared: &Shared) {
    let Ok(mut q) = shared.queue.lock() else {
        return;
    };
    while !shared.stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        let wait = match q.peek() {
            Some(Reverse((due, ..))) if *due <= now => {
                if let Some(Reverse((_, _, link, packet))) = q.pop() {
                    drop(q);
                    shared.deliver(link / 256, link % 256, &packet);
                    q = match shared.queue.lock() {
                        Ok(q) => q,
                        Err(_) => return,
                    };
                }
                continue;
            }
            Some(Reverse((due, ..))) => *due - now,
            // Bounds how late the thread notices `stop`.
            None => Duration::from_millis(100),
        };
        q = match shared.queued.wait_timeout(q, wait) {
            Ok((q, _)) => q,
            Err(_) => return,
        };
    }
}
