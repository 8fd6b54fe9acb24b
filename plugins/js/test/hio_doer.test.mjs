// Unit tests of the JavaScript SDK layer under plain Node.js, the host's
// interfaces faked (loader.mjs), from plugins/js:
//   node --import ./test/loader.mjs --test test/hio_doer.test.mjs
// (host/hio/tests/languages.rs runs them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { host } from './fake-host.mjs';
import {
  DeckError,
  Doer,
  DoerError,
  Options,
  decks,
  exportDoer,
  log,
  number,
  tyme,
} from '../hio_doer.js';

const scalar = (v) => {
  if (typeof v === 'boolean') return { tag: 'boolean', val: v };
  if (typeof v === 'bigint') return { tag: 'integer', val: v };
  if (typeof v === 'number') return { tag: 'float', val: v };
  return { tag: 'text', val: v };
};
const opts = (o) =>
  Object.entries(o).map(([k, v]) => [
    k,
    Array.isArray(v) ? { tag: 'list', val: v.map(scalar) } : { tag: 'scalar', val: scalar(v) },
  ]);

test('floats print as Rust prints them', () => {
  const cases = [
    [3, '3'],
    [-1, '-1'],
    [1.5, '1.5'],
    [1e-7, '0.0000001'],
    [1e21, '1000000000000000000000'],
    [0.30000000000000004, '0.30000000000000004'],
    [-0, '-0'],
    [5e-324, '0.' + '0'.repeat(323) + '5'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'NaN'],
  ];
  for (const [v, want] of cases) assert.equal(number(v), want, String(v));
});

test('getters and their errors name the option', () => {
  const o = new Options(opts({ n: 3n, big: 2n ** 60n, f: 1.5, b: true, s: 'x', l: ['a'], bad: [1n] }));
  assert.equal(o.integer('n'), 3);
  assert.equal(o.bigint('big'), 2n ** 60n);
  assert.equal(o.float('n'), 3);
  assert.equal(o.float('f'), 1.5);
  assert.equal(o.boolean('b'), true);
  assert.equal(o.text('s'), 'x');
  assert.deepEqual(o.texts('l'), ['a']);
  assert.equal(o.integer('missing'), undefined);
  for (const [f, message] of [
    [() => o.integer('b'), 'option `b` must be an integer, not a boolean'],
    [() => o.integer('big'), "option `big` is beyond a JavaScript number's exact range"],
    [() => o.float('s'), 'option `s` must be a number, not a string'],
    [() => o.text('l'), 'option `l` must be a string, not a list'],
    [() => o.texts('n'), 'option `n` must be a list of strings, not an integer'],
    [() => o.texts('bad'), 'option `bad` must be a list of strings, but holds an integer'],
  ]) {
    assert.throws(f, (e) => e instanceof DoerError && e.message === message);
  }
  assert.throws(
    () => new Options(opts({ a: 1n, zz: 2n })).only(['a', 'b']),
    { message: 'unknown option `zz`: expected one of a, b' },
  );
  assert.throws(() => new Options(opts({ a: 1n })).only([]), {
    message: 'unknown option `a`: this doer takes no options',
  });
});

class Boom extends Doer {
  static OPTIONS = ['mode'];
  constructor(options) {
    super(options);
    this.mode = options.text('mode') ?? 'ok';
    if (this.mode === 'enter') throw new DoerError('no entry');
  }
  recur() {
    if (this.mode === 'type') throw new TypeError('boom');
    if (this.mode === 'doer') throw new DoerError('fails on purpose');
    return this.mode === 'done';
  }
  abort(reason) {
    Boom.lastAbort = reason;
    throw new Error('abort has no error to give');
  }
}

const hooks = exportDoer(Boom);
const entered = (o) => hooks.Doer.enter(opts(o));
// What the host does each tick: recur by the id it asked once after enter.
const recur = (h, tyme) => hooks.recur(h.id(), tyme);

test('the hooks are validate, recur and the resource class Doer', () => {
  assert.deepEqual(Object.keys(hooks).sort(), ['Doer', 'recur', 'validate']);
  assert.equal(typeof hooks.Doer.enter, 'function');
  assert.equal(typeof hooks.recur, 'function');
  const d = entered({});
  assert.ok(d instanceof hooks.Doer, 'enter gives an object of the exported class');
  for (const m of ['id', 'failure', 'clean', 'cease', 'abort', 'exit']) {
    assert.equal(typeof d[m], 'function', m);
  }
  assert.equal(d.recur, undefined, 'recur is no method');
  d.exit();
});

test('recur maps to progress and failure gives the reason', () => {
  const live = [];
  const enter = (o) => {
    const h = entered(o);
    live.push(h);
    return h;
  };
  assert.equal(recur(enter({}), 0), 'running');
  assert.equal(recur(enter({ mode: 'done' }), 0), 'done');
  let h = enter({ mode: 'doer' });
  assert.equal(recur(h, 0), 'failed');
  assert.equal(h.failure(), 'fails on purpose');
  assert.equal(h.failure(), 'recur failed and gave no reason');
  h = enter({ mode: 'type' });
  assert.equal(recur(h, 0), 'failed');
  assert.equal(h.failure(), 'TypeError: boom');
  for (const d of live) d.exit();
});

class Tally extends Doer {
  static OPTIONS = ['stop', 'fail_at'];
  constructor(options) {
    super(options);
    this.stop = options.integer('stop');
    this.failAt = options.integer('fail_at');
    this.count = 0;
  }
  recur() {
    this.count += 1;
    if (this.count === this.failAt) throw new DoerError(`fail_at ${this.count}`);
    return this.count >= this.stop;
  }
}

