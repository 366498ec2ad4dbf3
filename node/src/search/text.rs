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
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer,
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

/// Registers the analysers on `index`.
pub fn register(index: &Index) {
    let base = || {
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
            .filter(LowerCaser)
    };
    let tokenizers = index.tokenizers();
    tokenizers.register(
        STEM_RU,
        base().filter(Stemmer::new(Language::Russian)).build(),
    );
    tokenizers.register(
        STEM_EN,
        base().filter(Stemmer::new(Language::English)).build(),
    );
    tokenizers.register(FOLD, base().filter(AsciiFoldingFilter).build());
}

/// The primary subtag of a BCP 47 tag, lower-cased: `uz-Latn` → `uz`.
pub fn primary(tag: &str) -> String {
    tag.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

/// The full-text field name for language `tag`.
pub fn field_for(tag: &str) -> &'static str {
    let p = primary(tag);
    LANGUAGES
        .iter()
        .find(|(l, _, _)| *l == p)
        .map_or(OTHER_FIELD, |(_, f, _)| f)
}

/// Folds what the analysers cannot: apostrophe letters and quotes are removed, `ё` becomes `е`.
pub fn normalize(text: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::tokenizer::TokenStream;

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
