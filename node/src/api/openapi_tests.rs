//! The OpenAPI document as a client generator reads it: checked by an independent validator
//! (`openapi-spec-validator`, PyPI), and in Rust for what such a validator lets pass: every
//! reference resolves, path parameters match their routes, and every record id and key carries
//! the pattern of what the node reads and writes.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::process::Command;

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use regex::Regex;
use serde_json::Value;

use super::query_tests::openapi;
use super::tests::api;

/// The operations' methods a path item can hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Parameter and property names that hold a record id.
const RECORD_ID_NAMES: [&str; 4] = ["id", "target", "previous", "in_force"];

/// Parameter and property names that hold an author: a member code or a publishing key.
const AUTHOR_NAMES: [&str; 3] = ["author", "signer", "publishing_key"];

/// The served document validates with `openapi-spec-validator` (run as `python3 -m
/// openapi_spec_validator`). Without it, says so and passes, unless
/// `HUBNET_REQUIRE_OPENAPI_VALIDATOR` is set (as `.ci/run` sets it): then the test fails.
#[tokio::test]
async fn the_openapi_document_validates_with_openapi_spec_validator() {
    let doc = openapi(&api(None)).await;
    let here = Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !here {
        assert!(
            std::env::var_os("HUBNET_REQUIRE_OPENAPI_VALIDATOR").is_none(),
            "HUBNET_REQUIRE_OPENAPI_VALIDATOR is set but `python3 -m openapi_spec_validator` does \
             not run (pip install openapi-spec-validator)"
        );
        eprintln!(
            "OpenAPI validation NOT RUN: python3 has no `openapi_spec_validator` \
             (pip install openapi-spec-validator)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).expect("write");
    let out = Command::new("python3")
        .args(["-m", "openapi_spec_validator", "--validation-errors", "all"])
        .arg(&file)
        .output()
        .expect("python3 runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "openapi-spec-validator refuses the document:\n{said}"
    );
    eprintln!("openapi-spec-validator: {}", said.trim());
}

/// Every `$ref` points at something in the document; every `{name}` of a path is an `in: path`
/// parameter of each of its operations, required, and every `in: path` parameter is in the path.
#[tokio::test]
async fn references_resolve_and_path_parameters_match_their_routes() {
    let doc = openapi(&api(None)).await;
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty(), "the document references nothing");
    for r in &refs {
        let pointer = r
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{r}: not a reference into the document"));
        assert!(doc.pointer(pointer).is_some(), "{r} resolves to nothing");
    }
    let template = Regex::new(r"\{([^{}]+)\}").unwrap();
    for (path, method, params) in operations(&doc) {
        let in_path: BTreeSet<&str> = template
            .captures_iter(&path)
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        let declared: BTreeSet<&str> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            in_path, declared,
            "{method} {path}: the path's {{names}} and its `in: path` parameters differ"
        );
        for p in &params {
            let name = p["name"].as_str().unwrap_or_default();
            let place = p["in"].as_str().unwrap_or_default();
            assert!(
                ["query", "header", "path", "cookie"].contains(&place),
                "{method} {path}: parameter {name} is `in: {place}`"
            );
            if place == "path" {
                assert_eq!(
                    p["required"], true,
                    "{method} {path}: path parameter {name} is not required"
                );
            }
        }
    }
}

