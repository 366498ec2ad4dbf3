//! Comparing reform profiles at scale, each figure beside its raw limit measured in the same run:
//! `GET /api/v1/compare` for 4 countries (through the node's router, in process: parameters,
//! the index query, the profiles loaded from the store, the matrix, the JSON or CSV answer), p50
//! and p99 over repeated runs, beside the bare tantivy search of the same filter (kind and
//! countries; nothing loaded), with 10 years of profiles of 50 indicators for each of eight
//! member states beside N other records (default 1 million practices; `HUBNET_COMPARE_RECORDS`
//! sets N). Also the country page (`GET /api/v1/countries/KZ`).
//! Run with `cargo bench -p hubnet-node --bench compare`.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use hubnet_node::api::{AppState, router};
use hubnet_node::search::{Query, Sort};
use hubnet_node::store::Store;
use hubnet_protocol::charter::{CharterDoc, MemberDoc};
use hubnet_protocol::vocabulary::{Indicator, Vocabulary};
use hubnet_protocol::{Draft, DraftFormat, SecretKey};
use serde_json::{Value, json};
use tower::ServiceExt;

const NOW: i64 = 1_790_000_000_000;
const YEARS: i32 = 10;
const INDICATORS: usize = 50;
const MEMBERS: [&str; 8] = ["KZ", "KG", "TJ", "UZ", "AZ", "AM", "GE", "MN"];

fn names(en: &str) -> BTreeMap<String, String> {
    [("en", en), ("ru", en), ("kk", en)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Eight member states, one committee key, no rate limit, lists of up to 64 items, and the
/// template vocabulary grown to 50 indicators.
fn charter(keys: &[SecretKey]) -> String {
    let committee = SecretKey::from_seed([200; 32]);
    let mut doc = CharterDoc::new("Benchmark network", 1);
    for (code, key) in MEMBERS.iter().zip(keys) {
        doc.members.push(MemberDoc {
            code: (*code).into(),
            publishing_key: key.public_key().to_hex(),
            name: names(code),
        });
    }
    doc.committee.keys = vec![committee.public_key().to_hex()];
    doc.limits.max_list_items = 64;
    doc.limits.max_records_per_hour = 0;
    let mut v = Vocabulary::template();
    let extra = INDICATORS - v.indicators.len();
    for i in 0..extra {
        v.indicators.push(Indicator {
            code: format!("bench:indicator-{i}"),
            name: names(&format!("Benchmark indicator {i}")),
            unit: "percent".into(),
            higher_is_better: i % 2 == 0,
            reform_area: "public-service-hrm".into(),
        });
    }
    doc.vocabulary = v;
    doc.sign(&committee).expect("committee key");
    doc.to_toml()
}

/// The profile of `year` (as of 30 June): every indicator of the catalogue, one in ten not
/// available, five reforms whose status moves with the years.
fn profile(code: &str, year: i32, codes: &[String], previous: Option<&str>) -> Value {
    let statuses = ["planned", "adopted", "in-implementation", "completed"];
    let reforms: Vec<Value> = (0..5)
        .map(|r| {
            json!({"title": {"en": format!("Reform {r} of {code}"), "ru": format!("Реформа {r}")},
                   "status": statuses[((year as usize) + r) % statuses.len()],
                   "reform_area": "public-service-hrm"})
        })
        .collect();
    let indicators: Vec<Value> = codes
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if (i + year as usize).is_multiple_of(10) {
                json!({"code": c, "not_available": {"en": "Not measured this year."}})
            } else {
                json!({"code": c, "value": ((year as usize * 7 + i * 13) % 100) as f64 + 0.5,
                       "year": year - (i % 2) as i32,
                       "source": {"name": {"en": "Statistics office"}, "url": "https://example.org/s"}})
            }
        })
        .collect();
    let mut v = json!({
        "kind": "reform_profile",
        "title": {"en": format!("{code}: reform profile {year}"), "ru": format!("{code}: профиль {year}")},
        "as_of": format!("{year}-06-30"),
        "reform_areas": ["public-service-hrm", "service-delivery"],
        "reforms": reforms,
        "indicators": indicators,
        "summary": {"en": "Benchmark profile."},
    });
    if let Some(p) = previous {
        v["previous"] = json!(p);
    }
    v
}

