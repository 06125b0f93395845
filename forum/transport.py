"""A guard in front of the Socket.IO transport (python-engineio answers /socket.io/ outside Flask).

Two answers engineio gets wrong for hostile long-polling requests:

* A body over SOCKETIO_MAX_FRAME_BYTES is refused without being read, on a connection
  kept open, so the sender stalls until it times out. Here it gets a 413 that closes
  the connection.
* A POST for a session that has just closed (after such a refusal, or a disconnect)
  raises KeyError inside engineio, which the server turns into a 500. Here it gets
  the 400 engineio gives for an unknown session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

PREFIX = "/socket.io"


class TransportGuard:
    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], max_bytes: int) -> None:
        self.wsgi_app = wsgi_app
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not str(environ.get("PATH_INFO", "")).startswith(PREFIX):
            return self.wsgi_app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > self.max_bytes:
            return _answer(start_response, "413 Payload Too Large", b"Payload too large", close=True)
        try:
            return self.wsgi_app(environ, start_response)
        except KeyError:  # engineio: "Session is disconnected" on a POST that raced its close
            return _answer(start_response, "400 Bad Request", b"Invalid session")


def _answer(start_response: Callable[..., Any], status: str, body: bytes, close: bool = False) -> list[bytes]:
    headers = [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
    if close:
        headers.append(("Connection", "close"))
    start_response(status, headers)
    return [body]
