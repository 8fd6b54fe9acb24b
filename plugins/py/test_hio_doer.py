"""Unit tests of the Python SDK layer, run by CPython outside any component:
the host's imports are replaced by fakes. host/hio/tests/languages.rs runs
them with the bindings componentize-py generates for the doer world on
the path."""

import sys
import unittest
import weakref

from componentize_py_types import Err
from wit_world.imports import decks as host_decks
from wit_world.imports import log as host_log
from wit_world.imports import tyme as host_tyme
from wit_world.imports import types

import hio_doer
from hio_doer import DeckError, Doer, DoerError, Options, decks, export, log, number, tyme


def opts(**kv):
    wrap = {
        bool: types.Scalar_Boolean,
        int: types.Scalar_Integer,
        float: types.Scalar_Float,
        str: types.Scalar_Text,
    }
    out = []
    for k, v in kv.items():
        if isinstance(v, list):
            out.append((k, types.Value_List([wrap[type(x)](x) for x in v])))
        else:
            out.append((k, types.Value_Scalar(wrap[type(v)](v))))
    return out


class Numbers(unittest.TestCase):
    def test_floats_print_as_rust_prints_them(self):
        cases = {
            3.0: "3",
            -1.0: "-1",
            1.5: "1.5",
            0.1: "0.1",
            1e-7: "0.0000001",
            1e21: "1000000000000000000000",
            0.30000000000000004: "0.30000000000000004",
            -0.0: "-0",
            float("inf"): "inf",
            float("-inf"): "-inf",
            float("nan"): "NaN",
        }
        for v, want in cases.items():
            self.assertEqual(number(v), want, v)


class OptionsTest(unittest.TestCase):
    def test_getters_and_their_errors_name_the_option(self):
        o = Options(opts(n=3, f=1.5, b=True, s="x", l=["a", "b"], bad=[1]))
        self.assertEqual(o.integer("n"), 3)
        self.assertEqual(o.float("n"), 3.0)
        self.assertEqual(o.float("f"), 1.5)
        self.assertEqual(o.boolean("b"), True)
        self.assertEqual(o.text("s"), "x")
        self.assertEqual(o.texts("l"), ["a", "b"])
        self.assertIsNone(o.integer("missing"))
        self.assertEqual(o.integer("missing", 7), 7)
        for call, message in [
            (lambda: o.integer("b"), "option `b` must be an integer, not a boolean"),
            (lambda: o.float("s"), "option `s` must be a number, not a string"),
            (lambda: o.text("l"), "option `l` must be a string, not a list"),
            (lambda: o.boolean("f"), "option `f` must be a boolean, not a float"),
            (lambda: o.texts("n"), "option `n` must be a list of strings, not an integer"),
            (lambda: o.texts("bad"), "option `bad` must be a list of strings, but holds an integer"),
        ]:
            with self.assertRaises(DoerError) as e:
                call()
            self.assertEqual(str(e.exception), message)

    def test_only_names_the_first_unknown_option(self):
        with self.assertRaises(DoerError) as e:
            Options(opts(a=1, zz=2)).only(("a", "b"))
        self.assertEqual(str(e.exception), "unknown option `zz`: expected one of a, b")
        with self.assertRaises(DoerError) as e:
            Options(opts(a=1)).only(())
        self.assertEqual(str(e.exception), "unknown option `a`: this doer takes no options")


class Boom(Doer):
    OPTIONS = ("mode",)
    exits = 0

    def __init__(self, options):
        super().__init__(options)
        self.mode = options.text("mode", "ok")
        if self.mode == "enter":
            raise DoerError("no entry")
        self.recurs = 0
        self.aborted = None

    def recur(self, tyme):
        self.recurs += 1
        if self.mode == "value":
            raise ValueError("boom")
        if self.mode == "doer":
            raise DoerError(f"fails on purpose, recur {self.recurs}")
        return self.mode == "done"

    def abort(self, reason):
        self.aborted = reason
        raise RuntimeError("abort has no error to give")

    def exit(self):
        Boom.exits += 1
        if self.mode == "exit":
            raise DoerError("exit fails")


def exported(doer_class):
    """What componentize-py finds for `doer_class`: the `Hooks` class the
    doer module names, and the `doer` resource's class in module `hooks`."""
    hooks = export(doer_class)
    return hooks(), sys.modules["hooks"].Doer


def as_handle(resource):
    """Marks a resource object as componentize-py 0.25 does when it hands
    it to the host as a new handle (the host then owns a reference)."""
    setattr(resource, "__componentize_py_handle", id(resource))
    resource.finalizer = weakref.finalize(resource, lambda: None)
    return resource


