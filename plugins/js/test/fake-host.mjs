// A fake of the host's tyme, log and decks interfaces: each call goes to
// the function a test put in `host`, else is recorded and answered plainly.
// The loader gives each interface its own URL of this file, so they share
// `host` through a global.
globalThis.hioFakeHost ??= { calls: [] };
export const host = globalThis.hioFakeHost;

const call = (name, args, fallback) => {
  host.calls.push([name, ...args]);
  return name in host ? host[name](...args) : fallback;
};

export const now = () => call('now', [], 0);
export const tock = () => call('tock', [], 0);
export const setTock = (t) => call('setTock', [t]);
export const log = (level, message) => call('log', [level, message]);
export const push = (deck, item) => call('push', [deck, item]);
export const pull = (deck) => call('pull', [deck]);
