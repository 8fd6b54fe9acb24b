//! `hio replay` of a log it has no reason to trust (one edited, or made
//! up): a plugin is read only if it is a regular file within the cap, every
//! plugin the manifest loads must be listed in the header with its sha256,
//! the header's settings keep to the manifest's rules, and one SIGINT stops
//! a replay whose hook spins.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use hio::io::wire::{Header, Log, Record, Writer};

use crate::common::{hio, plugin, quoted, stderr, test_cache};

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

/// Records a short simulated run of `text` (a manifest written beside the
/// log) to `<dir>/run.wire`.
fn recorded(dir: &Path, text: &str) -> PathBuf {
    let m = dir.join("m.toml");
    std::fs::write(&m, text).expect("write");
    let wire = dir.join("run.wire");
    let out = hio(&["run", path_str(&m), "--record", path_str(&wire)]);
    assert!(out.status.success(), "{}", stderr(&out));
    wire
}

/// A recording of the recorder plugin, a few ticks in simulated time.
fn recorded_recorder(dir: &Path) -> PathBuf {
    recorded(
        dir,
        &format!(
            "tock = 0.01\n[[doers]]\nname = \"r\"\nplugin = {}\noptions = {{ stop = 3 }}\n",
            quoted(&plugin("recorder"))
        ),
    )
}

/// `wire` again as `<name>` beside it, with its header changed by `edit`
/// (every record framed and checksummed anew, as a forger would).
fn edited(wire: &Path, name: &str, edit: impl FnOnce(&mut Header)) -> PathBuf {
    let mut log = Log::parse(&std::fs::read(wire).expect("log"), false).expect("parse");
    edit(&mut log.header);
    let to = wire.with_file_name(name);
    let file = std::fs::File::create(&to).expect("create");
    let mut w = Writer::new(std::io::BufWriter::new(file)).expect("writer");
    w.write(&Record::Header(log.header)).expect("header");
    for (_, r) in &log.records {
        w.write(r).expect("record");
    }
    w.flush().expect("flush");
    to
}

/// Waits for `child` at most `limit`; kills it if it is still running.
fn wait_at_most(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().expect("wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// `hio replay` with `args`, given at most a minute (a replay that blocks
/// is killed and fails the test); its exit code and stderr.
fn replay(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hio"))
        .arg("replay")
        .args(args)
        .env_remove("HIO_CACHE_DIR")
        .env("XDG_CACHE_HOME", test_cache())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hio");
    let mut err = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut text);
        text
    });
    let status = wait_at_most(&mut child, Duration::from_secs(60));
    let text = reader.join().expect("reader");
    let status = status.unwrap_or_else(|| panic!("hio replay {args:?} did not return: {text}"));
    (status.code(), text)
}

#[test]
fn a_plugin_path_that_is_a_fifo_is_refused_without_waiting_on_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wire = recorded_recorder(dir.path());
    let fifo = dir.path().join("plugin.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let bad = edited(&wire, "fifo.wire", |h| {
        h.plugins[0].path = path_str(&fifo).to_owned();
    });
    for force in [false, true] {
        let mut args = vec![path_str(&bad)];
        if force {
            args.push("--force");
        }
        let (code, err) = replay(&args);
        assert_eq!(code, Some(3), "{err}");
        assert!(
            err.contains(&format!(
                "plugin {} refused: not a regular file (a FIFO)",
                fifo.display()
            )),
            "{err}"
        );
        assert!(err.contains("not replayed"), "{err}");
    }
}

#[test]
fn a_plugin_over_the_size_cap_or_a_device_is_refused_unread() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wire = recorded_recorder(dir.path());
    // Sparse: a byte over 256 MiB, and no disk for it.
    let big = dir.path().join("big.wasm");
    std::fs::File::create(&big)
        .and_then(|f| f.set_len((256 << 20) + 1))
        .expect("sparse file");
    let bad = edited(&wire, "big.wire", |h| {
        h.plugins[0].path = path_str(&big).to_owned();
    });
    let (code, err) = replay(&[path_str(&bad), "--force"]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "plugin {} refused: larger than the 256 MiB a plugin may be",
            big.display()
        )),
        "{err}"
    );
    // A device that never ends.
    let bad = edited(&wire, "zero.wire", |h| {
        h.plugins[0].path = "/dev/zero".to_owned();
    });
    let (code, err) = replay(&[path_str(&bad)]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("plugin /dev/zero refused: not a regular file (a device)"),
        "{err}"
    );
}

