//! Hosts: `hio` processes linked by remote decks through a real
//! `nats-server` started here on a free port: a producer host and two
//! consumer hosts with every item delivered once; a consumer killed with
//! SIGKILL mid-stream and started again, counts exact; a producer killed
//! and started again, none of its new items lost.

#![allow(clippy::unwrap_used)]

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{plugin, quoted, test_cache};
use hio_cluster::server::NatsServer;

/// A host's manifest: one doer of `side` ("producer" or "consumer") on the
/// remote deck `jobs`.
fn host(url: &str, name: &str, side: &str, options: &str) -> String {
    let grant = if side == "producer" { "push" } else { "pull" };
    format!(
        r#"
tock = 0.01
real = true
limit = 60.0

[cluster]
urls = ["{url}"]
host = "{name}"

[[decks]]
name = "jobs"
capacity = 16
remote = true

[[doers]]
name = "{side}"
plugin = {plugin}
options = {{ deck = "jobs", {options} }}
grants = {{ {grant} = ["jobs"] }}
"#,
        plugin = quoted(&plugin(side)),
    )
}

/// `hio run` of `text` (written in `dir` as `<name>.toml`), its log in
/// `<name>.log`.
fn start(dir: &Path, name: &str, text: &str) -> Child {
    let m = dir.join(format!("{name}.toml"));
    std::fs::write(&m, text).unwrap();
    Command::new(env!("CARGO_BIN_EXE_hio"))
        .arg("run")
        .arg(&m)
        .env_remove("HIO_CACHE_DIR")
        .env("XDG_CACHE_HOME", test_cache())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(format!("{name}.log"))).unwrap())
        .spawn()
        .unwrap()
}

/// The jobs the consumers' logs say they got, with how many times.
fn jobs(dir: &Path, names: &[&str]) -> BTreeMap<u32, usize> {
    let mut got = BTreeMap::new();
    for name in names {
        let log = std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap_or_default();
        for n in log.lines().filter_map(|l| l.split("got job ").nth(1)) {
            *got.entry(n.trim().parse::<u32>().unwrap()).or_default() += 1;
        }
    }
    got
}

fn wait_for(what: &str, wall: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < wall, "{what} after {wall:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_producer_host_and_two_consumer_hosts_deliver_every_item_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(&dir.path().join("store")).unwrap();
    let url = server.url();
    let mut consumers: Vec<Child> = ["c1", "c2"]
        .iter()
        .map(|c| {
            start(
                dir.path(),
                c,
                &host(&url, c, "consumer", "count = 1000, rate = 2"),
            )
        })
        .collect();
    let mut producer = start(
        dir.path(),
        "p",
        &host(&url, "p", "producer", "count = 300, burst = 4"),
    );
    assert!(producer.wait().unwrap().success());
    wait_for("300 jobs", Duration::from_secs(60), || {
        jobs(dir.path(), &["c1", "c2"]).len() >= 300
    });
    std::thread::sleep(Duration::from_millis(500));
    for c in &mut consumers {
        let _ = c.kill();
        let _ = c.wait();
    }
    let got = jobs(dir.path(), &["c1", "c2"]);
    assert_eq!(
        got.keys().copied().collect::<Vec<_>>(),
        (1..=300).collect::<Vec<_>>()
    );
    assert!(got.values().all(|&n| n == 1), "doubled: {got:?}");
    // Both consumers took a share.
    assert!(!jobs(dir.path(), &["c1"]).is_empty() && !jobs(dir.path(), &["c2"]).is_empty());
}

#[test]
fn a_consumer_host_killed_mid_stream_and_started_again_gets_every_item_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(&dir.path().join("store")).unwrap();
    let url = server.url();
    let consumer = |name: &str| {
        start(
            dir.path(),
            name,
            &host(&url, "c", "consumer", "count = 1000, rate = 1"),
        )
    };
    let mut first = consumer("c-first");
    let mut producer = start(
        dir.path(),
        "p",
        &host(&url, "p", "producer", "count = 200, burst = 4"),
    );
    wait_for("50 jobs", Duration::from_secs(60), || {
        jobs(dir.path(), &["c-first"]).len() >= 50
    });
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let mut again = consumer("c-again");
    assert!(producer.wait().unwrap().success());
    wait_for("200 jobs", Duration::from_secs(60), || {
        jobs(dir.path(), &["c-first", "c-again"]).len() >= 200
    });
    std::thread::sleep(Duration::from_millis(500));
    let _ = again.kill();
    let _ = again.wait();
    let got = jobs(dir.path(), &["c-first", "c-again"]);
    assert_eq!(
        got.keys().copied().collect::<Vec<_>>(),
        (1..=200).collect::<Vec<_>>()
    );
    let doubled: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "doubled: {doubled:?}");
    drop(server);
}

