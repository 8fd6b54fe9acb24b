"""A template for a Python doer: copy this file, rename the class, and
build it with
    componentize-py -d wit -w doer componentize counter -p plugins/py -o counter.wasm
(`-p` names the folder holding hio_doer.py and this module; use world
`http-doer` for a doer that serves or makes HTTP requests). Keep a
doer's state on `self`: one instance may hold many doers.

It counts its recurs and logs each; done after `stop` (default 3)."""

from hio_doer import Doer, DoerError, export, log, number, tyme


class Counter(Doer):
    OPTIONS = ("stop",)  # any other option is refused

    @classmethod
    def validate(cls, options):  # before anything runs: refuse bad options
        cls(options)

    def __init__(self, options):  # the enter hook
        super().__init__(options)
        self.stop = options.integer("stop", 3)
        if self.stop < 0:
            raise DoerError(f"option `stop` must be >= 0, got {self.stop}")
        self.count = 0

    def recur(self, now):  # once per due tick; True: done
        self.count += 1
        log.info(f"count {self.count} at tyme {number(now)} (tock {number(tyme.tock())})")
        return self.count >= self.stop


Hooks = export(Counter)
