"""One way to open an embedding input: a regular file, a pipe or a device, plain or compressed.

The input is read once, front to back, in blocks: nothing needs to seek, so a FIFO,
``/dev/stdin`` or ``<(cat file)`` is read correctly (the head that format detection looks at is
kept and handed back before the rest, not read twice). The sha256 of the bytes as stored
(compressed or not) is computed on the way, in a helper thread beside the parse.

Limits (stated in README): a text line may hold at most :data:`MAX_LINE_BYTES`; formats that need
the whole input at once (.npz, pickles) read it into memory, up to :data:`MAX_WHOLE_BYTES` from a
pipe or device (fastText ``.bin`` is streamed; its input matrix from a pipe obeys the same bound).
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import os
import stat
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from audit.core.errors import AuditError

HEAD_BYTES = 1 << 16          # what format detection looks at
BLOCK_BYTES = 16 << 20        # one read of the stored (or decompressed) bytes (heap-reused size)
MAX_LINE_BYTES = 64 << 20     # a text line longer than this is refused (a /dev/zero never ends a line)
MAX_WHOLE_BYTES = 4 << 30     # formats read whole: at most this much from a pipe or device


class Input:
    """An opened input: ``head`` (the first bytes of the content, decompressed), ``read(n)``
    (the content from the start, head included, each byte once), ``size`` (bytes stored, None for
    a pipe or device), ``compression`` (None, ``gzip`` or ``bz2``) and ``sha256()`` of the stored
    bytes (reads what the parse left unread)."""

    def __init__(self, path: Path):
        self.path = path
        try:
            info = os.stat(path)
        except FileNotFoundError:
            raise AuditError(f"{path}: no such file.") from None
        except OSError as exc:
            raise AuditError(f"{path}: cannot be read ({exc.strerror}).") from None
        if stat.S_ISDIR(info.st_mode):
            raise AuditError(f"{path} is a directory, not an embedding file.")
        self.regular = stat.S_ISREG(info.st_mode)
        self.stat = info
        self.size = info.st_size if self.regular else None
        try:
            self._file = open(path, "rb", buffering=0)
        except OSError as exc:
            raise AuditError(f"{path}: cannot be read ({exc.strerror}).") from None
        self._opened = os.fstat(self._file.fileno())   # what was opened (a regular file must not change)
        self._hash = hashlib.sha256()
        self._hasher = ThreadPoolExecutor(1)   # sha256 releases the GIL on large blocks
        self._pending = None
        self._stored_read = 0
        first = self._stored(HEAD_BYTES)
        if not first:
            self.close()
            raise AuditError(f"{path} is empty.")
        self.compression = "gzip" if first[:2] == b"\x1f\x8b" else "bz2" if first[:3] == b"BZh" else None
        self._raw_pending = first
        if self.compression:
            raw = _RawReader(self)
            self._decoder = (gzip.GzipFile(fileobj=raw, mode="rb") if self.compression == "gzip"
                             else bz2.BZ2File(raw, mode="rb"))
        else:
            self._decoder = None
        self._content_pending = b""
        head = self._content(HEAD_BYTES)
        if not head:
            self.close()
            raise AuditError(f"{path} is empty once decompressed.")
        self.head = head
        self._content_pending = head
        self.content_read = 0   # bytes of content handed out by read()

    # -- stored bytes (hashed on the way) -------------------------------------------------------
    def _stored(self, n: int) -> bytes:
        try:
            block = self._file.read(n) if n <= BLOCK_BYTES else _read_full(self._file, n)
        except OSError as exc:
            raise AuditError(f"{self.path}: cannot be read ({exc.strerror}).") from None
        if block:
            self._stored_read += len(block)
            if self._pending is not None:
                self._pending.result()
            self._pending = self._hasher.submit(self._hash.update, block)
        return block

    def _raw_read(self, n: int) -> bytes:
        if self._raw_pending:
            block, self._raw_pending = self._raw_pending[:n], self._raw_pending[n:]
            return block
        return self._stored(n)

    # -- content ----------------------------------------------------------------------------------
    def _content(self, n: int) -> bytes:
        if self._decoder is None:
            return _read_upto(self._raw_read, n)
        try:
            return self._decoder.read(n)
        except (OSError, EOFError, zlib.error, ValueError):
            raise AuditError(f"{self.path} is a truncated or damaged {self.compression} file.") from None

    def read(self, n: int = BLOCK_BYTES) -> bytes:
        """Up to ``n`` bytes of content (fewer only at the end)."""
        if self._content_pending:
            block, self._content_pending = self._content_pending[:n], self._content_pending[n:]
            if len(block) < n:
                block += self._content(n - len(block))
        else:
            block = self._content(n)
        self.content_read += len(block)
        return block

    def read_all(self, what: str) -> bytes:
        """The whole content (formats that need it at once), bounded from a pipe or device."""
        parts, total = [], 0
        while True:
            block = self.read(BLOCK_BYTES)
            if not block:
                return b"".join(parts)
            total += len(block)
            if not self.regular and total > MAX_WHOLE_BYTES:
                raise AuditError(f"{self.path}: {what} from a pipe or device is read whole, and it holds more "
                                 f"than {MAX_WHOLE_BYTES >> 30} GiB.")
            parts.append(block)

    def sha256(self) -> str:
        """The stored bytes' sha256; reads (and hashes) what the parse left unread."""
        if self._decoder is not None:
            try:
                while self._decoder.read(BLOCK_BYTES):
                    pass   # a damaged tail after a --limit must still be reported
            except (OSError, EOFError, zlib.error, ValueError):
                raise AuditError(f"{self.path} is a truncated or damaged {self.compression} file.") from None
        while self._raw_pending or self._stored(BLOCK_BYTES):
            self._raw_pending = b""
        if self._pending is not None:
            self._pending.result()
            self._pending = None
        if self.regular:
            now, then = os.fstat(self._file.fileno()), self._opened
            if ((now.st_size, now.st_mtime_ns, now.st_ctime_ns) != (then.st_size, then.st_mtime_ns, then.st_ctime_ns)
                    or self._stored_read != now.st_size):
                # its vectors and its hash would describe a file that never existed (the old head, a new tail)
                raise AuditError(f"{self.path} changed while it was read; run again once it is written.")
        return self._hash.hexdigest()

    def close(self) -> None:
        self._hasher.shutdown(wait=True)
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class _RawReader:
    """The stored bytes as a file object, for gzip and bz2 to decompress from."""

    def __init__(self, source: Input):
        self._source = source

    def read(self, n: int = -1) -> bytes:
        return self._source._raw_read(BLOCK_BYTES if n is None or n < 0 else n)

    def readable(self) -> bool:
        return True


def _read_full(handle, n: int) -> bytes:
    parts, left = [], n
    while left > 0:
        block = handle.read(min(left, BLOCK_BYTES))
        if not block:
            break
        parts.append(block)
        left -= len(block)
    return b"".join(parts)


def _read_upto(read, n: int) -> bytes:
    """``n`` bytes from ``read`` (a pipe may return fewer per call), fewer only at the end."""
    first = read(n)
    if len(first) == n or not first:
        return first
    parts, got = [first], len(first)
    while got < n:
        block = read(n - got)
        if not block:
            break
        parts.append(block)
        got += len(block)
    return b"".join(parts)