#[test]
fn a_producer_host_killed_and_started_again_loses_none_of_its_new_items() {
    // The second start numbers its pushes from 1 again: were its message
    // ids the first start's, the server would drop its first items as
    // retries within the duplicate window.
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(&dir.path().join("store")).unwrap();
    let url = server.url();
    let mut consumer = start(
        dir.path(),
        "c",
        &host(&url, "c", "consumer", "count = 10000, rate = 2"),
    );
    let producer = |log: &str, first: u32| {
        let options = format!("count = 200, burst = 2, first = {first}");
        start(dir.path(), log, &host(&url, "p", "producer", &options))
    };
    let mut first = producer("p-first", 1);
    wait_for("30 jobs", Duration::from_secs(60), || {
        jobs(dir.path(), &["c"]).len() >= 30
    });
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let mut again = producer("p-again", 1001);
    assert!(again.wait().unwrap().success());
    wait_for(
        "the second start's 200 jobs",
        Duration::from_secs(60),
        || jobs(dir.path(), &["c"]).range(1001..).count() >= 200,
    );
    std::thread::sleep(Duration::from_millis(500));
    let _ = consumer.kill();
    let _ = consumer.wait();
    let got = jobs(dir.path(), &["c"]);
    assert_eq!(
        got.range(1001..).map(|(k, _)| *k).collect::<Vec<_>>(),
        (1001..=1200).collect::<Vec<_>>()
    );
    // The first start's items are those it published before it died, each
    // once (which of its last pushes left before the SIGKILL is chance).
    let before: Vec<u32> = got.range(..1001).map(|(k, _)| *k).collect();
    assert!(before.len() >= 30 && before.iter().all(|k| (1..=200).contains(k)));
    let doubled: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "doubled: {doubled:?}");
    drop(server);
}

#[test]
fn each_host_records_what_it_got_and_replays_alone_without_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = NatsServer::start(&dir.path().join("store")).unwrap();
    let url = server.url();
    let record = |name: &str, text: &str| {
        let m = dir.path().join(format!("{name}.toml"));
        std::fs::write(&m, text).unwrap();
        Command::new(env!("CARGO_BIN_EXE_hio"))
            .arg("run")
            .arg(&m)
            .arg("--record")
            .arg(dir.path().join(format!("{name}.wire")))
            .env_remove("HIO_CACHE_DIR")
            .env("XDG_CACHE_HOME", test_cache())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join(format!("{name}.log"))).unwrap())
            .spawn()
            .unwrap()
    };
    let mut c = record("c", &host(&url, "c", "consumer", "count = 60, rate = 2"));
    let mut p = record("p", &host(&url, "p", "producer", "count = 60, burst = 3"));
    assert!(p.wait().unwrap().success());
    assert!(c.wait().unwrap().success());
    assert_eq!(jobs(dir.path(), &["c"]).len(), 60);
    server.stop();
    for name in ["p", "c"] {
        let out = common::hio(&[
            "replay",
            dir.path().join(format!("{name}.wire")).to_str().unwrap(),
        ]);
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{name}: {said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(said.contains("reproduced: every tick"), "{name}: {said}");
    }
}

/// A DoDoer `name` (always) holding one doer of `side` on deck `jobs`.
fn group(name: &str, side: &str, options: &str, crew: bool) -> String {
    group_of(name, side, options, crew, true)
}

/// The same, `always` or not.
fn group_of(name: &str, side: &str, options: &str, crew: bool, always: bool) -> String {
    let grant = if side == "producer" { "push" } else { "pull" };
    format!(
        r#"
[[doers]]
name = "{name}"
always = {always}
crew = {crew}
doers = [ {{ name = "{side}", plugin = {plugin}, options = {{ deck = "jobs", {options} }}, grants = {{ {grant} = ["jobs"] }} }} ]
"#,
        plugin = quoted(&plugin(side)),
    )
}

const PRODUCE: &str = "count = 40, burst = 3";
const CONSUME: &str = "count = 40, rate = 1";

