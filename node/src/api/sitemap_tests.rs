//! Sitemaps and robots.txt in-process: what `/sitemap.xml` lists (retracted records with the
//! retraction's time as `lastmod`, no erased record), validated against the sitemaps.org schemas
//! with `xmllint`; past 50,000 records (synthetic ones), an index of two streamed pages under
//! 50 MB that list every record once; and the pages that do not exist.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use axum::http::StatusCode;
use serde_json::json;

use super::query_tests::wait_for;
use super::tests::{Api, api, api_with, call, exchange, get, publish};
use crate::feeds::iati::testing::{Element, parse, validate_with};
use crate::feeds::sitemap::{MAX_URLS, NAMESPACE, pages, write_index};
use crate::test_support::sample_key;

/// A committed sitemaps.org schema (`sitemap.xsd` or `siteindex.xsd`).
pub(crate) fn xsd(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../tests/data/sitemaps/{name}"))
}

/// The answer to `path`: its status, content type and body.
async fn fetch(api: &Api, path: &str) -> (StatusCode, String, String) {
    let (status, kind, body) = call(api, get(path)).await;
    (status, kind, String::from_utf8(body).unwrap())
}

/// `(loc, lastmod)` of each `<url>` of a sitemap.
fn urls(sitemap: &Element) -> Vec<(String, String)> {
    sitemap
        .all("url")
        .map(|u| (u.one("loc").text.clone(), u.one("lastmod").text.clone()))
        .collect()
}

