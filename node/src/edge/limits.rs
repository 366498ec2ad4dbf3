//! `[http_limits]` in the config: what the HTTP edge allows one client and all of them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The HTTP edge's limits, as the config's `[http_limits]` table gives them (every field
/// optional; the defaults are below).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// How long a client may take to send a request's headers, counted from the connection's
    /// start or the end of the previous answer: also the longest a kept-alive connection idles.
    pub header_timeout_ms: u64,
    /// How long a request's body may take to arrive (408 beyond), and a handler to start its
    /// answer (503 beyond).
    pub request_timeout_ms: u64,
    /// How long a write may wait on a client that reads nothing before its connection is closed.
    pub write_timeout_ms: u64,
    /// Connections open at once, in all. Beyond, a connection is answered 503 and closed.
    pub max_connections: usize,
    /// Connections open at once from one address (an IPv6 client: its /64).
    pub max_connections_per_address: usize,
    /// Requests answered at once; beyond, 503 with `Retry-After`.
    pub max_requests: usize,
    /// Exports, bundles and feeds written at once (each streams); beyond, 503 with `Retry-After`.
    pub max_streams: usize,
    /// Bodies of the unauthenticated POSTs (decisions, checkpoints) read at once.
    pub max_open_posts: usize,
    /// Public requests per second from one address, sustained …
    pub reads_per_second: u32,
    /// … and in a burst; beyond, 429 with `Retry-After`.
    pub read_burst: u32,
    /// Unauthenticated POSTs (and requests with a wrong admin token) per minute from one
    /// address, sustained …
    pub posts_per_minute: u32,
    /// … and in a burst.
    pub post_burst: u32,
    /// Records of one author this node takes through its API (published here, or pushed
    /// signed) per second, sustained …
    pub author_records_per_second: u32,
    /// … and in a burst (32 by default: above the most a sample member publishes at once);
    /// beyond, 429 with `Retry-After`. A node is not the way for one key,
    /// stolen or not, to pour records into the network faster than this (docs/PROTOCOL.md
    /// §6.1 paces their gossip the same way).
    pub author_record_burst: u32,
    /// Memory for the answers to repeated queries, in MiB ([`crate::api::answers`]); 0 keeps
    /// none.
    pub answer_cache_mb: u64,
    /// Memory for the JSON of records shown in answers, in MiB
    /// ([`crate::api::answers::RecordCache`]); 0 keeps none.
    pub record_cache_mb: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            write_timeout_ms: 30_000,
            max_connections: 2_048,
            max_connections_per_address: 64,
            max_requests: 256,
            max_streams: 16,
            max_open_posts: 8,
            reads_per_second: 100,
            read_burst: 400,
            posts_per_minute: 60,
            post_burst: 20,
            author_records_per_second: 10,
            author_record_burst: 32,
            answer_cache_mb: 64,
            record_cache_mb: 64,
        }
    }
}

/// A limit that cannot be used: the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct LimitError {
    /// The field, `http_limits.` and its name.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

impl Limits {
    /// Checks every field's range.
    pub fn check(&self) -> Result<(), LimitError> {
        let range = |field: &'static str, v: u64, lo: u64, hi: u64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(LimitError {
                    field,
                    message: format!("{v} is not within {lo}..={hi}"),
                })
            }
        };
        let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        range(
            "http_limits.header_timeout_ms",
            self.header_timeout_ms,
            100,
            600_000,
        )?;
        range(
            "http_limits.request_timeout_ms",
            self.request_timeout_ms,
            100,
            3_600_000,
        )?;
        range(
            "http_limits.write_timeout_ms",
            self.write_timeout_ms,
            100,
            3_600_000,
        )?;
        range(
            "http_limits.max_connections",
            n(self.max_connections),
            1,
            1_000_000,
        )?;
        range(
            "http_limits.max_connections_per_address",
            n(self.max_connections_per_address),
            1,
            n(self.max_connections),
        )?;
        range(
            "http_limits.max_requests",
            n(self.max_requests),
            1,
            1_000_000,
        )?;
        range("http_limits.max_streams", n(self.max_streams), 1, 10_000)?;
        range(
            "http_limits.answer_cache_mb",
            self.answer_cache_mb,
            0,
            65_536,
        )?;
        range(
            "http_limits.record_cache_mb",
            self.record_cache_mb,
            0,
            65_536,
        )?;
        range(
            "http_limits.max_open_posts",
            n(self.max_open_posts),
            1,
            10_000,
        )?;
        range(
            "http_limits.reads_per_second",
            self.reads_per_second.into(),
            1,
            1_000_000,
        )?;
        range(
            "http_limits.read_burst",
            self.read_burst.into(),
            1,
            1_000_000,
        )?;
        range(
            "http_limits.posts_per_minute",
            self.posts_per_minute.into(),
            1,
            1_000_000,
        )?;
        range(
            "http_limits.post_burst",
            self.post_burst.into(),
            1,
            1_000_000,
        )?;
        range(
            "http_limits.author_records_per_second",
            self.author_records_per_second.into(),
            1,
            1_000_000,
        )?;
        range(
            "http_limits.author_record_burst",
            self.author_record_burst.into(),
            1,
            1_000_000,
        )?;
        Ok(())
    }

    /// [`Self::header_timeout_ms`].
    pub fn header_timeout(&self) -> Duration {
        Duration::from_millis(self.header_timeout_ms)
    }

    /// [`Self::request_timeout_ms`].
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// [`Self::write_timeout_ms`].
    pub fn write_timeout(&self) -> Duration {
        Duration::from_millis(self.write_timeout_ms)
    }

    /// Limits that never get in a test's way (rates and caps far above what a test sends), with
    /// today's timeouts.
    pub fn generous() -> Self {
        Limits {
            max_connections: 10_000,
            max_connections_per_address: 10_000,
            max_requests: 10_000,
            max_streams: 1_000,
            max_open_posts: 1_000,
            reads_per_second: 1_000_000,
            read_burst: 1_000_000,
            posts_per_minute: 1_000_000,
            post_burst: 1_000_000,
            author_records_per_second: 1_000_000,
            author_record_burst: 1_000_000,
            ..Limits::default()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_and_the_generous_limits_are_valid() {
        assert_eq!(Limits::default().check(), Ok(()));
        assert_eq!(Limits::generous().check(), Ok(()));
    }

    #[test]
    fn a_limit_out_of_range_names_its_field() {
        let l = Limits {
            max_connections: 10,
            max_connections_per_address: 11,
            ..Limits::default()
        };
        let e = l.check().unwrap_err();
        assert_eq!(e.field, "http_limits.max_connections_per_address");
        let l = Limits {
            header_timeout_ms: 0,
            ..Limits::default()
        };
        assert_eq!(
            l.check().unwrap_err().field,
            "http_limits.header_timeout_ms"
        );
        let l = Limits {
            reads_per_second: 0,
            ..Limits::default()
        };
        assert_eq!(l.check().unwrap_err().field, "http_limits.reads_per_second");
    }

    #[test]
    fn a_partial_table_keeps_the_other_defaults() {
        let l: Limits = toml::from_str("max_streams = 3").unwrap();
        assert_eq!(l.max_streams, 3);
        assert_eq!(l.max_requests, Limits::default().max_requests);
        assert!(toml::from_str::<Limits>("max_stream = 3").is_err());
    }
}
