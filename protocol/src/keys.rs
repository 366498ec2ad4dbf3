//! Publishing keys: Ed25519 public keys as lowercase hex, secret keys and their text file format.
//!
//! Randomness is an input: [`SecretKey::from_seed`] takes 32 bytes the caller drew from the OS.

use std::fmt;
use std::str::FromStr;

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};

use crate::signature::PointDefect;

/// Why a key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Not 64 hex characters.
    #[error("a key must be 64 hexadecimal characters, got {len} characters")]
    BadHex {
        /// Length of what was given.
        len: usize,
    },
    /// The bytes are not a key the signature rule accepts (docs/PROTOCOL.md §1.3): not a
    /// canonical encoding of a point of the prime-order subgroup other than the identity.
    #[error("{key} is not a valid Ed25519 public key: {defect}")]
    InvalidPoint {
        /// The key as given, in hex.
        key: String,
        /// What is wrong with it.
        defect: PointDefect,
    },
    /// A key file with no key line.
    #[error("the key file holds no key line")]
    EmptyKeyFile,
}

/// An Ed25519 public key, shown as 64 lowercase hex characters. Keys parsed from text or taken
/// into a charter are checked by the signature rule ([`crate::signature::check_point`]); a
/// record header's author is checked only by being a charter member.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Wraps 32 bytes that canonically encode a point of the prime-order subgroup other than
    /// the identity: the only keys the signature rule accepts.
    pub fn from_bytes(bytes: [u8; 32]) -> Result<Self, KeyError> {
        crate::signature::check_point(&bytes)
            .map(|_| Self(bytes))
            .map_err(|defect| KeyError::InvalidPoint {
                key: hex::encode(bytes),
                defect,
            })
    }

    /// Wraps 32 bytes without checking them: for keys read from record headers and checkpoints,
    /// which are trusted only once found among the charter's members, and for keys this program
    /// wrote to its own store after checking them (the check costs about one scalar
    /// multiplication).
    pub fn from_bytes_unchecked(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The dalek verifying key (`None` only for unchecked bytes that are not a point).
    pub(crate) fn verifying_key(&self) -> Option<VerifyingKey> {
        VerifyingKey::from_bytes(&self.0).ok()
    }

    /// Lowercase hex.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl serde::Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bytes(parse_hex32(s)?)
    }
}

/// Parses exactly 64 hex characters (either case) into 32 bytes.
pub fn parse_hex32(s: &str) -> Result<[u8; 32], KeyError> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).map_err(|_| KeyError::BadHex {
        len: s.chars().count(),
    })?;
    Ok(out)
}

/// A secret Ed25519 publishing (or committee) key.
#[derive(Clone)]
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// The key whose RFC 8032 seed is `seed`; the caller draws the seed from a CSPRNG.
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self(SigningKey::from_bytes(&seed))
    }

    /// The RFC 8032 seed (for handing the key to another Ed25519 implementation, such as a
    /// libp2p identity made from a node key file).
    pub fn seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `message` (RFC 8032 Ed25519).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }

    /// The key file text: comment lines, then the seed as 64 lowercase hex characters.
    pub fn to_file_text(&self, comment: &str) -> String {
        let mut text = String::new();
        for line in comment.lines() {
            text.push_str("# ");
            text.push_str(line);
            text.push('\n');
        }
        text.push_str(&format!("# public key: {}\n", self.public_key()));
        text.push_str(&hex::encode(self.0.to_bytes()));
        text.push('\n');
        text
    }

    /// Reads key file text: lines starting with `#` and blank lines are ignored; the first other
    /// line is the seed in hex.
    pub fn from_file_text(text: &str) -> Result<Self, KeyError> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .ok_or(KeyError::EmptyKeyFile)?;
        Ok(Self::from_seed(parse_hex32(line)?))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(public {})", self.public_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_round_trips_and_ignores_comments() {
        let key = SecretKey::from_seed([7; 32]);
        let text = key.to_file_text("SAMPLE KEY\nsecond line");
        assert!(text.starts_with("# SAMPLE KEY\n# second line\n# public key: "));
        let back = SecretKey::from_file_text(&text).expect("reads back");
        assert_eq!(back.public_key(), key.public_key());
    }

    #[test]
    fn public_key_text_is_lowercase_hex_and_parses_back() {
        let key = SecretKey::from_seed([1; 32]).public_key();
        let text = key.to_string();
        assert_eq!(text.len(), 64);
        assert!(
            text.chars()
                .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        );
        assert_eq!(text.to_uppercase().parse::<PublicKey>(), Ok(key));
    }

    #[test]
    fn debug_shows_public_keys_and_never_a_seed() {
        let seed = [7; 32];
        let key = SecretKey::from_seed(seed);
        assert_eq!(key.seed(), seed);
        assert_eq!(
            SecretKey::from_seed(key.seed()).public_key(),
            key.public_key()
        );
        let public = key.public_key().to_hex();
        assert_eq!(
            format!("{:?}", key.public_key()),
            format!("PublicKey({public})")
        );
        let shown = format!("{key:?}");
        assert_eq!(shown, format!("SecretKey(public {public})"));
        assert!(!shown.contains(&hex::encode(seed)));
    }

    #[test]
    fn bad_keys_are_refused() {
        assert_eq!("abc".parse::<PublicKey>(), Err(KeyError::BadHex { len: 3 }));
        // The identity point is small-order, hence weak.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(matches!(
            PublicKey::from_bytes(identity),
            Err(KeyError::InvalidPoint {
                defect: PointDefect::SmallOrder,
                ..
            })
        ));
        assert_eq!(
            SecretKey::from_file_text("# only a comment\n").err(),
            Some(KeyError::EmptyKeyFile)
        );
    }
}
