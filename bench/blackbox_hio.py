"""Python hio 0.7.20's side of the black-box benchmark (host/hio/benches/blackbox.rs).

Runs one DoDoer of N recorder doers (each counts its recurs and is done
after a million) for TICKS ticks in simulated time, as `hio run` runs the
same tree of recorder plugins, and exits: the benchmark times the whole
process. With `stagger`, doer i runs every tick until its recur i % 16 + 1,
then every 16 ticks (1 in 16 due each tick).

Usage: python bench/blackbox_hio.py N TICKS [stagger]
"""

import sys

from hio.base import doing

TOCK = 0.03125


class Recorder(doing.Doer):
    def __init__(self, retock_at=None, **kwa):
        super().__init__(tock=0.0, **kwa)
        self.retock_at = retock_at
        self.count = 0

    def recur(self, tyme):
        self.count += 1
        if self.count == self.retock_at:
            self.tock = 16 * TOCK
        return self.count > 1_000_000


def main():
    n, ticks = int(sys.argv[1]), int(sys.argv[2])
    stagger = len(sys.argv) > 3 and sys.argv[3] == "stagger"
    doers = [Recorder(retock_at=(i % 16) + 1 if stagger else None) for i in range(n)]
    group = doing.DoDoer(doers=doers, tock=0.0)
    doist = doing.Doist(tock=TOCK, real=False, limit=ticks * TOCK, doers=[group])
    doist.do()


if __name__ == "__main__":
    main()
