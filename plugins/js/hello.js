// An HTTP hello server in JavaScript: answers `GET /` (and `HEAD /`) with
// 200 and `hello\n`, anything else with 404, as the Rust hello does.
// Options: `addr` (default `127.0.0.1:8080`), `tls` (default false: HTTPS
// with the granted certificate). Never done. Build with world `http-doer`.
import { Doer, DoerError, exportDoer, log } from './hio_doer.js';
import { listen, release, reply } from './hio_http.js';

class Hello extends Doer {
  static OPTIONS = ['addr', 'tls'];

  constructor(options) {
    super(options);
    const addr = options.text('addr') ?? '127.0.0.1:8080';
    this.server = listen(addr, options.boolean('tls') ?? false);
    log.debug(`listening on ${this.server.address()}`);
  }

  recur(_tyme) {
    for (let request; (request = this.server.next()) !== undefined; ) {
      const found = request.target() === '/';
      const [status, body] = found ? [200, 'hello\n'] : [404, 'not found\n'];
      try {
        reply(request, status, [['content-type', 'text/plain']], body);
      } catch (why) {
        if (!(why instanceof DoerError)) throw why;
        // A client that went away is no failure of the server.
        log.debug(`${request.method()} ${request.target()}: not answered: ${why.message}`);
      } finally {
        release(request);
      }
    }
    return false;
  }
}

export const hooks = exportDoer(Hello);
