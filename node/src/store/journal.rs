//! The record journal: an append-only, checksummed file of encoded `SignedRecord`s. It is the
//! store's source of truth; sled's indexes are rebuilt from it.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! file header, 48 bytes: "HUBNETJ\0" | version u32 | reserved u32 (0) | network id [32]
//! entry:                 length u32 | crc32 u32 (IEEE, over the payload) | payload [length]
//! ```
//!
//! Appends are written whole and made durable with `fdatasync` before [`Journal::append`] returns,
//! so an acknowledged record is never lost. A group can also be written first and made durable
//! later ([`Journal::write_group`], [`WrittenGroup::sync`], then [`Journal::confirm`]): until it
//! is confirmed, [`Journal::len`] and this type's reads stop before it, so the store reads no
//! group that is not on disk yet, and its `fdatasync` needs no access to the journal (nor the
//! store's lock). The file itself is longer meanwhile (what a backup reading the file sees).
//!
//! A crash can only leave a torn *last* entry; opening finds it (short read, bad checksum, or zero fill), reports it and truncates it. A bad entry
//! followed by data is corruption, not a torn write, and the journal refuses to open.

use std::fs::{File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use hubnet_protocol::NetworkId;

/// Magic bytes at the start of a journal.
pub const MAGIC: &[u8; 8] = b"HUBNETJ\0";
/// Journal format version this build writes and reads.
pub const VERSION: u32 = 1;
/// Size of the file header.
pub const HEADER_LEN: u64 = 48;
/// Largest entry accepted when reading; far above any charter's record limit.
pub const MAX_ENTRY: u32 = 64 * 1024 * 1024;
const ENTRY_HEADER: u64 = 8;

/// Journal failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// An IO error.
    #[error("journal {path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: io::Error,
    },
    /// Not a hubnet journal.
    #[error("journal {0}: not a hubnet journal (bad magic bytes)")]
    BadMagic(PathBuf),
    /// Written by a newer or unknown format.
    #[error(
        "journal {path}: format version {found} is not supported (this build reads version {VERSION}); use a newer hubnet"
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// Version found.
        found: u32,
    },
    /// Belongs to another network.
    #[error("journal {path}: belongs to network {found}, the charter is network {expected}")]
    WrongNetwork {
        /// The file.
        path: PathBuf,
        /// Journal's network.
        found: NetworkId,
        /// Charter's network.
        expected: NetworkId,
    },
    /// A failed append could not be rolled back; the journal takes no more appends until reopened.
    #[error("journal {0}: a failed write could not be rolled back; restart hubnet to recover")]
    Broken(PathBuf),
    /// A group was written and is neither confirmed nor discarded yet: one group at a time.
    #[error("journal {0}: a group written earlier is not confirmed yet; one group at a time")]
    GroupInFlight(PathBuf),
    /// An entry the reader would refuse (empty, or over [`MAX_ENTRY`]); nothing was written.
    #[error("journal {path}: an entry of {len} bytes cannot be stored (1 to {MAX_ENTRY} bytes)")]
    EntrySize {
        /// The file.
        path: PathBuf,
        /// The payload's length.
        len: usize,
    },
    /// A damaged entry that is not a torn tail.
    #[error(
        "journal {path}: entry at offset {offset} is damaged ({reason}) and is followed by more data; refusing to guess. Restore the data dir from a backup or re-import an export"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Entry offset.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

/// One journal entry as read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Offset of the entry header.
    pub offset: u64,
    /// The payload: an encoded `SignedRecord`.
    pub payload: Vec<u8>,
}

impl Entry {
    /// Offset just past this entry.
    pub fn end(&self) -> u64 {
        self.offset + ENTRY_HEADER + self.payload.len() as u64
    }
}

/// An open journal.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    /// Shared with the groups written ([`WrittenGroup::sync`] runs `fdatasync` without the
    /// journal); reads, writes and seeks go through `&File`.
    file: Arc<File>,
    len: u64,
    /// Set when a failed append could not be cut off; no further appends.
    broken: bool,
    /// Appends made durable since the journal was opened (each one write and `fdatasync`).
    syncs: u64,
    /// The end of a group written but not confirmed yet.
    unconfirmed: Option<u64>,
    /// Holds a group's `fdatasync` while a test has it.
    #[cfg(test)]
    pub(crate) sync_gate: Arc<std::sync::Mutex<()>>,
}