/// The trace's lines without the final `done` record, merged from each
/// host's as one process with a crew per host writes them: every host's
/// entering first, then tick by tick each host's lines in host order, and
/// the closing at the limit (the Doist closes its deeds back to front) in
/// the reverse order.
fn merged(traces: &[String]) -> Vec<String> {
    let tyme = |l: &str| -> String {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        v["tyme"].to_string()
    };
    let (mut enters, mut closing) = (Vec::new(), Vec::new());
    let mut ticks: Vec<(String, Vec<String>)> = Vec::new();
    for t in traces {
        let lines: Vec<&str> = t
            .lines()
            .filter(|l| !l.contains(r#""event":"done""#))
            .collect();
        let first = lines
            .iter()
            .position(|l| !l.contains(r#""event":"enter""#))
            .unwrap_or(lines.len());
        let last = lines
            .iter()
            .rposition(|l| l.contains(r#""event":"recur""#))
            .map_or(first, |i| i + 1);
        enters.extend(lines[..first].iter().map(|l| (*l).to_owned()));
        for l in &lines[first..last] {
            let y = tyme(l);
            match ticks.iter_mut().find(|(t, _)| *t == y) {
                Some((_, v)) => v.push((*l).to_owned()),
                None => ticks.push((y, vec![(*l).to_owned()])),
            }
        }
        closing.push(
            lines[last..]
                .iter()
                .map(|l| (*l).to_owned())
                .collect::<Vec<_>>(),
        );
    }
    closing.reverse();
    enters
        .into_iter()
        .chain(ticks.into_iter().flat_map(|(_, v)| v))
        .chain(closing.into_iter().flatten())
        .collect()
}

#[test]
fn two_lockstep_hosts_give_the_trace_of_the_same_tree_as_crews_in_one_process_and_replay_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = NatsServer::start(&dir.path().join("store")).unwrap();
    let head = |host: &str| {
        format!(
            "tock = 0.01\nlimit = 0.6\n\n[cluster]\nurls = [\"{}\"]\nhost = \"{host}\"\nlockstep = true\nhosts = [\"p\", \"c\"]\n\n[[decks]]\nname = \"jobs\"\ncapacity = 4\nremote = true\n",
            server.url()
        )
    };
    let run = |name: &str, text: String| {
        let m = dir.path().join(format!("{name}.toml"));
        std::fs::write(&m, text).unwrap();
        Command::new(env!("CARGO_BIN_EXE_hio"))
            .arg("run")
            .arg(&m)
            .args(["--trace", "-", "--record"])
            .arg(dir.path().join(format!("{name}.wire")))
            .env_remove("HIO_CACHE_DIR")
            .env("XDG_CACHE_HOME", test_cache())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(dir.path().join(format!("{name}.log"))).unwrap())
            .spawn()
            .unwrap()
    };
    let p = run("p", head("p") + &group("p", "producer", PRODUCE, false));
    let c = run("c", head("c") + &group("c", "consumer", CONSUME, false));
    let traces: Vec<String> = [p, c]
        .into_iter()
        .map(|child| {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success());
            String::from_utf8(out.stdout).unwrap()
        })
        .collect();
    // The same tree in one process, each host a crew.
    let one = format!(
        "tock = 0.01\nlimit = 0.6\n\n[[decks]]\nname = \"jobs\"\ncapacity = 4\n{}{}",
        group("p", "producer", PRODUCE, true),
        group("c", "consumer", CONSUME, true)
    );
    let (_d, m) = common::manifest(&one);
    let out = common::hio(&["run", m.to_str().unwrap(), "--trace", "-"]);
    assert!(out.status.success());
    let crews: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.contains(r#""event":"done""#))
        .map(str::to_owned)
        .collect();
    assert!(
        crews
            .iter()
            .any(|l| l.contains(r#""doer":"c/consumer","event":"recur""#))
    );
    assert_eq!(merged(&traces), crews);
    // Each lockstep host replays alone, its trace the same: its barriers'
    // answers (the other host's items) are in its wire log.
    server.stop();
    for (name, trace) in ["p", "c"].iter().zip(&traces) {
        let wire = dir.path().join(format!("{name}.wire"));
        let out = common::hio(&["replay", wire.to_str().unwrap(), "--trace", "-"]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: {said}");
        assert!(said.contains("reproduced: every tick"), "{name}: {said}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), *trace.as_str());
    }
    // The consumer took all 40 jobs (so cleaned) before the limit.
    assert!(
        traces[1].contains(r#""doer":"c/consumer","event":"clean""#),
        "{}",
        traces[1]
    );
}

#[test]
fn a_lockstep_host_whose_tree_is_done_leaves_and_the_others_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(&dir.path().join("store")).unwrap();
    let head = |host: &str| {
        format!(
            "tock = 0.01\nlimit = 1.0\n\n[cluster]\nurls = [\"{}\"]\nhost = \"{host}\"\nlockstep = true\nhosts = [\"p\", \"c\"]\nbarrier_timeout = 5.0\n\n[[decks]]\nname = \"jobs\"\ncapacity = 4\nremote = true\n",
            server.url()
        )
    };
    // The producer's tree is done once its 40 jobs are pushed; the
    // consumer's goes on taking them after.
    let p = start(
        dir.path(),
        "p",
        &(head("p") + &group_of("p", "producer", PRODUCE, false, false)),
    );
    let c = start(
        dir.path(),
        "c",
        &(head("c") + &group("c", "consumer", CONSUME, false)),
    );
    // A host that waited for one that left would stop with status 1 after
    // its barrier timeout, naming it.
    for mut child in [p, c] {
        assert!(child.wait().unwrap().success());
    }
    let log = std::fs::read_to_string(dir.path().join("c.log")).unwrap();
    assert!(!log.contains("no word from"), "{log}");
    let got = jobs(dir.path(), &["c"]);
    assert_eq!(
        got.keys().copied().collect::<Vec<_>>(),
        (1..=40).collect::<Vec<_>>()
    );
}

#[test]
fn the_server_restarted_mid_run_loses_and_doubles_nothing_and_the_outage_is_logged() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut server = NatsServer::start(&store).unwrap();
    let (url, port) = (server.url(), server.port());
    let mut c = start(
        dir.path(),
        "c",
        &host(&url, "c", "consumer", "count = 200, rate = 1"),
    );
    let mut p = start(
        dir.path(),
        "p",
        &host(&url, "p", "producer", "count = 200, burst = 2"),
    );
    wait_for("60 jobs", Duration::from_secs(60), || {
        jobs(dir.path(), &["c"]).len() >= 60
    });
    server.stop();
    std::thread::sleep(Duration::from_millis(1500));
    let _server = NatsServer::start_on(&store, port).unwrap();
    assert!(p.wait().unwrap().success());
    assert!(c.wait().unwrap().success());
    let got = jobs(dir.path(), &["c"]);
    assert_eq!(
        got.keys().copied().collect::<Vec<_>>(),
        (1..=200).collect::<Vec<_>>()
    );
    let doubled: Vec<_> = got.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "doubled: {doubled:?}");
    let plog = std::fs::read_to_string(dir.path().join("p.log")).unwrap();
    assert!(plog.contains("refused: unreachable: "), "{plog}");
    // The doer itself was told why (decks.refusal).
    assert!(
        plog.lines()
            .any(|l| l.contains("jobs refused job ") && l.contains(": unreachable: ")),
        "{plog}"
    );
    assert!(plog.contains("hio: cluster (p): "), "{plog}");
}

#[test]
fn hosts_reach_a_tls_only_server_through_the_roots_their_manifest_names() {
    let dir = tempfile::tempdir().unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let server = NatsServer::start_tls(&dir.path().join("store"), &cert, &key).unwrap();
    let url = format!("tls://localhost:{}", server.port());
    let with_roots =
        |text: String| text.replace("host = ", &format!("roots = [{}]\nhost = ", quoted(&cert)));
    let mut c = start(
        dir.path(),
        "c",
        &with_roots(host(&url, "c", "consumer", "count = 30, rate = 2")),
    );
    let mut p = start(
        dir.path(),
        "p",
        &with_roots(host(&url, "p", "producer", "count = 30, burst = 2")),
    );
    assert!(p.wait().unwrap().success());
    assert!(c.wait().unwrap().success());
    assert_eq!(jobs(dir.path(), &["c"]).len(), 30);
    // Without the roots the host does not trust the server: the run is
    // refused when it is built, naming the section.
    let untrusting = host(&url, "x", "producer", "count = 1, burst = 1")
        .replace("host = ", "connect_timeout = 2.0\nhost = ");
    let (_d, m) = common::manifest(&untrusting);
    let out = common::hio(&["run", m.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[cluster]"));
}

#[test]
fn a_credentials_file_that_is_not_one_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(&dir.path().join("store")).unwrap();
    let creds = dir.path().join("host.creds");
    std::fs::write(&creds, "not a credentials file\n").unwrap();
    let text = host(&server.url(), "p", "producer", "count = 1, burst = 1").replace(
        "host = ",
        &format!("creds = {}\nconnect_timeout = 2.0\nhost = ", quoted(&creds)),
    );
    let (_d, m) = common::manifest(&text);
    let out = common::hio(&["run", m.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(
        err.contains("[cluster]") && err.contains("host.creds"),
        "{err}"
    );
}

/// The manifest of lockstep host "c" of hosts ["p", "c"], one consumer
/// doer on remote deck `jobs` (capacity 4, and `deck` keys added).
fn lockstep_consumer(url: &str, limit: f64, deck: &str) -> String {
    format!(
        "tock = 0.01\nlimit = {limit}\n\n[cluster]\nurls = [\"{url}\"]\nhost = \"c\"\nlockstep = true\nhosts = [\"p\", \"c\"]\nbarrier_timeout = 5.0\n\n[[decks]]\nname = \"jobs\"\ncapacity = 4\n{deck}remote = true\n{}",
        group("c", "consumer", CONSUME, false)
    )
}

/// A fake lockstep host "p" of hosts ["p", "c"] (run "hio"): this test
/// speaks for it.
fn fake_p(url: &str) -> hio_cluster::Cluster {
    let mut cfg = hio_cluster::ClusterConfig::new(vec![url.to_owned()], "p");
    cfg.lockstep = Some(hio_cluster::Lockstep {
        run: "hio".into(),
        hosts: vec!["p".into(), "c".into()],
        timeout: Duration::from_secs(10),
    });
    hio_cluster::Cluster::connect(cfg).unwrap()
}

#[test]
fn a_malformed_barrier_message_stops_the_lockstep_host_with_the_sender_named() {
    // A fake host "p" (a Cluster of this test) speaks to the real host "c".
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(&dir.path().join("store")).unwrap();
    let manifest = lockstep_consumer(&server.url(), 1.0, "");
    let fake = |first: &[u8], then: Option<&[u8]>| {
        let p = fake_p(&server.url());
        let (first, then) = (first.to_vec(), then.map(<[u8]>::to_vec));
        std::thread::spawn(move || {
            let _ = p.barrier(0, first);
            if let Some(then) = then {
                let _ = p.barrier(1, then);
            }
            std::thread::sleep(Duration::from_secs(1));
        })
    };
    // Garbage for the first message: the run is refused when it is built.
    let p = fake(&[0xff; 3], None);
    let out = common::hio(&["run", common::manifest(&manifest).1.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(c) if c != 0 && c != 101),
        "{err}"
    );
    assert!(err.contains("p's first message"), "{err}");
    p.join().unwrap();
    // A good first message (it pushes to and pulls from nothing), then
    // garbage: the host stops cleanly, naming the sender.
    let p = fake(&[0, 0], Some(&[0xff]));
    let out = common::hio(&["run", common::manifest(&manifest).1.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("hio: p: a malformed barrier message") && err.contains("this host stops"),
        "{err}"
    );
    p.join().unwrap();
}

#[test]
fn items_over_a_decks_bounds_from_another_lockstep_host_are_refused_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(&dir.path().join("store")).unwrap();
    let manifest = lockstep_consumer(&server.url(), 0.5, "max_item = 8\n");
    let url = server.url();
    let p = std::thread::spawn(move || {
        let p = fake_p(&url);
        // First message: p pushes to "jobs" and pulls nothing.
        let mut hello = vec![1, 4];
        hello.extend_from_slice(b"jobs");
        hello.push(0);
        p.barrier(0, hello).unwrap();
        // Tick 1: one item of 9 bytes (over max_item) and six of 1 (past
        // the capacity of 4), then p leaves.
        let mut msg = vec![7, 9];
        msg.extend_from_slice(b"123456789");
        for _ in 0..6 {
            msg.extend_from_slice(&[1, b'x']);
        }
        msg.push(0);
        p.barrier(1, msg).unwrap();
        p.leave(2);
        std::thread::sleep(Duration::from_millis(500));
    });
    let out = common::hio(&["run", common::manifest(&manifest).1.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    p.join().unwrap();
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("hio: lockstep: 3 items from p on deck \"jobs\" broke its bounds"),
        "{err}"
    );
    // The four within bounds were taken.
    assert_eq!(err.matches("got x").count(), 4, "{err}");
}
