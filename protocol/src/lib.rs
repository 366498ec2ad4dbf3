//! Pure hubnet logic: keys, signed records, validation, the charter and log-chain rules.
//!
//! This crate does no IO, reads no clock and draws no randomness: time (`now_ms`) and key seeds are
//! inputs, so every rule can be tested exhaustively and simulated deterministically. The `node`
//! crate drives it. The byte contracts it implements are written down in `docs/PROTOCOL.md`.
//!
//! ```
//! use hubnet_protocol::{Draft, DraftFormat, Position, SecretKey, charter::CharterDoc, record};
//!
//! // A one-member network whose committee is the member itself.
//! let member = SecretKey::from_seed([1; 32]);
//! let mut doc = CharterDoc::new("Example", 1);
//! doc.members.push(hubnet_protocol::charter::MemberDoc {
//!     code: "KZ".into(),
//!     publishing_key: member.public_key().to_hex(),
//!     name: [("en".to_string(), "Kazakhstan".to_string())].into(),
//! });
//! doc.committee.keys.push(member.public_key().to_hex());
//! doc.sign(&member)?;
//! let charter = doc.verify()?;
//!
//! let draft = Draft::parse(
//!     r#"{"kind": "practice", "title": {"en": "Mentoring"}, "summary": {"en": "Pairs."}, "topics": ["training"]}"#,
//!     DraftFormat::Json,
//! )?;
//! let body = draft.to_body("KZ", &charter.rules())?;
//! let now_ms = 1_800_000_000_000;
//! let signed = record::sign(&member, charter.network_id(), Position::FIRST, now_ms, &body);
//! let verified = record::verify_record(&signed.encode(), &charter, now_ms)?;
//! assert_eq!(verified.header.seq, 1);
//! assert_eq!(verified.member, "KZ");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(clippy::unwrap_used)]

pub mod audit;
pub mod bundle;
pub mod chain;
pub mod charter;
pub mod checkpoint;
pub mod confirmations;
pub mod draft;
pub mod governance;
pub mod id;
pub mod keys;
pub mod kinds;
pub mod limits;
pub mod liveness;
pub mod record;
pub mod signature;
pub mod sync;
pub mod validate;
pub mod vocabulary;

pub use chain::{Append, ChainError, ChainHead, TargetInfo};
pub use charter::{Charter, CharterError};
pub use draft::{Draft, DraftError, DraftFormat};
pub use id::{NetworkId, RecordId};
pub use keys::{KeyError, PublicKey, SecretKey};
pub use limits::{AmendmentError, Limits, LoweredLimits};
pub use record::{Body, Header, Kind, Position, Record, RecordError, SignedRecord};
pub use validate::{BodyError, Rules};
pub use vocabulary::{Vocabulary, VocabularyError};

#[cfg(test)]
mod governance_tests;
#[cfg(test)]
mod tests;