/// A group of entries [`Journal::write_group`] wrote and nobody can read yet. Make it durable
/// with [`WrittenGroup::sync`] (the journal is not needed for that), then hand it back to
/// [`Journal::confirm`], or to [`Journal::discard`] if the sync failed.
#[derive(Debug)]
#[must_use = "a written group stays unreadable, and blocks the next, until confirmed or discarded"]
pub struct WrittenGroup {
    offsets: Vec<u64>,
    end: u64,
    file: Arc<File>,
    path: PathBuf,
    #[cfg(test)]
    gate: Arc<std::sync::Mutex<()>>,
}

impl WrittenGroup {
    /// The offset of each entry, in the order written.
    pub fn offsets(&self) -> &[u64] {
        &self.offsets
    }

    /// Makes the group durable (`fdatasync`), and everything written before it.
    pub fn sync(&self) -> Result<(), JournalError> {
        #[cfg(test)]
        let _held = self
            .gate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sync_data(&self.file, &self.path)
    }
}

/// `fdatasync` of `file` (the journal at `path`).
fn sync_data(file: &File, path: &Path) -> Result<(), JournalError> {
    file.sync_data().map_err(|cause| JournalError::Io {
        path: path.to_owned(),
        cause,
    })
}

impl Journal {
    /// Opens (creating if absent) the journal at `path` for `network`; truncates a torn tail.
    pub fn open(path: &Path, network: NetworkId) -> Result<Self, JournalError> {
        let io_err = |source| JournalError::Io {
            path: path.to_owned(),
            cause: source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_err)?;
        let mut len = file.metadata().map_err(io_err)?.len();
        if len < HEADER_LEN {
            // New, or torn while the header itself was written: nothing was ever acknowledged.
            let mut header = Vec::with_capacity(HEADER_LEN as usize);
            header.extend_from_slice(MAGIC);
            header.extend_from_slice(&VERSION.to_le_bytes());
            header.extend_from_slice(&0u32.to_le_bytes());
            header.extend_from_slice(network.as_bytes());
            file.set_len(0).map_err(io_err)?;
            file.write_all_at(&header, 0).map_err(io_err)?;
            file.sync_all().map_err(io_err)?;
            sync_dir(path).map_err(io_err)?;
            len = HEADER_LEN;
        } else {
            let mut header = [0u8; HEADER_LEN as usize];
            file.read_exact_at(&mut header, 0).map_err(io_err)?;
            if &header[..8] != MAGIC {
                return Err(JournalError::BadMagic(path.to_owned()));
            }
            let version = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
            if version != VERSION {
                return Err(JournalError::UnsupportedVersion {
                    path: path.to_owned(),
                    found: version,
                });
            }
            let mut found = [0u8; 32];
            found.copy_from_slice(&header[16..48]);
            if found != *network.as_bytes() {
                return Err(JournalError::WrongNetwork {
                    path: path.to_owned(),
                    found: NetworkId(found),
                    expected: network,
                });
            }
        }
        file.seek(SeekFrom::End(0)).map_err(io_err)?;
        Ok(Self {
            path: path.to_owned(),
            file: Arc::new(file),
            len,
            broken: false,
            syncs: 0,
            unconfirmed: None,
            #[cfg(test)]
            sync_gate: Arc::default(),
        })
    }

