//! `hio run --option PATH.KEY=VALUE`, and the warning a network run in
//! simulated time gets.

use crate::common::{hio, manifest, plugin, quoted, stderr, stdout};

/// The tyme of `doer`'s `clean` record in `trace`.
fn clean_at(trace: &str, doer: &str) -> Option<f64> {
    trace
        .lines()
        .find(|l| l.contains(&format!("\"doer\":\"{doer}\",\"event\":\"clean\"")))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            v["tyme"].as_f64().expect("tyme")
        })
}

#[test]
fn help_explains_option() {
    let out = hio(&["run", "--help"]);
    assert!(out.status.success());
    let help = stdout(&out);
    for want in [
        "--option <PATH.KEY=VALUE>",
        "last \".\" before the \"=\"",
        "hio run plugins/dist/recorder.wasm --option recorder.stop=10 --trace -",
    ] {
        assert!(help.contains(want), "{want}: {help}");
    }
}

#[test]
fn option_overrides_change_what_the_doers_do() {
    let rec = quoted(&plugin("recorder"));
    // A DoDoer's child with a dot in its name, and an option to replace.
    let (_dir, path) = manifest(&format!(
        "[[doers]]\nname = \"g\"\ndoers = [ {{ name = \"w.1\", plugin = {rec}, options = {{ stop = 5, tock = 0.0 }} }} ]\n[[doers]]\nname = \"top\"\nplugin = {rec}\n"
    ));
    let p = path.to_str().expect("utf-8");
    let plain = hio(&["run", p, "--trace", "-"]);
    assert!(plain.status.success(), "{}", stderr(&plain));
    // Stop 5: done at the 6th recur; stop 3 (the default): the 4th.
    assert_eq!(clean_at(&stdout(&plain), "g/w.1"), Some(5.0 * 0.03125));
    assert_eq!(clean_at(&stdout(&plain), "top"), Some(3.0 * 0.03125));
    let out = hio(&[
        "run",
        p,
        "--trace",
        "-",
        "--option",
        "g/w.1.stop=1",
        "--option=top.stop=0",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(clean_at(&stdout(&out), "g/w.1"), Some(0.03125));
    assert_eq!(clean_at(&stdout(&out), "top"), Some(0.0));
    // A bare component's doer is named by its file's stem.
    let rec = plugin("recorder");
    let out = hio(&[
        "run",
        rec.to_str().expect("utf-8"),
        "--option",
        "recorder.stop=7",
        "--trace",
        "-",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(clean_at(&stdout(&out), "recorder"), Some(7.0 * 0.03125));
}

#[test]
fn a_bad_option_flag_exits_2_naming_it() {
    let rec = quoted(&plugin("recorder"));
    let (_dir, path) = manifest(&format!(
        "[[doers]]\nname = \"g\"\ndoers = [ {{ name = \"a\", plugin = {rec} }} ]\n"
    ));
    let p = path.to_str().expect("utf-8");
    for (flag, want) in [
        (
            "nope.stop=1",
            "--option nope.stop=1: no doer named \"nope\" at the top level",
        ),
        (
            "g/b.stop=1",
            "--option g/b.stop=1: no doer named \"b\" in g",
        ),
        (
            "g.stop=1",
            "--option g.stop=1: g is a DoDoer, not a plugin doer",
        ),
        ("g/a.stop", "--option g/a.stop: missing `=`"),
        ("stop=1", "--option stop=1: missing `.`"),
        (
            "g/a.stop={ x = 1 }",
            "--option g/a.stop={ x = 1 }: an option is a boolean, integer, float, string or a list of those, not table",
        ),
        // Refused by the recorder's validate, like a manifest's option.
        ("g/a.stop=-1", "doers[0].doers[0].options: rejected by"),
        ("g/a.stop=-1", "option `stop` must be >= 0, got -1"),
        ("g/a.stop=\"x\"", "rejected by"),
        ("g/a.color=1", "rejected by"),
    ] {
        let out = hio(&["run", p, "--option", flag]);
        assert_eq!(out.status.code(), Some(2), "{flag}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(want), "{flag}: want {want:?} in {err}");
        assert!(out.stdout.is_empty(), "nothing runs: {}", stdout(&out));
    }
}

#[test]
fn a_network_run_in_simulated_time_is_warned_about() {
    let rec = quoted(&plugin("recorder"));
    let text = format!(
        "limit = 0.0625\n[[doers]]\nname = \"a\"\nplugin = {rec}\ngrants = {{ listen = [\"127.0.0.1:*\"] }}\n"
    );
    let (_dir, path) = manifest(&text);
    let p = path.to_str().expect("utf-8");
    let warning = "hio: warning: this run uses real sockets in simulated time";
    let out = hio(&["run", p]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(warning), "{err}");
    assert!(err.contains("set real = true"), "{err}");
    // Real time, or no network: no warning.
    let out = hio(&["run", p, "--real"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    let (_dir, quiet) = manifest(&text.replace("listen = [\"127.0.0.1:*\"]", "push = []"));
    let out = hio(&["run", quiet.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}