/// Every parameter or property that holds a record id or an author has a pattern, and the
/// pattern is what the node reads (lowercase and uppercase hex, member codes in any case) and
/// writes (lowercase hex); what the pattern allows, the node parses.
#[tokio::test]
async fn ids_and_keys_have_the_patterns_the_node_reads_and_writes() {
    let doc = openapi(&api(None)).await;
    let id = hubnet_protocol::RecordId::of_header(b"abc").to_hex();
    let key = crate::test_support::sample_key("KZ").public_key().to_hex();
    let mut seen = BTreeSet::new();
    let mut check = |place: String, name: &str, schema: &Value| {
        let what = if RECORD_ID_NAMES.contains(&name) {
            "record id"
        } else if AUTHOR_NAMES.contains(&name) {
            "author"
        } else {
            return;
        };
        let schema = resolve(&doc, schema);
        let schema = match schema["type"].as_str() {
            Some("array") => resolve(&doc, &schema["items"]),
            _ => schema,
        };
        let pattern = schema["pattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{place}: the {what} {name} has no pattern"));
        let re = Regex::new(pattern).unwrap();
        let (good, bad) = if what == "record id" {
            (
                vec![id.clone(), id.to_uppercase()],
                vec![
                    id[1..].to_owned(),
                    format!("{id}0"),
                    id.replacen('a', "g", 1),
                ],
            )
        } else {
            (
                ["KZ", "kz", "HUB", "hub", "Hub"]
                    .map(str::to_owned)
                    .into_iter()
                    .chain([key.clone(), key.to_uppercase()])
                    .collect(),
                vec!["K".into(), "KZZ".into(), key[1..].to_owned()],
            )
        };
        for v in good {
            assert!(re.is_match(&v), "{place}: {pattern} refuses {v:?}");
        }
        for v in bad {
            assert!(!re.is_match(&v), "{place}: {pattern} allows {v:?}");
        }
        // What the pattern allows, the node parses (keys: as hex; member codes: by the charter).
        let mut runner = TestRunner::deterministic();
        let unanchored = pattern.trim_start_matches('^').trim_end_matches('$');
        let strategy = proptest::string::string_regex(unanchored).unwrap();
        for _ in 0..64 {
            let v = strategy.new_tree(&mut runner).unwrap().current();
            let parses = if what == "record id" {
                v.parse::<hubnet_protocol::RecordId>().is_ok()
            } else {
                hubnet_protocol::keys::parse_hex32(&v).is_ok()
                    || (v.len() == 2 && v.bytes().all(|b| b.is_ascii_alphabetic()))
                    || v.eq_ignore_ascii_case("HUB")
            };
            assert!(parses, "{place}: {pattern} allows {v:?}, the node does not");
        }
        seen.insert(format!("{what} {name}"));
    };
    for (path, method, params) in operations(&doc) {
        for p in &params {
            let name = p["name"].as_str().unwrap_or_default();
            check(format!("{method} {path} {name}"), name, &p["schema"]);
        }
    }
    for (component, schema) in doc["components"]["schemas"].as_object().unwrap() {
        for (name, property) in properties(schema) {
            check(format!("schema {component}.{name}"), &name, &property);
        }
    }
    assert!(
        seen.contains("record id id") && seen.contains("author author"),
        "no record id or author checked: {seen:?}"
    );
}

/// `schema` with its `$ref`s followed.
pub(super) fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match schema["$ref"].as_str().and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => schema = doc.pointer(pointer).unwrap_or(&Value::Null),
            None => return schema,
        }
    }
    panic!("a cycle of $refs at {schema}")
}

/// Every operation as (path, method, its parameters and its path item's).
fn operations(doc: &Value) -> Vec<(String, &'static str, Vec<Value>)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let shared = item["parameters"].as_array().cloned().unwrap_or_default();
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            let mut params = shared.clone();
            params.extend(op["parameters"].as_array().cloned().unwrap_or_default());
            out.push((path.clone(), method, params));
        }
    }
    out
}

/// Every `$ref` value under `v`.
fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(x, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// The named properties of `schema` and of the schemas inside it, at any depth.
fn properties(schema: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(map) = schema["properties"].as_object() {
        for (name, p) in map {
            out.push((name.clone(), p.clone()));
            out.extend(properties(p));
        }
    }
    for key in ["items", "additionalProperties"] {
        if schema[key].is_object() {
            out.extend(properties(&schema[key]));
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for s in schema[key].as_array().into_iter().flatten() {
            out.extend(properties(s));
        }
    }
    out
}
