"""Unit tests of the Python SDK layer, run by CPython outside any component:
the host's imports are replaced by fakes. host/hio/tests/languages.rs runs
them with the bindings componentize-py generates for the doer world on
the path."""

import unittest

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

    def __init__(self, options):
        super().__init__(options)
        self.mode = options.text("mode", "ok")
        if self.mode == "enter":
            raise DoerError("no entry")
        self.aborted = None

    def recur(self, tyme):
        if self.mode == "value":
            raise ValueError("boom")
        if self.mode == "doer":
            raise DoerError("fails on purpose")
        return self.mode == "done"

    def abort(self, reason):
        Boom.last_abort = reason
        raise RuntimeError("abort has no error to give")


class Hooks(unittest.TestCase):
    def world(self, **kv):
        w = export(Boom)()
        w.enter(opts(**kv))
        return w

    def test_recur_maps_to_progress_and_failure_gives_the_reason(self):
        self.assertEqual(self.world().recur(0.0), types.Progress.RUNNING)
        self.assertEqual(self.world(mode="done").recur(0.0), types.Progress.DONE)
        w = self.world(mode="doer")
        self.assertEqual(w.recur(0.0), types.Progress.FAILED)
        self.assertEqual(w.failure(), "fails on purpose")
        self.assertEqual(w.failure(), "recur failed and gave no reason")
        w = self.world(mode="value")
        self.assertEqual(w.recur(0.0), types.Progress.FAILED)
        self.assertEqual(w.failure(), "ValueError: boom")

    def test_hook_errors_cross_as_err_strings(self):
        w = export(Boom)()
        with self.assertRaises(Err) as e:
            w.validate(opts(nope=1))
        self.assertEqual(e.exception.value, "unknown option `nope`: expected one of mode")
        with self.assertRaises(Err) as e:
            w.enter(opts(mode="enter"))
        self.assertEqual(e.exception.value, "no entry")
        # No instance: the other hooks say so.
        self.assertEqual(w.recur(0.0), types.Progress.FAILED)
        self.assertEqual(w.failure(), "no instance: enter did not succeed")
        with self.assertRaises(Err) as e:
            w.clean()
        self.assertEqual(e.exception.value, "no instance: enter did not succeed")

    def test_abort_swallows_errors_and_exit_ends_the_instance(self):
        w = self.world()
        w.abort("why")
        self.assertEqual(Boom.last_abort, "why")
        w.exit()
        with self.assertRaises(Err):
            w.cease()


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
