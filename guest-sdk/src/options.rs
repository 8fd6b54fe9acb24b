//! A doer's options, with typed getters whose errors name the option.

pub use crate::bindings::hio::doer::types::{Scalar, Value};

/// The options table the manifest gives a doer, in its key order.
#[derive(Debug, Clone, Default)]
pub struct Options(Vec<(String, Value)>);

impl From<Vec<(String, Value)>> for Options {
    fn from(v: Vec<(String, Value)>) -> Self {
        Options(v)
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Scalar(Scalar::Boolean(_)) => "a boolean",
        Value::Scalar(Scalar::Integer(_)) => "an integer",
        Value::Scalar(Scalar::Float(_)) => "a float",
        Value::Scalar(Scalar::Text(_)) => "a string",
        Value::List(_) => "a list",
    }
}

impl Options {
    /// Every option, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The raw value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Whether `name` is given.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Fails naming the first option not in `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), String> {
        match self.0.iter().find(|(k, _)| !allowed.contains(&k.as_str())) {
            Some((k, _)) if allowed.is_empty() => {
                Err(format!("unknown option `{k}`: this doer takes no options"))
            }
            Some((k, _)) => Err(format!(
                "unknown option `{k}`: expected one of {}",
                allowed.join(", ")
            )),
            None => Ok(()),
        }
    }

    /// An integer option.
    pub fn integer(&self, name: &str) -> Result<Option<i64>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Scalar(Scalar::Integer(i))) => Ok(Some(*i)),
            Some(v) => Err(format!(
                "option `{name}` must be an integer, not {}",
                kind(v)
            )),
        }
    }

    /// A float option; an integer is accepted.
    pub fn float(&self, name: &str) -> Result<Option<f64>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Scalar(Scalar::Float(f))) => Ok(Some(*f)),
            Some(Value::Scalar(Scalar::Integer(i))) => Ok(Some(*i as f64)),
            Some(v) => Err(format!("option `{name}` must be a number, not {}", kind(v))),
        }
    }

    /// A boolean option.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Scalar(Scalar::Boolean(b))) => Ok(Some(*b)),
            Some(v) => Err(format!(
                "option `{name}` must be a boolean, not {}",
                kind(v)
            )),
        }
    }

    /// A string option.
    pub fn text(&self, name: &str) -> Result<Option<&str>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Scalar(Scalar::Text(s))) => Ok(Some(s)),
            Some(v) => Err(format!("option `{name}` must be a string, not {}", kind(v))),
        }
    }
}
