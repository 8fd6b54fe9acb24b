"""HTTP for Python doers of hio's `http-doer` world (build them with
`componentize-py -w http-doer`): the host's server and requests, with
errors as `hio_doer.DoerError`s that read as the Rust SDK's."""

from componentize_py_types import Err
from wit_world.imports import http as _http
from wit_world.imports import tcp as _tcp

from hio_doer import DoerError

__all__ = ["listen", "reply", "field", "net_error"]

_NET_ERROR = {
    _tcp.NetError_NotGranted: "not granted",
    _tcp.NetError_BadAddress: "bad address",
    _tcp.NetError_Limit: "limit reached",
    _tcp.NetError_Io: "i/o error",
}


def net_error(e):
    """A `net-error` as text: `not granted: ...`, `i/o error: ...`."""
    return f"{_NET_ERROR[type(e)]}: {e.value}"


def listen(addr, tls=False):
    """A server on granted address `addr` (HTTPS with the doer's granted
    certificate when `tls`); raises DoerError naming the address."""
    try:
        return _http.Server.listen_tls(addr) if tls else _http.Server.listen(addr)
    except Err as e:
        raise DoerError(f"cannot serve on {addr}: {net_error(e.value)}") from None


def reply(request, status, headers, body):
    """Answers `request` with a whole body (bytes or str) and ends it;
    raises DoerError when the connection is gone."""
    if isinstance(body, str):
        body = body.encode()
    try:
        request.respond(status, [(k, v.encode() if isinstance(v, str) else v) for k, v in headers], len(body))
        if request.write(body) != len(body):
            raise DoerError("the connection took no body")
        request.finish([])
    except Err as e:
        raise DoerError(str(e.value)) from None


def field(fields, name):
    """The first value of header `name` (any case) in `fields`, or None."""
    name = name.lower()
    for key, value in fields:
        if key.lower() == name:
            return value
    return None
