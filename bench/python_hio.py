"""Measures Python hio 0.7.20's scheduler, the peer of hio's native one.

Prints one JSON object: ns per Doer invocation (no-op recur, tock 0,
simulated time) for 1, 100, 1,000 and 10,000 doers (or the sizes given as
the first argument, comma-separated), and ns per tick for as many doers of
which 1 in 16 is due each tick. Run by `cargo bench -p hio` (see
bench/README.md); usable alone: python bench/python_hio.py [1,1000]
"""

import json
import statistics
import sys
import time

from hio.base import doing

TOCK = 0.03125


class Noop(doing.Doer):
    def recur(self, tyme):
        return False


class Stagger(doing.Doer):
    """Runs every tick for its first `offset + 1` recurs, then every 16 ticks."""

    def __init__(self, offset, **kwa):
        super().__init__(tock=TOCK, **kwa)
        self.offset = offset
        self.count = 0

    def recur(self, tyme):
        self.count += 1
        if self.count == self.offset + 1:
            self.tock = 16 * TOCK
        return False


def per_tick_ns(doers, ticks, warm):
    doist = doing.Doist(tock=TOCK, real=False, doers=doers)
    doist.enter()
    for _ in range(warm):
        doist.recur()
    samples = []
    for _ in range(5):
        start = time.perf_counter_ns()
        for _ in range(ticks):
            doist.recur()
        samples.append((time.perf_counter_ns() - start) / ticks)
    return statistics.median(samples)


def main():
    sizes = (1, 100, 1000, 10000)
    if len(sys.argv) > 1:
        sizes = tuple(int(v) for v in sys.argv[1].split(",") if v)
    out = {
        "python": sys.version.split()[0],
        "hio": "0.7.20",
        "flat_ns_per_invocation": {},
        "mixed_1_in_16_ns_per_tick": {},
    }
    for n in sizes:
        ticks = max(20, 200_000 // n)
        tick = per_tick_ns([Noop(tock=0.0) for _ in range(n)], ticks, warm=5)
        out["flat_ns_per_invocation"][str(n)] = tick / n
        if n >= 16:
            doers = [Stagger(i % 16) for i in range(n)]
            ticks = max(64, 200_000 // n)
            out["mixed_1_in_16_ns_per_tick"][str(n)] = per_tick_ns(doers, ticks, warm=32)
    mixed = out["mixed_1_in_16_ns_per_tick"].get("10000")
    if mixed is not None:
        out["mixed_10000_1_in_16_ns_per_tick"] = mixed
    print(json.dumps(out))


if __name__ == "__main__":
    main()
