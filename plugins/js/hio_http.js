// HTTP for JavaScript doers of hio's `http-doer` world (componentize them
// with world `http-doer`): the host's server and requests, with errors as
// DoerErrors that read as the Rust SDK's.
import { Server } from 'hio:doer/http@0.4.1';
import { DoerError } from './hio_doer.js';

const NET_ERROR = {
  'not-granted': 'not granted',
  'bad-address': 'bad address',
  limit: 'limit reached',
  io: 'i/o error',
};

const encoder = new TextEncoder();

// A `net-error` ({tag, val}, or an error carrying one as its payload) as
// text: `not granted: ...`, `i/o error: ...`.
export function netError(e) {
  const v = e && typeof e === 'object' && 'payload' in e ? e.payload : e;
  return v && v.tag in NET_ERROR ? `${NET_ERROR[v.tag]}: ${v.val}` : String(v);
}

// A server on granted address `addr` (HTTPS with the doer's granted
// certificate when `tls`); throws a DoerError naming the address.
export function listen(addr, tls = false) {
  try {
    return tls ? Server.listenTls(addr) : Server.listen(addr);
  } catch (e) {
    throw new DoerError(`cannot serve on ${addr}: ${netError(e)}`);
  }
}

const bytes = (v) => (typeof v === 'string' ? encoder.encode(v) : v);

// Answers `request` with a whole body (a Uint8Array or a string) and ends
// it; throws a DoerError when the connection is gone.
export function reply(request, status, headers, body) {
  const data = bytes(body);
  try {
    request.respond(
      status,
      headers.map(([k, v]) => [k, bytes(v)]),
      BigInt(data.length),
    );
    if (request.write(data) !== data.length) throw new DoerError('the connection took no body');
    request.finish([]);
  } catch (e) {
    if (e instanceof DoerError) throw e;
    throw new DoerError(e && typeof e === 'object' && 'payload' in e ? String(e.payload) : String(e));
  }
}

// The key of a resource's dispose method in componentize-js's bindings
// (StarlingMonkey may have no Symbol.dispose).
const dispose = Symbol.dispose || Symbol.for('dispose');

// Gives a host handle (a request, a server) back at once rather than when
// the garbage collector finds it: a request that is kept holds its
// connection, and a doer's connections are limited.
export function release(handle) {
  handle[dispose]?.();
}

// The first value of header `name` (any case) in `fields`, or undefined.
export function field(fields, name) {
  const want = name.toLowerCase();
  const found = fields.find(([k]) => k.toLowerCase() === want);
  return found === undefined ? undefined : found[1];
}
