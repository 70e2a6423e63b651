"""Shared test helpers for the netsuite package (no Django); a plain module, not a test module.

Besides constants it offers :func:`serve` with :func:`canned`: a real HTTP server on loopback for
the answers the simulator never gives (malformed JSON, bodies that break off, redirects), so
those cases go over the wire like every other test instead of patching ``requests``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from netsuite.transport import RetryPolicy

ACCOUNT = "1234567_SB1"
FAST_RETRY = RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05, max_total=5.0)
TOKEN_BODY = b'{"access_token": "t", "expires_in": "3600", "token_type": "bearer"}'

# (status, body) or (status, body, headers); headers override the defaults.
Answer = tuple[int, bytes] | tuple[int, bytes, dict[str, str]]


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextlib.contextmanager
def serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[LocalServer]:
    server = LocalServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def canned(routes: dict[str, Answer]) -> type[BaseHTTPRequestHandler]:
    """A handler answering each path (the query is ignored) with fixed bytes, 404 elsewhere.

    ``Content-Length`` is the body's unless the headers set it; a larger one announces more than
    is sent, and the connection is then closed, so the answer breaks off midway.
    """

    class Canned(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body, *more = routes.get(urlsplit(self.path).path, (404, b""))
            headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
            headers.update(*more)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = headers["Content-Length"] != str(len(body))

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, *args: object) -> None:
            pass

    return Canned
