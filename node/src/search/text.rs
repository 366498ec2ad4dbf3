//! Text analysis for the region's languages.
//!
//! Every language has its own full-text field, so a query with `lang=kk` searches the Kazakh text
//! only. Russian and English are stemmed (Snowball); the other languages of the region have no
//! stemmer in tantivy and are lower-cased and folded (Latin diacritics to ASCII, so `şəhər` is
//! found by `seher`). Before any analyser runs, [`normalize`] removes the apostrophe variants that
//! Uzbek writes as letters (`Oʻzbekiston` with U+02BB, `Oʼzbekiston` with U+02BC, `O'zbekiston`,
//! `O‘zbekiston`) and folds `ё` into `е`, for documents and queries alike.

use tantivy::Index;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, RawTokenizer, Stemmer, TextAnalyzer, Token, TokenStream,
    Tokenizer,
};

/// Languages with a full-text field of their own: `(tag, field name, analyser)`.
pub const LANGUAGES: &[(&str, &str, &str)] = &[
    ("ru", "text_ru", STEM_RU),
    ("en", "text_en", STEM_EN),
    ("kk", "text_kk", FOLD),
    ("ky", "text_ky", FOLD),
    ("tg", "text_tg", FOLD),
    ("uz", "text_uz", FOLD),
    ("tk", "text_tk", FOLD),
    ("az", "text_az", FOLD),
    ("hy", "text_hy", FOLD),
    ("ka", "text_ka", FOLD),
    ("mn", "text_mn", FOLD),
];

/// The field for text in any other language.
pub const OTHER_FIELD: &str = "text_other";

/// Analyser names registered on the index.
pub const STEM_RU: &str = "hub_ru";
/// English, stemmed.
pub const STEM_EN: &str = "hub_en";
/// Lower-cased and folded, no stemming.
pub const FOLD: &str = "hub_fold";

/// Tokens longer than this (in bytes) are dropped: they are identifiers or noise, not words.
const MAX_TOKEN_BYTES: usize = 60;

/// The stem cache's sets of [`WAYS`] slots (a power of two): 16,384 words in 1 MiB per stemmed
/// field and indexing thread.
const STEM_SETS: usize = 8192;
/// Slots a word may take in the stem cache: the one it hashes to, or the next.
const WAYS: usize = 2;
/// The bytes of a slot for a word and its stem together.
const SLOT_BYTES: usize = 62;

/// Registers the analysers on `index`.
pub fn register(index: &Index) {
    let tokenizers = index.tokenizers();
    tokenizers.register(
        STEM_RU,
        TextAnalyzer::from(Words::stemmed(Language::Russian)),
    );
    tokenizers.register(
        STEM_EN,
        TextAnalyzer::from(Words::stemmed(Language::English)),
    );
    tokenizers.register(
        FOLD,
        TextAnalyzer::builder(Words::plain())
            .filter(AsciiFoldingFilter)
            .build(),
    );
}

/// The words of a text, lower-cased (and stemmed, if asked), in one pass: the tokens tantivy's
/// `SimpleTokenizer`, `RemoveLongFilter::limit(MAX_TOKEN_BYTES)`, `LowerCaser` and `Stemmer`
/// give in a chain, with their positions (tested against that chain), at a fraction of the cost
/// for Cyrillic text: letters of the Cyrillic block are recognised and lower-cased without the
/// Unicode tables, and a word's stem is kept in a small cache ([`StemCache`]) of each indexing
/// thread and segment, not computed again at each
/// occurrence (Snowball was an eighth of the indexing time, BENCHMARKS.md "Search").
#[derive(Clone)]
pub struct Words {
    token: Token,
    /// The stemmer, applied to one word at a time (`None`: no stemming).
    stemmer: Option<TextAnalyzer>,
    /// Words seen, as written, and their stems.
    stems: StemCache,
}

