//! Fuzzing with proptest: the manifest parser on arbitrary and mutated
//! text, and the guest boundary on arbitrary scripts of host calls (the
//! `script` plugin plays them). Each target runs a bounded number of cases
//! (`PROPTEST_CASES`, default 48); the README says how to run them for
//! hours. A case proptest finds is kept in `proptest-regressions/` and
//! replayed first from then on.

use std::path::Path;

use hio::Grants;
use hio::manifest::Manifest;
use proptest::prelude::*;

use crate::util::{Outcome, between_recorders, of, text};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

const EXAMPLE: &str = include_str!("../../examples/pipeline.toml");

/// Pieces of TOML a mutation may insert.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "=",
    "\"",
    "'",
    ",",
    ".",
    "\n",
    "#",
    "[[doers]]",
    "[[decks]]",
    "[engine]",
    "doers = []",
    "name = \"x\"",
    "tock = ",
    "-1",
    "1e309",
    "nan",
    "inf",
    "0x10",
    "\"64KiB\"",
    "\"99999999999GiB\"",
    "limits = {",
    "grants = { push = [",
    "grants = { listen = [",
    "grants = { connect = [\"*:*\"], tls = { cert = ",
    "\"127.0.0.1:*\"",
    "limits = { connections = 0, max_backoff = ",
    "supervision = { policy = ",
    "\u{1b}[2J",
    "\u{0}",
    "é",
    "options = { a = [1, \"b\"] }",
];

fn parse_checked(text: &str) {
    let file = Path::new("/fuzz/m.toml");
    if let Err(e) = Manifest::parse(text, file) {
        let shown = e.to_string();
        assert!(shown.starts_with("/fuzz/m.toml"), "{shown}");
        assert!(!e.message.is_empty(), "{shown}");
    }
}

/// Runs the script doer `h` (if any) between two recorders, granted `jobs`.
fn run(script: Option<&[u8]>) -> Outcome {
    let grants = Grants {
        push: ["jobs".to_owned()].into(),
        pull: ["jobs".to_owned()].into(),
    };
    between_recorders(
        64 << 10,
        script.map(|script| {
            let hex: String = script.iter().map(|b| format!("{b:02x}")).collect();
            ("script", vec![text("script", &hex)], grants)
        }),
    )
}

/// The siblings' records in a run without the script doer.
fn alone() -> &'static [Vec<String>; 2] {
    static ALONE: std::sync::OnceLock<[Vec<String>; 2]> = std::sync::OnceLock::new();
    ALONE.get_or_init(|| {
        let o = run(None);
        [of(&o.trace, "before"), of(&o.trace, "after")]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn the_manifest_parser_takes_any_text(text in "\\PC{0,400}") {
        parse_checked(&text);
    }

    #[test]
    fn the_manifest_parser_takes_any_mutation_of_a_manifest(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0..3u8, 0..TOKENS.len()), 1..8)
    ) {
        let mut text = EXAMPLE.to_owned();
        for (at, kind, token) in edits {
            let mut i = at.index(text.len() + 1);
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            match kind {
                0 => text.insert_str(i, TOKENS[token]),
                1 => {
                    let mut end = (i + 1 + token).min(text.len());
                    while !text.is_char_boundary(end) {
                        end += 1;
                    }
                    text.replace_range(i..end, "");
                }
                _ => text.replace_range(i..i, "\n"),
            }
        }
        parse_checked(&text);
    }

    #[test]
    fn any_script_of_host_calls_is_contained(script in proptest::collection::vec(any::<u8>(), 0..48)) {
        let o = run(Some(&script));
        for (doer, alone) in ["before", "after"].into_iter().zip(alone()) {
            prop_assert_eq!(&of(&o.trace, doer), alone);
        }
        for line in &o.logs {
            prop_assert!(line.len() < 20_000, "a log line of {} bytes", line.len());
            for (i, part) in line.split('\n').enumerate() {
                prop_assert!(i == 0 || part.starts_with("    "), "{:?}", line);
                prop_assert!(!part.chars().any(char::is_control), "{:?}", line);
            }
        }
        for r in &o.trace {
            let json = r.to_json();
            prop_assert!(json.len() < 2_000, "{}", json);
            prop_assert!(!json.contains('\n'));
        }
    }
}
