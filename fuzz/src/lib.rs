//! What the fuzz targets share: the sample network's charter, a fixed clock, and the layouts of
//! the structured inputs, so that the seed generator (`src/bin/seed_corpus.rs`) writes exactly
//! what the targets read.
//!
//! Each target lives in `fuzz_targets/` and checks properties, not only the absence of panics;
//! `RELIABILITY.md` lists them with what the runs found.

use std::sync::OnceLock;

use hubnet_protocol::Charter;
use hubnet_protocol::charter::CharterDoc;

/// The sample network's charter (`deploy/sample/charter.toml`), compiled in.
pub const SAMPLE_CHARTER: &str = include_str!("../../deploy/sample/charter.toml");
/// The sample network: drafts and keys.
pub const SAMPLE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/sample");
/// The targets' clock (ms since the Unix epoch): later than every seed, so seeds are not
/// refused as coming from the future.
pub const NOW_MS: i64 = 1_800_000_000_000;
/// When the seed records were signed.
pub const SEED_MS: i64 = 1_790_000_000_000;

/// The sample charter, verified once per process.
pub fn charter() -> &'static Charter {
    static CHARTER: OnceLock<Charter> = OnceLock::new();
    CHARTER.get_or_init(|| {
        CharterDoc::from_toml(SAMPLE_CHARTER)
            .and_then(|doc| doc.verify())
            .expect("the sample charter verifies")
    })
}

/// The `journal` target's input: either a whole journal file (`Raw`), or entries the target
/// appends with [`hubnet_node::store::journal::Journal::append`] followed by arbitrary bytes
/// written behind them (`Appended`): a torn write, garbage, or zero fill.
///
/// Layout: one flag byte. Bit 0 set: the rest is the raw file. Otherwise bits 1..=3 give the
/// number of entries `k`; then `k` times a little-endian `u16` length and that many payload bytes;
/// whatever follows is the tail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalInput<'a> {
    /// The journal file's bytes, header included.
    Raw(&'a [u8]),
    /// Entries appended through the journal, then `tail` written raw.
    Appended {
        /// Entry payloads, in order.
        entries: Vec<&'a [u8]>,
        /// Bytes written after them.
        tail: &'a [u8],
    },
}

impl<'a> JournalInput<'a> {
    /// Reads the layout above; short input ends the entries early.
    pub fn decode(data: &'a [u8]) -> Self {
        let Some((&flags, mut rest)) = data.split_first() else {
            return JournalInput::Raw(data);
        };
        if flags & 1 == 1 {
            return JournalInput::Raw(rest);
        }
        let mut entries = Vec::new();
        for _ in 0..(flags >> 1) & 7 {
            let Some((len, after)) = rest.split_first_chunk::<2>() else {
                break;
            };
            let len = usize::from(u16::from_le_bytes(*len)).min(after.len());
            let (payload, after) = after.split_at(len);
            entries.push(payload);
            rest = after;
        }
        JournalInput::Appended {
            entries,
            tail: rest,
        }
    }

    /// The bytes that decode to `self` (entries of at most `u16::MAX` bytes, at most 7).
    pub fn encode(&self) -> Vec<u8> {
        match self {
            JournalInput::Raw(bytes) => [&[1u8][..], bytes].concat(),
            JournalInput::Appended { entries, tail } => {
                let mut out = vec![(entries.len().min(7) as u8) << 1];
                for e in entries.iter().take(7) {
                    let len = e.len().min(usize::from(u16::MAX));
                    out.extend_from_slice(&(len as u16).to_le_bytes());
                    out.extend_from_slice(&e[..len]);
                }
                out.extend_from_slice(tail);
                out
            }
        }
    }
}

/// The `sync_codec` target's input: one flag byte, then the bytes of the stream. Bit 0 set: the
/// stream is read as a response, else as a request. Bits 1..=2 pick the response size limit from
/// [`RESPONSE_LIMITS`].
pub fn sync_input(data: &[u8]) -> (bool, usize, &[u8]) {
    match data.split_first() {
        Some((&flags, rest)) => (
            flags & 1 == 1,
            RESPONSE_LIMITS[usize::from((flags >> 1) & 3) % RESPONSE_LIMITS.len()],
            rest,
        ),
        None => (false, RESPONSE_LIMITS[0], data),
    }
}

/// Response size limits the `sync_codec` target reads with (a small one, one like a node's,
/// and the largest request size).
pub const RESPONSE_LIMITS: [usize; 3] = [1024 * 1024 + 262_144, 300, 1024 * 1024];

/// The `draft` target's input: one flag byte, then the draft text. Bit 0 set: JSON, else TOML.
/// Bits 1.. pick the author's country among the sample members (`flags >> 1` modulo their
/// number).
pub fn draft_input(data: &[u8]) -> (bool, usize, &[u8]) {
    match data.split_first() {
        Some((&flags, rest)) => (flags & 1 == 1, usize::from(flags >> 1), rest),
        None => (false, 0, data),
    }
}
