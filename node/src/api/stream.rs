//! Answers written while they are sent: a blocking thread writes the body through a channel of
//! a few chunks, so a client that reads slowly holds at most [`CHUNKS`] × [`CHUNK_BYTES`] of it
//! in memory (and the writer waits), and one that reads nothing is closed by the edge's write
//! timeout, which ends the writer. Each such answer holds one of the guard's stream places
//! until it ends.

use std::io::Write;

use axum::body::{Body, Bytes};
use tokio::sync::OwnedSemaphorePermit;
use tracing::warn;

use super::ApiError;
use crate::current::Current;
use crate::search::DocState;
use crate::shared::Shared;

/// Chunks waiting in the channel, at most.
pub const CHUNKS: usize = 4;
/// Bytes gathered before a chunk is sent.
pub const CHUNK_BYTES: usize = 64 * 1024;

/// Marks a response whose body is [`body`]: it is sent as it is written, never compressed (see
/// the compression layer in `api/mod.rs`).
#[derive(Debug, Clone, Copy)]
pub struct Streamed;

/// A body that `write` writes on a blocking thread; `permit` is held until it is done. An error
/// while writing ends the body early (the client sees a cut answer, and the log says why).
pub fn body<F>(permit: OwnedSemaphorePermit, what: &'static str, write: F) -> Body
where
    F: FnOnce(&mut ChannelWriter) -> std::io::Result<()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(CHUNKS);
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK_BYTES),
        };
        let result = write(&mut out).and_then(|()| out.flush());
        match result {
            Ok(()) => {}
            // The client went away: nothing to report.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            Err(e) => {
                warn!(error = %e, what, "writing a streamed answer stopped");
                let _ = out.tx.blocking_send(Err(e));
            }
        }
        // The place is free before the body ends (the channel's sender dropped): a client
        // that has read the whole answer and asks again must find it free.
        drop(permit);
        drop(out);
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Body::from_stream(stream)
}

/// A `Write` that sends [`CHUNK_BYTES`] chunks down a response's channel, waiting while it is
/// full.
pub struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK_BYTES {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK_BYTES),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client gone"))
    }
}

/// The records of `hits`, each loaded when it is asked for (the store's lock taken for one
/// record at a time), so that a long answer never holds more than one. Hits whose record is
/// gone are skipped; a store error ends the iteration and is left in `failed`.
pub fn records<'a>(
    shared: &'a Shared,
    hits: &'a [DocState],
    failed: &'a mut Option<ApiError>,
) -> impl Iterator<Item = Current> + 'a {
    hits.iter()
        .map_while(move |hit| {
            if failed.is_some() {
                return None;
            }
            let loaded = super::query::load_current(&shared.read_store(), hit);
            match loaded {
                Ok(c) => Some(c),
                Err(e) => {
                    *failed = Some(e);
                    None
                }
            }
        })
        .flatten()
}

/// An [`ApiError`] as the `io::Error` a writer returns.
pub fn io_error(e: ApiError) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use tokio::sync::Semaphore;

    use super::*;

    /// Once a client has read a streamed answer to its end, the answer's place is free: a
    /// client that asks again at once is not refused (the place used to be released after
    /// the body's end, and a quick second request could find it taken).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_place_is_free_once_the_body_has_ended() {
        let places = Arc::new(Semaphore::new(1));
        for i in 0..200 {
            let permit = places.clone().try_acquire_owned().unwrap_or_else(|_| {
                panic!("answer {i}: the place of the one before is still taken")
            });
            let body = body(permit, "test", |out| out.write_all(b"[1,2,3]"));
            let bytes = axum::body::to_bytes(body, 1024).await.expect("the body");
            assert_eq!(&bytes[..], b"[1,2,3]");
        }
    }
}
