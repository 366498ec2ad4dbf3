//! What search engines read from a real node holding the sample corpus: the schema.org JSON-LD of
//! a record page of every kind, read back by an independent extractor (PyPI `extruct`, run with
//! `python3`). (The sitemaps are checked in-process: `node/src/api/sitemap_tests.rs`.)
//!
//! `.ci/run` installs extruct and sets `HUBNET_REQUIRE_EXTRUCT=1`, which turns its absence into a
//! failure; elsewhere, without it, the test says so and passes without running.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::browser::corpus_node;
use crate::net::Net;

/// Reads a page's JSON-LD with extruct: every item, as extruct understood it.
const EXTRACT: &str = r#"
import json, sys
import extruct
data = extruct.extract(sys.stdin.read(), base_url=sys.argv[1], syntaxes=["json-ld"])
json.dump(data["json-ld"], sys.stdout)
"#;

/// Whether extruct is here; panics when CI requires it and it is not.
fn extruct_available() -> bool {
    let here = Command::new("python3")
        .args(["-c", "import extruct"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !here {
        assert!(
            std::env::var_os("HUBNET_REQUIRE_EXTRUCT").is_none(),
            "HUBNET_REQUIRE_EXTRUCT is set but python3 has no `extruct` (pip install extruct)"
        );
        eprintln!("JSON-LD extraction NOT RUN: python3 has no `extruct` (pip install extruct)");
    }
    here
}

/// The JSON-LD items extruct finds on the page at `path` of node 0.
fn extract(net: &Net, path: &str) -> Vec<Value> {
    let (status, page) = net.get(0, path);
    assert_eq!(status, 200, "{path}");
    let mut child = Command::new("python3")
        .args(["-c", EXTRACT, &format!("http://127.0.0.1{path}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&page)
        .expect("the page goes to extruct");
    let out = child.wait_with_output().expect("extruct ends");
    assert!(
        out.status.success(),
        "extruct failed on {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("extruct's JSON")
}

/// The id of the first record of `kind` the API lists.
pub(crate) fn first_of(net: &Net, kind: &str) -> String {
    let (status, body) = net.get(0, &format!("/api/v1/records?kind={kind}&limit=1"));
    assert_eq!(status, 200);
    let v: Value = serde_json::from_slice(&body).expect("json");
    v["records"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no {kind} in the corpus"))
        .to_owned()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("no text {key}: {v}"))
}

#[test]
fn every_record_page_has_json_ld_that_extruct_reads_back() {
    if !extruct_available() {
        return;
    }
    let (net, _, _) = corpus_node();
    let want = [
        ("practice", "Article"),
        ("event", "Event"),
        ("reform_profile", "Report"),
        ("programme", "Project"),
        ("institution", ""),
        ("expert", "Person"),
    ];
    for (kind, schema_type) in want {
        let id = first_of(&net, kind);
        let path = format!("/records/{id}");
        let items = extract(&net, &path);
        assert_eq!(items.len(), 1, "{kind}: one item on {path}: {items:?}");
        let v = &items[0];
        assert_eq!(v["@context"], "https://schema.org", "{kind}");
        assert!(text(v, "@id").ends_with(&path), "{kind}: {v}");
        assert!(text(v, "mainEntityOfPage").ends_with(&path), "{kind}: {v}");
        let ty = text(v, "@type");
        if kind == "institution" {
            assert!(
                ty.ends_with("Organization") || ty == "CollegeOrUniversity",
                "{v}"
            );
        } else {
            assert_eq!(ty, schema_type, "{kind}: {v}");
        }
        match kind {
            "event" => {
                assert!(!text(v, "name").is_empty());
                // Google: a start with its time zone's offset.
                let start = text(v, "startDate");
                let zone = &start[start.len() - 6..];
                assert!(
                    start.len() == 25 && (zone.starts_with('+') || zone.starts_with('-')),
                    "startDate {start}"
                );
                assert!(text(v, "eventStatus").starts_with("https://schema.org/Event"));
                assert!(text(v, "eventAttendanceMode").starts_with("https://schema.org/"));
                let locations = match &v["location"] {
                    Value::Array(a) => a.clone(),
                    one => vec![one.clone()],
                };
                assert!(
                    locations.iter().all(|l| {
                        (l["@type"] == "Place" && l["address"]["@type"] == "PostalAddress")
                            || (l["@type"] == "VirtualLocation" && l["url"].is_string())
                    }) && !locations.is_empty(),
                    "{v}"
                );
                let organizer = match &v["organizer"] {
                    Value::Array(a) => a[0].clone(),
                    one => one.clone(),
                };
                assert_eq!(organizer["@type"], "GovernmentOrganization", "{v}");
                assert!(!v["inLanguage"].is_null(), "{v}");
            }
            "practice" | "reform_profile" => {
                assert!(!text(v, "headline").is_empty());
                assert!(text(v, "headline").chars().count() <= 110);
                assert!(text(v, "datePublished").starts_with("20"), "{v}");
                assert!(text(v, "dateModified") >= text(v, "datePublished"), "{v}");
                assert_eq!(v["author"]["@type"], "GovernmentOrganization", "{v}");
                assert!(!text(&v["author"], "name").is_empty());
                assert!(!v["inLanguage"].is_null(), "{v}");
                assert!(v["about"].as_array().is_some_and(|a| !a.is_empty()), "{v}");
            }
            "programme" => {
                assert!(!text(v, "name").is_empty());
                let members = v["member"].as_array().expect("participants");
                assert!(members.len() >= 2, "{v}");
                assert!(members.iter().all(|m| m["@type"] == "OrganizationRole"));
            }
            _ => assert!(!text(v, "name").is_empty(), "{v}"),
        }
        eprintln!("{kind}: {ty} read back by extruct from {path}");
    }
}

/// `(loc, lastmod)` of each `<url>` of a sitemap (the node writes them on one line each).
fn sitemap_urls(xml: &str) -> Vec<(String, String)> {
    xml.split("<url>")
        .skip(1)
        .filter_map(|u| {
            let text = |tag: &str| {
                let (_, rest) = u.split_once(&format!("<{tag}>"))?;
                rest.split_once(&format!("</{tag}>"))
                    .map(|(t, _)| t.to_owned())
            };
            Some((text("loc")?, text("lastmod")?))
        })
        .collect()
}

#[test]
fn the_sitemap_dates_each_programme_by_its_latest_confirmation_or_withdrawal() {
    let (net, count, _) = corpus_node();
    let (status, body) = net.get(0, "/sitemap.xml");
    assert_eq!(status, 200);
    let urls = sitemap_urls(&String::from_utf8(body).expect("UTF-8"));
    assert_eq!(urls.len(), count, "one page per record of the corpus");
    let (status, body) = net.get(0, "/api/v1/records?kind=programme&limit=50");
    assert_eq!(status, 200);
    let programmes: Value = serde_json::from_slice(&body).expect("json");
    let mut later = 0;
    for p in programmes["records"].as_array().expect("programmes") {
        let id = p["id"].as_str().expect("id");
        let (_, body) = net.get(0, &format!("/api/v1/programmes/{id}"));
        let held: Value = serde_json::from_slice(&body).expect("json");
        let changed = held["records"]
            .as_array()
            .expect("records")
            .iter()
            .filter_map(|r| r["created_at"].as_str())
            .max()
            .expect("a record")
            .to_owned();
        let listed = urls
            .iter()
            .find(|(loc, _)| loc.ends_with(&format!("/records/{id}")))
            .unwrap_or_else(|| panic!("programme {id} not in the sitemap"));
        assert_eq!(listed.1, changed, "programme {id}");
        if changed.as_str() > p["created_at"].as_str().expect("created_at") {
            later += 1;
        }
    }
    assert!(
        later > 0,
        "the sample programmes were confirmed after they were published"
    );
}
