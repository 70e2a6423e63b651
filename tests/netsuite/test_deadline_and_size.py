"""A whole call has a deadline and an answer a maximum size.

A read timeout only bounds the wait for the next bytes, so a server dripping a byte every half
second keeps a call alive for ever; and an endless or huge answer would be buffered whole. Both
are cut by the transport, tested here against tiny local servers over real HTTP.
"""

import time
from http.server import BaseHTTPRequestHandler

import pytest

from netsuite.client import NetSuiteClient
from netsuite.errors import NetSuiteTimeoutError, ResponseTooLargeError
from netsuite.transport import Transport, default_deadline

from .helpers import FAST_RETRY, TOKEN_BODY, serve

BIG = 64 * 1024


class _Dripping(BaseHTTPRequestHandler):
    """Headers at once, then one byte every half second: no single read ever times out."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        try:
            for _ in range(1000):
                self.wfile.write(b" ")
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass

    def log_message(self, *args):
        pass


class _Huge(BaseHTTPRequestHandler):
    """``/announced`` says its size up front; ``/chunked`` streams without saying it."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if self.path.startswith("/announced"):
            self.send_header("Content-Length", str(50 * BIG))
            self.end_headers()
        else:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
        try:
            for _ in range(50):
                piece = b"x" * BIG
                if self.path.startswith("/announced"):
                    self.wfile.write(piece)
                else:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            if not self.path.startswith("/announced"):
                self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    def log_message(self, *args):
        pass


class _TokenThenDrip(_Dripping):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(TOKEN_BODY)))
        self.end_headers()
        self.wfile.write(TOKEN_BODY)


def test_a_dripping_answer_is_cut_at_the_deadline():
    transport = Transport(timeout=(1.0, 2.0), deadline=1.5, retry=FAST_RETRY)
    with serve(_Dripping) as server:
        started = time.monotonic()
        with pytest.raises(NetSuiteTimeoutError) as caught:
            transport.send("GET", f"{server.base_url}/slow")
        elapsed = time.monotonic() - started
    transport.close()
    # Cut between two drips after the deadline, long before the 500 s the answer would take.
    assert 1.5 <= elapsed < 3.5
    assert "1.5-second deadline" in str(caught.value)
    assert transport.stats.timeouts == 1


def test_the_client_cuts_a_dripping_record_answer(creds):
    with serve(_TokenThenDrip) as server:
        client = NetSuiteClient(
            creds, base_url=server.base_url, timeout=(1.0, 2.0), deadline=1.0, retry=FAST_RETRY
        )
        started = time.monotonic()
        with pytest.raises(NetSuiteTimeoutError):
            client.records.get("location", 1)
        assert time.monotonic() - started < 3.0
        client.close()


def test_the_default_deadline_follows_the_timeouts():
    assert default_deadline((5.0, 30.0)) == 65.0
    assert Transport(timeout=10.0).deadline == 30.0
    assert Transport(timeout=(2.0, 4.0), deadline=7).deadline == 7.0
    with pytest.raises(ValueError):
        Transport(deadline=0)


@pytest.mark.parametrize("path", ["/announced", "/chunked"])
def test_an_answer_over_the_size_limit_is_refused(path):
    transport = Transport(max_response_bytes=4 * BIG, retry=FAST_RETRY)
    with serve(_Huge) as server:
        with pytest.raises(ResponseTooLargeError) as caught:
            transport.send("GET", f"{server.base_url}{path}")
    transport.close()
    assert "262,144 bytes" in str(caught.value)


def test_an_answer_within_the_limit_is_read_whole():
    transport = Transport(max_response_bytes=60 * BIG, retry=FAST_RETRY)
    with serve(_Huge) as server:
        response = transport.send("GET", f"{server.base_url}/chunked")
    transport.close()
    assert len(response.content) == 50 * BIG
    assert response.text.startswith("xxx")


def test_the_default_limit_is_ten_megabytes(creds):
    client = NetSuiteClient(creds)
    assert client.transport.max_response_bytes == 10 * 1024 * 1024
    client.close()

