"""Python hio's WSGI server answering hello, the peer of bench/http/run.sh.

Usage: hello_wsgi.py HOST PORT [--tock SECONDS]

Runs hio.core.http.serving.Server (alias WsgiServer, hio 0.7.20) under a
hio.core.http.serving.ServerDoer in a hio.base.doing.Doist with real=True
and tock 0.001 s (each tick lasts at least 1 ms of wall time; a tick that
runs late is not slept after), until killed (SIGTERM or SIGINT end it
cleanly, closing its sockets). PORT 0 picks a free port. Prints
"listening HOST PORT" on stdout once bound.

The app answers GET / (and HEAD /) with 200, Content-Type: text/plain and
the body "hello\\n", anything else with 404. It gives Content-Length, so
the response is neither chunked nor held for a second tick: hio's Responder
takes one item from the app's iterator per tick, and only a Content-Length
that has been reached ends a response in the tick that wrote it.

Keep-alive: hio keeps an HTTP/1.1 connection open unless the request says
"Connection: close" (an HTTP/1.0 one only with "Connection: keep-alive"),
and a persisted connection never times out. A request is read, parsed,
answered and sent in one tick.
"""

import argparse
import signal
import socket
import sys

from hio.base import doing
from hio.core.http import serving

BODY = b"hello\n"


def hello(environ, start_response):
    """The WSGI app: hello on /, 404 elsewhere."""
    method = environ["REQUEST_METHOD"]
    if environ["PATH_INFO"] == "/" and method in ("GET", "HEAD"):
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(BODY)))])
        return [BODY] if method == "GET" else [b""]
    body = b"not found\n"
    start_response("404 Not Found", [("Content-Type", "text/plain"),
                                     ("Content-Length", str(len(body)))])
    return [body]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--tock", type=float, default=0.001)
    args = parser.parse_args()

    port = args.port
    if port == 0:
        # hio's http Server turns port 0 into 80, and its TCP server checks
        # each accepted socket against the port it was made with: pick one.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((args.host, 0))
            port = probe.getsockname()[1]

    server = serving.Server(app=hello, host=args.host, port=port)
    if not server.reopen():  # binds now, so that a bad address fails here
        print(f"hello_wsgi.py: cannot listen on {args.host}:{port}", file=sys.stderr)
        return 1
    print(f"listening {args.host} {port}", flush=True)

    # ServerDoer.enter reopens on the same address (SO_REUSEADDR).
    doer = serving.ServerDoer(server=server, tock=0.0)
    doist = doing.Doist(real=True, tock=args.tock, doers=[doer])

    def stop(_signum, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        doist.do()  # until killed; exits the doer (closes sockets) on the way out
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
