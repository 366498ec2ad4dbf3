//! Bundles on disk: the `hubnet.v1.Bundle` protobuf, written and read as a stream so that a bundle
//! of any size needs memory for one record at a time.
//!
//! A `Bundle` is `version = 1` (field 1), `charter` (field 2, a `SignedCharter`), `decisions`
//! (field 4, repeated `SignedDecision`), `checkpoints` (field 5, repeated `SignedCheckpoint`) and
//! `records` (field 3, repeated `SignedRecord`). Any protobuf tool reads it whole; this module
//! writes the fields in that order and reads them one by one. Readers here require the charter
//! before anything else (docs/PROTOCOL.md).

use std::io::{self, BufRead, BufReader, Read, Write};

use hubnet_proto::v1 as pb;
use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint};

/// Bundle format version.
pub const BUNDLE_VERSION: u32 = 1;
/// Largest field this reader accepts (a charter or one record): twice the largest record any
/// charter may allow.
pub const MAX_FIELD: u64 = 8 * 1024 * 1024;

/// Bundle reading failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// An IO error.
    #[error("reading bundle: {0}")]
    Io(io::Error),
    /// Not a bundle, or truncated.
    #[error("not a valid bundle: {0}")]
    Malformed(String),
    /// A version this build does not read.
    #[error("bundle version {0} is not supported (this build reads version {BUNDLE_VERSION})")]
    UnsupportedVersion(u32),
}

impl From<io::Error> for BundleError {
    fn from(e: io::Error) -> Self {
        BundleError::Io(e)
    }
}

/// Writes a bundle field by field.
#[derive(Debug)]
pub struct BundleWriter<W: Write> {
    out: W,
    records: u64,
}

impl<W: Write> BundleWriter<W> {
    /// Starts a bundle with its version and charter.
    pub fn new(mut out: W, charter: &pb::SignedCharter) -> io::Result<Self> {
        let mut head = Vec::new();
        encode_key(1, WireType::Varint, &mut head);
        encode_varint(u64::from(BUNDLE_VERSION), &mut head);
        encode_key(2, WireType::LengthDelimited, &mut head);
        encode_varint(charter.encoded_len() as u64, &mut head);
        charter.encode(&mut head).map_err(io::Error::other)?;
        out.write_all(&head)?;
        Ok(Self { out, records: 0 })
    }

    /// Appends one encoded `SignedRecord`.
    pub fn write_record(&mut self, signed_record: &[u8]) -> io::Result<()> {
        let mut head = Vec::with_capacity(12);
        encode_key(3, WireType::LengthDelimited, &mut head);
        encode_varint(signed_record.len() as u64, &mut head);
        self.out.write_all(&head)?;
        self.out.write_all(signed_record)?;
        self.records += 1;
        Ok(())
    }

    /// Appends one encoded `SignedDecision`.
    pub fn write_decision(&mut self, decision: &[u8]) -> io::Result<()> {
        self.write_field(4, decision)
    }

    /// Appends one encoded `SignedCheckpoint`.
    pub fn write_checkpoint(&mut self, checkpoint: &[u8]) -> io::Result<()> {
        self.write_field(5, checkpoint)
    }