    /// The end of the last entry made durable and confirmed: what reads see, and where the next
    /// group is written (a group in flight lies beyond it).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Appends made durable since the journal was opened: each is one write and one
    /// `fdatasync`, however many entries it holds.
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    /// Whether the journal holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len == HEADER_LEN
    }

    /// Appends `payloads` in one write and makes them durable; returns each entry's offset.
    ///
    /// Every payload must be 1 to [`MAX_ENTRY`] bytes, what [`Journal::recover_from`] reads back;
    /// otherwise nothing of the group is written.
    pub fn append(&mut self, payloads: &[&[u8]]) -> Result<Vec<u64>, JournalError> {
        let group = self.write_group(payloads)?;
        match group.sync() {
            Ok(()) => self.confirm(group),
            Err(e) => {
                self.discard(group);
                Err(e)
            }
        }
    }

    /// Writes `payloads` in one write after the last entry, not durable yet and not readable:
    /// [`Journal::len`] and every read stay where they were until [`Journal::confirm`]. Only one
    /// group can be written at a time. The payload rules are [`Journal::append`]'s.
    pub fn write_group(&mut self, payloads: &[&[u8]]) -> Result<WrittenGroup, JournalError> {
        if let Some(p) = payloads
            .iter()
            .find(|p| p.is_empty() || p.len() > MAX_ENTRY as usize)
        {
            return Err(JournalError::EntrySize {
                path: self.path.clone(),
                len: p.len(),
            });
        }
        if self.broken {
            return Err(JournalError::Broken(self.path.clone()));
        }
        if self.unconfirmed.is_some() {
            return Err(JournalError::GroupInFlight(self.path.clone()));
        }
        let mut buf = Vec::with_capacity(payloads.iter().map(|p| p.len() + 8).sum());
        let mut offsets = Vec::with_capacity(payloads.len());
        for p in payloads {
            offsets.push(self.len + buf.len() as u64);
            buf.extend_from_slice(&(p.len() as u32).to_le_bytes());
            buf.extend_from_slice(&crc32fast::hash(p).to_le_bytes());
            buf.extend_from_slice(p);
        }
        if let Err(cause) = (&*self.file).write_all(&buf) {
            self.cut_back();
            return Err(JournalError::Io {
                path: self.path.clone(),
                cause,
            });
        }
        let end = self.len + buf.len() as u64;
        self.unconfirmed = Some(end);
        Ok(WrittenGroup {
            offsets,
            end,
            file: Arc::clone(&self.file),
            path: self.path.clone(),
            #[cfg(test)]
            gate: Arc::clone(&self.sync_gate),
        })
    }

    /// Makes a group readable once [`WrittenGroup::sync`] succeeded; returns its offsets.
    pub fn confirm(&mut self, group: WrittenGroup) -> Result<Vec<u64>, JournalError> {
        if self.unconfirmed != Some(group.end) {
            // Not the group this journal has in flight (a caller's bug): nothing changes.
            debug_assert!(false, "confirmed a group this journal did not write last");
            return Err(JournalError::GroupInFlight(self.path.clone()));
        }
        self.unconfirmed = None;
        self.len = group.end;
        self.syncs += 1;
        Ok(group.offsets)
    }

    /// Cuts a group off that will not be confirmed (its sync failed): nothing of it is
    /// acknowledged, and the next group starts where it did.
    pub fn discard(&mut self, group: WrittenGroup) {
        if self.unconfirmed == Some(group.end) {
            self.unconfirmed = None;
            self.cut_back();
        }
    }

    /// Cuts the file back to [`Journal::len`] so the next write starts there; if even that
    /// fails, refuses further writes (reopening truncates the torn tail).
    fn cut_back(&mut self) {
        let rolled_back = self
            .file
            .set_len(self.len)
            .and_then(|()| (&*self.file).seek(SeekFrom::Start(self.len)).map(|_| ()));
        if rolled_back.is_err() {
            self.broken = true;
        }
    }

    /// Erases the record body of the entry at `offset` in place (docs/PROTOCOL.md §2.1): the
    /// `SignedRecord`'s `body` field (2) becomes field [`ERASED_FIELD`] of the same length,
    /// all zeros, and the checksum is recomputed. The header and signature bytes are not
    /// touched, so whatever a crash tears, the entry still parses with them whole; the store
    /// keeps an intent file and redoes an interrupted erasure before the journal is read
    /// (whatever its checksum says then: the check is skipped here). Returns whether anything
    /// changed (`false`: no body, or already erased). Not durable until [`Journal::sync`].
    pub fn erase_body(&mut self, offset: u64) -> Result<bool, JournalError> {
        let io_err = |source| JournalError::Io {
            path: self.path.clone(),
            cause: source,
        };
        let mut head = [0u8; ENTRY_HEADER as usize];
        self.file.read_exact_at(&mut head, offset).map_err(io_err)?;
        let (len, _) = split_entry_header(&head);
        if len == 0 || len > MAX_ENTRY || offset + ENTRY_HEADER + u64::from(len) > self.len {
            return Err(self.corrupt(offset, format!("length {len} out of range")));
        }
        let mut payload = vec![0u8; len as usize];
        self.file
            .read_exact_at(&mut payload, offset + ENTRY_HEADER)
            .map_err(io_err)?;
        let body = match body_field(&payload) {
            Ok(Some(body)) => body,
            Ok(None) => return Ok(false),
            Err(reason) => {
                return Err(self.corrupt(offset, format!("not a record entry: {reason}")));
            }
        };
        let erased_tag = (ERASED_FIELD << 3) | 2;
        let (_, crc) = split_entry_header(&head);
        if payload[body.tag] == erased_tag
            && payload[body.content.clone()].iter().all(|b| *b == 0)
            && crc32fast::hash(&payload) == crc
        {
            return Ok(false);
        }
        payload[body.tag] = erased_tag;
        payload[body.content.clone()].fill(0);
        let at = offset + ENTRY_HEADER + body.tag as u64;
        self.file
            .write_all_at(&payload[body.tag..body.content.end], at)
            .and_then(|()| {
                self.file
                    .write_all_at(&crc32fast::hash(&payload).to_le_bytes(), offset + 4)
            })
            .map_err(io_err)?;
        Ok(true)
    }

    /// Makes every write so far durable (`fdatasync`).
    pub fn sync(&self) -> Result<(), JournalError> {
        sync_data(&self.file, &self.path)
    }

    /// Reads the payload of the entry at `offset`, checking its checksum.
    pub fn read_at(&self, offset: u64) -> Result<Vec<u8>, JournalError> {
        let mut head = [0u8; ENTRY_HEADER as usize];
        let io_err = |source| JournalError::Io {
            path: self.path.clone(),
            cause: source,
        };
        self.file.read_exact_at(&mut head, offset).map_err(io_err)?;
        let (len, crc) = split_entry_header(&head);
        if len == 0 || len > MAX_ENTRY || offset + ENTRY_HEADER + u64::from(len) > self.len {
            return Err(self.corrupt(offset, format!("length {len} out of range")));
        }
        let mut payload = vec![0u8; len as usize];
        self.file
            .read_exact_at(&mut payload, offset + ENTRY_HEADER)
            .map_err(io_err)?;
        if crc32fast::hash(&payload) != crc {
            return Err(self.corrupt(offset, "checksum mismatch".into()));
        }
        Ok(payload)
    }

    /// Reads up to `max_entries` whole entries from `offset` (an entry offset), with one read of
    /// at most `max_bytes` (an entry larger than that is read alone, by [`Journal::read_at`]).
    /// Returns the payloads and the offset after them; nothing when `offset` is the end. Each
    /// entry is checked as [`Journal::read_at`] checks it.
    pub fn read_run(
        &self,
        offset: u64,
        max_entries: usize,
        max_bytes: usize,
    ) -> Result<(Vec<Vec<u8>>, u64), JournalError> {
        let available = self.len.saturating_sub(offset);
        if available == 0 || max_entries == 0 {
            return Ok((Vec::new(), offset));
        }
        let size = usize::try_from(available).map_or(max_bytes, |a| a.min(max_bytes));
        let mut block = vec![0u8; size];
        self.file
            .read_exact_at(&mut block, offset)
            .map_err(|cause| JournalError::Io {
                path: self.path.clone(),
                cause,
            })?;
        let mut out = Vec::new();
        let mut at = 0usize;
        while out.len() < max_entries {
            let entry = offset + at as u64;
            let Some(head) = block.get(at..at + ENTRY_HEADER as usize) else {
                break;
            };
            let (len, crc) = split_entry_header(&[
                head[0], head[1], head[2], head[3], head[4], head[5], head[6], head[7],
            ]);
            if len == 0 || len > MAX_ENTRY || entry + ENTRY_HEADER + u64::from(len) > self.len {
                return Err(self.corrupt(entry, format!("length {len} out of range")));
            }
            let start = at + ENTRY_HEADER as usize;
            let Some(payload) = block.get(start..start + len as usize) else {
                // Not whole in the block: the next read starts with it.
                break;
            };
            if crc32fast::hash(payload) != crc {
                return Err(self.corrupt(entry, "checksum mismatch".into()));
            }
            out.push(payload.to_vec());
            at = start + len as usize;
        }
        if out.is_empty() {
            let payload = self.read_at(offset)?;
            let next = offset + ENTRY_HEADER + payload.len() as u64;
            return Ok((vec![payload], next));
        }
        Ok((out, offset + at as u64))
    }

    /// Reads every entry from `from` (an entry offset, or [`HEADER_LEN`]) to the end, truncating a
    /// torn tail. Returns the entries and the number of torn bytes dropped.
    pub fn recover_from(&mut self, from: u64) -> Result<(Vec<Entry>, u64), JournalError> {
        let io_err = |source| JournalError::Io {
            path: self.path.clone(),
            cause: source,
        };
        let total = self.file.metadata().map_err(io_err)?.len();
        let mut reader = BufReader::with_capacity(1 << 20, &*self.file);
        reader.seek(SeekFrom::Start(from)).map_err(io_err)?;
        let mut entries = Vec::new();
        let mut offset = from;
        while offset < total {
            match read_entry(&mut reader, offset, total) {
                Ok(payload) => {
                    let entry = Entry { offset, payload };
                    offset = entry.end();
                    entries.push(entry);
                }
                Err(reason) => {
                    if !self.is_torn_tail(offset, total)? {
                        return Err(self.corrupt(offset, reason));
                    }
                    let torn = total - offset;
                    self.file.set_len(offset).map_err(io_err)?;
                    self.file.sync_all().map_err(io_err)?;
                    self.len = offset;
                    (&*self.file).seek(SeekFrom::End(0)).map_err(io_err)?;
                    return Ok((entries, torn));
                }
            }
        }
        self.len = total;
        Ok((entries, 0))
    }

    /// A bad entry is a torn tail if its declared extent reaches the end of the file, or if
    /// everything from it to the end is zero (a crash can leave allocated but unwritten blocks).
    fn is_torn_tail(&self, offset: u64, total: u64) -> Result<bool, JournalError> {
        let mut head = [0u8; ENTRY_HEADER as usize];
        let available = (total - offset).min(ENTRY_HEADER) as usize;
        let io_err = |source| JournalError::Io {
            path: self.path.clone(),
            cause: source,
        };
        self.file
            .read_exact_at(&mut head[..available], offset)
            .map_err(io_err)?;
        if available < ENTRY_HEADER as usize {
            return Ok(true);
        }
        let (len, _) = split_entry_header(&head);
        if offset + ENTRY_HEADER + u64::from(len) >= total {
            return Ok(true);
        }
        let mut rest = Vec::new();
        let mut f = &*self.file;
        f.seek(SeekFrom::Start(offset)).map_err(io_err)?;
        f.take(total - offset)
            .read_to_end(&mut rest)
            .map_err(io_err)?;
        Ok(rest.iter().all(|&b| b == 0))
    }

    fn corrupt(&self, offset: u64, reason: String) -> JournalError {
        JournalError::Corrupt {
            path: self.path.clone(),
            offset,
            reason,
        }
    }
}

