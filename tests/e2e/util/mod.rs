//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;

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