#[tokio::test]
async fn the_sitemap_lists_every_record_page_with_its_last_change_and_no_erased_one() {
    let api = api(Some("KZ"));
    let (status, kind, body) = fetch(&api, "/sitemap.xml").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "application/xml; charset=utf-8");
    assert!(parse(&body).children.is_empty(), "an empty store: {body}");
    // The schema wants at least one <url>; an empty corpus gives none, so none is validated.

    let practice = publish(
        &api,
        json!({"kind": "practice", "title": {"en": "P & <Q>"}, "summary": {"en": "S"}, "topics": ["training"]}),
    )
    .await;
    let event = publish(
        &api,
        json!({"kind": "event", "event_type": "webinar", "title": {"en": "E"},
               "start": "2027-02-10T10:00", "time_zone": "Asia/Almaty",
               "online_url": "https://example.org/webinar"}),
    )
    .await;
    let expert = publish(
        &api,
        json!({"kind": "expert", "name": {"en": "Alpha (fictional)"}, "topics": ["training"],
               "languages": ["ru"], "formats": ["speaker"], "contact_email": "experts@kz.example.org",
               "sample": true,
               "consent": {"date": "2026-01-15", "scope": "hub_network_all_members",
                           "document_sha256": "44".repeat(32)}}),
    )
    .await;
    let retraction = publish(
        &api,
        json!({"kind": "retraction", "target": event, "reason": {"en": "withdrawn"}}),
    )
    .await;
    publish(
        &api,
        json!({"kind": "erasure", "target": expert, "ground": "erasure_request"}),
    )
    .await;
    wait_for(&api, "/api/v1/records?include_retracted=true", |v| {
        v["total"] == 2
            && v["records"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["retracted"] == true)
    })
    .await;

    let (status, _, body) = fetch(&api, "/sitemap.xml").await;
    assert_eq!(status, StatusCode::OK);
    validate_with(&body, &xsd("sitemap.xsd"));
    let doc = parse(&body);
    assert_eq!(doc.name, "urlset");
    assert_eq!(doc.attr("xmlns"), NAMESPACE);
    let listed = urls(&doc);
    let mut want = Vec::new();
    // The event's last change is its retraction.
    for (page, changed) in [(&practice, &practice), (&event, &retraction)] {
        let (_, _, body) = fetch(&api, &format!("/api/v1/records/{changed}")).await;
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        want.push((
            format!("http://127.0.0.1/records/{page}"),
            v["created_at"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(listed, want, "oldest first; the erased expert left out");
    assert!(!body.contains(&expert));

    // No pages while one sitemap holds everything; nor other names.
    for path in [
        "/sitemap-1.xml",
        "/sitemap-0.xml",
        "/sitemap-x.xml",
        "/sitemap-1.txt",
    ] {
        assert_eq!(fetch(&api, path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn robots_txt_names_the_sitemap_and_keeps_crawlers_off_the_exports() {
    let api = api(None);
    let (status, kind, body) = fetch(&api, "/robots.txt").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind, "text/plain; charset=utf-8");
    let lines: Vec<&str> = body.lines().collect();
    assert!(
        lines.contains(&"Sitemap: http://127.0.0.1/sitemap.xml"),
        "{body}"
    );
    assert!(lines.contains(&"User-agent: *"));
    assert!(lines.contains(&"Allow: /"));
    for off in ["/api/v1/export", "/api/v1/bundle", "/feeds/", "/*?"] {
        assert!(
            lines.contains(&format!("Disallow: {off}").as_str()),
            "{off}"
        );
    }
    // Record pages are not kept off.
    assert!(!lines.iter().any(|l| l.starts_with("Disallow: /records")));
    // What a crawler decides, by Google's own matching rules (the `robotstxt` crate is a port of
    // Google's robots.txt library): longest match wins, `*` and query strings as Google reads
    // them.
    let allowed = |path: &str| {
        robotstxt::DefaultMatcher::default().one_agent_allowed_by_robots(
            &body,
            "Googlebot",
            &format!("http://127.0.0.1{path}"),
        )
    };
    for open in [
        "/",
        "/records/00ff",
        "/sitemap.xml",
        "/oai?verb=Identify",
        "/oai?verb=ListRecords&metadataPrefix=oai_dc",
    ] {
        assert!(
            allowed(open),
            "{open} must be open to crawlers and harvesters"
        );
    }
    for closed in [
        "/records?q=reform",
        "/api/v1/records?q=reform",
        "/api/v1/export",
        "/api/v1/bundle",
        "/feeds/atom.xml",
        "/metrics",
    ] {
        assert!(!allowed(closed), "{closed} must be kept off");
    }
}

#[test]
fn past_the_limit_a_sitemap_index_names_every_page() {
    assert_eq!(pages(0, MAX_URLS), None);
    assert_eq!(pages(MAX_URLS, MAX_URLS), None);
    assert_eq!(pages(MAX_URLS + 1, MAX_URLS), Some(2));
    assert_eq!(pages(2 * MAX_URLS, MAX_URLS), Some(2));
    assert_eq!(pages(2 * MAX_URLS + 1, MAX_URLS), Some(3));
    assert_eq!(pages(7, 3), Some(3));

    let mut out = Vec::new();
    write_index(&mut out, "https://node.example", 3).unwrap();
    let xml = String::from_utf8(out).unwrap();
    validate_with(&xml, &xsd("siteindex.xsd"));
    let doc = parse(&xml);
    assert_eq!(doc.name, "sitemapindex");
    let locs: Vec<String> = doc
        .all("sitemap")
        .map(|s| s.one("loc").text.clone())
        .collect();
    assert_eq!(
        locs,
        [1, 2, 3].map(|n| format!("https://node.example/sitemap-{n}.xml"))
    );
}

#[tokio::test]
async fn past_50000_records_the_sitemap_is_an_index_of_streamed_pages_listing_each_once() {
    const TOTAL: usize = MAX_URLS + 1;
    let api = api_with(None, |store| {
        let keys = ["KZ", "KG", "TJ", "UZ", "HUB"].map(sample_key);
        crate::synth::fill(store, &keys, TOTAL, crate::now_ms()).expect("fills");
    });
    wait_for(&api, "/api/v1/records?limit=1", |v| v["total"] == TOTAL).await;

    let (status, _, index) = fetch(&api, "/sitemap.xml").await;
    assert_eq!(status, StatusCode::OK);
    validate_with(&index, &xsd("siteindex.xsd"));
    let locs: Vec<String> = parse(&index)
        .all("sitemap")
        .map(|s| s.one("loc").text.clone())
        .collect();
    assert_eq!(
        locs,
        ["/sitemap-1.xml", "/sitemap-2.xml"].map(|p| format!("http://127.0.0.1{p}"))
    );

    let mut listed = std::collections::BTreeSet::new();
    for (n, want) in [(1, MAX_URLS), (2, 1)] {
        let (status, headers, page) = exchange(&api, get(&format!("/sitemap-{n}.xml"))).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            headers.get("content-length").is_none(),
            "written while it is sent, not built whole"
        );
        assert!(
            page.len() < crate::feeds::sitemap::MAX_BYTES,
            "{} bytes",
            page.len()
        );
        let page = String::from_utf8(page).unwrap();
        validate_with(&page, &xsd("sitemap.xsd"));
        let urls = urls(&parse(&page));
        assert_eq!(urls.len(), want, "page {n}");
        listed.extend(urls.into_iter().map(|(loc, _)| loc));
    }
    assert_eq!(listed.len(), TOTAL, "every record once");
    assert_eq!(fetch(&api, "/sitemap-3.xml").await.0, StatusCode::NOT_FOUND);
}
