//! The index writer: applies each group commit's sled batch on its own thread, after the journal
//! made the group durable. Acknowledging a group then costs its verification and one `fdatasync`,
//! not sled's work, and the two run on different cores.
//!
//! Until the writer has applied a batch, its entries stay in [`Pending`], which every read consults
//! before sled, so reads see exactly what was acknowledged. The job queue is bounded: a writer that
//! falls behind slows appends down instead of growing memory. A crash loses nothing: the batch also
//! records how far into the journal it applies, and opening replays the rest.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use hubnet_protocol::{PublicKey, RecordId};

use super::index::RecordLocation;

/// Group commits that may wait for the writer before appends block.
const QUEUE: usize = 4;

/// Index entries acknowledged but not yet applied to sled, each tagged with its job number.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub(crate) ids: HashMap<RecordId, (RecordLocation, u64)>,
    pub(crate) chunks: HashMap<(PublicKey, u64), (Vec<u8>, u64)>,
    pub(crate) retracted: HashMap<RecordId, u64>,
    /// Set when sled refused a batch; appends stop until the store is reopened (and replays).
    pub(crate) failed: Option<String>,
}

/// One group commit's index update.
pub(crate) struct Job {
    pub(crate) batch: sled::Batch,
    pub(crate) number: u64,
    pub(crate) ids: Vec<RecordId>,
    pub(crate) chunks: Vec<(PublicKey, u64)>,
    pub(crate) retracted: Vec<RecordId>,
}

enum Message {
    Apply(Job),
    Sync(SyncSender<()>),
}

/// Handle to the writer thread.
#[derive(Debug)]
pub(crate) struct IndexWriter {
    tx: Option<SyncSender<Message>>,
    pending: Arc<Mutex<Pending>>,
    thread: Option<JoinHandle<()>>,
    next_job: u64,
    #[cfg(test)]
    pub(crate) gate: Arc<Mutex<()>>,
}

impl IndexWriter {
    pub(crate) fn start(db: sled::Db) -> Self {
        let (tx, rx) = sync_channel(QUEUE);
        let pending = Arc::new(Mutex::new(Pending::default()));
        let shared = Arc::clone(&pending);
        #[cfg(test)]
        let gate = Arc::new(Mutex::new(()));
        #[cfg(test)]
        let thread_gate = Arc::clone(&gate);
        let thread = std::thread::Builder::new()
            .name("index-writer".into())
            .spawn(move || {
                #[cfg(test)]
                let gate = Some(thread_gate);
                #[cfg(not(test))]
                let gate: Option<Arc<Mutex<()>>> = None;
                run(&db, &rx, &shared, gate.as_deref());
            })
            .ok();
        Self {
            tx: Some(tx),
            pending,
            thread,
            next_job: 1,
            #[cfg(test)]
            gate,
        }
    }

    /// The overlay of entries not yet in sled.
    pub(crate) fn pending(&self) -> MutexGuard<'_, Pending> {
        lock(&self.pending)
    }

    /// A fresh job number.
    pub(crate) fn next_job(&mut self) -> u64 {
        let n = self.next_job;
        self.next_job += 1;
        n
    }

    /// Queues a job whose entries are already in [`Pending`]; blocks while the queue is full.
    /// Returns false if the writer thread is gone.
    pub(crate) fn submit(&self, job: Job) -> bool {
        match (&self.tx, &self.thread) {
            (Some(tx), Some(_)) => tx.send(Message::Apply(job)).is_ok(),
            _ => false,
        }
    }

    /// Waits until every queued job has been applied.
    pub(crate) fn sync(&self) {
        if let (Some(tx), Some(_)) = (&self.tx, &self.thread) {
            let (done_tx, done_rx) = sync_channel(1);
            if tx.send(Message::Sync(done_tx)).is_ok() {
                let _ = done_rx.recv();
            }
        }
    }
}

impl Drop for IndexWriter {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(db: &sled::Db, rx: &Receiver<Message>, pending: &Mutex<Pending>, gate: Option<&Mutex<()>>) {
    for message in rx {
        match message {
            Message::Sync(done) => {
                let _ = done.send(());
            }
            Message::Apply(job) => {
                let _held = gate.map(lock);
                let result = db.apply_batch(job.batch);
                let mut p = lock(pending);
                if let Err(e) = result {
                    tracing::error!(error = %e, "index writer: sled refused a batch; the journal has the records, reopen to replay");
                    p.failed = Some(e.to_string());
                    continue;
                }
                for id in job.ids {
                    if p.ids.get(&id).is_some_and(|(_, n)| *n == job.number) {
                        p.ids.remove(&id);
                    }
                }
                for key in job.chunks {
                    if p.chunks.get(&key).is_some_and(|(_, n)| *n == job.number) {
                        p.chunks.remove(&key);
                    }
                }
                for id in job.retracted {
                    if p.retracted.get(&id).is_some_and(|n| *n == job.number) {
                        p.retracted.remove(&id);
                    }
                }
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
