// The recorder doer in JavaScript: the same options and behaviour as the
// Rust recorder (plugins/recorder), so either serves in any manifest. It
// counts its recurs; the host writes the trace. Options: `stop` (integer
// >= 0, default 3), `fail_at` (integer >= 1), `tock` (number >= 0, set at
// enter), `retock_at` (integer >= 1) with `retock` (number >= 0).
import { Doer, DoerError, exportDoer, number, tyme } from './hio_doer.js';

function atLeast(options, name, low) {
  const v = options.bigint(name);
  if (v !== undefined && v < BigInt(low)) {
    throw new DoerError(`option \`${name}\` must be >= ${low}, got ${v}`);
  }
  return v;
}

function tock(options, name) {
  const v = options.float(name);
  if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
    throw new DoerError(`option \`${name}\` must be a finite number >= 0, got ${number(v)}`);
  }
  return v;
}

class Recorder extends Doer {
  static OPTIONS = ['stop', 'fail_at', 'tock', 'retock_at', 'retock'];

  static validate(options) {
    Recorder.parse(options);
  }

  static parse(options) {
    options.only(Recorder.OPTIONS);
    const stop = atLeast(options, 'stop', 0) ?? 3n;
    const failAt = atLeast(options, 'fail_at', 1);
    const start = tock(options, 'tock');
    const retockAt = atLeast(options, 'retock_at', 1);
    const retock = tock(options, 'retock');
    if (retockAt !== undefined && retock === undefined) {
      throw new DoerError('option `retock_at` needs `retock`');
    }
    if (retockAt === undefined && retock !== undefined) {
      throw new DoerError('option `retock` needs `retock_at`');
    }
    return { stop, failAt, retockAt, retock, start };
  }

  constructor(options) {
    super(options);
    Object.assign(this, Recorder.parse(options));
    this.count = 0n;
    if (this.start !== undefined) tyme.setTock(this.start);
  }

  recur(_tyme) {
    this.count += 1n;
    if (this.retockAt === this.count) tyme.setTock(this.retock);
    if (this.failAt === this.count) throw new DoerError(`fail_at ${this.count}`);
    return this.count > this.stop;
  }
}

export const hooks = exportDoer(Recorder);
