"""A deck doer in Python: each tick it takes items from deck `from`,
appends ` <tag>` and pushes them onto deck `to`, at most `rate` a tick.
A full `to` deck is back pressure: the item waits in hand for a later tick
and nothing is lost. Done once it has passed on `count` items. Options:
`from` (default "in"), `to` (default "out"), `tag` (default "py"),
`count` (integer >= 0, default 10), `rate` (integer >= 1, default 1)."""

from hio_doer import DeckError, Doer, DoerError, decks, export, log


class Relay(Doer):
    OPTIONS = ("from", "to", "tag", "count", "rate")

    @classmethod
    def validate(cls, options):
        cls(options)

    def __init__(self, options):
        options.only(self.OPTIONS)
        self.source = options.text("from", "in")
        self.sink = options.text("to", "out")
        self.tag = options.text("tag", "py")
        self.count = options.integer("count", 10)
        self.rate = options.integer("rate", 1)
        if self.count < 0 or self.rate < 1:
            raise DoerError("options `count` >= 0 and `rate` >= 1")
        self.passed = 0
        self.held = None

    def recur(self, _tyme):
        for _ in range(self.rate):
            if self.passed == self.count:
                break
            if self.held is None:
                item = decks.pull(self.source)
                if item is None:
                    break
                self.held = item + b" " + self.tag.encode()
            try:
                decks.push(self.sink, self.held)
            except DeckError as e:
                if e.kind != "full":
                    raise
                log.debug(f"{self.sink} full, {self.held.decode(errors='replace')} waits")
                break
            log.info(f"passed {self.held.decode(errors='replace')}")
            self.held = None
            self.passed += 1
        return self.passed == self.count


Hooks = export(Relay)
