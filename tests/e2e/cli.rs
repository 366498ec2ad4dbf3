//! The README walk-through as a test: make a charter, publish a Russian practice and an English
//! event, export, verify; and the refusals a user meets on the way.

use std::path::{Path, PathBuf};

use crate::support::{init_data_dir, ok, path, run, sample, sample_data_dir, sample_key};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("writes");
    p
}

fn stderr(args: &[&str]) -> String {
    let out = run(args);
    assert!(!out.status.success(), "hubnet {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const RU_PRACTICE: &str = r#"
kind = "practice"
topics = ["e-government", "service-delivery"]
[title]
ru = "Электронное правительство: услуги в одном окне"
[summary]
ru = "Государственные услуги через единый портал и центры обслуживания населения."
"#;

const EN_EVENT: &str = r#"{
  "kind": "event", "event_type": "webinar", "start": "2027-02-10T10:00", "end": "2027-02-10T12:00",
  "time_zone": "Asia/Almaty", "title": {"en": "Webinar on performance appraisal"},
  "online_url": "https://example.org/webinar"
}"#;

#[test]
fn new_network_walkthrough() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let (kz, c1, c2, c3) = (
        d.join("kz.key"),
        d.join("c1.key"),
        d.join("c2.key"),
        d.join("c3.key"),
    );
    let kz_pub = ok(&["keygen", "--out", path(&kz)]);
    assert_eq!(kz_pub.trim().len(), 64);
    assert!(
        kz_pub
            .trim()
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    );
    for k in [&c1, &c2, &c3] {
        ok(&["keygen", "--out", path(k)]);
    }
    assert!(stderr(&["keygen", "--out", path(&kz)]).contains("never overwrites"));

    let charter = d.join("charter.toml");
    ok(&[
        "charter",
        "new",
        "--out",
        path(&charter),
        "--quorum",
        "2",
        "--name",
        "en=Test hub",
    ]);
    ok(&[
        "charter",
        "add-member",
        path(&charter),
        "--code",
        "KZ",
        "--key-file",
        path(&kz),
        "--name",
        "en=Kazakhstan",
        "--name",
        "ru=Казахстан",
    ]);
    assert!(
        stderr(&[
            "charter",
            "add-member",
            path(&charter),
            "--code",
            "XX",
            "--key-file",
            path(&c1),
            "--name",
            "en=Nowhere"
        ])
        .contains("XX")
    );
    for k in [&c1, &c2, &c3] {
        ok(&[
            "charter",
            "add-committee",
            path(&charter),
            "--key-file",
            path(k),
        ]);
    }
    ok(&["charter", "sign", path(&charter), "--key", path(&c1)]);
    assert!(stderr(&["charter", "verify", path(&charter)]).contains("quorum is 2"));
    assert!(
        stderr(&[
            "init",
            "--data-dir",
            path(&d.join("early")),
            "--charter",
            path(&charter)
        ])
        .contains("quorum")
    );
    assert!(
        stderr(&["charter", "sign", path(&charter), "--key", path(&kz)])
            .contains("not a committee key")
    );
    ok(&["charter", "sign", path(&charter), "--key", path(&c2)]);
    let verified = ok(&["charter", "verify", path(&charter)]);
    assert!(verified.starts_with("valid: network "), "{verified}");
    let show = ok(&["charter", "show", path(&charter), "--json"]);
    let show: serde_json::Value = serde_json::from_str(&show).expect("json");
    assert_eq!(show["valid"], true);

    let data = d.join("data");
    init_data_dir(&data, &charter);
    let practice = write(d, "practice.toml", RU_PRACTICE);
    let event = write(d, "event.json", EN_EVENT);
    let p_id = ok(&[
        "publish",
        "--data-dir",
        path(&data),
        "--key",
        path(&kz),
        path(&practice),
    ]);
    let e_id = ok(&[
        "publish",
        "--data-dir",
        path(&data),
        "--key",
        path(&kz),
        path(&event),
    ]);
    let record: serde_json::Value =
        serde_json::from_str(&ok(&["get", "--data-dir", path(&data), p_id.trim()])).expect("json");
    assert_eq!(record["seq"], 1);
    assert_eq!(record["member"], "KZ");
    assert_eq!(record["body"]["country"], "KZ");
    assert_eq!(
        record["body"]["title"]["ru"],
        "Электронное правительство: услуги в одном окне"
    );
    let log = ok(&["log", "--data-dir", path(&data), "KZ"]);
    assert!(
        log.contains(e_id.trim()) && log.contains("Webinar on performance appraisal"),
        "{log}"
    );

    let bundle = d.join("hub.bundle");
    ok(&["export", "--data-dir", path(&data), "--out", path(&bundle)]);
    let report = ok(&["verify", path(&bundle)]);
    assert!(report.contains("OK: 2 records verified"), "{report}");
    let network_id = verified.split_whitespace().nth(2).expect("network id");
    ok(&["verify", path(&bundle), "--network-id", network_id]);
    assert!(
        stderr(&["verify", path(&bundle), "--network-id", &"0".repeat(64)]).contains("expected")
    );

    // A copy of the bundle with one byte changed fails verification and imports nothing bad.
    let mut bytes = std::fs::read(&bundle).expect("reads");
    let last = bytes.len() - 70;
    bytes[last] ^= 0x01;
    let tampered = d.join("tampered.bundle");
    std::fs::write(&tampered, &bytes).expect("writes");
    let out = run(&["verify", path(&tampered)]);
    assert!(!out.status.success());
    let other = d.join("other");
    init_data_dir(&other, &charter);
    let out = run(&["import", "--data-dir", path(&other), path(&tampered)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.lines()
            .filter(|l| l.starts_with("skipped record"))
            .count(),
        1,
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 1 new records"));
    // A truncated bundle: the records before the cut are imported, the damage is reported.
    let truncated = d.join("truncated.bundle");
    std::fs::write(
        &truncated,
        &std::fs::read(&bundle).expect("reads")[..bytes.len() - 40],
    )
    .expect("writes");
    let third = d.join("third");
    init_data_dir(&third, &charter);
    let out = run(&["import", "--data-dir", path(&third), path(&truncated)]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 1 new records"));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("skipped the rest of the bundle after record #1")
    );
    let out = run(&["verify", path(&truncated)]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("damaged"));
    let good = ok(&["import", "--data-dir", path(&other), path(&bundle)]);
    assert!(
        good.contains("imported 1 new records, 1 already present, 0 skipped"),
        "{good}"
    );
}

#[test]
fn publish_refusals_name_the_problem_and_store_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    let data = sample_data_dir(d);
    let kz = sample_key("KZ");
    let cases = [
        (
            "unknown.json",
            r#"{"kind":"practice","title":{"en":"t"},"summary":{"en":"s"},"topics":["pay"],"colour":"red"}"#,
            "unknown field",
        ),
        (
            "missing.json",
            r#"{"kind":"practice","title":{"en":"t"},"topics":["pay"]}"#,
            "missing",
        ),
        (
            "empty.json",
            r#"{"kind":"practice","title":{},"summary":{"en":"s"},"topics":["pay"]}"#,
            "title has no language entry",
        ),
        (
            "lang.json",
            r#"{"kind":"practice","title":{"x y":"t"},"summary":{"en":"s"},"topics":["pay"]}"#,
            "BCP 47",
        ),
        (
            "topic.json",
            r#"{"kind":"practice","title":{"en":"t"},"summary":{"en":"s"},"topics":["astrology"]}"#,
            "not a topic of the charter's vocabulary",
        ),
        (
            "country.json",
            r#"{"kind":"practice","title":{"en":"t"},"summary":{"en":"s"},"topics":["pay"],"country":"ZZ"}"#,
            "ISO 3166-1",
        ),
        ("garbage.json", "{not json", "does not parse"),
    ];
    for (name, text, expected) in cases {
        let draft = write(d, name, text);
        let err = stderr(&[
            "publish",
            "--data-dir",
            path(&data),
            "--key",
            path(&kz),
            path(&draft),
        ]);
        assert!(err.contains(expected), "{name}: {err}");
        // Log lines (a warning that a checked-out sample key is not mode 0600) are not the message.
        let message: Vec<&str> = err.lines().filter(|l| !l.contains("WARN")).collect();
        assert_eq!(message.len(), 1, "{name}: one line: {err}");
        assert!(message[0].starts_with("error: "), "{name}: {err}");
    }
    let outsider = d.join("outsider.key");
    ok(&["keygen", "--out", path(&outsider)]);
    let draft = write(
        d,
        "ok.json",
        r#"{"kind":"practice","title":{"en":"t"},"summary":{"en":"s"},"topics":["pay"]}"#,
    );
    assert!(
        stderr(&[
            "publish",
            "--data-dir",
            path(&data),
            "--key",
            path(&outsider),
            path(&draft)
        ])
        .contains("not the publishing key of any member")
    );
    let log = ok(&["log", "--data-dir", path(&data), "KZ", "--json"]);
    assert_eq!(log.lines().count(), 0, "nothing was stored");
    assert!(stderr(&["log", "--data-dir", path(&d.join("nowhere")), "KZ"]).contains("hubnet init"));
}

#[test]
fn sample_drafts_all_publish_and_verify() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = sample_data_dir(tmp.path());
    let drafts = sample().join("drafts");
    let mut published = 0;
    let mut members: Vec<_> = std::fs::read_dir(&drafts)
        .expect("drafts folder")
        .map(|e| e.expect("entry").path())
        .collect();
    members.sort();
    for member_dir in members {
        let code = member_dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("code")
            .to_owned();
        let mut files: Vec<_> = std::fs::read_dir(&member_dir)
            .expect("member folder")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for f in files {
            ok(&[
                "publish",
                "--data-dir",
                path(&data),
                "--key",
                path(&sample_key(&code)),
                path(&f),
            ]);
            published += 1;
        }
    }
    assert!(
        published >= 50,
        "the sample has at least 30 practices and 20 events"
    );
    let bundle = tmp.path().join("sample.bundle");
    ok(&["export", "--data-dir", path(&data), "--out", path(&bundle)]);
    let report = ok(&["verify", path(&bundle), "--json"]);
    let report: serde_json::Value = serde_json::from_str(&report).expect("json");
    assert_eq!(report["ok"], true);
    assert_eq!(report["records_read"], published);
}