/// Words as written (before lower-casing) and their stems, each pair in one cache line: a
/// lookup reads one line (a `HashMap<String, String>` read three, its bucket and two heaps,
/// and that bucket's cache miss was a third of this analyser's time, BENCHMARKS.md). A set
/// holds [`WAYS`] pairs, the latest first; a word that does not fit a slot with its stem is not
/// kept. Hashed with foldhash, randomly seeded per cache: words made to share a set only make
/// each other's stems computed again.
struct StemCache {
    /// Allocated once [`CACHE_AFTER`] words were stemmed without it (a clone starts empty):
    /// tantivy clones an analyser for each segment it writes, which then stems many words, but
    /// its query parser clones one for every word of a query and field searched, and a MiB for
    /// each would make a query of many short words cost hundreds of MiB written.
    slots: Vec<Slot>,
    /// Words stemmed before the table was made.
    uncached: u32,
    hasher: foldhash::fast::RandomState,
}

/// Words a [`StemCache`] stems before it makes its table.
const CACHE_AFTER: u32 = 64;

#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Slot {
    /// The word's length in bytes (0: empty), and its stem's.
    word: u8,
    stem: u8,
    /// The word, then the stem.
    bytes: [u8; SLOT_BYTES],
}

const EMPTY: Slot = Slot {
    word: 0,
    stem: 0,
    bytes: [0; SLOT_BYTES],
};

impl StemCache {
    fn new() -> Self {
        Self {
            slots: Vec::new(),
            uncached: 0,
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    /// The first slot of `word`'s set.
    fn set_of(&self, word: &str) -> usize {
        use std::hash::BuildHasher;
        let h = self.hasher.hash_one(word.as_bytes());
        // The high bits: foldhash mixes them best.
        usize::try_from(h >> 40).unwrap_or(0) % STEM_SETS * WAYS
    }

    /// The stem of `word` (as written), if kept.
    fn get(&self, word: &str) -> Option<&str> {
        if self.slots.is_empty() || word.is_empty() {
            return None;
        }
        let first = self.set_of(word);
        let w = word.as_bytes();
        self.slots
            .get(first..first + WAYS)?
            .iter()
            .find_map(|slot| {
                let (n, m) = (usize::from(slot.word), usize::from(slot.stem));
                (n == w.len() && slot.bytes.get(..n) == Some(w))
                    .then(|| slot.bytes.get(n..n + m))
                    .flatten()
                    .and_then(|stem| std::str::from_utf8(stem).ok())
            })
    }

    /// Keeps `stem` as the stem of `word` (as written), first in its set.
    fn put(&mut self, word: &str, stem: &str) {
        let (w, st) = (word.as_bytes(), stem.as_bytes());
        let (Ok(n), Ok(m)) = (u8::try_from(w.len()), u8::try_from(st.len())) else {
            return;
        };
        if w.is_empty() || w.len() + st.len() > SLOT_BYTES {
            return;
        }
        if self.slots.is_empty() {
            if self.uncached < CACHE_AFTER {
                self.uncached += 1;
                return;
            }
            self.slots = vec![EMPTY; STEM_SETS * WAYS];
        }
        let first = self.set_of(word);
        let Some(set) = self.slots.get_mut(first..first + WAYS) else {
            return;
        };
        set.copy_within(0..WAYS - 1, 1);
        let mut slot = EMPTY;
        slot.word = n;
        slot.stem = m;
        slot.bytes[..w.len()].copy_from_slice(w);
        slot.bytes[w.len()..w.len() + st.len()].copy_from_slice(st);
        set[0] = slot;
    }
}

impl Clone for StemCache {
    fn clone(&self) -> Self {
        Self::new()
    }
}

impl Words {
    /// Words lower-cased.
    pub fn plain() -> Self {
        Self {
            token: Token::default(),
            stemmer: None,
            stems: StemCache::new(),
        }
    }

    /// Words lower-cased and stemmed by Snowball for `language`.
    pub fn stemmed(language: Language) -> Self {
        Self {
            stemmer: Some(
                TextAnalyzer::builder(RawTokenizer::default())
                    .filter(Stemmer::new(language))
                    .build(),
            ),
            ..Self::plain()
        }
    }
}

impl Tokenizer for Words {
    type TokenStream<'a> = WordStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.token.reset();
        WordStream {
            text,
            at: 0,
            words: self,
        }
    }
}

/// The words of one text ([`Words`]).
pub struct WordStream<'a> {
    text: &'a str,
    /// The byte offset where the search for the next word starts.
    at: usize,
    words: &'a mut Words,
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        loop {
            let Some(start) = scan(self.text, self.at, true) else {
                self.at = self.text.len();
                return false;
            };
            let end = scan(self.text, start, false).unwrap_or(self.text.len());
            self.at = end;
            let token = &mut self.words.token;
            // A word too long to keep still takes its position, as with `RemoveLongFilter`.
            token.position = token.position.wrapping_add(1);
            if end - start >= MAX_TOKEN_BYTES {
                continue;
            }
            token.offset_from = start;
            token.offset_to = end;
            token.text.clear();
            let word = &self.text[start..end];
            let Some(stemmer) = &mut self.words.stemmer else {
                push_lowercase(&mut token.text, word);
                return true;
            };
            // The stem of a word as written: lower-casing it is part of what is kept.
            let stems = &mut self.words.stems;
            if let Some(stem) = stems.get(word) {
                token.text.push_str(stem);
            } else {
                push_lowercase(&mut token.text, word);
                let stem = stem_word(stemmer, &token.text);
                stems.put(word, &stem);
                token.text.clear();
                token.text.push_str(&stem);
            }
            return true;
        }
    }

    fn token(&self) -> &Token {
        &self.words.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.words.token
    }
}

