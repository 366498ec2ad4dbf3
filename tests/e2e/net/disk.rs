//! A full disk. A node whose data dir fills up under a write load refuses what it cannot store
//! and loses nothing it acknowledged; once space is freed it starts again with every acknowledged
//! record and its index as it was (not set aside as if corrupt and rebuilt from the journal).
//!
//! The data dir is a small tmpfs mounted by the test, which needs root; without it the test says
//! loudly that it did not run (`HUBNET_REQUIRE_LAB=1`, as in CI, makes that a failure).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::{Net, practice};
use crate::support::path;

/// A tmpfs mounted on a dir for as long as it lives.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts it, or says why it could not (root without the right to mount, in a container).
    fn mount(dir: &Path, size: &str) -> Result<Self, String> {
        std::fs::create_dir_all(dir).expect("mount point");
        mount(&[
            "-t",
            "tmpfs",
            "-o",
            &format!("size={size}"),
            "tmpfs",
            path(dir),
        ])?;
        Ok(Self(dir.to_owned()))
    }

    /// Gives the file system `size` in all (what it holds stays).
    fn resize(&self, size: &str) {
        mount(&["-o", &format!("remount,size={size}"), path(&self.0)]).expect("remount");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily: a process still holding a file there must not leave the mount behind.
        let _ = Command::new("umount").args(["-l", path(&self.0)]).status();
    }
}

/// `mount ARGS`, or why it failed.
fn mount(args: &[&str]) -> Result<(), String> {
    let out = Command::new("mount")
        .args(args)
        .output()
        .map_err(|e| format!("no `mount` command: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "mount {args:?} fails: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// How a publish on a filling disk ended.
enum Publish {
    Acknowledged(String),
    /// Answered, but not 201: the status and body.
    Refused(u16, String),
    /// No answer: the node is gone.
    NoAnswer,
}

/// Clients publishing at once.
const CLIENTS: usize = 4;

fn publish(client: &reqwest::blocking::Client, http: &str, token: &str, title: &str) -> Publish {
    let sent = client
        .post(format!("{http}/api/v1/records"))
        .bearer_auth(token)
        .json(&practice(title))
        .send();
    match sent {
        Err(_) => Publish::NoAnswer,
        Ok(r) if r.status().as_u16() == 201 => {
            let body: serde_json::Value = r.json().expect("json");
            Publish::Acknowledged(body["id"].as_str().expect("id").to_owned())
        }
        Ok(r) => Publish::Refused(r.status().as_u16(), r.text().unwrap_or_default()),
    }
}

#[test]
fn a_full_disk_loses_nothing_acknowledged_and_the_node_starts_again_with_its_index() {
    if !crate::support::is_root() {
        crate::support::did_not_run("THE FULL-DISK TEST", "not root (mounting a tmpfs needs it)");
        return;
    }
    let mut net = Net::new(&["KZ"]);
    let disk = match Tmpfs::mount(&net.data(0), "2m") {
        Ok(disk) => disk,
        Err(why) => {
            crate::support::did_not_run("THE FULL-DISK TEST", &why);
            return;
        }
    };
    net.init(0);
    net.start(0);

    // Publish from several clients at once (so that the node's groups hold several bodies)
    // until each is refused or the node stops (the sample charter allows 1,000 records an hour).
    let http = net.nodes[0].http.clone();
    let token = net.nodes[0].token.clone();
    let results: Vec<(Vec<String>, Publish)> = std::thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (http, token) = (&http, &token);
                s.spawn(move || {
                    let client = reqwest::blocking::Client::builder()
                        .timeout(Duration::from_secs(10))
                        .build()
                        .expect("client");
                    let mut acked = Vec::new();
                    loop {
                        assert!(acked.len() < 900 / CLIENTS, "2 MiB held 900 records");
                        let title = format!("Filling the disk, client {c}, case {}", acked.len());
                        match publish(&client, http, token, &title) {
                            Publish::Acknowledged(id) => acked.push(id),
                            other => return (acked, other),
                        }
                    }
                })
            })
            .collect();
        clients
            .into_iter()
            .map(|c| c.join().expect("client thread"))
            .collect()
    });
    let mut acked: Vec<String> = Vec::new();
    let mut stops = false;
    for (ids, ended) in results {
        acked.extend(ids);
        match ended {
            // The journal could not take the group: refused, as the node's fault, saying why.
            Publish::Refused(507, body) => assert!(body.contains("disk is full"), "{body}"),
            // The index's writer could not take a batch: the node stops (a restart replays the
            // journal), refusing writes (503) or no longer answering meanwhile.
            Publish::Refused(503, _) | Publish::NoAnswer => stops = true,
            Publish::Refused(status, body) => panic!("refused with {status}: {body}"),
            Publish::Acknowledged(_) => unreachable!(),
        }
    }
    eprintln!(
        "{} records acknowledged before the disk filled; the node {}",
        acked.len(),
        if stops { "stops" } else { "refused with 507" }
    );
    assert!(acked.len() >= 10, "the disk filled at once");
    if stops {
        let child = net.nodes[0].child.as_mut().expect("started");
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the node refuses writes, yet still runs 30 s later"
            );
            std::thread::sleep(Duration::from_millis(50)); // poll interval of this deadline loop
        };
        net.nodes[0].child = None;
        assert!(
            !status.success(),
            "the node stopped as if nothing were wrong"
        );
    } else {
        net.kill(0);
    }
    let log = net.log(0);
    assert!(
        log.contains("No space left on device"),
        "the log does not say the disk is full:\n{log}"
    );

    // While the disk is still full, `hubnet publish` (which opens the store each time) fails
    // with the reason, and sets nothing aside. Before, a snapshot sled began at such an open
    // and could not finish made the next open take the index for corrupt: it was set aside as
    // `index.broken-N` and rebuilt, on the full disk, at every try.
    let key = net.nodes[0].dir.join("publishing.key");
    let draft = crate::support::sample().join("drafts/KZ/01-merit-testing.toml");
    let mut refused = 0;
    for _ in 0..20 {
        let out = crate::support::hubnet()
            .args([
                "publish",
                "--data-dir",
                path(&net.data(0)),
                "--key",
                path(&key),
            ])
            .arg(&draft)
            .output()
            .expect("hubnet publish");
        if out.status.success() {
            // A little room was left: what it printed is acknowledged like the rest.
            let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            acked.push(id);
            continue;
        }
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("No space left on device"), "{err}");
        refused += 1;
        if refused == 3 {
            break;
        }
    }
    assert_eq!(refused, 3, "the full disk took 20 more records");
    eprintln!("{} acknowledged in all", acked.len());
    assert_nothing_set_aside(&net.data(0));

    // Space freed: every acknowledged record is there, the index was kept, and it publishes.
    disk.resize("64m");
    let log_before = net.log(0).len();
    net.start(0);
    for id in &acked {
        let (status, _) = net.get(0, &format!("/api/v1/records/{id}"));
        assert_eq!(status, 200, "acknowledged record {id} is gone");
    }
    let restarted = net.log(0).split_off(log_before);
    assert!(
        !restarted.contains("rebuilding"),
        "the index was rebuilt after the disk filled:\n{restarted}"
    );
    assert_nothing_set_aside(&net.data(0));
    net.publish(0, &practice("After the disk was freed"));
    net.stop(0);
}

fn assert_nothing_set_aside(data: &Path) {
    let names: Vec<String> = std::fs::read_dir(data)
        .expect("data dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !names.iter().any(|n| n.contains("broken")),
        "something was set aside as broken: {names:?}"
    );
}
