//! The op catalogue: the network calls a doer makes, as a log's `call`
//! records number them (`docs/formats.md`, section 6), and the names
//! messages give them.

/// The network calls a doer makes, as `call` records number them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Op {
    Listen = 1,
    ListenerAddress,
    Accept,
    CloseListener,
    Connect,
    State,
    Read,
    Available,
    Write,
    Room,
    Shutdown,
    Addresses,
    Alpn,
    Close,
    HttpListen,
    HttpAddress,
    HttpNext,
    HttpHead,
    HttpRead,
    HttpBodyDone,
    HttpTrailers,
    HttpRespond,
    HttpWrite,
    HttpFinish,
    HttpDrop,
    HttpClose,
    HttpSend,
    HttpSendBody,
    HttpSendFinish,
    HttpResponse,
    HttpResponseRead,
    HttpResponseDone,
    HttpSendDrop,
    RemotePush,
    RemotePull,
    LockstepBarrier,
}

/// Each op's name in messages, by number from 1.
const NAMES: [&str; 36] = [
    "tcp listen",
    "listener address",
    "accept",
    "listener close",
    "tcp connect",
    "state",
    "read",
    "available",
    "write",
    "room",
    "shutdown",
    "addresses",
    "alpn",
    "connection close",
    "http listen",
    "http server address",
    "http next",
    "http request head",
    "http request read",
    "http request body-done",
    "http request trailers",
    "http respond",
    "http response write",
    "http response finish",
    "http request drop",
    "http server close",
    "http send",
    "http send write",
    "http send finish",
    "http response head",
    "http response read",
    "http response done",
    "http send drop",
    "remote deck push",
    "remote deck pull",
    "lockstep barrier",
];

impl Op {
    /// Its name in messages.
    pub fn name(self) -> &'static str {
        NAMES[self as usize - 1]
    }
}

/// The name of op number `n`, as a log holds it.
pub fn op_name(n: u64) -> String {
    usize::try_from(n)
        .ok()
        .and_then(|i| i.checked_sub(1))
        .and_then(|i| NAMES.get(i))
        .map_or_else(|| format!("op {n}"), |s| (*s).to_owned())
}