/// The stem of one lower-cased word.
fn stem_word(stemmer: &mut TextAnalyzer, word: &str) -> String {
    let mut stream = stemmer.token_stream(word);
    if stream.advance() {
        std::mem::take(&mut stream.token_mut().text)
    } else {
        word.to_owned()
    }
}

/// The byte offset of the first character at or after `from` (a character boundary of `text`)
/// whose [`is_word_char`] answer is `word`: ASCII bytes are answered without decoding a character.
fn scan(text: &str, from: usize, word: bool) -> Option<usize> {
    let bytes = text.as_bytes();
    let table = word_table();
    let mut i = from;
    while let Some(&b) = bytes.get(i) {
        let (is_word, len) = if b.is_ascii() {
            (b.is_ascii_alphanumeric(), 1)
        } else if let (0xC2..=0xDF, Some(&next)) = (b, bytes.get(i + 1)) {
            // Two bytes (U+0080..U+07FF: Latin, Greek, Cyrillic, Armenian, ...), decoded here;
            // the text is UTF-8, so `next` is the character's continuation byte.
            let u = (usize::from(b & 0x1F) << 6) | usize::from(next & 0x3F);
            (in_table(table, u), 2)
        } else {
            let c = text.get(i..).and_then(|rest| rest.chars().next())?;
            (is_word_char(c), c.len_utf8())
        };
        if is_word == word {
            return Some(i);
        }
        i += len;
    }
    None
}

/// The characters below this code point whose [`is_word_char`] answer comes from a table: the
/// scripts of the region (Latin, Cyrillic, Armenian, Georgian), punctuation and symbols.
const WORD_TABLE_END: usize = 0x3000;

/// Whether `c` belongs to a word: `char::is_alphanumeric` (what tantivy's `SimpleTokenizer`
/// asks), from a bit table computed once for the first [`WORD_TABLE_END`] code points (the
/// Unicode tables' search was a tenth of the indexing time for Cyrillic text).
fn is_word_char(c: char) -> bool {
    let u = c as usize;
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    if u >= WORD_TABLE_END {
        return c.is_alphanumeric();
    }
    in_table(word_table(), u)
}

/// Whether code point `u` (below [`WORD_TABLE_END`]) is a word character, by `table`.
fn in_table(table: &[u64], u: usize) -> bool {
    table
        .get(u / 64)
        .is_some_and(|bits| bits & (1 << (u % 64)) != 0)
}