class Hooks(unittest.TestCase):
    def setUp(self):
        self.hooks, self.Doer = exported(Boom)

    def enter(self, **kv):
        return as_handle(self.Doer.enter(opts(**kv)))

    def recur(self, resource, tyme=0.0):
        """As the host calls recur: with the number `id` gave."""
        return self.hooks.recur(resource.id(), tyme)

    def test_export_names_the_hooks_class_and_the_resource_module(self):
        self.assertEqual(self.Doer.__name__, "Doer")
        self.assertIs(self.Doer.made, Boom)
        self.assertIsInstance(self.enter().doer, Boom)

    def test_recur_maps_to_progress_and_failure_gives_the_reason(self):
        self.assertEqual(self.recur(self.enter()), types.Progress.RUNNING)
        self.assertEqual(self.recur(self.enter(mode="done")), types.Progress.DONE)
        d = self.enter(mode="doer")
        self.assertEqual(self.recur(d), types.Progress.FAILED)
        self.assertEqual(d.failure(), "fails on purpose, recur 1")
        self.assertEqual(d.failure(), "recur failed and gave no reason")
        d = self.enter(mode="value")
        self.assertEqual(self.recur(d), types.Progress.FAILED)
        self.assertEqual(d.failure(), "ValueError: boom")

    def test_each_doer_of_an_instance_keeps_its_own_state(self):
        a, b, c = self.enter(mode="doer"), self.enter(), self.enter(mode="doer")
        self.assertEqual(self.recur(a), types.Progress.FAILED)
        self.assertEqual(self.recur(b), types.Progress.RUNNING)
        self.assertEqual(self.recur(c), types.Progress.FAILED)
        self.assertEqual(self.recur(c, 1.0), types.Progress.FAILED)
        # Each failure is its own doer's, whatever ran in between.
        self.assertEqual(a.failure(), "fails on purpose, recur 1")
        self.assertEqual(b.failure(), "recur failed and gave no reason")
        self.assertEqual(c.failure(), "fails on purpose, recur 2")
        a.abort("why a")
        self.assertEqual((a.doer.aborted, b.doer.aborted, c.doer.aborted), ("why a", None, None))
        a.exit()
        self.assertEqual(self.recur(b, 2.0), types.Progress.RUNNING)
        self.assertEqual((b.doer.recurs, c.doer.recurs), (2, 2))

    def test_ids_are_unique_among_live_doers_and_reused_after_exit(self):
        a, b, c = self.enter(), self.enter(), self.enter()
        self.assertEqual([d.id() for d in (a, b, c)], [0, 1, 2])
        b.exit()
        # b's number is free: recur with it fails, and gives no reason.
        self.assertEqual(self.hooks.recur(1, 0.0), types.Progress.FAILED)
        self.assertEqual(b.failure(), "recur failed and gave no reason")
        d = self.enter(mode="done")
        self.assertEqual(d.id(), 1)
        self.assertEqual(d.id(), 1)
        self.assertEqual(self.hooks.recur(1, 0.0), types.Progress.DONE)
        self.assertEqual(self.recur(a), types.Progress.RUNNING)
        self.assertEqual((a.doer.recurs, c.doer.recurs, d.doer.recurs), (1, 0, 1))
        self.assertEqual(self.enter().id(), 3)
        # A failed enter takes no number.
        with self.assertRaises(Err):
            self.Doer.enter(opts(mode="enter"))
        self.assertEqual(self.enter().id(), 4)

    def test_recur_with_a_number_no_doer_holds_fails(self):
        self.assertEqual(self.hooks.recur(0, 0.0), types.Progress.FAILED)
        a = self.enter()
        for n in (1, 7, 2**32 - 1):
            self.assertEqual(self.hooks.recur(n, 0.0), types.Progress.FAILED)
        self.assertEqual(a.doer.recurs, 0)
        a.exit()
        self.assertEqual(self.hooks.recur(0, 0.0), types.Progress.FAILED)

    def test_each_export_numbers_its_own_doers(self):
        a = self.enter()
        hooks, Doer = exported(Boom)
        b = as_handle(Doer.enter(opts(mode="done")))
        self.assertEqual((a.id(), b.id()), (0, 0))
        self.assertEqual(self.recur(a), types.Progress.RUNNING)
        self.assertEqual(hooks.recur(0, 0.0), types.Progress.DONE)

    def test_the_table_keeps_no_exited_doer_alive(self):
        live = [self.enter() for _ in range(3)]
        gone = []
        for d in live:
            gone.append(weakref.ref(d.doer))
            d.exit()
        self.assertEqual([g() for g in gone], [None, None, None])
        self.assertEqual(self.Doer.held, [None, None, None])
        # The next doers take the freed numbers; the table does not grow.
        again = [self.enter() for _ in range(3)]
        self.assertEqual(sorted(d.id() for d in again), [0, 1, 2])
        self.assertEqual(len(self.Doer.held), 3)

    def test_hook_errors_cross_as_err_strings(self):
        with self.assertRaises(Err) as e:
            self.hooks.validate(opts(nope=1))
        self.assertEqual(e.exception.value, "unknown option `nope`: expected one of mode")
        with self.assertRaises(Err) as e:
            self.Doer.enter(opts(mode="enter"))
        self.assertEqual(e.exception.value, "no entry")
        d = self.enter(mode="exit")
        with self.assertRaises(Err) as e:
            d.exit()
        self.assertEqual(e.exception.value, "exit fails")
        # A failed exit frees the number all the same.
        self.assertEqual(self.Doer.held, [None])

    def test_abort_swallows_errors_and_exit_ends_the_doer(self):
        d = self.enter()
        inner = d.doer
        d.abort("why")
        self.assertEqual(inner.aborted, "why")
        exits = Boom.exits
        d.exit()
        self.assertEqual(Boom.exits, exits + 1)
        self.assertIsNone(d.doer)
        # After exit (the host has dropped it) no hook reaches the doer.
        with self.assertRaises(Err) as e:
            d.cease()
        self.assertEqual(e.exception.value, "no doer: it has exited")
        self.assertEqual(self.recur(d), types.Progress.FAILED)
        self.assertEqual(inner.recurs, 0)
        d.exit()
        self.assertEqual(Boom.exits, exits + 1)
        self.assertEqual(self.Doer.free, [0])

    def test_an_exited_resource_is_reused_as_a_new_handle(self):
        a = self.enter()
        a.exit()
        # As componentize-py leaves an owned resource that came back: no
        # handle, finalizer detached; so returning it makes a new handle.
        self.assertEqual(set(vars(a)), {"doer", "failed", "number"})
        b = self.Doer.enter(opts(mode="done"))
        self.assertIs(b, a)
        self.assertEqual((b.doer.mode, b.failed, b.id()), ("done", None, 0))
        self.assertEqual(self.recur(b), types.Progress.DONE)
        # Only once, however often exit comes.
        as_handle(b).exit()
        b.exit()
        self.assertEqual(self.Doer.free, [0])
        self.assertIsNot(self.Doer.enter(opts()), self.Doer.enter(opts()))
        # An exit that fails gives the resource back all the same.
        c = self.enter(mode="exit")
        with self.assertRaises(Err):
            c.exit()
        self.assertIs(self.Doer.enter(opts()), c)

    def test_a_resource_that_never_became_a_handle_is_not_reused(self):
        a = self.Doer.enter(opts())
        a.exit()
        self.assertIsNot(self.Doer.enter(opts()), a)


