//! How a run ends other than by its limit: SIGINT and SIGTERM (130), and a
//! stdout or stderr closed under it (141); never a panic.

use crate::common::{manifest, plugin, quoted};

/// Starts hio with `args` (stderr discarded) and gives it 700 ms to start.
pub(crate) fn spawn_hio(args: &[&str]) -> std::process::Child {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn hio");
    std::thread::sleep(std::time::Duration::from_millis(700));
    child
}

/// Sends SIGINT to `child`.
fn interrupt(child: &std::process::Child) {
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
}

/// Runs hio with `args`, reads the first line of its stdout or stderr, then
/// closes that pipe as `| head -1` does; returns the exit status and what
/// it wrote to the other output.
fn close_after_one_line(args: &[&str], close_stderr: bool) -> (Option<i32>, String) {
    use std::io::{BufRead, Read};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(args)
        .env("XDG_CACHE_HOME", crate::common::test_cache())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hio");
    let (mut closing, mut other): (Box<dyn Read + Send>, Box<dyn Read + Send>) = if close_stderr {
        (
            Box::new(child.stderr.take().expect("stderr")),
            Box::new(child.stdout.take().expect("stdout")),
        )
    } else {
        (
            Box::new(child.stdout.take().expect("stdout")),
            Box::new(child.stderr.take().expect("stderr")),
        )
    };
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = other.read_to_string(&mut text);
        text
    });
    let mut first = String::new();
    std::io::BufReader::new(&mut closing)
        .read_line(&mut first)
        .expect("first line");
    assert!(!first.is_empty());
    drop(closing);
    let status = child.wait().expect("wait");
    (status.code(), reader.join().expect("reader"))
}

#[test]
fn a_closed_stdout_ends_the_run_with_141_not_a_panic() {
    let rec = quoted(&plugin("recorder"));
    let (_dir, path) = manifest(&format!(
        "[[doers]]\nname = \"a\"\nplugin = {rec}\noptions = {{ stop = 100000000 }}\n"
    ));
    let (code, err) = close_after_one_line(
        &["run", path.to_str().expect("utf-8"), "--trace", "-"],
        false,
    );
    assert_eq!(code, Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_closed_stderr_ends_the_run_with_141_not_a_panic() {
    let bad = quoted(&plugin("hostile"));
    let (dir, path) = manifest(&format!(
        "[[doers]]\nname = \"h\"\nplugin = {bad}\noptions = {{ mode = \"log-spam\", hook = \"recur\" }}\n"
    ));
    let trace = dir.path().join("t.jsonl");
    let args = [
        "run",
        path.to_str().expect("utf-8"),
        "--trace",
        trace.to_str().expect("utf-8"),
    ];
    let (code, out) = close_after_one_line(&args, true);
    assert_eq!(code, Some(141), "{out}");
    // The tree was closed and the trace flushed, as at the end of a run.
    let text = std::fs::read_to_string(&trace).expect("trace");
    let last = text.lines().last().expect("a trace");
    assert!(last.contains("\"event\":\"done\""), "{last}");
    assert!(text.contains("\"doer\":\"h\",\"event\":\"exit\""), "{text}");
}

#[test]
fn sigint_closes_the_tree_flushes_the_trace_and_exits_130() {
    let rec = quoted(&plugin("recorder"));
    let (dir, path) = manifest(&format!(
        "real = true\ntock = 0.01\n[[doers]]\nname = \"a\"\nplugin = {rec}\noptions = {{ stop = 1000000 }}\n"
    ));
    let trace = dir.path().join("t.jsonl");
    let mut child = spawn_hio(&[
        "run",
        path.to_str().expect("utf-8"),
        "--trace",
        trace.to_str().expect("utf-8"),
    ]);
    interrupt(&child);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130));
    let text = std::fs::read_to_string(&trace).expect("trace");
    let lines: Vec<&str> = text.lines().collect();
    let n = lines.len();
    assert!(n >= 4, "{text}");
    assert!(lines[n - 3].contains("\"event\":\"cease\""), "{text}");
    assert!(lines[n - 2].contains("\"event\":\"exit\""));
    assert!(lines[n - 1].contains("\"event\":\"done\",\"done\":false"));
}

#[test]
fn a_second_sigint_exits_even_while_a_guest_spins() {
    let bad = quoted(&plugin("hostile"));
    // Simulated time: no watchdog, and fuel for hours.
    let (_dir, path) = manifest(&format!(
        "[[doers]]\nname = \"h\"\nplugin = {bad}\noptions = {{ mode = \"loop\" }}\n\
         limits = {{ fuel = 1000000000000000 }}\n"
    ));
    let mut child = spawn_hio(&["run", path.to_str().expect("utf-8")]);
    for _ in 0..2 {
        interrupt(&child);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let mut status = None;
    for _ in 0..100 {
        status = child.try_wait().expect("wait");
        if status.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if status.is_none() {
        let _ = child.kill();
    }
    assert_eq!(status.and_then(|s| s.code()), Some(130));
}
