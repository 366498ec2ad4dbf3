//! Deriving joint programmes' states (docs/PROTOCOL.md §2.2) at scale, each figure beside its raw
//! limit measured in the same run: 10,000 programmes (1 to 3 amendments each, three or four
//! member participants, every other participant's confirmation, one in ten withdrawn) in one
//! store.
//!
//! - At start: the state of every programme read from the store and derived
//!   (`programmes::Held::read` + `derive`), beside reading the same records from the store
//!   without deriving, and beside the pure derivation over facts already in memory.
//! - Per new record: a new confirmation appended and its programme's state derived again, p50
//!   and p99 over 500 records, beside appending the record alone.
//!
//! Run with `cargo bench -p hubnet-node --bench programmes` (`HUBNET_PROGRAMMES` sets the count).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hubnet_node::programmes::Held;
use hubnet_node::store::Store;
use hubnet_protocol::charter::{CharterDoc, MemberDoc};
use hubnet_protocol::record::{self, Position};
use hubnet_protocol::{Body, Charter, Draft, DraftFormat, Record, RecordId, SecretKey};
use serde_json::{Value, json};

const NOW: i64 = 1_790_000_000_000;
const MEMBERS: [&str; 8] = ["HUB", "KZ", "KG", "TJ", "UZ", "AZ", "AM", "GE"];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn charter(keys: &[SecretKey]) -> String {
    let committee = SecretKey::from_seed([200; 32]);
    let mut doc = CharterDoc::new("Benchmark network", 1);
    for (code, key) in MEMBERS.iter().zip(keys) {
        doc.members.push(MemberDoc {
            code: (*code).into(),
            publishing_key: key.public_key().to_hex(),
            name: [("en".to_owned(), (*code).to_owned())].into(),
        });
    }
    doc.committee.keys = vec![committee.public_key().to_hex()];
    doc.limits.max_records_per_hour = 0;
    doc.sign(&committee).expect("committee key");
    doc.to_toml()
}

/// Signs bodies into each member's log in order, as a node would publish them.
struct Signer<'a> {
    charter: &'a Charter,
    keys: &'a [SecretKey],
    positions: HashMap<usize, Position>,
    clock: i64,
}

impl Signer<'_> {
    fn sign(&mut self, member: usize, body: &Body) -> Record {
        self.clock += 1;
        let position = self
            .positions
            .get(&member)
            .copied()
            .unwrap_or(Position::FIRST);
        let signed = record::sign(
            &self.keys[member],
            self.charter.network_id(),
            position,
            self.clock,
            body,
        );
        let r = record::verify_record(&signed.encode(), self.charter, self.clock + 1)
            .expect("a valid record");
        self.positions.insert(member, Position::after(&r));
        r
    }
}

fn body(charter: &Charter, member: &str, draft: &Value) -> Body {
    Draft::parse(&draft.to_string(), DraftFormat::Json)
        .and_then(|d| d.to_body(member, &charter.rules()))
        .expect("a valid draft")
}

fn programme(n: usize, lead: usize, others: &[usize], budget: u64) -> Value {
    let mut participants = vec![json!({"member": MEMBERS[lead], "roles": ["lead"]})];
    for o in others {
        participants.push(json!({"member": MEMBERS[*o], "roles": ["implementing"],
            "contributions": [{"type": "cash", "amount": "10000", "currency": "USD"}]}));
    }
    json!({
        "kind": "programme",
        "title": {"en": format!("Benchmark programme {n}")},
        "description": {"en": "A joint programme of the benchmark."},
        "participants": participants,
        "status": "implementation",
        "planned_start": "2026-01-01",
        "planned_end": "2027-12-31",
        "budget": [{"period_start": "2026-01-01", "period_end": "2026-12-31",
                    "value": budget.to_string(), "currency": "USD", "status": "committed"}]
    })
}