    fn write_field(&mut self, tag: u32, bytes: &[u8]) -> io::Result<()> {
        let mut head = Vec::with_capacity(12);
        encode_key(tag, WireType::LengthDelimited, &mut head);
        encode_varint(bytes.len() as u64, &mut head);
        self.out.write_all(&head)?;
        self.out.write_all(bytes)
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads a bundle field by field.
#[derive(Debug)]
pub struct BundleReader<R: Read> {
    input: BufReader<R>,
    charter: pb::SignedCharter,
}

impl<R: Read> BundleReader<R> {
    /// Reads up to and including the charter.
    pub fn open(input: R) -> Result<Self, BundleError> {
        let mut input = BufReader::with_capacity(1 << 20, input);
        let mut version = None;
        loop {
            match read_field(&mut input)? {
                None => return Err(BundleError::Malformed("no charter".into())),
                Some(Field::Varint(1, v)) => version = Some(v),
                Some(Field::Bytes(2, bytes)) => {
                    match version {
                        Some(v) if v == u64::from(BUNDLE_VERSION) => {}
                        Some(v) => {
                            return Err(BundleError::UnsupportedVersion(
                                u32::try_from(v).unwrap_or(u32::MAX),
                            ));
                        }
                        None => {
                            return Err(BundleError::Malformed(
                                "no version before the charter".into(),
                            ));
                        }
                    }
                    let charter = pb::SignedCharter::decode(bytes.as_slice())
                        .map_err(|e| BundleError::Malformed(format!("charter: {e}")))?;
                    return Ok(Self { input, charter });
                }
                Some(Field::Bytes(3, _)) => {
                    return Err(BundleError::Malformed(
                        "a record comes before the charter".into(),
                    ));
                }
                Some(Field::Bytes(1, _) | Field::Varint(2 | 3, _)) => {
                    return Err(BundleError::Malformed(
                        "a known field has the wrong wire type".into(),
                    ));
                }
                Some(_) => {}
            }
        }
    }

    /// The bundle's signed charter (not yet verified).
    pub fn charter(&self) -> &pb::SignedCharter {
        &self.charter
    }

    /// The next encoded `SignedRecord`, or `None` at the end (decisions and checkpoints are
    /// skipped).
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>, BundleError> {
        loop {
            match self.next_item()? {
                None => return Ok(None),
                Some(Item::Record(bytes)) => return Ok(Some(bytes)),
                Some(_) => {}
            }
        }
    }

    /// The next record, decision or checkpoint, or `None` at the end.
    pub fn next_item(&mut self) -> Result<Option<Item>, BundleError> {
        loop {
            match read_field(&mut self.input)? {
                None => return Ok(None),
                Some(Field::Bytes(3, bytes)) => return Ok(Some(Item::Record(bytes))),
                Some(Field::Bytes(4, bytes)) => return Ok(Some(Item::Decision(bytes))),
                Some(Field::Bytes(5, bytes)) => return Ok(Some(Item::Checkpoint(bytes))),
                Some(Field::Bytes(2, _)) => {
                    return Err(BundleError::Malformed("a second charter".into()));
                }
                Some(Field::Bytes(1, _) | Field::Varint(2 | 3, _)) => {
                    return Err(BundleError::Malformed(
                        "a known field has the wrong wire type".into(),
                    ));
                }
                Some(_) => {}
            }
        }
    }
}

/// One entry of a bundle after its charter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An encoded `SignedRecord`.
    Record(Vec<u8>),
    /// An encoded `SignedDecision`.
    Decision(Vec<u8>),
    /// An encoded `SignedCheckpoint`.
    Checkpoint(Vec<u8>),
}

enum Field {
    Varint(u32, u64),
    Bytes(u32, Vec<u8>),
    Other,
}

fn read_field(input: &mut impl BufRead) -> Result<Option<Field>, BundleError> {
    if input.fill_buf()?.is_empty() {
        return Ok(None);
    }
    let key = read_varint(input)?;
    let tag = u32::try_from(key >> 3)
        .map_err(|_| BundleError::Malformed("field number out of range".into()))?;
    if tag == 0 {
        return Err(BundleError::Malformed("field number 0".into()));
    }
    match key & 7 {
        0 => Ok(Some(Field::Varint(tag, read_varint(input)?))),
        1 => skip(input, 8).map(|()| Some(Field::Other)),
        5 => skip(input, 4).map(|()| Some(Field::Other)),
        2 => {
            let len = read_varint(input)?;
            if len > MAX_FIELD {
                return Err(BundleError::Malformed(format!(
                    "field {tag} of {len} bytes is too large"
                )));
            }
            let mut bytes = Vec::new();
            input.take(len).read_to_end(&mut bytes)?;
            if bytes.len() as u64 != len {
                return Err(BundleError::Malformed("truncated".into()));
            }
            Ok(Some(Field::Bytes(tag, bytes)))
        }
        w => Err(BundleError::Malformed(format!("unsupported wire type {w}"))),
    }
}

fn skip(input: &mut impl Read, n: u64) -> Result<(), BundleError> {
    let copied = io::copy(&mut input.take(n), &mut io::sink())?;
    if copied == n {
        Ok(())
    } else {
        Err(BundleError::Malformed("truncated".into()))
    }
}

fn read_varint(input: &mut impl Read) -> Result<u64, BundleError> {
    let mut value = 0u64;
    for i in 0..10 {
        let mut b = [0u8; 1];
        input
            .read_exact(&mut b)
            .map_err(|_| BundleError::Malformed("truncated varint".into()))?;
        value |= u64::from(b[0] & 0x7f) << (7 * i);
        if b[0] & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(BundleError::Malformed("varint too long".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_bundle_reads_back_and_decodes_as_one_message() {
        let charter = pb::SignedCharter {
            charter: vec![1, 2, 3],
            signatures: vec![],
        };
        let mut w = BundleWriter::new(Vec::new(), &charter).expect("writes");
        w.write_record(b"\x0a\x01a").expect("writes");
        w.write_record(b"\x0a\x01b").expect("writes");
        let bytes = w.finish().expect("finishes");
        let whole = pb::Bundle::decode(bytes.as_slice()).expect("standard decoding");
        assert_eq!((whole.version, whole.records.len()), (1, 2));
        let mut r = BundleReader::open(bytes.as_slice()).expect("opens");
        assert_eq!(r.charter(), &charter);
        assert_eq!(r.next_record().expect("reads"), Some(b"\x0a\x01a".to_vec()));
        assert_eq!(r.next_record().expect("reads"), Some(b"\x0a\x01b".to_vec()));
        assert_eq!(r.next_record().expect("reads"), None);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_the_reader(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            if let Ok(mut r) = BundleReader::open(bytes.as_slice()) {
                while let Ok(Some(_)) = r.next_record() {}
            }
        }
    }

    #[test]
    fn garbage_and_truncation_are_errors() {
        assert!(BundleReader::open(&b"\xff\xff"[..]).is_err());
        assert!(BundleReader::open(&b""[..]).is_err());
        let charter = pb::SignedCharter::default();
        let mut w = BundleWriter::new(Vec::new(), &charter).expect("writes");
        w.write_record(&[7; 100]).expect("writes");
        let bytes = w.finish().expect("finishes");
        let mut r = BundleReader::open(&bytes[..bytes.len() - 10]).expect("opens");
        assert!(matches!(r.next_record(), Err(BundleError::Malformed(_))));
        let mut v2 = Vec::new();
        encode_key(1, WireType::Varint, &mut v2);
        encode_varint(2, &mut v2);
        let mut charter_field = Vec::new();
        encode_key(2, WireType::LengthDelimited, &mut charter_field);
        encode_varint(0, &mut charter_field);
        v2.extend_from_slice(&charter_field);
        assert!(matches!(
            BundleReader::open(v2.as_slice()),
            Err(BundleError::UnsupportedVersion(2))
        ));
        // No version at all, and a known field with the wrong wire type, are both refused.
        assert!(matches!(
            BundleReader::open(charter_field.as_slice()),
            Err(BundleError::Malformed(_))
        ));
        let mut wrong_type = Vec::new();
        encode_key(1, WireType::Varint, &mut wrong_type);
        encode_varint(1, &mut wrong_type);
        wrong_type.extend_from_slice(&charter_field);
        encode_key(3, WireType::Varint, &mut wrong_type);
        encode_varint(7, &mut wrong_type);
        let mut r = BundleReader::open(wrong_type.as_slice()).expect("opens");
        assert!(matches!(r.next_record(), Err(BundleError::Malformed(_))));
    }
}
