//! Helpers shared by the conformance tests.

#![allow(dead_code)]

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use hio_scheduler::trace::{Event, OwnedLine};
use hio_scheduler::{Context, Doer, Doist, HookResult, LogLine, Spec, TraceBuffer};

/// `(tyme, event)` of every record of `doer`, in order.
pub fn events(records: &[OwnedLine], doer: &str) -> Vec<(f64, &'static str)> {
    records
        .iter()
        .filter(|r| r.doer == doer)
        .map(|r| (r.tyme, r.event.as_str()))
        .collect()
}

/// Tymes of every `recur` record of `doer`.
pub fn recurs(records: &[OwnedLine], doer: &str) -> Vec<f64> {
    records
        .iter()
        .filter(|r| r.doer == doer && r.event == Event::Recur)
        .map(|r| r.tyme)
        .collect()
}

/// `(doer, event)` of every record at `tyme`, in order.
pub fn at(records: &[OwnedLine], tyme: f64) -> Vec<(String, &'static str)> {
    records
        .iter()
        .filter(|r| r.tyme == tyme && r.event != Event::Done)
        .map(|r| (r.doer.clone(), r.event.as_str()))
        .collect()
}

/// Shorthand for `(doer, event)` lists.
pub fn de(list: &[(&str, &'static str)]) -> Vec<(String, &'static str)> {
    list.iter().map(|(d, e)| ((*d).to_owned(), *e)).collect()
}

/// Whether `doer` completed (has a `clean` record).
pub fn completed(records: &[OwnedLine], doer: &str) -> bool {
    records
        .iter()
        .any(|r| r.doer == doer && r.event == Event::Clean)
}

/// The final record's done flag.
pub fn final_done(records: &[OwnedLine]) -> Option<bool> {
    let last = records.last()?;
    (last.event == Event::Done).then_some(last.done).flatten()
}

/// Path of a golden trace file.
pub fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.jsonl"))
}

/// Compares a trace with its golden file, byte for byte. With `HIO_BLESS=1`
/// the file is rewritten instead.
pub fn golden(name: &str, trace: &TraceBuffer) {
    let text = trace.to_json_lines();
    let path = golden_path(name);
    if std::env::var_os("HIO_BLESS").is_some() {
        std::fs::write(&path, &text).expect("write golden trace");
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with HIO_BLESS=1 to create it", path.display()));
    assert_eq!(text, want, "trace differs from {}", path.display());
}

/// A Doist with an in-memory trace.
pub fn doist(tock: f64) -> (Doist, TraceBuffer) {
    let trace = TraceBuffer::new();
    (Doist::new(tock).trace(trace.clone()), trace)
}

/// A Doist whose log lines are kept.
pub fn logged(doist: Doist) -> (Doist, Rc<RefCell<Vec<String>>>) {
    let lines = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&lines);
    let doist = doist.logger(Box::new(move |l: &LogLine<'_>| {
        sink.borrow_mut().push(format!(
            "{} {} {} {}",
            l.tyme,
            l.path,
            l.level.as_str(),
            l.message
        ));
    }));
    (doist, lines)
}

type Action = Rc<dyn Fn(&mut Context<'_>)>;

/// A doer that counts recurs like a recorder and runs scripted actions:
/// at a given recur number, or in a given other hook.
#[derive(Clone, Default)]
pub struct Scripted {
    stop: u64,
    count: u64,
    at: Vec<(u64, Action)>,
    fail_in: Vec<&'static str>,
    fail_at: Option<u64>,
    poison_at: Option<u64>,
    poisoned: bool,
}

impl Scripted {
    /// Completes once the count is above `stop`.
    pub fn new(stop: u64) -> Scripted {
        Scripted {
            stop,
            ..Scripted::default()
        }
    }

    /// Runs `action` during recur number `n`.
    pub fn on(mut self, n: u64, action: impl Fn(&mut Context<'_>) + 'static) -> Scripted {
        self.at.push((n, Rc::new(action)));
        self
    }

    /// Makes `hook` ("enter", "clean", "cease", "abort", "exit") fail with
    /// reason `<hook> failed`.
    pub fn fail_in(mut self, hook: &'static str) -> Scripted {
        self.fail_in.push(hook);
        self
    }

    /// Fails recur number `n` with reason `fail_at <n>` (the instance stays usable).
    pub fn fail_at(mut self, n: u64) -> Scripted {
        self.fail_at = Some(n);
        self
    }

    /// At recur `n`, behave like a trapped Wasm instance: fail and poison.
    pub fn trap_at(mut self, n: u64) -> Scripted {
        self.poison_at = Some(n);
        self
    }

    /// As a spec.
    pub fn spec(self, name: &str, tock: f64) -> Spec {
        Spec::doer(name, tock, self)
    }

    fn hook(&self, hook: &str) -> HookResult {
        if self.fail_in.contains(&hook) {
            Err(format!("{hook} failed").into())
        } else {
            Ok(())
        }
    }
}

impl Doer for Scripted {
    fn enter(&mut self, _cx: &mut Context<'_>) -> HookResult {
        self.hook("enter")
    }

    fn recur(&mut self, cx: &mut Context<'_>, _tyme: f64) -> HookResult<bool> {
        self.count += 1;
        let actions: Vec<Action> = self
            .at
            .iter()
            .filter(|(n, _)| *n == self.count)
            .map(|(_, a)| Rc::clone(a))
            .collect();
        for action in actions {
            action(cx);
        }
        if self.poison_at == Some(self.count) {
            self.poisoned = true;
            return Err("wasm trap: unreachable".into());
        }
        if self.fail_at == Some(self.count) {
            return Err(format!("fail_at {}", self.count).into());
        }
        Ok(self.count > self.stop)
    }

    fn clean(&mut self, _cx: &mut Context<'_>) -> HookResult {
        self.hook("clean")
    }

    fn cease(&mut self, _cx: &mut Context<'_>) -> HookResult {
        self.hook("cease")
    }

    fn abort(&mut self, _cx: &mut Context<'_>, _reason: &str) -> HookResult {
        self.hook("abort")
    }

    fn exit(&mut self, _cx: &mut Context<'_>) -> HookResult {
        self.hook("exit")
    }

    fn poisoned(&self) -> bool {
        self.poisoned
    }
}