/// `hubnet run` with a wrong config names the field and exits non-zero before starting anything.
#[test]
fn run_refuses_a_wrong_config_naming_the_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let charter = crate::support::sample().join("charter.toml");
    let base = format!(
        "data_dir = \"data\"\ncharter = \"{}\"\nlisten = [\"/ip4/127.0.0.1/tcp/0\"]\nhttp = \"127.0.0.1:0\"\nadmin_token = \"0123456789abcdef\"\n",
        charter.display()
    );
    let cases = [
        ("http = \"127.0.0.1:0\"", "http = \"nowhere\"", "`http`"),
        (
            "listen = [\"/ip4/127.0.0.1/tcp/0\"]",
            "listen = [\"tcp:0\"]",
            "`listen`",
        ),
        (
            "admin_token = \"0123456789abcdef\"",
            "admin_token = \"x\"",
            "`admin_token`",
        ),
        (
            "data_dir = \"data\"",
            "data_dir = \"data\"\npublishing_key = \"missing.key\"",
            "`publishing_key`",
        ),
        (
            "data_dir = \"data\"",
            "data_dir = \"data\"\nport = 80",
            "unknown field `port`",
        ),
    ];
    for (from, to, field) in cases {
        let path = write(dir.path(), "hubnet.toml", &base.replace(from, to));
        let out = crate::support::run(&["run", "--config", crate::support::path(&path)]);
        assert!(!out.status.success(), "{field}: started");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(field), "{field}: {err}");
        assert!(
            !dir.path().join("data").exists(),
            "{field}: created the data dir"
        );
    }
}
