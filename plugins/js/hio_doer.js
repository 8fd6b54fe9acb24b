// hio's guest SDK for JavaScript doers (componentize-js).
//
// A doer is a class derived from Doer; the module componentize-js builds
// exports its hooks with `export const hooks = exportDoer(TheDoer)`:
//
//   import { Doer, exportDoer } from './hio_doer.js';
//
//   class Counter extends Doer {
//     static OPTIONS = ['stop'];
//     constructor(options) {          // the enter hook
//       super(options);
//       this.stop = options.integer('stop') ?? 3;
//       this.count = 0;
//     }
//     recur(tyme) {                   // true: done
//       this.count += 1;
//       return this.count > this.stop;
//     }
//   }
//   export const hooks = exportDoer(Counter);
//
// `exportDoer` gives the interface `hooks` of hio:doer@0.4.1: the
// functions `validate` (the class's static `validate`) and `recur`, and the
// resource `doer` (the class `hooks.Doer`), whose static `enter` constructs
// a new TheDoer and whose methods `failure`, `clean`, `cease`, `abort` and
// `exit` call that object's. One instance may hold many doers: the host
// calls `enter` once per doer and each later hook on that doer's own
// handle, so a doer keeps its state on `this`, never in module globals
// (the reason of a failed `recur`, which `failure` gives, is kept per doer
// too). Each doer gets a small number at `enter`, which its method `id`
// gives: `recur(id, tyme)` runs that doer's `recur` (a function, not a
// method, as a method call costs the host a handle lend on every tick).
// `exit` frees the number for a later doer, and the host drops the handle.
//
// Any hook fails by throwing: a DoerError's message is the reason as it is;
// any other error gives its name and message. `tyme`, `log` and `decks`
// wrap the host's imports with the same errors; while a hook runs they act
// for the doer it was called on.
import * as hostTyme from 'hio:doer/tyme@0.4.1';
import * as hostLog from 'hio:doer/log@0.4.1';
import * as hostDecks from 'hio:doer/decks@0.4.1';

export class DoerError extends Error {}

// A float as the Rust SDK's messages print it: no exponent, no trailing
// `.0`, so an error message reads the same in every language.
export function number(v) {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  if (Object.is(v, -0)) return '-0';
  const text = String(v);
  const e = text.indexOf('e');
  if (e < 0) return text;
  const negative = text.startsWith('-');
  const mantissa = text.slice(negative ? 1 : 0, e);
  const exp = Number(text.slice(e + 1));
  const digits = mantissa.replace('.', '');
  const point = (mantissa.indexOf('.') < 0 ? mantissa.length : mantissa.indexOf('.')) + exp;
  let out;
  if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = digits.slice(0, point) + '.' + digits.slice(point);
  return (negative ? '-' : '') + out;
}

function kind(v) {
  if (v.tag === 'list') return 'a list';
  return { boolean: 'a boolean', integer: 'an integer', float: 'a float', text: 'a string' }[
    v.val.tag
  ];
}

// The options table the manifest gives a doer, in its key order, with
// typed getters whose errors name the option (undefined when absent).
export class Options {
  constructor(pairs) {
    this.pairs = pairs;
  }

  // The raw value of `name` ({tag, val}), or undefined.
  get(name) {
    const pair = this.pairs.find(([key]) => key === name);
    return pair === undefined ? undefined : pair[1];
  }

  has(name) {
    return this.get(name) !== undefined;
  }

  // Fails naming the first option not in `allowed`.
  only(allowed) {
    for (const [key] of this.pairs) {
      if (allowed.includes(key)) continue;
      if (allowed.length === 0) {
        throw new DoerError(`unknown option \`${key}\`: this doer takes no options`);
      }
      throw new DoerError(`unknown option \`${key}\`: expected one of ${allowed.join(', ')}`);
    }
  }

  scalar(name, tags, what) {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (v.tag === 'scalar' && tags.includes(v.val.tag)) return v.val.val;
    throw new DoerError(`option \`${name}\` must be ${what}, not ${kind(v)}`);
  }

  // An integer as a BigInt (the option is a 64-bit integer).
  bigint(name) {
    return this.scalar(name, ['integer'], 'an integer');
  }

  // An integer as a Number; one beyond 2^53 is refused.
  integer(name) {
    const v = this.bigint(name);
    if (v === undefined) return undefined;
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new DoerError(`option \`${name}\` is beyond a JavaScript number's exact range`);
    }
    return Number(v);
  }

  // A number; an integer is accepted.
  float(name) {
    const v = this.scalar(name, ['float', 'integer'], 'a number');
    return v === undefined ? undefined : Number(v);
  }

  boolean(name) {
    return this.scalar(name, ['boolean'], 'a boolean');
  }

  text(name) {
    return this.scalar(name, ['text'], 'a string');
  }

  // A list of strings (`[]` is an empty list).
  texts(name) {
    const v = this.get(name);
    if (v === undefined) return undefined;
    if (v.tag !== 'list') {
      throw new DoerError(`option \`${name}\` must be a list of strings, not ${kind(v)}`);
    }
    return v.val.map((item) => {
      if (item.tag !== 'text') {
        const held = kind({ tag: 'scalar', val: item });
        throw new DoerError(`option \`${name}\` must be a list of strings, but holds ${held}`);
      }
      return item.val;
    });
  }
}