/// The bits of [`is_word_char`] for the code points below [`WORD_TABLE_END`].
fn word_table() -> &'static [u64] {
    static TABLE: std::sync::OnceLock<Vec<u64>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut bits = vec![0u64; WORD_TABLE_END / 64];
        for (u, word) in (0..WORD_TABLE_END as u32).map(|u| {
            (
                u as usize,
                char::from_u32(u).is_some_and(char::is_alphanumeric),
            )
        }) {
            if word {
                bits[u / 64] |= 1 << (u % 64);
            }
        }
        bits
    })
}

/// Appends `word` lower-cased as tantivy's `LowerCaser` does (`char::to_lowercase` of each
/// character), answered without the Unicode tables for ASCII and most Cyrillic letters.
fn push_lowercase(out: &mut String, word: &str) {
    if word.is_ascii() {
        let from = out.len();
        out.push_str(word);
        out[from..].make_ascii_lowercase();
        return;
    }
    for c in word.chars() {
        match cyrillic_lowercase(c) {
            Some(l) => out.push(l),
            None => out.extend(c.to_lowercase()),
        }
    }
}

/// The lower case of a Cyrillic letter whose case mapping follows the block's simple patterns.
fn cyrillic_lowercase(c: char) -> Option<char> {
    let u = u32::from(c);
    let l = match u {
        0x0410..=0x042F => u + 0x20,
        0x0400..=0x040F => u + 0x50,
        0x0430..=0x045F => u,
        // Upper case at even code points, lower case just after.
        0x0460..=0x0481 | 0x048A..=0x04BF | 0x04D0..=0x04FF => u | 1,
        _ => return None,
    };
    char::from_u32(l)
}

/// The primary subtag of a BCP 47 tag, lower-cased: `uz-Latn` → `uz`.
pub fn primary(tag: &str) -> String {
    tag.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The languages (primary subtags, sorted, once each) that `texts` are written in: what the
/// `lang` filter and facet count.
pub fn languages(texts: &[&hubnet_proto::v1::LocalizedText]) -> Vec<String> {
    let mut langs: Vec<String> = texts
        .iter()
        .flat_map(|t| t.text.keys())
        .map(|tag| primary(tag))
        .collect();
    langs.sort();
    langs.dedup();
    langs
}

/// The full-text field name for language `tag`.
pub fn field_for(tag: &str) -> &'static str {
    let p = tag.split(['-', '_']).next().unwrap_or_default();
    LANGUAGES
        .iter()
        .find(|(l, _, _)| l.eq_ignore_ascii_case(p))
        .map_or(OTHER_FIELD, |(_, f, _)| f)
}

/// Folds what the analysers cannot: apostrophe letters and quotes are removed, `ё` becomes `е`.
pub fn normalize(text: &str) -> String {
    let mut out = String::new();
    normalize_into(&mut out, text);
    out
}

