"""The recorder doer in Python: the same options and behaviour as the Rust
recorder (plugins/recorder), so either serves in any manifest. It counts
its recurs; the host writes the trace. Options: `stop` (integer >= 0,
default 3), `fail_at` (integer >= 1), `tock` (number >= 0, set at enter),
`retock_at` (integer >= 1) with `retock` (number >= 0)."""

import math

from hio_doer import Doer, DoerError, export, number, tyme


def at_least(options, name, low):
    v = options.integer(name)
    if v is not None and v < low:
        raise DoerError(f"option `{name}` must be >= {low}, got {v}")
    return v


def tock(options, name):
    v = options.float(name)
    if v is not None and not (math.isfinite(v) and v >= 0.0):
        raise DoerError(f"option `{name}` must be a finite number >= 0, got {number(v)}")
    return v


class Recorder(Doer):
    OPTIONS = ("stop", "fail_at", "tock", "retock_at", "retock")

    @classmethod
    def validate(cls, options):
        cls.parse(options)

    @classmethod
    def parse(cls, options):
        options.only(cls.OPTIONS)
        stop = at_least(options, "stop", 0)
        fail_at = at_least(options, "fail_at", 1)
        start_tock = tock(options, "tock")
        retock_at, retock = at_least(options, "retock_at", 1), tock(options, "retock")
        if retock_at is not None and retock is None:
            raise DoerError("option `retock_at` needs `retock`")
        if retock_at is None and retock is not None:
            raise DoerError("option `retock` needs `retock_at`")
        return (3 if stop is None else stop), fail_at, retock_at, retock, start_tock

    def __init__(self, options):
        self.stop, self.fail_at, self.retock_at, self.retock, start = self.parse(options)
        self.count = 0
        if start is not None:
            tyme.set_tock(start)

    def recur(self, _tyme):
        self.count += 1
        if self.retock_at == self.count:
            tyme.set_tock(self.retock)
        if self.fail_at == self.count:
            raise DoerError(f"fail_at {self.count}")
        return self.count > self.stop


Hooks = export(Recorder)