#[test]
fn a_plugin_the_manifest_loads_must_be_listed_in_the_header() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wire = recorded_recorder(dir.path());
    let hostile = plugin("hostile");
    // The issue's log: no plugin listed, and a manifest that names another.
    let forged = edited(&wire, "forged.wire", |h| {
        h.plugins.clear();
        h.manifest = format!(
            "tock = 0.01\n[[doers]]\nname = \"r\"\nplugin = {}\noptions = {{ mode = \"trap\" }}\n",
            quoted(&hostile)
        );
    });
    for force in [false, true] {
        let mut args = vec![path_str(&forged)];
        if force {
            args.push("--force");
        }
        let (code, err) = replay(&args);
        assert_eq!(code, Some(3), "{err}");
        assert!(
            err.contains(&format!(
                "plugin {} is loaded by the recorded manifest but not listed in the log's header",
                hostile.display()
            )),
            "{err}"
        );
        assert!(!err.contains("trap"), "it ran: {err}");
    }
    // The header lists the recorder, vouched for; the manifest now loads
    // the hostile plugin instead, which it does not list.
    let swapped = edited(&wire, "swapped.wire", |h| {
        let before = format!(
            "plugin = {}\noptions = {{ stop = 3 }}",
            quoted(&plugin("recorder"))
        );
        assert!(h.manifest.contains(&before), "{}", h.manifest);
        h.manifest = h.manifest.replace(
            &before,
            &format!(
                "plugin = {}\noptions = {{ mode = \"trap\" }}",
                quoted(&hostile)
            ),
        );
    });
    let (code, err) = replay(&[path_str(&swapped)]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!("plugin {} is loaded", hostile.display())),
        "{err}"
    );
    // A plugin listed that the manifest does not load.
    let extra = edited(&wire, "extra.wire", |h| {
        let mut more = h.plugins[0].clone();
        more.path = path_str(&hostile).to_owned();
        more.sha256 = hio::recording::sha256_plugin(&hostile, hio::recording::MAX_PLUGIN_BYTES)
            .expect("digest");
        h.plugins.push(more);
    });
    let (code, err) = replay(&[path_str(&extra)]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "lists plugin {}, which the recorded manifest does not load",
            hostile.display()
        )),
        "{err}"
    );
    // The log as recorded still replays.
    let (code, err) = replay(&[path_str(&wire)]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_header_setting_out_of_the_manifest_range_is_refused_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wire = recorded_recorder(dir.path());
    for (n, (from, to, why)) in [
        ("tock = 0.01", "tock = -1.0", "tock: must be > 0, got -1"),
        ("tock = 0.01", "tock = nan", "tock: must be a finite number"),
        (
            "tock = 0.01",
            "tock = 0.01\nlimit = 0.0",
            "limit: must be > 0, got 0",
        ),
        (
            "wake = \"grid\"",
            "wake = \"io\"",
            "wake: \"io\" needs real = true",
        ),
        (
            "wake = \"grid\"",
            "wake = \"often\"",
            "wake: expected \"grid\" or \"io\"",
        ),
        (
            "real = false",
            "real = \"yes\"",
            "real: expected true or false",
        ),
        (
            "real = false",
            "real = false\nfuel = 4e18",
            "fuel: unknown key",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let bad = edited(&wire, &format!("settings{n}.wire"), |h| {
            assert!(h.settings.contains(from), "{}", h.settings);
            h.settings = h.settings.replace(from, to);
        });
        let (code, err) = replay(&[path_str(&bad)]);
        assert_eq!(code, Some(2), "{to}: {err}");
        assert!(
            err.contains(&format!("the header's settings: {why}")),
            "{to}: {err}"
        );
    }
}

#[test]
fn one_sigint_stops_a_replay_whose_hook_spins() {
    let hostile = quoted(&plugin("hostile"));
    // Recorded, the second doer logs a refusal each recur; replayed from
    // an edited manifest (same plugin, same digest) it spins, with fuel for
    // years and no watchdog. The first doer's refusal at enter says the
    // replay is running.
    let dir = tempfile::tempdir().expect("temp dir");
    let wire = recorded(
        dir.path(),
        &format!(
            r#"
tock = 0.01
limit = 0.05
limits = {{ fuel = 4_000_000_000_000_000_000 }}
[[doers]]
name = "talker"
plugin = {hostile}
options = {{ mode = "forged-deck", hook = "enter" }}
[[doers]]
name = "spin"
plugin = {hostile}
options = {{ mode = "forged-deck", hook = "recur" }}
"#
        ),
    );
    let spinning = edited(&wire, "spin.wire", |h| {
        let before = "{ mode = \"forged-deck\", hook = \"recur\" }";
        assert!(h.manifest.contains(before), "{}", h.manifest);
        h.manifest = h
            .manifest
            .replace(before, "{ mode = \"loop\", hook = \"recur\" }");
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(["replay", path_str(&spinning)])
        .env_remove("HIO_CACHE_DIR")
        .env("XDG_CACHE_HOME", test_cache())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hio");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = String::new();
    loop {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("hio ended before its doers entered: {seen}"))
            .expect("stderr");
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("forged deck refused") {
            break;
        }
    }
    let rest = std::thread::spawn(move || {
        let mut text = String::new();
        for line in lines.map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });
    // Into the spin (the talker entered; the spinner's first recur follows).
    std::thread::sleep(Duration::from_millis(200));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    let status = wait_at_most(&mut child, Duration::from_secs(60));
    let err = rest.join().expect("stderr");
    let status = status.unwrap_or_else(|| panic!("one SIGINT did not stop the replay: {err}"));
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(err.contains("hio: replay interrupted"), "{err}");
}
