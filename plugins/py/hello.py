"""An HTTP hello server in Python: answers `GET /` (and `HEAD /`) with 200
and `hello\\n`, anything else with 404, as the Rust hello does. Options:
`addr` (default `127.0.0.1:8080`), `tls` (default false: HTTPS with the
granted certificate). Never done. Build with `-w http-doer`."""

from hio_doer import Doer, DoerError, export, log
from hio_http import listen, reply

BODY = b"hello\n"
MISSING = b"not found\n"


class Hello(Doer):
    OPTIONS = ("addr", "tls")

    def __init__(self, options):
        options.only(self.OPTIONS)
        addr = options.text("addr", "127.0.0.1:8080")
        self.server = listen(addr, options.boolean("tls", False))
        log.debug(f"listening on {self.server.address()}")

    def recur(self, _tyme):
        while (request := self.server.next()) is not None:
            with request:
                found = request.target() == "/"
                status, body = (200, BODY) if found else (404, MISSING)
                try:
                    reply(request, status, [("content-type", b"text/plain")], body)
                except DoerError as why:
                    # A client that went away is no failure of the server.
                    log.debug(f"{request.method()} {request.target()}: not answered: {why}")
        return False


Hooks = export(Hello)