class Host(unittest.TestCase):
    def setUp(self):
        self.saved = (host_tyme.set_tock, host_log.log, host_decks.push, host_decks.pull)

    def tearDown(self):
        host_tyme.set_tock, host_log.log, host_decks.push, host_decks.pull = self.saved

    def test_set_tock_errors_are_doer_errors(self):
        def refuse(t):
            raise Err("tock must be finite and >= 0, got -1")

        host_tyme.set_tock = refuse
        with self.assertRaises(DoerError) as e:
            tyme.set_tock(-1.0)
        self.assertEqual(str(e.exception), "tock must be finite and >= 0, got -1")

    def test_log_levels(self):
        seen = []
        host_log.log = lambda level, message: seen.append((level, message))
        log.info("a")
        log.trace("b")
        self.assertEqual(seen, [(host_log.Level.INFO, "a"), (host_log.Level.TRACE, "b")])

    def test_deck_refusals_are_deck_errors_with_their_kind(self):
        pushed = []

        def push(deck, item):
            if deck == "full":
                raise Err(host_decks.DeckError.FULL)
            pushed.append((deck, item))

        host_decks.push = push
        decks.push("d", "text")
        self.assertEqual(pushed, [("d", b"text")])
        with self.assertRaises(DeckError) as e:
            decks.push("full", b"x")
        self.assertEqual((e.exception.kind, str(e.exception)), ("full", "full: full"))

        def pull(deck):
            raise Err(host_decks.DeckError.NOT_GRANTED)

        host_decks.pull = pull
        with self.assertRaises(DeckError) as e:
            decks.pull("secret")
        self.assertEqual(str(e.exception), "secret: not-granted")


if __name__ == "__main__":
    unittest.main()
