//! The manifest's `[net]` section: real sockets (the default) or the
//! simulated network, and its seeded faults.

use hio_io::{Faults, SimConfig};
use toml::{Table, Value as Toml};

use super::reader::{Ctx, KeyPath, Res};

const NET_KEYS: &[&str] = &["mode", "faults"];
const FAULT_KEYS: &[&str] = &[
    "delay",
    "segment",
    "stall",
    "stall_ticks",
    "reset",
    "half_close",
    "refuse",
    "unanswered",
    "partition",
    "partition_ticks",
    "partitions",
];

/// A chance: a number in [0, 1].
fn chance(cx: &Ctx<'_>, t: &Table, key: &str, path: &KeyPath) -> Res<Option<f64>> {
    match cx.number(t, key, path)? {
        Some(p) if !(0.0..=1.0).contains(&p) => Err(cx.err(
            &path.key(key),
            format!("a chance per tick, from 0 to 1; got {p}"),
        )),
        v => Ok(v),
    }
}

/// Two integers `[min, max]` with min <= max.
fn range(cx: &Ctx<'_>, v: &Toml, path: &KeyPath) -> Res<(u64, u64)> {
    let bad = || cx.err(path, "expected [min, max]: two integers >= 0, min <= max");
    let Toml::Array(a) = v else {
        return Err(bad());
    };
    let [Toml::Integer(lo), Toml::Integer(hi)] = a.as_slice() else {
        return Err(bad());
    };
    let (Ok(lo), Ok(hi)) = (u64::try_from(*lo), u64::try_from(*hi)) else {
        return Err(bad());
    };
    if lo > hi {
        return Err(bad());
    }
    Ok((lo, hi))
}

/// A range in ticks (each end fits 32 bits).
fn ticks(cx: &Ctx<'_>, t: &Table, key: &str, path: &KeyPath) -> Res<Option<(u32, u32)>> {
    let Some(v) = t.get(key) else {
        return Ok(None);
    };
    let p = path.key(key);
    let (lo, hi) = range(cx, v, &p)?;
    match (u32::try_from(lo), u32::try_from(hi)) {
        (Ok(lo), Ok(hi)) => Ok(Some((lo, hi))),
        _ => Err(cx.err(&p, "ticks above 4294967295")),
    }
}

fn faults(cx: &Ctx<'_>, t: &Table, path: &KeyPath) -> Res<Faults> {
    let mut f = Faults::default();
    let Some((s, p)) = cx.section(t, "faults", path, FAULT_KEYS)? else {
        return Ok(f);
    };
    if let Some(d) = ticks(cx, s, "delay", &p)? {
        f.delay = d;
    }
    if let Some(b) = cx.boolean(s, "segment", &p)? {
        f.segment = b;
    }
    let chances: [(&str, &mut f64); 6] = [
        ("stall", &mut f.stall),
        ("reset", &mut f.reset),
        ("half_close", &mut f.half_close),
        ("refuse", &mut f.refuse),
        ("unanswered", &mut f.connect_timeout),
        ("partition", &mut f.partition),
    ];
    for (key, slot) in chances {
        if let Some(c) = chance(cx, s, key, &p)? {
            *slot = c;
        }
    }
    if let Some(d) = ticks(cx, s, "stall_ticks", &p)? {
        f.stall_ticks = d;
    }
    if let Some(d) = ticks(cx, s, "partition_ticks", &p)? {
        f.partition_ticks = d;
    }
    if let Some(v) = s.get("partitions") {
        let pp = p.key("partitions");
        let Toml::Array(list) = v else {
            return Err(cx.err(&pp, "expected a list of [start, end] tick windows"));
        };
        for (i, w) in list.iter().enumerate() {
            let (lo, hi) = range(cx, w, &pp.idx(i))?;
            f.partitions.push((lo, hi));
        }
    }
    Ok(f)
}

/// The `[net]` section: `None` for real sockets, else the simulated
/// network seeded with the run's `seed`.
pub(super) fn net(cx: &Ctx<'_>, root: &Table, top: &KeyPath, seed: u64) -> Res<Option<SimConfig>> {
    let Some((t, p)) = cx.section(root, "net", top, NET_KEYS)? else {
        return Ok(None);
    };
    let faults = faults(cx, t, &p)?;
    match cx.string(t, "mode", &p)? {
        None | Some("real") => {
            if t.contains_key("faults") {
                return Err(cx.err(
                    &p.key("faults"),
                    "faults apply to the simulated network only: set mode = \"sim\"",
                ));
            }
            Ok(None)
        }
        Some("sim") => Ok(Some(SimConfig { seed, faults })),
        Some(other) => Err(cx.err(
            &p.key("mode"),
            format!("expected \"real\" or \"sim\", got {other:?}"),
        )),
    }
}