/// [`normalize`] into `out` (cleared first), copying the runs between the characters it changes.
/// Those are found with memchr's vectorised searches for their UTF-8 bytes (most text has none
/// of them; a byte-by-byte scan of a Russian text, whose every other byte is a Cyrillic letter's
/// first, 0xD0 or 0xD1, was 6–8% of the indexing time, BENCHMARKS.md).
pub fn normalize_into(out: &mut String, text: &str) {
    use std::sync::LazyLock;
    static YO: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("ё"));
    static YO_UPPER: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("Ё"));
    out.clear();
    out.reserve(text.len());
    let bytes = text.as_bytes();
    // The next place at or after `from` where a character of `class` may start (the text's
    // length: none).
    let find = |class: usize, from: usize| -> usize {
        let rest = bytes.get(from..).unwrap_or_default();
        let found = match class {
            // ' ` and the first byte of ´
            0 => memchr::memchr3(b'\'', b'`', 0xC2, rest),
            // The first bytes of ʻ ʼ ʽ and ‘ ’
            1 => memchr::memchr2(0xCA, 0xE2, rest),
            2 => YO.find(rest),
            _ => YO_UPPER.find(rest),
        };
        found.map_or(bytes.len(), |k| from + k)
    };
    let mut next = [find(0, 0), find(1, 0), find(2, 0), find(3, 0)];
    let mut copied = 0;
    loop {
        let i = next.iter().copied().min().unwrap_or(bytes.len());
        let Some(&b) = bytes.get(i) else {
            break;
        };
        // What the character there becomes (a continuation byte is never taken for the first
        // byte of one: those are below 0xC0).
        let change = match (b, bytes.get(i + 1), bytes.get(i + 2)) {
            // ' `
            (b'\'' | b'`', _, _) => Some((1, "")),
            // ´ U+00B4
            (0xC2, Some(0xB4), _) => Some((2, "")),
            // ʻ ʼ ʽ U+02BB..U+02BD
            (0xCA, Some(0xBB..=0xBD), _) => Some((2, "")),
            // Ё U+0401, ё U+0451
            (0xD0, Some(0x81), _) => Some((2, "Е")),
            (0xD1, Some(0x91), _) => Some((2, "е")),
            // ‘ ’ U+2018, U+2019
            (0xE2, Some(0x80), Some(0x98 | 0x99)) => Some((3, "")),
            // Another character with one of those first bytes («, —, …): kept.
            _ => None,
        };
        let resume = match change {
            Some((len, with)) => {
                out.push_str(&text[copied..i]);
                out.push_str(with);
                copied = i + len;
                copied
            }
            None => i + 1,
        };
        for (class, at) in next.iter_mut().enumerate() {
            if *at < resume {
                *at = find(class, resume);
            }
        }
    }
    out.push_str(&text[copied..]);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, SimpleTokenizer};

    /// `(position, text)` of each token `a` makes of `text`.
    fn stream(a: &mut TextAnalyzer, text: &str) -> Vec<(usize, String)> {
        let mut s = a.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            out.push((s.token().position, s.token().text.clone()));
        }
        out
    }

    /// The analysers as tantivy's own chain builds them, which [`Words`] must match token for
    /// token: `(the chain, ours)` for each analyser name.
    fn chains() -> Vec<(TextAnalyzer, TextAnalyzer)> {
        let base = || {
            TextAnalyzer::builder(SimpleTokenizer::default())
                .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
                .filter(LowerCaser)
        };
        let index = index();
        let ours = |name: &str| index.tokenizers().get(name).unwrap();
        vec![
            (
                base().filter(Stemmer::new(Language::Russian)).build(),
                ours(STEM_RU),
            ),
            (
                base().filter(Stemmer::new(Language::English)).build(),
                ours(STEM_EN),
            ),
            (base().filter(AsciiFoldingFilter).build(), ours(FOLD)),
        ]
    }

    proptest! {
        /// The stem cache answers a word with the stem kept for it, or nothing; never another's.
        #[test]
        fn the_stem_cache_never_answers_with_another_words_stem(
            words in proptest::collection::vec("[абвгАБВ ab]{1,40}", 1..400),
        ) {
            let stem_of = |w: &str| w.chars().rev().collect::<String>();
            let mut cache = StemCache::new();
            cache.uncached = CACHE_AFTER;
            for w in &words {
                if let Some(stem) = cache.get(w) {
                    prop_assert_eq!(stem, stem_of(w));
                }
                cache.put(w, &stem_of(w));
                let fits = w.len() * 2 <= SLOT_BYTES;
                prop_assert_eq!(cache.get(w).is_some(), fits, "{:?}", w);
            }
        }
    }

    #[test]
    fn a_stem_cache_makes_its_table_only_for_many_words() {
        // A query's analyser stems a word or two: no table (a MiB) for it.
        let mut cache = StemCache::new();
        for n in 0..CACHE_AFTER {
            cache.put(&format!("w{n}"), "w");
            assert!(cache.slots.is_empty());
            assert_eq!(cache.get(&format!("w{n}")), None);
        }
        cache.put("слово", "слов");
        assert_eq!(cache.slots.len(), STEM_SETS * WAYS);
        assert_eq!(cache.get("слово"), Some("слов"));
    }

    #[test]
    fn a_stem_cache_set_keeps_its_latest_words() {
        let mut cache = StemCache::new();
        cache.uncached = CACHE_AFTER;
        assert_eq!(cache.get("слово"), None);
        cache.put("слово", "слов");
        cache.put("Слово", "слов");
        assert_eq!(cache.get("слово"), Some("слов"));
        assert_eq!(cache.get("Слово"), Some("слов"));
        assert_eq!(cache.get("слов"), None);
        // Words of the same set: the oldest of more than WAYS is forgotten.
        let first = cache.set_of("слово");
        let same: Vec<String> = (0..100_000)
            .map(|n| format!("w{n}"))
            .filter(|w| cache.set_of(w) == first)
            .take(WAYS)
            .collect();
        assert_eq!(same.len(), WAYS);
        for w in &same {
            cache.put(w, "s");
        }
        assert_eq!(cache.get("слово"), None);
        assert!(same.iter().all(|w| cache.get(w) == Some("s")));
        // A clone starts empty.
        assert_eq!(cache.clone().get(&same[0]), None);
    }

    fn check_same_tokens(texts: &[&str]) {
        // Enough words first that the stem caches make their tables, as in a segment's writer.
        let warm: String = (0..=CACHE_AFTER).map(|n| format!("warm{n} ")).collect();
        for (mut chain, mut ours) in chains() {
            stream(&mut ours, &warm);
            for text in texts {
                // Twice: the second time the stems come from the cache.
                for _ in 0..2 {
                    assert_eq!(
                        stream(&mut ours, text),
                        stream(&mut chain, text),
                        "{text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn words_are_the_tokens_of_tantivys_chain() {
        let long = "а".repeat(29) + " " + &"b".repeat(60) + " " + &"б".repeat(30) + " конец";
        check_same_tokens(&[
            "",
            "  ,. ",
            "Государственной службы — ЭЛЕКТРОННОЕ правительство, 2024 г.",
            "Мемлекеттік ҚЫЗМЕТ Әкімшілік Өңірлік Ұлттық Үкімет Һ",
            "Давлат хизмати Oʻzbekiston ДАВЛАТ ХИЗМАТИ Ҳукумат Қонун Ғ Ҷ Ӣ Ӯ",
            "Мамлекеттик кызмат Ң Ө Ү; Türkmenistan döwlet gullugy Ž Ň Ý",
            "Dövlət qulluğu İSTANBUL ΣΟΦΊΑ Ὀδυσσεύς Ǆemal ǅ ǆ",
            "Governments recruiting civil-servants' performance (e-government) x2 ½ ① ٣",
            "պետական ծառայություն ՀԱՅԱՍՏԱՆ საჯარო სამსახური ᲡᲐᲥᲐᲠᲗᲕᲔᲚᲝ Төрийн албан хаагч",
            "Ѐ Ѝ Ѡѡ Ѻ҂҃҄҅ Ҋ Ӏ Ӂ ӏ Ԁ Ꙁ ᲀ",
            &long,
        ]);
    }

    #[test]
    fn normalize_folds_apostrophes_and_yo() {
        assert_eq!(
            normalize("Oʻzbekiston ʼ ʽ ' ‘ ’ ` ´ ёлка ЁЛКА"),
            "Ozbekiston        елка ЕЛКА"
        );
        assert_eq!(normalize("нет изменений"), "нет изменений");
        assert_eq!(normalize(""), "");
    }

    /// What [`normalize`] must give: each character looked at on its own.
    fn normalize_by_characters(text: &str) -> String {
        text.chars()
            .filter_map(|c| match c {
                '\u{02BB}' | '\u{02BC}' | '\u{02BD}' | '\'' | '\u{2018}' | '\u{2019}' | '`'
                | '\u{00B4}' => None,
                'ё' => Some('е'),
                'Ё' => Some('Е'),
                c => Some(c),
            })
            .collect()
    }

    #[test]
    fn normalize_changes_only_its_characters() {
        // Every character that shares a first byte with one that changes.
        let neighbours: String = (0x80..0x3000)
            .filter_map(char::from_u32)
            .filter(|c| {
                let mut b = [0; 4];
                matches!(
                    c.encode_utf8(&mut b).as_bytes()[0],
                    0xC2 | 0xCA | 0xD0 | 0xD1 | 0xE2
                )
            })
            .chain("\u{2018}\u{2019}\u{201C}\u{2026}'`a".chars())
            .collect();
        assert_eq!(normalize(&neighbours), normalize_by_characters(&neighbours));
    }

    #[test]
    fn word_characters_are_alphanumeric_ones() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(is_word_char(c), c.is_alphanumeric(), "{c:?}");
        }
    }

    #[test]
    fn cyrillic_lower_case_is_unicodes() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            if let Some(l) = cyrillic_lowercase(c) {
                assert_eq!(c.to_lowercase().collect::<String>(), l.to_string(), "{c:?}");
            }
        }
    }

    proptest! {
        #[test]
        fn any_text_normalizes_as_its_characters_do(text in any::<String>()) {
            prop_assert_eq!(normalize(&text), normalize_by_characters(&text));
        }

        /// Texts dense in the characters that change and in those that share bytes with them.
        #[test]
        fn texts_of_neighbours_normalize_as_their_characters_do(
            text in "[ёЁ'`´ʻʼʽ‘’“«»—…сБёЕеʹ¡ a]{0,60}",
        ) {
            prop_assert_eq!(normalize(&text), normalize_by_characters(&text));
        }

        #[test]
        fn any_text_gives_the_chains_tokens(
            text in r"[a-zA-Z0-9 .,'İıΣσςЁёА-яЀ-ӿ\x{0482}-\x{0489}ʻ’\-ÄäßǅØ½Աաאა中٣\x{0300}\x{07FF}]{0,80}"
        ) {
            check_same_tokens(&[&text]);
        }
    }

    fn tokens(index: &Index, analyser: &str, text: &str) -> Vec<String> {
        let mut a = index.tokenizers().get(analyser).expect("registered");
        let normalized = normalize(text);
        let mut stream = a.token_stream(&normalized);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    fn index() -> Index {
        let index = Index::create_in_ram(tantivy::schema::Schema::builder().build());
        register(&index);
        index
    }

    #[test]
    fn russian_inflections_meet_at_one_stem() {
        let i = index();
        assert_eq!(
            tokens(&i, STEM_RU, "государственной службы"),
            tokens(&i, STEM_RU, "Государственная служба")
        );
        assert_eq!(
            tokens(&i, STEM_RU, "электронное правительство"),
            tokens(&i, STEM_RU, "электронного правительства")
        );
        assert_eq!(tokens(&i, STEM_RU, "ещё"), tokens(&i, STEM_RU, "еще"));
    }

    #[test]
    fn english_is_stemmed() {
        let i = index();
        assert_eq!(
            tokens(&i, STEM_EN, "Governments recruiting"),
            tokens(&i, STEM_EN, "government recruit")
        );
    }

    #[test]
    fn uzbek_apostrophes_and_kazakh_case_fold() {
        let i = index();
        let want = tokens(&i, FOLD, "ozbekiston");
        for spelling in ["Oʻzbekiston", "Oʼzbekiston", "O'zbekiston", "O‘zbekiston"] {
            assert_eq!(tokens(&i, FOLD, spelling), want, "{spelling}");
        }
        assert_eq!(
            tokens(&i, FOLD, "МЕМЛЕКЕТТІК ҚЫЗМЕТ"),
            vec!["мемлекеттік", "қызмет"]
        );
        // Azerbaijani and Uzbek Latin letters fold to what a keyboard without them gives.
        assert_eq!(
            tokens(&i, FOLD, "Dövlət qulluğu"),
            tokens(&i, FOLD, "dovlat qullugu")
        );
    }

    #[test]
    fn tags_map_to_fields() {
        assert_eq!(field_for("ru"), "text_ru");
        assert_eq!(field_for("uz-Latn"), "text_uz");
        assert_eq!(field_for("KK"), "text_kk");
        assert_eq!(field_for("fr"), OTHER_FIELD);
    }
}