/// The field number an erased body's bytes take in a journal entry (the `SignedRecord` message
/// has no such field, so decoding skips it: the record reads back without a body).
pub const ERASED_FIELD: u8 = 15;

/// Whether an entry's record has no body (erased in place, or stored as received without it).
pub fn is_bodyless(payload: &[u8]) -> bool {
    match body_field(payload) {
        Ok(Some(body)) => payload[body.tag] == (ERASED_FIELD << 3) | 2,
        Ok(None) => true,
        Err(_) => false,
    }
}

/// Where a `SignedRecord`'s body field sits in an encoded entry.
struct BodyField {
    /// Offset of its one-byte key.
    tag: usize,
    /// Its content bytes.
    content: std::ops::Range<usize>,
}

/// Finds the body field (2, or [`ERASED_FIELD`] once erased) of an encoded `SignedRecord`, reading
/// only keys and lengths, so it works on an entry whose body was torn by a crash. `None`: the
/// record has no body (an erased record stored as received).
fn body_field(payload: &[u8]) -> Result<Option<BodyField>, String> {
    use prost::encoding::{WireType, decode_key, decode_varint};
    let mut rest = payload;
    while !rest.is_empty() {
        let tag = payload.len() - rest.len();
        let (field, wire) = decode_key(&mut rest).map_err(|e| e.to_string())?;
        if wire != WireType::LengthDelimited {
            return Err(format!("field {field} is not length-delimited"));
        }
        let key_end = payload.len() - rest.len();
        let len = decode_varint(&mut rest)
            .ok()
            .and_then(|l| usize::try_from(l).ok())
            .ok_or("bad length")?;
        let start = payload.len() - rest.len();
        let end = start
            .checked_add(len)
            .filter(|e| *e <= payload.len())
            .ok_or("field runs past the entry")?;
        if field == 2 || field == u32::from(ERASED_FIELD) {
            if key_end != tag + 1 {
                return Err("body key is not one byte".into());
            }
            return Ok(Some(BodyField {
                tag,
                content: start..end,
            }));
        }
        rest = &payload[end..];
    }
    Ok(None)
}