fn main() {
    let count: usize = std::env::var("HUBNET_PROGRAMMES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let keys: Vec<SecretKey> = (0..MEMBERS.len())
        .map(|i| SecretKey::from_seed([i as u8 + 1; 32]))
        .collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::init(dir.path(), &charter(&keys)).expect("store");
    let charter = store.charter().clone();
    let mut signer = Signer {
        charter: &charter,
        keys: &keys,
        positions: HashMap::new(),
        clock: NOW,
    };

    // The corpus: programmes and their amendments first, then the confirmations of the version
    // in force, then one withdrawal in ten.
    let started = Instant::now();
    let mut batch: Vec<Record> = Vec::new();
    let flush = |store: &mut Store, batch: &mut Vec<Record>| {
        store.append(batch).expect("append");
        batch.clear();
    };
    let mut programmes: Vec<(RecordId, RecordId, Vec<usize>)> = Vec::with_capacity(count);
    for n in 0..count {
        let lead = n % MEMBERS.len();
        let others: Vec<usize> = (1..=2 + n % 2)
            .map(|k| (lead + k) % MEMBERS.len())
            .collect();
        let p = signer.sign(
            lead,
            &body(
                &charter,
                MEMBERS[lead],
                &programme(n, lead, &others, 80_000),
            ),
        );
        let id = p.id;
        batch.push(p);
        let mut in_force = id;
        for a in 0..1 + n % 3 {
            let amendment = json!({"kind": "amendment", "target": id.to_hex(),
                "record": programme(n, lead, &others, 80_000 + 1000 * a as u64)});
            let r = signer.sign(lead, &body(&charter, MEMBERS[lead], &amendment));
            in_force = r.id;
            batch.push(r);
        }
        programmes.push((id, in_force, others));
        if batch.len() >= 512 {
            flush(&mut store, &mut batch);
        }
    }
    flush(&mut store, &mut batch);
    // The confirmations one in ten programmes' first other participant withdraws.
    let mut confirmations = Vec::new();
    for (n, (id, in_force, others)) in programmes.iter().enumerate() {
        for o in others {
            let c = json!({"kind": "confirmation", "programme": id.to_hex(),
                           "version": in_force.to_hex()});
            let r = signer.sign(*o, &body(&charter, MEMBERS[*o], &c));
            if n % 10 == 0 && *o == others[0] {
                confirmations.push((*o, r.id));
            }
            batch.push(r);
            if batch.len() >= 512 {
                flush(&mut store, &mut batch);
            }
        }
    }
    flush(&mut store, &mut batch);
    for (member, c) in &confirmations {
        let w = json!({"kind": "retraction", "target": c.to_hex(), "reason": {"en": "Withdrawn."}});
        batch.push(signer.sign(*member, &body(&charter, MEMBERS[*member], &w)));
    }
    flush(&mut store, &mut batch);
    let records = store.record_count().expect("count");
    println!(
        "corpus: {count} programmes, {records} records, signed and stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // At start: every state derived from the store, beside reading the same records only, and
    // beside the pure derivation of facts already read.
    let mut held = Vec::with_capacity(count);
    let mut derive_runs = Vec::new();
    let mut read_runs = Vec::new();
    let mut pure_runs = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let mut confirmed = 0;
        held.clear();
        for (id, _, _) in &programmes {
            let h = Held::read(&store, id).expect("read").expect("a programme");
            if h.derived().is_some_and(|d| d.state.name() == "confirmed") {
                confirmed += 1;
            }
            held.push(h);
        }
        derive_runs.push(t.elapsed());
        let t = Instant::now();
        let mut n = 0usize;
        for h in &held {
            for r in std::iter::once(&h.programme)
                .chain(&h.amendments)
                .chain(&h.confirmations)
            {
                n += usize::from(store.get(&r.id).expect("get").is_some());
            }
            n += store.amendments(&h.programme.id).expect("amendments").len();
            n += store
                .confirmations(&h.programme.id)
                .expect("confirmations")
                .len();
        }
        read_runs.push(t.elapsed());
        let t = Instant::now();
        let pure = held
            .iter()
            .filter(|h| {
                hubnet_protocol::confirmations::derive(&h.facts)
                    .is_some_and(|d| d.state.name() == "confirmed")
            })
            .count();
        pure_runs.push(t.elapsed());
        assert_eq!(pure, confirmed);
        assert!(n > 0);
        println!("  {confirmed} of {count} confirmed");
    }
    let best = |v: &[Duration]| v.iter().min().copied().unwrap_or_default();
    println!(
        "at start: derive every state from the store {:.0} ms (best of 3); raw: read the same records {:.0} ms; pure derivation {:.1} ms",
        best(&derive_runs).as_secs_f64() * 1e3,
        best(&read_runs).as_secs_f64() * 1e3,
        best(&pure_runs).as_secs_f64() * 1e3,
    );

    // Per new record: a confirmation appended (by a member that withdrew, so the state moves),
    // then its programme's state derived again; beside the append alone.
    let mut with_state = Vec::new();
    let mut append_only = Vec::new();
    for i in 0..500 {
        let (id, in_force, others) = &programmes[(i * 7) % programmes.len()];
        let member = others[i % others.len()];
        let c = json!({"kind": "confirmation", "programme": id.to_hex(),
                       "version": in_force.to_hex()});
        let r = signer.sign(member, &body(&charter, MEMBERS[member], &c));
        if i % 2 == 0 {
            let t = Instant::now();
            store.append(std::slice::from_ref(&r)).expect("append");
            let state = Held::read(&store, id)
                .expect("read")
                .and_then(|h| h.derived());
            with_state.push(t.elapsed());
            assert!(state.is_some());
        } else {
            let t = Instant::now();
            store.append(std::slice::from_ref(&r)).expect("append");
            append_only.push(t.elapsed());
        }
    }
    with_state.sort();
    append_only.sort();
    println!(
        "per new confirmation: append + derive p50 {:.2} ms p99 {:.2} ms; raw: append alone p50 {:.2} ms p99 {:.2} ms",
        percentile(&with_state, 0.5).as_secs_f64() * 1e3,
        percentile(&with_state, 0.99).as_secs_f64() * 1e3,
        percentile(&append_only, 0.5).as_secs_f64() * 1e3,
        percentile(&append_only, 0.99).as_secs_f64() * 1e3,
    );
}
