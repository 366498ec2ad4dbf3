//! Sitemaps (the Sitemaps protocol 0.9, sitemaps.org) as pure functions: a `urlset` of record
//! pages with their `lastmod`, and a `sitemapindex` of numbered sitemap pages for a corpus of more
//! than [`MAX_URLS`] records. Written with quick-xml to any `Write`, one URL at a time, so a
//! sitemap is never built whole in memory. `tests/data/sitemaps/` holds the schemas they are
//! tested against.

use std::io::Write;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::current::Current;
use crate::view::rfc3339_ms;

/// The protocol's limit of URLs in one sitemap (and of sitemaps in one index).
pub const MAX_URLS: usize = 50_000;

/// The protocol's limit of bytes in one sitemap, uncompressed.
pub const MAX_BYTES: usize = 50 * 1024 * 1024;

/// The namespace of sitemaps and sitemap indexes.
pub const NAMESPACE: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";

/// The sitemap pages a corpus of `total` listed records needs when a sitemap holds at most
/// `per_page` URLs: `None` when one sitemap holds them all, else the number of pages.
pub fn pages(total: usize, per_page: usize) -> Option<usize> {
    (total > per_page).then(|| total.div_ceil(per_page.max(1)))
}

/// The page of a record: `{base}/records/{id}`.
pub fn record_page(base: &str, c: &Current) -> String {
    format!("{base}/records/{}", c.id().to_hex())
}

/// A `urlset` of the record pages of `items`, each with its `lastmod`: the time given beside
/// it (ms), when the record last changed as the caller sees it.
pub fn write_urlset<W, I>(out: W, base: &str, items: I) -> std::io::Result<()>
where
    W: Write,
    I: IntoIterator<Item = (Current, i64)>,
{
    let mut w = Writer::new(out);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("urlset")
        .with_attribute(("xmlns", NAMESPACE))
        .write_inner_content(|w| {
            for (c, changed_at) in items {
                let loc = record_page(base, &c);
                let lastmod = rfc3339_ms(changed_at);
                w.create_element("url").write_inner_content(|w| {
                    w.create_element("loc")
                        .write_text_content(BytesText::new(&loc))?;
                    w.create_element("lastmod")
                        .write_text_content(BytesText::new(&lastmod))?;
                    Ok(())
                })?;
            }
            Ok(())
        })?;
    w.into_inner().flush()
}

/// A `sitemapindex` of `pages` sitemaps, `{base}/sitemap-1.xml` to `{base}/sitemap-{pages}.xml`
/// (no `lastmod`, which is optional: it would take reading every record).
pub fn write_index<W: Write>(out: W, base: &str, pages: usize) -> std::io::Result<()> {
    let mut w = Writer::new(out);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.create_element("sitemapindex")
        .with_attribute(("xmlns", NAMESPACE))
        .write_inner_content(|w| {
            for n in 1..=pages {
                let loc = format!("{base}/sitemap-{n}.xml");
                w.create_element("sitemap").write_inner_content(|w| {
                    w.create_element("loc")
                        .write_text_content(BytesText::new(&loc))?;
                    Ok(())
                })?;
            }
            Ok(())
        })?;
    w.into_inner().flush()
}