fn split_entry_header(head: &[u8; 8]) -> (u32, u32) {
    (
        u32::from_le_bytes([head[0], head[1], head[2], head[3]]),
        u32::from_le_bytes([head[4], head[5], head[6], head[7]]),
    )
}

fn read_entry(reader: &mut impl Read, offset: u64, total: u64) -> Result<Vec<u8>, String> {
    let mut head = [0u8; ENTRY_HEADER as usize];
    reader
        .read_exact(&mut head)
        .map_err(|_| "incomplete entry header".to_owned())?;
    let (len, crc) = split_entry_header(&head);
    if len == 0 || len > MAX_ENTRY {
        return Err(format!("length {len} out of range"));
    }
    if offset + ENTRY_HEADER + u64::from(len) > total {
        return Err("entry runs past the end of the file".into());
    }
    let mut payload = vec![0u8; len as usize];
    reader
        .read_exact(&mut payload)
        .map_err(|_| "incomplete payload".to_owned())?;
    if crc32fast::hash(&payload) != crc {
        return Err("checksum mismatch".into());
    }
    Ok(payload)
}

pub(crate) use crate::durable::sync_dir;

#[cfg(test)]
mod tests {
    use super::*;

    const NET: NetworkId = NetworkId([3; 32]);

    fn journal_with(entries: &[&[u8]]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("records.journal");
        let mut j = Journal::open(&path, NET).expect("opens");
        j.append(entries).expect("appends");
        (dir, path)
    }

