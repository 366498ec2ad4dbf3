//! Resumption tokens: where a list stopped (the last item's position and id in the order of
//! [`super::changes`]) and the arguments of the request that began it, authenticated with this
//! node's key (HMAC-SHA-256, cut to 128 bits), so a forged, altered or foreign token (another
//! node's positions mean nothing here) is `badResumptionToken`. Opaque to harvesters: base64url
//! of the fields, a dot, the tag in hex. A token stays valid while records arrive and across
//! restarts (the key is kept in the datestamps file); it does not expire.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use hubnet_protocol::RecordId;
use sha2::{Digest, Sha256};

use super::changes::SUB_BITS;

/// The arguments a list was asked with, and where it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// `ListIdentifiers` or `ListRecords`.
    pub verb: String,
    /// The metadata prefix.
    pub prefix: String,
    /// The set, if one was asked for.
    pub set: Option<String>,
    /// `from` as given.
    pub from: Option<String>,
    /// `until` as given.
    pub until: Option<String>,
    /// The last item returned: its position and id.
    pub after: (u64, RecordId),
    /// The list's size as counted for its first page, and the items before the next page
    /// (`completeListSize` and `cursor`), so that no later page counts the whole list again.
    /// `None` in tokens of the first format, which did not carry them.
    pub counts: Option<(u64, u64)>,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not the shape of a token.
    #[error("the resumption token is malformed")]
    Malformed,
    /// The tag does not match: altered, forged, or another node's.
    #[error("the resumption token was not issued by this node")]
    Forged,
}

const TAG_BYTES: usize = 16;
const MAX_TOKEN: usize = 2048;

/// SHA-256 over `parts`, each prefixed with its length.
pub fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// HMAC-SHA-256 (RFC 2104) of `message` under `key`, ready to give or check a tag.
fn hmac(key: &[u8], message: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(message);
    mac
}

/// A token's text: `fields` in base64url, a dot, and their tag under `key` in hex.
fn seal(fields: &str, key: &[u8; 32]) -> String {
    let tag = hmac(key, fields.as_bytes()).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(fields),
        hex::encode(&tag[..TAG_BYTES])
    )
}

impl Token {
    /// The token's text, authenticated with `key`.
    pub fn encode(&self, key: &[u8; 32]) -> String {
        let mut fields = vec![
            "3".to_owned(),
            self.verb.clone(),
            self.prefix.clone(),
            self.set.clone().unwrap_or_default(),
            self.from.clone().unwrap_or_default(),
            self.until.clone().unwrap_or_default(),
            self.after.0.to_string(),
            self.after.1.to_hex(),
        ];
        if let Some((total, cursor)) = self.counts {
            fields.extend([total.to_string(), cursor.to_string()]);
        }
        seal(&fields.join("\n"), key)
    }

    /// Reads a token this node issued with `key`; anything else is refused.
    pub fn decode(text: &str, key: &[u8; 32]) -> Result<Token, TokenError> {
        if text.len() > MAX_TOKEN {
            return Err(TokenError::Malformed);
        }
        let (body, tag) = text.split_once('.').ok_or(TokenError::Malformed)?;
        // One spelling per token: lower-case hex (base64 decoding is canonical already).
        if tag.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(TokenError::Malformed);
        }
        let tag = hex::decode(tag).map_err(|_| TokenError::Malformed)?;
        if tag.len() != TAG_BYTES {
            return Err(TokenError::Malformed);
        }
        let fields = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| TokenError::Malformed)?;
        // The tag is the HMAC's first TAG_BYTES bytes, compared in constant time.
        hmac(key, &fields)
            .verify_truncated_left(&tag)
            .map_err(|_| TokenError::Forged)?;
        let fields = String::from_utf8(fields).map_err(|_| TokenError::Malformed)?;
        let parts: Vec<&str> = fields.split('\n').collect();
        let number = |s: &str| s.parse::<u64>().map_err(|_| TokenError::Malformed);
        // Eight fields, then the counts in formats 2 and 3.
        let (head, counts) = match parts.as_slice() {
            [head @ .., total, cursor] if head.len() == 8 && matches!(head[0], "2" | "3") => {
                (head, Some((number(total)?, number(cursor)?)))
            }
            head if head.len() == 8 && matches!(head[0], "1" | "3") => (head, None),
            _ => return Err(TokenError::Malformed),
        };
        let [format, verb, prefix, set, from, until, pos, id] = head else {
            return Err(TokenError::Malformed);
        };
        // Formats 1 and 2 carried positions before they had room for changes between journal
        // entries (`changes::SUB_BITS`): those are the same positions shifted.
        let pos = number(pos)?;
        let pos = if *format == "3" {
            pos
        } else {
            pos.checked_shl(SUB_BITS)
                .filter(|p| p >> SUB_BITS == pos)
                .ok_or(TokenError::Malformed)?
        };
        if !matches!(*verb, "ListIdentifiers" | "ListRecords") {
            return Err(TokenError::Malformed);
        }
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Ok(Token {
            verb: (*verb).to_owned(),
            prefix: (*prefix).to_owned(),
            set: opt(set),
            from: opt(from),
            until: opt(until),
            after: (pos, id.parse().map_err(|_| TokenError::Malformed)?),
            counts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token as an earlier version wrote it: `fields` joined by newlines, and its tag.
    fn issued_before(fields: &[&str], key: &[u8; 32]) -> String {
        seal(&fields.join("\n"), key)
    }

    #[test]
    fn tokens_of_earlier_formats_read_as_the_positions_they_meant() {
        let key = [7u8; 32];
        let id = RecordId([3; 32]);
        let hex_id = id.to_hex();
        let two = issued_before(
            &[
                "2",
                "ListRecords",
                "oai_dc",
                "",
                "",
                "",
                "5",
                &hex_id,
                "10",
                "4",
            ],
            &key,
        );
        let t = Token::decode(&two, &key).expect("a format 2 token stays valid");
        assert_eq!(t.after, (5 << SUB_BITS, id));
        assert_eq!(t.counts, Some((10, 4)));
        let one = issued_before(
            &["1", "ListIdentifiers", "oai_dc", "", "", "", "6", &hex_id],
            &key,
        );
        let t = Token::decode(&one, &key).expect("a format 1 token stays valid");
        assert_eq!(t.after, (6 << SUB_BITS, id));
        assert_eq!(t.counts, None);
        // A position that would not fit once shifted is no position of this node's.
        let huge = issued_before(
            &[
                "1",
                "ListIdentifiers",
                "oai_dc",
                "",
                "",
                "",
                &u64::MAX.to_string(),
                &hex_id,
            ],
            &key,
        );
        assert_eq!(Token::decode(&huge, &key), Err(TokenError::Malformed));
        // The current format carries positions as they are, with or without counts.
        for counts in [None, Some((10, 4))] {
            let t = Token {
                verb: "ListRecords".to_owned(),
                prefix: "oai_dc".to_owned(),
                set: Some("kind:case".to_owned()),
                from: None,
                until: Some("2026-01-01".to_owned()),
                after: ((9 << SUB_BITS) + 2, id),
                counts,
            };
            assert_eq!(Token::decode(&t.encode(&key), &key), Ok(t));
        }
    }

    #[test]
    fn the_mac_is_hmac_sha256_of_rfc_4231() {
        // RFC 4231, test case 2.
        let tag = hmac(b"Jefe", b"what do ya want for nothing?")
            .finalize()
            .into_bytes();
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
