// Resolves the host's interfaces (`hio:doer/<name>@<version>`) to the fakes
// in this folder, so the SDK layer runs under plain Node.js in its tests.
import { register } from 'node:module';

export async function resolve(specifier, context, next) {
  const m = /^hio:doer\/([a-z-]+)@/.exec(specifier);
  if (m) return { url: new URL(`./fake-host.mjs?${m[1]}`, import.meta.url).href, shortCircuit: true };
  return next(specifier, context);
}

if (!import.meta.url.includes('?hooks')) register(`${import.meta.url}?hooks`);
