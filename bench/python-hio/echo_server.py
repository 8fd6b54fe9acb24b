"""Python hio's TCP echo server, the peer of host/hio/benches/echo.rs.

Usage: echo_server.py HOST PORT [--tock SECONDS] [--no-reap]

Runs hio.core.tcp.serving.EchoServerDoer (hio 0.7.20) over a
hio.core.tcp.serving.Server under a hio.base.doing.Doist with real=True and
tock 0.001 s (each tick lasts at least 1 ms of wall time, a tick that runs
late is not slept after), until killed (SIGTERM or SIGINT end it cleanly).
PORT 0 picks a free port. Prints "listening HOST PORT" on stdout once bound.

One change from the stock doer, which --no-reap turns off: stock
EchoServerDoer never removes a connection that the peer closed (its Remoter
is only marked `cutoff`), so every closed connection keeps its socket open
and is walked on every tick forever; the connections-per-second phase of the
benchmark would then measure a server slowing down with every connection it
has ever seen. By default each tick after the stock recur removes (and
closes) the remoters marked cutoff, through Server.removeIx.

Like stock hio, a peer's half-close (shutdown of its write side) marks the
connection cutoff and any echo not yet sent is dropped, so the benchmark's
clients read every byte back before they close.
"""

import argparse
import signal
import sys

from hio.base import doing
from hio.core.tcp import serving


class ReapingEchoServerDoer(serving.EchoServerDoer):
    """EchoServerDoer that also drops the connections the peer closed."""

    def recur(self, tyme):
        super().recur(tyme)
        server = self.server
        for ca in [ca for ca, ix in server.ixes.items() if ix.cutoff]:
            server.removeIx(ca)  # closes its socket


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--tock", type=float, default=0.001)
    parser.add_argument("--no-reap", action="store_true")
    args = parser.parse_args()

    server = serving.Server(host=args.host, port=args.port)
    if not server.reopen():  # binds now, so that a bad address fails here
        print(f"echo_server.py: cannot listen on {args.host}:{args.port}", file=sys.stderr)
        return 1
    host, port = server.ha[:2]
    if args.port == 0:
        # Server checks each accepted socket against the port it was made
        # with, so make it again with the port that was picked.
        server.close()
        server = serving.Server(host=args.host, port=port)
    # ServerDoer.enter reopens on that address (SO_REUSEADDR).
    print(f"listening {host} {port}", flush=True)

    cls = serving.EchoServerDoer if args.no_reap else ReapingEchoServerDoer
    doer = cls(server=server, tock=0.0)
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