    fn recover(path: &Path) -> Result<(Vec<Vec<u8>>, u64), JournalError> {
        let mut j = Journal::open(path, NET)?;
        let (entries, torn) = j.recover_from(HEADER_LEN)?;
        Ok((entries.into_iter().map(|e| e.payload).collect(), torn))
    }

    #[test]
    fn entries_read_back() {
        let (_d, path) = journal_with(&[b"one", b"two"]);
        assert_eq!(
            recover(&path).expect("reads").0,
            vec![b"one".to_vec(), b"two".to_vec()]
        );
        let j = Journal::open(&path, NET).expect("opens");
        assert_eq!(j.read_at(HEADER_LEN + 8 + 3).expect("reads"), b"two");
    }

    /// A written group is read by nobody until it is confirmed, takes no second group meanwhile,
    /// and once discarded leaves the journal as it was, the next group written in its place.
    #[test]
    fn a_written_group_is_unreadable_until_confirmed_and_a_discarded_one_leaves_no_trace() {
        let (_d, path) = journal_with(&[b"one"]);
        let mut j = Journal::open(&path, NET).expect("opens");
        let end = j.len();
        let group = j.write_group(&[b"two", b"three"]).expect("writes");
        assert_eq!(group.offsets(), &[end, end + 8 + 3]);
        assert_eq!(j.len(), end, "the length stays");
        assert!(fs_len(&path) > end, "the file holds the group");
        assert!(matches!(j.read_at(end), Err(JournalError::Corrupt { .. })));
        assert_eq!(j.read_run(end, 10, 1 << 20).expect("reads").0.len(), 0);
        assert!(matches!(
            j.append(&[b"four"]),
            Err(JournalError::GroupInFlight(_))
        ));
        j.discard(group);
        assert_eq!((j.len(), fs_len(&path)), (end, end), "cut off");
        let group = j.write_group(&[b"four"]).expect("writes");
        assert_eq!(group.offsets(), &[end], "in the discarded group's place");
        group.sync().expect("syncs");
        assert_eq!(j.confirm(group).expect("confirms"), vec![end]);
        assert_eq!(j.read_at(end).expect("reads"), b"four");
        assert_eq!(
            recover(&path).expect("reads").0,
            vec![b"one".to_vec(), b"four".to_vec()]
        );
    }

