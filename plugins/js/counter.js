// A template for a JavaScript doer: copy this file, rename the class, and
// build it with
//   node plugins/js/tools.mjs componentize counter.js wit doer counter.wasm
// (the module imports ./hio_doer.js, so keep it beside that file; use world
// `http-doer` for a doer that serves or makes HTTP requests).
//
// It counts its recurs and logs each; done after `stop` (default 3).
import { Doer, DoerError, exportDoer, log, number, tyme } from './hio_doer.js';

class Counter extends Doer {
  static OPTIONS = ['stop']; // any other option is refused

  static validate(options) {
    // before anything runs: refuse bad options
    new Counter(options);
  }

  constructor(options) {
    // the enter hook
    super(options);
    this.stop = options.integer('stop') ?? 3;
    if (this.stop < 0) throw new DoerError(`option \`stop\` must be >= 0, got ${this.stop}`);
    this.count = 0;
  }

  recur(now) {
    // once per due tick; true: done
    this.count += 1;
    log.info(`count ${this.count} at tyme ${number(now)} (tock ${number(tyme.tock())})`);
    return this.count >= this.stop;
  }
}

export const hooks = exportDoer(Counter);
