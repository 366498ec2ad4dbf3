//! Connection caps: how many connections are open, in all and per client address.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
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
    /// [`super::Limits::max_connections`] are open.
    Total,
    /// [`super::Limits::max_connections_per_address`] are open from this address.
    PerAddress,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
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

    /// Counts a new connection from `ip`, or says which cap it would break. The connection is
    /// counted until the returned ticket is dropped.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Ticket, Refused> {
        let key = client_key(ip);
        let mut c = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if c.total >= self.max_total {
            return Err(Refused::Total);
        }
        let mine = c.by_client.entry(key).or_default();
        if *mine >= self.max_per_client {
            return Err(Refused::PerAddress);
        }
        *mine += 1;
        c.total += 1;
        Ok(Ticket {
            admission: self.clone(),
            key,
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
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut c = self
            .admission
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        c.total = c.total.saturating_sub(1);
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
    fn each_address_has_its_cap_and_all_share_the_total() {
        let a = Admission::new(3, 2);
        let t1 = a.admit(ip("10.0.0.1")).unwrap();
        let _t2 = a.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(a.admit(ip("10.0.0.1")).unwrap_err(), Refused::PerAddress);
        let _t3 = a.admit(ip("10.0.0.2")).unwrap();
        assert_eq!(a.admit(ip("10.0.0.3")).unwrap_err(), Refused::Total);
        assert_eq!(a.open(), 3);
        drop(t1);
        assert_eq!(a.open(), 2);
        let _t4 = a.admit(ip("10.0.0.1")).unwrap();
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
    async fn drained_returns_once_the_last_ticket_is_dropped() {
        let a = Admission::new(10, 10);
        let t = a.admit(ip("127.0.0.1")).unwrap();
        let waiter = tokio::spawn({
            let a = a.clone();
            async move { a.drained().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(t);
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