    fn fs_len(path: &Path) -> u64 {
        std::fs::metadata(path).expect("journal").len()
    }

    #[test]
    fn a_run_reads_what_entry_by_entry_reads_in_any_block_size() {
        let entries: Vec<Vec<u8>> = (1..=40u8).map(|i| vec![i; usize::from(i) * 3]).collect();
        let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let (_d, path) = journal_with(&refs);
        let j = Journal::open(&path, NET).expect("opens");
        // Entry-by-entry, as the reference.
        let mut offsets = vec![HEADER_LEN];
        for e in &entries {
            let at = *offsets.last().expect("an offset");
            assert_eq!(&j.read_at(at).expect("reads"), e);
            offsets.push(at + 8 + e.len() as u64);
        }
        // A block smaller than one entry, one entry exactly, odd sizes, and all of it; from
        // every entry, with every count limit up to the rest of the journal.
        for block in [1, 11, 8 + 3, 97, 1000, usize::MAX] {
            for (first, &start) in offsets[..entries.len()].iter().enumerate() {
                for max in [1, 2, 7, entries.len()] {
                    let (mut got, mut at) = (Vec::new(), start);
                    while got.len() < max {
                        let (run, next) = j.read_run(at, max - got.len(), block).expect("reads");
                        if run.is_empty() {
                            assert_eq!(next, j.len(), "nothing is read only at the end");
                            break;
                        }
                        assert!(
                            run.len() <= max - got.len(),
                            "at most the entries asked for"
                        );
                        let read = entries[first + got.len()..].iter().take(run.len());
                        assert_eq!(next, at + read.map(|e| 8 + e.len() as u64).sum::<u64>());
                        got.extend(run);
                        at = next;
                    }
                    let want: Vec<Vec<u8>> = entries[first..].iter().take(max).cloned().collect();
                    assert_eq!(got, want, "block {block}, from entry {first}, max {max}");
                }
            }
        }
        assert_eq!(
            j.read_run(j.len(), 10, 100).expect("reads"),
            (vec![], j.len())
        );
        assert_eq!(
            j.read_run(HEADER_LEN, 0, 100).expect("reads"),
            (vec![], HEADER_LEN)
        );
    }

