"""hio's guest SDK for Python doers (componentize-py).

A doer is a class derived from `Doer`; the module that componentize-py
builds exports it with `Hooks = export(TheDoer)`:

    from hio_doer import Doer, DoerError, export

    class Counter(Doer):
        OPTIONS = ("stop",)

        def __init__(self, options):        # the enter hook
            self.stop = options.integer("stop", default=3)
            self.count = 0

        def recur(self, tyme):              # True: done
            self.count += 1
            return self.count > self.stop

    Hooks = export(Counter)

The world exports the interface `hooks`: its function `validate` is the
class method `Doer.validate`, and its resource `doer` holds one doer.
The host makes each doer with the resource's `enter`, which here makes
one instance of the class (`__init__(options)`) and gives it a number,
its `id`; then it calls the interface's `recur` with that number once per
due tick, and each doer's `clean`, `cease`, `abort` and `exit` on its own
resource. Either way the hook runs the method of that doer's object.
One component instance may hold many doers at once (the manifest's
`share`), so a doer keeps its state on `self`, never in module globals;
while a hook runs, `tyme`, `log` and `decks` act for that doer.
`export` names the class `Hooks` that componentize-py calls `validate`
and `recur` on, and makes module `hooks` hold the resource's class, where
componentize-py looks for it.

Any hook fails by raising: `DoerError("reason")` gives the reason as it
is; any other exception gives its type and message. `tyme`, `log` and
`decks` wrap the host's imports with the same errors.
"""

import math
import sys
from decimal import Decimal
from types import ModuleType

from componentize_py_types import Err
from wit_world.imports import decks as _decks
from wit_world.imports import log as _log
from wit_world.imports import tyme as _tyme
from wit_world.imports import types as _types

__all__ = ["Doer", "DoerError", "Options", "export", "tyme", "log", "decks", "number"]


class DoerError(Exception):
    """A hook's failure; its message is the reason the host reports."""


def number(v):
    """A float as the Rust SDK's messages print it: no exponent, no
    trailing `.0` (so an error message reads the same in every language)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    text = format(Decimal(repr(v)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _kind(v):
    if isinstance(v, _types.Value_List):
        return "a list"
    return _SCALAR_KIND[type(v.value)]


_SCALAR_KIND = {
    _types.Scalar_Boolean: "a boolean",
    _types.Scalar_Integer: "an integer",
    _types.Scalar_Float: "a float",
    _types.Scalar_Text: "a string",
}


class Options:
    """The options table the manifest gives a doer, in its key order, with
    typed getters whose errors name the option."""

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def get(self, name):
        """The raw value of `name` (a `wit_world.imports.types.Value`), or None."""
        for key, value in self.pairs:
            if key == name:
                return value
        return None

    def has(self, name):
        return self.get(name) is not None

    def only(self, allowed):
        """Fails naming the first option not in `allowed`."""
        for key, _ in self.pairs:
            if key not in allowed:
                if not allowed:
                    raise DoerError(f"unknown option `{key}`: this doer takes no options")
                raise DoerError(f"unknown option `{key}`: expected one of {', '.join(allowed)}")

    def _scalar(self, name, kinds, what, default):
        v = self.get(name)
        if v is None:
            return default
        if isinstance(v, _types.Value_Scalar) and isinstance(v.value, kinds):
            return v.value.value
        raise DoerError(f"option `{name}` must be {what}, not {_kind(v)}")

    def integer(self, name, default=None):
        return self._scalar(name, _types.Scalar_Integer, "an integer", default)

    def float(self, name, default=None):
        """A number; an integer is accepted."""
        v = self._scalar(name, (_types.Scalar_Float, _types.Scalar_Integer), "a number", default)
        return v if v is None else float(v)

    def boolean(self, name, default=None):
        return self._scalar(name, _types.Scalar_Boolean, "a boolean", default)

    def text(self, name, default=None):
        return self._scalar(name, _types.Scalar_Text, "a string", default)

    def texts(self, name, default=None):
        """A list of strings (`[]` is an empty list)."""
        v = self.get(name)
        if v is None:
            return default
        if not isinstance(v, _types.Value_List):
            raise DoerError(f"option `{name}` must be a list of strings, not {_kind(v)}")
        out = []
        for item in v.value:
            if not isinstance(item, _types.Scalar_Text):
                held = _SCALAR_KIND[type(item)]
                raise DoerError(f"option `{name}` must be a list of strings, but holds {held}")
            out.append(item.value)
        return out


class Doer:
    """A doer. `__init__(options)` is the enter hook and `recur(tyme)` runs
    once per due tick (True: done); every other hook has a default. Each
    doer the host makes is one instance, with its own state."""

    OPTIONS = ()

    @classmethod
    def validate(cls, options):
        """Checks options before anything runs; raise to refuse them."""
        options.only(cls.OPTIONS)

    def __init__(self, options):
        options.only(self.OPTIONS)

    def recur(self, tyme):
        raise DoerError(f"{type(self).__name__} does not define recur")

    def clean(self):
        """After `recur` reported done."""

    def cease(self):
        """When the host closes the doer before it is done."""

    def abort(self, reason):
        """When `recur` failed, with the reason. (A doer whose `__init__`
        raised was never made, so no hook of it runs.)"""

    def exit(self):
        """Always the last hook."""


def _reason(e):
    if isinstance(e, DoerError):
        return str(e)
    if isinstance(e, Err):
        return str(e.value)
    return f"{type(e).__name__}: {e}"


def _hook(f):
    """Runs `f`, turning any exception into the hook's error."""
    try:
        return f()
    except Exception as e:  # noqa: BLE001 - every failure crosses as a reason
        raise Err(_reason(e)) from None


