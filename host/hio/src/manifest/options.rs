//! A doer's options (`[doers.options]`): the values its plugin's `validate`
//! and `enter` receive, each a scalar (boolean, integer, float, string) or
//! a list of scalars, in the manifest's order. The same rules hold for an
//! option set with `--option` ([`Manifest::set_option`](super::Manifest::set_option)).

use toml::{Table, Value as Toml};

use super::reader::{Ctx, KeyPath, Res};
use hio_wasm::{Scalar, Value};

/// Why an option's value was refused: the list index at fault, if any.
type OptionError = (Option<usize>, String);

fn scalar(v: &Toml) -> Result<Scalar, String> {
    match v {
        Toml::Boolean(b) => Ok(Scalar::Boolean(*b)),
        Toml::Integer(i) => Ok(Scalar::Integer(*i)),
        Toml::Float(f) if f.is_finite() => Ok(Scalar::Float(*f)),
        Toml::Float(_) => Err("must be a finite number (not NaN or inf)".to_owned()),
        Toml::String(s) => Ok(Scalar::Text(s.clone())),
        other => Err(format!(
            "an option is a boolean, integer, float, string or a list of those, not {}",
            other.type_str()
        )),
    }
}

/// An option's TOML value as the plugin sees it: a scalar or a list of
/// scalars.
fn option_value(v: &Toml) -> Result<Value, OptionError> {
    match v {
        Toml::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| scalar(item).map_err(|e| (Some(i), e)))
            .collect::<Result<_, _>>()
            .map(Value::List),
        other => scalar(other).map(Value::Scalar).map_err(|e| (None, e)),
    }
}

/// An option's value written on the command line: a TOML value (`3`,
/// `true`, `"x"`, `[1, 2]`), else the text itself as a string.
pub(super) fn option_text(text: &str) -> Result<Value, String> {
    let toml = text
        .parse::<Toml>()
        .unwrap_or_else(|_| Toml::String(text.to_owned()));
    option_value(&toml).map_err(|(at, e)| match at {
        Some(i) => format!("item {i}: {e}"),
        None => e,
    })
}

/// The `options` of the doer table `t`, in the manifest's order.
pub(super) fn options(cx: &Ctx<'_>, t: &Table, path: &KeyPath) -> Res<Vec<(String, Value)>> {
    let Some(v) = t.get("options") else {
        return Ok(Vec::new());
    };
    let p = path.key("options");
    let table = cx.table(v, &p)?;
    let mut out = Vec::with_capacity(table.len());
    for (k, v) in table {
        let kp = p.key(k);
        let value = option_value(v).map_err(|(at, e)| match at {
            Some(i) => cx.err(&kp.idx(i), e),
            None => cx.err(&kp, e),
        })?;
        out.push((k.clone(), value));
    }
    Ok(out)
}
