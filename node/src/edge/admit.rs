//! Connection caps: how many connections are open, in all and per client address.
//!
//! One address over its cap is refused. When all places are taken, a new connection takes the
//! place of the oldest one that is not answering a request (one that never sent a request, or
//! idles between two): clients spread over many addresses that hold connections without using
//! them cannot keep a new client out, only make the idle ones reconnect. When every connection
//! is answering a request, a new one is refused.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

/// The key one client's connections and requests are counted under: an IPv4 address, or the
/// /64 network of an IPv6 address (what one subscriber is usually given), IPv4-mapped IPv6
/// addresses counted as IPv4.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// [`super::Limits::max_connections`] are open, each answering a request.
    Total,
    /// [`super::Limits::max_connections_per_address`] are open from this address.
    PerAddress,
}

/// One open connection, as the admission sees it.
#[derive(Debug, Default)]
pub struct Conn {
    /// Requests being answered (an answer counts until its body is sent or dropped).
    busy: AtomicUsize,
    /// Asked to close to make room.
    evicted: AtomicBool,
    /// Told when evicted.
    evict: Notify,
}

impl Conn {
    /// Marks a request begun; the returned guard ends it.
    pub fn begin(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        Busy(self.clone())
    }

    /// Waits until this connection is evicted.
    pub async fn evicted(&self) {
        loop {
            let notified = self.evict.notified();
            if self.evicted.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

/// A request being answered; dropping it ends it.
#[derive(Debug)]
pub struct Busy(Arc<Conn>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
    /// Every open connection, oldest first.
    open: BTreeMap<u64, Arc<Conn>>,
    next: u64,
}

/// The open connections, counted.
#[derive(Debug)]
pub struct Admission {
    max_total: usize,
    max_per_client: usize,
    counts: Mutex<Counts>,
    /// Told when the last connection closes.
    drained: Notify,
}

/// What [`Admission::admit`] did.
#[derive(Debug)]
pub struct Admitted {
    /// The new connection's place.
    pub ticket: Ticket,
    /// Whether an idle connection was evicted to make room.
    pub evicted: bool,
}

impl Admission {
    /// Caps of `max_total` in all and `max_per_client` per client key.
    pub fn new(max_total: usize, max_per_client: usize) -> Arc<Self> {
        Arc::new(Admission {
            max_total,
            max_per_client,
            counts: Mutex::default(),
            drained: Notify::new(),
        })
    }

    /// Counts a new connection from `ip`, evicting the oldest idle connection when all places
    /// are taken, or says which cap it would break. The connection is counted until the
    /// returned ticket is dropped.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Admitted, Refused> {
        let key = client_key(ip);
        let mut c = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if c.by_client.get(&key).copied().unwrap_or(0) >= self.max_per_client {
            return Err(Refused::PerAddress);
        }
        // Places held by evicted connections that have not closed yet do not count: they are
        // on their way out.
        let mut evicted = false;
        if c.total >= self.max_total {
            let oldest_idle = c.open.values().find(|conn| {
                !conn.evicted.load(Ordering::Acquire) && conn.busy.load(Ordering::Acquire) == 0
            });
            match oldest_idle {
                Some(conn) => {
                    conn.evicted.store(true, Ordering::Release);
                    conn.evict.notify_one();
                    evicted = true;
                }
                None => return Err(Refused::Total),
            }
        }
        *c.by_client.entry(key).or_default() += 1;
        c.total += 1;
        let id = c.next;
        c.next += 1;
        let conn = Arc::new(Conn::default());
        c.open.insert(id, conn.clone());
        Ok(Admitted {
            ticket: Ticket {
                admission: self.clone(),
                key,
                id,
                conn,
            },
            evicted,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .total
    }

    /// Waits until no connection is open.
    pub async fn drained(&self) {
        loop {
            let notified = self.drained.notified();
            if self.open() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub struct Ticket {
    admission: Arc<Admission>,
    key: IpAddr,
    id: u64,
    conn: Arc<Conn>,
}

impl Ticket {
    /// The connection, to mark its requests and hear of its eviction.
    pub fn conn(&self) -> &Arc<Conn> {
        &self.conn
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut c = self
            .admission
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        c.total = c.total.saturating_sub(1);
        c.open.remove(&self.id);
        if let Some(n) = c.by_client.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                c.by_client.remove(&self.key);
            }
        }
        if c.total == 0 {
            self.admission.drained.notify_waiters();
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn each_address_has_its_cap() {
        let a = Admission::new(10, 2);
        let t1 = a.admit(ip("10.0.0.1")).unwrap();
        let _t2 = a.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(a.admit(ip("10.0.0.1")).unwrap_err(), Refused::PerAddress);
        a.admit(ip("10.0.0.2")).unwrap();
        drop(t1);
        a.admit(ip("10.0.0.1")).unwrap();
    }

    #[test]
    fn when_full_the_oldest_idle_connection_makes_room_and_busy_ones_are_kept() {
        let a = Admission::new(3, 10);
        let t1 = a.admit(ip("10.0.0.1")).unwrap().ticket;
        let t2 = a.admit(ip("10.0.0.2")).unwrap().ticket;
        let t3 = a.admit(ip("10.0.0.3")).unwrap().ticket;
        // t1 is answering a request: t2, the oldest idle one, goes.
        let busy = t1.conn().begin();
        let t4 = a.admit(ip("10.0.0.4")).unwrap();
        assert!(t4.evicted);
        assert!(!t1.conn().evicted.load(Ordering::Acquire));
        assert!(t2.conn().evicted.load(Ordering::Acquire));
        // Until t2 closes, four are open; the next newcomer takes t3's place.
        assert_eq!(a.open(), 4);
        let t5 = a.admit(ip("10.0.0.5")).unwrap();
        assert!(t3.conn().evicted.load(Ordering::Acquire));
        // Everyone left is busy or on the way out: refused.
        let _b4 = t4.ticket.conn().begin();
        let _b5 = t5.ticket.conn().begin();
        assert_eq!(a.admit(ip("10.0.0.6")).unwrap_err(), Refused::Total);
        drop(busy);
        drop((t2, t3));
        // t1 idles again: it is the oldest idle one now.
        let t6 = a.admit(ip("10.0.0.6")).unwrap();
        assert!(t6.evicted && t1.conn().evicted.load(Ordering::Acquire));
    }

    #[test]
    fn an_ipv6_client_is_its_64_and_a_mapped_address_is_ipv4() {
        assert_eq!(client_key(ip("2001:db8:1:2:3:4:5:6")), ip("2001:db8:1:2::"));
        assert_eq!(client_key(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
        let a = Admission::new(10, 1);
        let _t = a.admit(ip("2001:db8:1:2::7")).unwrap();
        assert_eq!(
            a.admit(ip("2001:db8:1:2::8")).unwrap_err(),
            Refused::PerAddress
        );
        a.admit(ip("2001:db8:1:3::8")).unwrap();
    }

    #[tokio::test]
    async fn an_evicted_connection_hears_of_it_and_drained_waits_for_the_last() {
        let a = Admission::new(1, 10);
        let t = a.admit(ip("127.0.0.1")).unwrap().ticket;
        let conn = t.conn().clone();
        let heard = tokio::spawn(async move { conn.evicted().await });
        let t2 = a.admit(ip("127.0.0.2")).unwrap();
        assert!(t2.evicted);
        tokio::time::timeout(std::time::Duration::from_secs(5), heard)
            .await
            .unwrap()
            .unwrap();
        let waiter = tokio::spawn({
            let a = a.clone();
            async move { a.drained().await }
        });
        drop(t);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(t2);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