def export(doer_class):
    """What componentize-py exports for `doer_class`: the class the module
    names `Hooks` (the `hooks` interface's `validate` and `recur`), and, as
    module `hooks`, the `doer` resource, whose static `enter` makes one
    `doer_class` per doer the host makes."""

    class Resource(_DoerResource):
        made = doer_class
        spare = []
        held = []
        free = []

    held = Resource.held

    class Hooks:
        def validate(self, options):
            _hook(lambda: doer_class.validate(Options(options)))

        def recur(self, doer, tyme):
            """Runs the `recur` of the doer whose `id` is `doer`. The host
            calls it on every tick: one list index finds the doer, and no
            exception is raised unless the doer's `recur` raises."""
            try:
                resource = held[doer]
            except IndexError:
                return _FAILED
            if resource is None:
                return _FAILED
            try:
                done = resource.doer.recur(tyme)
            except Exception as e:  # noqa: BLE001 - every failure crosses as a reason
                resource.failed = _reason(e)
                return _FAILED
            return _DONE if done else _RUNNING

    Resource.__name__ = Resource.__qualname__ = "Doer"
    hooks = ModuleType("hooks", "The `hooks` interface's `doer` resource, for componentize-py.")
    hooks.Doer = Resource
    sys.modules["hooks"] = hooks
    return Hooks


_RUNNING = _types.Progress.RUNNING
_DONE = _types.Progress.DONE
_FAILED = _types.Progress.FAILED

# What componentize-py 0.25 sets on an exported resource object when it
# becomes a handle (and takes off when an owned handle comes back).
_HANDLE = "__componentize_py_handle"
_FINALIZER = "finalizer"