test('ids are small, unique among live doers, fixed, and reused after exit', () => {
  const h = exportDoer(Tally);
  const enter = () => h.Doer.enter(opts({ stop: 100n }));
  const a = enter();
  const b = enter();
  const c = enter();
  assert.deepEqual([a.id(), b.id(), c.id()], [0, 1, 2]);
  assert.equal(a.id(), 0, 'the same each time');
  // a failed enter takes no id
  assert.throws(() => h.Doer.enter(opts({ nope: 1n })));
  b.exit();
  const d = enter();
  assert.equal(d.id(), 1, 'the exited doer\'s id is reused');
  assert.equal(h.recur(1, 0), 'running');
  assert.equal(d.failure(), 'recur failed and gave no reason');
  const e = enter();
  assert.equal(e.id(), 3);
  assert.equal(new Set([a, c, d, e].map((x) => x.id())).size, 4);
  // ids no doer holds fail, and give no doer's failure
  for (const id of [4, 99, 2 ** 32 - 1]) assert.equal(h.recur(id, 0), 'failed', String(id));
  for (const x of [a, c, d, e]) x.exit();
  for (const id of [0, 1, 2, 3]) assert.equal(h.recur(id, 0), 'failed', String(id));
  // each exportDoer numbers its own doers
  const other = exportDoer(Boom).Doer.enter(opts({}));
  assert.equal(other.id(), 0);
  other.exit();
});

test('an exited doer is not kept: its id no longer reaches it', () => {
  let exited = 0;
  class Once extends Doer {
    recur() {
      return false;
    }
    exit() {
      exited += 1;
    }
  }
  const h = exportDoer(Once);
  for (let i = 0; i < 1000; i += 1) {
    const d = h.Doer.enter([]);
    assert.equal(d.id(), 0, 'one live doer at a time keeps id 0');
    assert.equal(h.recur(0, i), 'running');
    d.exit();
    assert.equal(h.recur(0, i), 'failed');
  }
  assert.equal(exited, 1000);
});

test('one module holds many doers, each with its own state and failure', () => {
  const h = exportDoer(Tally);
  const a = h.Doer.enter(opts({ stop: 3n, fail_at: 2n }));
  const b = h.Doer.enter(opts({ stop: 3n, fail_at: 3n }));
  const c = h.Doer.enter(opts({ stop: 1n }));
  const [ia, ib, ic] = [a.id(), b.id(), c.id()];
  assert.equal(h.recur(ia, 0), 'running');
  assert.equal(h.recur(ib, 0), 'running');
  assert.equal(h.recur(ic, 0), 'done');
  assert.equal(h.recur(ia, 1), 'failed');
  assert.equal(h.recur(ib, 1), 'running');
  assert.equal(h.recur(ib, 2), 'failed');
  assert.equal(c.failure(), 'recur failed and gave no reason');
  assert.equal(a.failure(), 'fail_at 2');
  assert.equal(b.failure(), 'fail_at 3');
  c.clean();
  c.exit();
  // the others go on after one exits, and a doer entered later starts afresh
  a.abort('fail_at 2');
  a.exit();
  const d = h.Doer.enter(opts({ stop: 2n }));
  const id = d.id();
  assert.equal(h.recur(id, 0), 'running');
  assert.equal(h.recur(id, 1), 'done');
  b.abort('fail_at 3');
  b.exit();
  d.clean();
  d.exit();
});

test('hook errors cross as strings; after exit the hooks say so', () => {
  assert.throws(() => hooks.validate(opts({ nope: 1n })), (e) => e === 'unknown option `nope`: expected one of mode');
  assert.throws(() => hooks.Doer.enter(opts({ mode: 'enter' })), (e) => e === 'no entry');
  const h = entered({});
  const id = h.id();
  h.exit();
  assert.equal(h.id(), id, 'the id is fixed even after exit');
  assert.equal(hooks.recur(id, 0), 'failed');
  assert.equal(h.failure(), 'no doer: it exited');
  assert.throws(() => h.clean(), (e) => e === 'no doer: it exited');
  assert.throws(() => h.exit(), (e) => e === 'no doer: it exited');
});

test('abort swallows errors and exit ends the doer', () => {
  const h = entered({});
  h.abort('why');
  assert.equal(Boom.lastAbort, 'why');
  h.exit();
  assert.throws(() => h.cease(), (e) => e === 'no doer: it exited');
});

test('the host calls: set-tock errors, log levels, deck refusals', () => {
  host.setTock = () => {
    throw { payload: 'tock must be finite and >= 0, got -1' };
  };
  assert.throws(() => tyme.setTock(-1), (e) => e instanceof DoerError && e.message === 'tock must be finite and >= 0, got -1');
  delete host.setTock;
  host.calls.length = 0;
  log.info('a');
  log.trace('b');
  assert.deepEqual(host.calls, [
    ['log', 'info', 'a'],
    ['log', 'trace', 'b'],
  ]);
  host.push = (deck) => {
    if (deck === 'full') throw { payload: 'full' };
  };
  decks.push('d', 'text');
  assert.throws(
    () => decks.push('full', new Uint8Array([1])),
    (e) => e instanceof DeckError && e.kind === 'full' && e.message === 'full: full',
  );
  host.pull = () => {
    throw { payload: 'not-granted' };
  };
  assert.throws(() => decks.pull('secret'), { message: 'secret: not-granted' });
});
