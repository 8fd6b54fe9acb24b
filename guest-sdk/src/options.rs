//! A doer's options, with typed getters whose errors name the option, and
//! a builder for the options a doer gives the children it spawns.

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

impl From<Options> for Vec<(String, Value)> {
    fn from(o: Options) -> Self {
        o.0
    }
}

impl Options {
    /// No options; add some with [`Options::set`]:
    ///
    /// ```no_run
    /// use hio_guest::{Options, Value};
    ///
    /// let options = Options::new()
    ///     .set("deck", "jobs")
    ///     .set("count", 12)
    ///     .set("tags", Value::from(vec!["a".into(), "b".into()]));
    /// ```
    pub fn new() -> Self {
        Options(Vec::new())
    }

    /// Sets `name` to `value`: in place when `name` is given already, else
    /// appended (the order is the order of first setting).
    #[must_use]
    pub fn set(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        let name = name.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some((_, v)) => *v = value,
            None => self.0.push((name, value)),
        }
        self
    }

    /// The options as the WIT interfaces take them.
    pub(crate) fn as_wit(&self) -> &[(String, Value)] {
        &self.0
    }

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

    /// A list of strings option (`["a", "b"]`; `[]` is an empty list).
    pub fn texts(&self, name: &str) -> Result<Option<Vec<&str>>, String> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::List(items)) => items
                .iter()
                .map(|item| match item {
                    Scalar::Text(s) => Ok(s.as_str()),
                    other => Err(format!(
                        "option `{name}` must be a list of strings, but holds {}",
                        kind(&Value::Scalar(other.clone()))
                    )),
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(v) => Err(format!(
                "option `{name}` must be a list of strings, not {}",
                kind(v)
            )),
        }
    }
}

/// `From` for [`Scalar`] and [`Value`] from each Rust type a scalar holds.
macro_rules! scalar_from {
    ($($t:ty, $v:ident => $make:expr;)*) => {$(
        impl From<$t> for Scalar {
            fn from($v: $t) -> Self {
                $make
            }
        }
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Scalar(Scalar::from(v))
            }
        }
    )*};
}

scalar_from! {
    bool, b => Scalar::Boolean(b);
    i64, i => Scalar::Integer(i);
    i32, i => Scalar::Integer(i.into());
    f64, f => Scalar::Float(f);
    &str, s => Scalar::Text(s.to_owned());
    String, s => Scalar::Text(s);
}

impl From<Scalar> for Value {
    fn from(s: Scalar) -> Self {
        Value::Scalar(s)
    }
}

impl From<Vec<Scalar>> for Value {
    fn from(items: Vec<Scalar>) -> Self {
        Value::List(items)
    }
}