class _DoerResource:
    """One doer, as the `doer` resource holds it: the `Doer` its `enter`
    made (None after `exit`), its number (`id`), and the reason its last
    `recur` failed, until `failure` reads it. Each doer has its own: one
    instance may hold many.

    The interface's `recur` takes the number, not the resource (a method
    call lends the handle, which costs the host more than the call itself,
    on every tick). `held` is the table it looks in: a list indexed by
    number, holding each live doer's resource object and None where a
    number is free; `free` lists the free numbers, which `enter` reuses
    before it makes a new one, so the list grows only to the most doers
    held at once. `exit` empties the doer's slot and frees its number, so
    the table holds no exited doer. (componentize-py 0.25 runs no Python
    code when the host drops a resource, so `exit`, which the host always
    calls before the drop, is where the number goes back.)

    The resource object is not the author's `Doer`, so the attributes
    componentize-py sets on it cannot clash with the author's. Nor does it
    outlive its doer: componentize-py (0.25) never frees an exported
    resource object, even after the host drops its handle, so `exit` lets
    go of the author's doer and keeps the emptied object, a spare, for the
    next `enter` (a few hundred bytes a doer otherwise, for as long as the
    instance lives)."""

    made = None  # the author's Doer class; `export` sets it on a subclass
    # `export` gives each subclass its own of these:
    spare = None  # exited resource objects, for `enter` to reuse
    held = None  # number -> live resource object, None where free
    free = None  # the numbers in `held` that are free

    @classmethod
    def enter(cls, options):
        doer = _hook(lambda: cls.made(Options(options)))
        self = cls.spare.pop() if cls.spare else cls()
        self.doer = doer
        self.failed = None
        if cls.free:
            self.number = cls.free.pop()
            cls.held[self.number] = self
        else:
            self.number = len(cls.held)
            cls.held.append(self)
        return self

    def id(self):
        """The number the interface's `recur` takes for this doer."""
        return self.number

    def _with(self, hook):
        if self.doer is None:
            raise Err(_EXITED)
        _hook(lambda: hook(self.doer))

    def failure(self):
        reason, self.failed = self.failed, None
        return reason if reason is not None else "recur failed and gave no reason"

    def clean(self):
        self._with(lambda d: d.clean())

    def cease(self):
        self._with(lambda d: d.cease())

    def abort(self, reason):
        if self.doer is not None:
            try:
                self.doer.abort(reason)
            except Exception:  # noqa: BLE001 - abort has no error to give
                pass

    def exit(self):
        doer, self.doer, self.failed = self.doer, None, None
        if doer is None:
            return
        cls = type(self)
        cls.held[self.number] = None
        cls.free.append(self.number)
        try:
            _hook(doer.exit)
        finally:
            self._spare()

    def _spare(self):
        """Keeps this object for a later `enter`, as componentize-py does
        with an exported resource whose owned handle comes back: without
        its handle and with its finalizer detached, so that returning it
        makes a new handle. The host drops the old one after `exit`. An
        object that does not look as componentize-py 0.25 leaves it is not
        kept, as reusing it could hand out the old handle."""
        state = vars(self)
        finalizer = state.get(_FINALIZER)
        if not isinstance(state.get(_HANDLE), int) or not hasattr(finalizer, "detach"):
            return
        finalizer.detach()
        del state[_HANDLE], state[_FINALIZER]
        if set(state) == {"doer", "failed", "number"}:
            type(self).spare.append(self)


_EXITED = "no doer: it has exited"


class tyme:
    """Simulated time; it does not advance inside a hook."""

    @staticmethod
    def now():
        return _tyme.now()

    @staticmethod
    def tock():
        return _tyme.tock()

    @staticmethod
    def set_tock(tock):
        """Sets this doer's tock (the one after `recur` returns counts)."""
        try:
            _tyme.set_tock(tock)
        except Err as e:
            raise DoerError(e.value) from None


def _at(level):
    def write(message):
        _log.log(level, message)

    return staticmethod(write)


class log:
    """The host log; the host tags each line with the tyme and the doer."""

    error = _at(_log.Level.ERROR)
    warn = _at(_log.Level.WARN)
    info = _at(_log.Level.INFO)
    debug = _at(_log.Level.DEBUG)
    trace = _at(_log.Level.TRACE)


class DeckError(DoerError):
    """Why a deck refused: `kind` is `full`, `too-large`, `not-granted` or
    `unknown-deck`."""

    def __init__(self, deck, kind):
        super().__init__(f"{deck}: {kind}")
        self.deck = deck
        self.kind = kind


_DECK_ERROR = {
    _decks.DeckError.FULL: "full",
    _decks.DeckError.TOO_LARGE: "too-large",
    _decks.DeckError.NOT_GRANTED: "not-granted",
    _decks.DeckError.UNKNOWN_DECK: "unknown-deck",
}


class decks:
    """Named, bounded FIFO queues between doers, as the manifest grants."""

    @staticmethod
    def push(deck, item):
        """Appends `item` (bytes or str); raises DeckError (kind `full`
        when the deck holds its capacity)."""
        if isinstance(item, str):
            item = item.encode()
        try:
            _decks.push(deck, item)
        except Err as e:
            raise DeckError(deck, _DECK_ERROR[e.value]) from None

    @staticmethod
    def pull(deck):
        """The oldest item as bytes, or None when the deck is empty."""
        try:
            return _decks.pull(deck)
        except Err as e:
            raise DeckError(deck, _DECK_ERROR[e.value]) from None

    @staticmethod
    def refusal(deck):
        """Why this doer's last push on `deck` was refused, in words (a
        remote deck's server unreachable, and why), or None once a push is
        taken."""
        return _decks.refusal(deck)
