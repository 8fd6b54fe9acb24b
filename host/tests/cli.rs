//! The `hio` binary, run as a user runs it.

use std::process::Command;

fn hio(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(args)
        .output()
        .expect("run hio")
}

#[test]
fn demo_prints_the_nested_trace_on_stdout() {
    let out = hio(&["demo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let golden = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/golden/t3.jsonl"
    ))
    .expect("golden T3 trace");
    assert_eq!(String::from_utf8_lossy(&out.stdout), golden);
    assert!(out.stderr.is_empty());
}

#[test]
fn demo_refuses_a_bad_limit_with_status_2() {
    for bad in ["nan", "-1", "0", "inf"] {
        let out = hio(&["demo", "--limit", bad]);
        assert_eq!(out.status.code(), Some(2), "--limit {bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--limit"));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn help_explains_the_demo_with_an_example() {
    let out = hio(&["demo", "--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Example: hio demo --limit 0.25"), "{text}");
}
