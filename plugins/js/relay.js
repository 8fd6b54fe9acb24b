// A deck doer in JavaScript: each tick it takes items from deck `from`,
// appends ` <tag>` and pushes them onto deck `to`, at most `rate` a tick.
// A full `to` deck is back pressure: the item waits in hand for a later
// tick and nothing is lost. Done once it has passed on `count` items.
// Options: `from` (default "in"), `to` (default "out"), `tag` (default
// "js"), `count` (integer >= 0, default 10), `rate` (integer >= 1,
// default 1).
import { DeckError, Doer, DoerError, decks, exportDoer, log } from './hio_doer.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

class Relay extends Doer {
  static OPTIONS = ['from', 'to', 'tag', 'count', 'rate'];

  static validate(options) {
    new Relay(options);
  }

  constructor(options) {
    super(options);
    this.source = options.text('from') ?? 'in';
    this.sink = options.text('to') ?? 'out';
    this.tag = options.text('tag') ?? 'js';
    this.count = options.integer('count') ?? 10;
    this.rate = options.integer('rate') ?? 1;
    if (this.count < 0 || this.rate < 1) {
      throw new DoerError('options `count` >= 0 and `rate` >= 1');
    }
    this.passed = 0;
    this.held = undefined;
  }

  recur(_tyme) {
    for (let i = 0; i < this.rate && this.passed < this.count; i++) {
      if (this.held === undefined) {
        const item = decks.pull(this.source);
        if (item === undefined) break;
        const tag = encoder.encode(' ' + this.tag);
        this.held = new Uint8Array(item.length + tag.length);
        this.held.set(item);
        this.held.set(tag, item.length);
      }
      try {
        decks.push(this.sink, this.held);
      } catch (e) {
        if (!(e instanceof DeckError) || e.kind !== 'full') throw e;
        log.debug(`${this.sink} full, ${decoder.decode(this.held)} waits`);
        break;
      }
      log.info(`passed ${decoder.decode(this.held)}`);
      this.held = undefined;
      this.passed += 1;
    }
    return this.passed === this.count;
  }
}

export const hooks = exportDoer(Relay);