async fn get(app: &axum::Router, path: &str) -> (StatusCode, usize) {
    let response = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, body.len())
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test` runs benches as tests; this one is only for `cargo bench`.
    }
    let n: usize = std::env::var("HUBNET_COMPARE_RECORDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let keys: Vec<SecretKey> = (0..MEMBERS.len())
        .map(|i| SecretKey::from_seed([i as u8 + 1; 32]))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut store = Store::init(&data, &charter(&keys)).expect("store");
    let codes: Vec<String> = store
        .charter()
        .vocabulary()
        .indicators
        .iter()
        .map(|i| i.code.clone())
        .collect();
    assert_eq!(codes.len(), INDICATORS);

    eprintln!("signing and storing {n} practices…");
    let started = Instant::now();
    hubnet_node::synth::fill(&mut store, &keys, n, NOW).expect("fill");
    eprintln!("  {:.1?}", started.elapsed());
    let mut profiles = 0;
    for (code, key) in MEMBERS.iter().zip(&keys) {
        let mut previous: Option<String> = None;
        for y in 0..YEARS {
            let year = 2016 + y;
            let draft = profile(code, year, &codes, previous.as_deref());
            let body = Draft::parse(&draft.to_string(), DraftFormat::Json)
                .and_then(|d| d.to_body(code, &store.charter().rules()))
                .expect("a valid profile");
            let r = store
                .publish(key, &body, NOW + 1 + i64::from(y))
                .expect("published");
            previous = Some(r.id.to_hex());
            profiles += 1;
        }
    }
    store.flush().expect("flush");
    eprintln!("{profiles} profiles stored; indexing…");

    let (store, indexing) = common::index_whole_journal(store, &data);
    eprintln!("  indexed in {indexing:.1?}");

    let peer = libp2p::identity::Keypair::generate_ed25519()
        .public()
        .to_peer_id();
    let (shared, _indexer) = hubnet_node::shared::Shared::new(store, peer, None).expect("shared");
    let (jobs, _job_rx) = tokio::sync::mpsc::channel(1);
    let app = router(AppState {
        answers: hubnet_node::api::answers::AnswerCache::new(64 << 20),
        records: hubnet_node::api::answers::RecordCache::new(64 << 20),
        shared: shared.clone(),
        jobs,
        admin_token: std::sync::Arc::from("unused"),
        guard: hubnet_node::api::guard::Guard::generous(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let countries = ["KZ", "KG", "UZ", "AZ"];
    let raw_query = Query {
        kinds: vec!["reform_profile".into()],
        countries: countries.iter().map(|c| (*c).to_owned()).collect(),
        sort: Sort::Newest,
        ..Query::default()
    };
    let paths = [
        "/api/v1/compare?country=KZ&country=KG&country=UZ&country=AZ",
        "/api/v1/compare?country=KZ&country=KG&country=UZ&country=AZ&as_of=2020-12-31",
        "/api/v1/compare?country=KZ&country=KG&country=UZ&country=AZ&format=csv",
        "/api/v1/countries/KZ",
    ];
    let rounds = 500;
    println!("| request | answer bytes | p50 | p99 | raw p50 | raw p99 |");
    println!("|---|---|---|---|---|---|");
    for path in paths {
        let mut full = Vec::with_capacity(rounds);
        let mut raw = Vec::with_capacity(rounds);
        let mut bytes = 0;
        for _ in 0..rounds {
            let t = Instant::now();
            let (status, len) = runtime.block_on(get(&app, path));
            full.push(t.elapsed());
            assert_eq!(status, StatusCode::OK, "{path}");
            bytes = len;
            let t = Instant::now();
            std::hint::black_box(shared.search.raw_top(&raw_query, 40).expect("raw"));
            raw.push(t.elapsed());
        }
        full.sort();
        raw.sort();
        println!(
            "| `{path}` | {bytes} | {:.2?} | {:.2?} | {:.2?} | {:.2?} |",
            common::percentile(&full, 0.5),
            common::percentile(&full, 0.99),
            common::percentile(&raw, 0.5),
            common::percentile(&raw, 0.99),
        );
    }
    println!();
    println!(
        "{profiles} profiles of {INDICATORS} indicators ({YEARS} years x {} members) beside {n} practices",
        MEMBERS.len()
    );
}