    #[test]
    fn a_run_refuses_damage_as_reading_one_entry_does() {
        let (_d, path) = journal_with(&[b"one", b"two", b"three"]);
        let f = OpenOptions::new().write(true).open(&path).expect("opens");
        let two = HEADER_LEN + 8 + 3;
        // The second entry's payload, then its length.
        f.write_all_at(b"X", two + 8).expect("writes");
        let j = Journal::open(&path, NET).expect("opens");
        let corrupt_at = |r: Result<(Vec<Vec<u8>>, u64), JournalError>| match r {
            Err(JournalError::Corrupt { offset, .. }) => Some(offset),
            _ => None,
        };
        assert_eq!(corrupt_at(j.read_run(HEADER_LEN, 10, 1 << 20)), Some(two));
        assert_eq!(
            corrupt_at(j.read_run(two, 10, 4)),
            Some(two),
            "read alone too"
        );
        f.write_all_at(&u32::MAX.to_le_bytes(), two)
            .expect("writes");
        assert_eq!(corrupt_at(j.read_run(HEADER_LEN, 10, 1 << 20)), Some(two));
        // Entries before the damage are read when the count stops short of it.
        assert_eq!(
            j.read_run(HEADER_LEN, 1, 1 << 20).expect("reads"),
            (vec![b"one".to_vec()], two)
        );
    }

    #[test]
    fn torn_tail_is_truncated_and_appends_continue() {
        let (_d, path) = journal_with(&[b"one", b"two"]);
        let full = std::fs::metadata(&path).expect("meta").len();
        for cut in [1, 5, 9, 10] {
            let (_d2, p2) = journal_with(&[b"one", b"two"]);
            let f = OpenOptions::new().write(true).open(&p2).expect("opens");
            f.set_len(full - cut).expect("truncates");
            let (entries, torn) = recover(&p2).expect("recovers");
            assert_eq!(entries, vec![b"one".to_vec()]);
            assert_eq!(torn, 8 + 3 - cut);
            let mut j = Journal::open(&p2, NET).expect("opens");
            j.recover_from(HEADER_LEN).expect("recovers");
            j.append(&[b"three"]).expect("appends");
            assert_eq!(
                recover(&p2).expect("reads").0,
                vec![b"one".to_vec(), b"three".to_vec()]
            );
        }
    }

    #[test]
    fn zero_filled_tail_is_truncated() {
        let (_d, path) = journal_with(&[b"one"]);
        let f = OpenOptions::new().append(true).open(&path).expect("opens");
        (&f).write_all(&[0u8; 4096]).expect("writes");
        assert_eq!(
            recover(&path).expect("recovers"),
            (vec![b"one".to_vec()], 4096)
        );
    }

    #[test]
    fn damage_in_the_middle_is_refused() {
        let (_d, path) = journal_with(&[b"one", b"two"]);
        let f = OpenOptions::new().write(true).open(&path).expect("opens");
        f.write_all_at(b"X", HEADER_LEN + 8).expect("writes");
        assert!(matches!(
            recover(&path),
            Err(JournalError::Corrupt {
                offset: HEADER_LEN,
                ..
            })
        ));
    }

    /// Found by the `journal` fuzz target (input `06 00 00`): an empty payload was appended and
    /// acknowledged, then refused on reopening (dropped as a torn tail, or the journal refused as
    /// corrupt once more entries followed it).
    #[test]
    fn entries_the_reader_would_refuse_are_not_appended() {
        let (_d, path) = journal_with(&[b"one"]);
        let mut j = Journal::open(&path, NET).expect("opens");
        let len = j.len();
        assert!(matches!(
            j.append(&[b""]),
            Err(JournalError::EntrySize { len: 0, .. })
        ));
        assert!(matches!(
            j.append(&[b"two", b""]),
            Err(JournalError::EntrySize { len: 0, .. })
        ));
        assert_eq!(j.len(), len);
        j.append(&[b"three"]).expect("appends");
        assert_eq!(
            recover(&path).expect("recovers"),
            (vec![b"one".to_vec(), b"three".to_vec()], 0)
        );
    }

    #[test]
    fn other_network_and_version_are_refused() {
        let (_d, path) = journal_with(&[b"one"]);
        assert!(matches!(
            Journal::open(&path, NetworkId([4; 32])),
            Err(JournalError::WrongNetwork { .. })
        ));
        let f = OpenOptions::new().write(true).open(&path).expect("opens");
        f.write_all_at(&2u32.to_le_bytes(), 8).expect("writes");
        assert!(matches!(
            Journal::open(&path, NET),
            Err(JournalError::UnsupportedVersion { found: 2, .. })
        ));
    }
}