// A doer. The constructor is the enter hook and recur(tyme) runs once per
// due tick (true: done); every other hook has a default. (The host calls
// recur by the doer's id; exportDoer finds the object, so a doer need not
// know its id.)
export class Doer {
  static OPTIONS = [];

  // Checks options before anything runs; throw to refuse them.
  static validate(options) {
    options.only(this.OPTIONS);
  }

  constructor(options) {
    options.only(this.constructor.OPTIONS);
  }

  recur(_tyme) {
    throw new DoerError(`${this.constructor.name} does not define recur`);
  }

  clean() {}

  cease() {}

  abort(_reason) {}

  exit() {}
}

function reason(e) {
  if (e instanceof DoerError) return e.message;
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  if (e && typeof e === 'object' && 'payload' in e) return String(e.payload);
  return String(e);
}

// Runs f, turning anything thrown into the hook's error (a string).
function hook(f) {
  try {
    return f();
  } catch (e) {
    throw reason(e);
  }
}

// The `hooks` interface componentize-js exports, driving `DoerClass`: the
// functions `validate` and `recur`, and the resource `doer` as the class
// `Doer`, one object of it per doer the host enters, holding that doer's
// state. `recur` finds the doer by its id in an array; an id is freed at
// exit and reused by a later enter, so the ids stay small.
export function exportDoer(DoerClass) {
  const gone = 'no doer: it exited';
  // The live doers' handles by id; a hole where an id is free.
  const held = [];
  // The ids exits freed, for the next enters.
  const free = [];
  let recur;

  class Handle {
    // The DoerClass object; undefined once exit ran.
    #doer;
    // Its number in `held`, fixed for its life.
    #id;
    // The reason of the last failed recur, until failure takes it.
    #failed;

    constructor(doer) {
      this.#doer = doer;
      this.#id = free.length > 0 ? free.pop() : held.length;
      held[this.#id] = this;
    }

    static enter(options) {
      return new Handle(hook(() => new DoerClass(new Options(options))));
    }

    static {
      // The call made every tick: one array index, no closure made, nothing
      // thrown unless the doer's recur throws. (In a static block, so it
      // reads the handles' private fields.)
      recur = (id, tyme) => {
        const h = held[id];
        if (h === undefined) return 'failed';
        try {
          return h.#doer.recur(tyme) ? 'done' : 'running';
        } catch (e) {
          h.#failed = reason(e);
          return 'failed';
        }
      };
    }

    id() {
      return this.#id;
    }

    #with(f) {
      const d = this.#doer;
      if (d === undefined) throw gone;
      hook(() => f(d));
    }

    failure() {
      // After exit, recur by this doer's id found no doer.
      const r = this.#failed ?? (this.#doer === undefined ? gone : 'recur failed and gave no reason');
      this.#failed = undefined;
      return r;
    }

    clean() {
      this.#with((d) => d.clean());
    }

    cease() {
      this.#with((d) => d.cease());
    }

    abort(why) {
      const d = this.#doer;
      if (d === undefined) return;
      try {
        d.abort(why);
      } catch (_) {
        // abort has no error to give
      }
    }

    exit() {
      const d = this.#doer;
      if (d === undefined) throw gone;
      this.#doer = undefined;
      held[this.#id] = undefined;
      free.push(this.#id);
      hook(() => d.exit());
    }
  }
  return {
    validate(options) {
      hook(() => DoerClass.validate(new Options(options)));
    },
    recur,
    Doer: Handle,
  };
}

// Simulated time; it does not advance inside a hook.
export const tyme = {
  now: () => hostTyme.now(),
  tock: () => hostTyme.tock(),
  // Sets this doer's tock (the one after recur returns counts).
  setTock(tock) {
    try {
      hostTyme.setTock(tock);
    } catch (e) {
      throw new DoerError(reason(e));
    }
  },
};

// The host log; the host tags each line with the tyme and the doer.
export const log = Object.fromEntries(
  ['error', 'warn', 'info', 'debug', 'trace'].map((level) => [
    level,
    (message) => hostLog.log(level, message),
  ]),
);

// Why a deck refused: `kind` is full, too-large, not-granted or
// unknown-deck.
export class DeckError extends DoerError {
  constructor(deck, kind) {
    super(`${deck}: ${kind}`);
    this.deck = deck;
    this.kind = kind;
  }
}

const encoder = new TextEncoder();

// Named, bounded FIFO queues between doers, as the manifest grants.
export const decks = {
  // Appends item (a Uint8Array or a string); throws DeckError (kind
  // `full` when the deck holds its capacity).
  push(deck, item) {
    const bytes = typeof item === 'string' ? encoder.encode(item) : item;
    try {
      hostDecks.push(deck, bytes);
    } catch (e) {
      throw new DeckError(deck, reason(e));
    }
  },
  // The oldest item as a Uint8Array, or undefined when the deck is empty.
  pull(deck) {
    try {
      return hostDecks.pull(deck);
    } catch (e) {
      throw new DeckError(deck, reason(e));
    }
  },
  // Why this doer's last push on deck was refused, in words (a remote
  // deck's server unreachable, and why), or undefined once a push is taken.
  refusal(deck) {
    return hostDecks.refusal(deck);
  },
};
