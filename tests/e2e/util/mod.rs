//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;

use hio::Grants;
use hio::harness::{DoerArgs, Harness};
use hio::plugin::Value;
use hio::trace::OwnedLine;
/// A built plugin (the test command runs plugins/build.sh first).
pub fn plugin(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/dist")
        .join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} missing: run plugins/build.sh",
        path.display()
    );
    path
}

/// An integer option.
pub fn int(name: &str, v: i64) -> (String, hio::plugin::Value) {
    use hio::plugin::{Scalar, Value};
    (name.to_owned(), Value::Scalar(Scalar::Integer(v)))
}

/// A string option.
pub fn text(name: &str, v: &str) -> (String, hio::plugin::Value) {
    use hio::plugin::{Scalar, Value};
    (name.to_owned(), Value::Scalar(Scalar::Text(v.to_owned())))
}

/// What a run of [`between_recorders`] left.
pub struct Outcome {
    pub trace: Vec<OwnedLine>,
    pub logs: Vec<String>,
    pub harness: Harness,
}

/// Doer `h`: its plugin's name, options and grants.
pub type Guest<'a> = (&'a str, Vec<(String, Value)>, Grants);

/// Runs recorders `before` (stop 100) and `after` (stop 2) around an
/// optional doer `h`, tock 0.25 to tyme 1.0, with deck `jobs` (4 items of
/// at most `max_item` bytes).
pub fn between_recorders(max_item: usize, guest: Option<Guest<'_>>) -> Outcome {
    let mut h = Harness::new(0.25);
    h.deck("jobs", 4, max_item);
    h.doist().set_limit(Some(1.0));
    let recorder = h.load(plugin("recorder")).unwrap();
    h.add(DoerArgs::new("before", &recorder).options(vec![int("stop", 100)]))
        .unwrap();
    if let Some((name, options, grants)) = guest {
        let guest = h.load(plugin(name)).unwrap();
        let spec = h
            .spec(DoerArgs::new("h", &guest).options(options).grants(grants))
            .unwrap();
        h.add_spec(spec).unwrap();
    }
    h.add(DoerArgs::new("after", &recorder).options(vec![int("stop", 2)]))
        .unwrap();
    h.run().unwrap();
    Outcome {
        trace: h.trace(),
        logs: h.logs(),
        harness: h,
    }
}

/// The records of `doer`, as JSON lines.
pub fn of(trace: &[OwnedLine], doer: &str) -> Vec<String> {
    trace
        .iter()
        .filter(|r| r.doer == doer)
        .map(OwnedLine::to_json)
        .collect()
}
