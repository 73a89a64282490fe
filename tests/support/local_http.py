"""A folder served over HTTP on 127.0.0.1 for tests of the download paths (nothing leaves the machine)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler without its log lines in the test output."""

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serving(folder, handler=QuietHandler):
    """``folder`` served by ``handler`` on 127.0.0.1 (a free port) while the block runs; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
