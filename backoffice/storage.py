"""Attachments on disk, content-addressed by SHA-256, written atomically, checked on read.

A blob lives at ``<storage_dir>/sha256/ab/cd/abcd…`` (its hex digest). ``BlobWriter`` streams
bytes into a temporary file under ``<storage_dir>/tmp`` while hashing and counting them, with a
size limit; ``commit()`` fsyncs it and renames it into place (then fsyncs the folder), so a blob
is either complete under its name or absent. A blob already stored is not written twice.
``open_verified`` re-hashes a blob before it is served: a file changed on disk is an error,
never data.

Exceptions::

    StorageError            the store cannot do it (disk full, permissions, …)
     ├── TooLarge           more bytes than the limit (the request gets 413)
     └── BlobCorrupted      a stored blob no longer hashes to its name
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from kiosk.infra.durable import fsync_dir

_CHUNK = 1 << 20
_HEX = re.compile(r"^[0-9a-f]{64}$")


class StorageError(Exception):
    """The blob store cannot do what was asked."""


class TooLarge(StorageError):
    """A blob is larger than its limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"more than {limit} bytes")


class BlobCorrupted(StorageError):
    """A stored blob no longer hashes to its name."""


class BlobWriter:
    """One blob being received; use ``write`` for each chunk, then ``commit`` or ``discard``."""

    def __init__(self, store: BlobStore, limit: int) -> None:
        self.store = store
        self.limit = limit
        self.size = 0
        self._hash = hashlib.sha256()
        fd, name = tempfile.mkstemp(dir=store.tmp_dir, prefix="upload-")
        self._path = Path(name)
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self.too_large = False

    def write(self, data: bytes | memoryview) -> None:
        """Append ``data``; past the limit the bytes are counted but dropped (TooLarge at the
        end), so the caller can finish reading the request and answer cleanly."""
        self.size += len(data)
        if self.size > self.limit:
            self.too_large = True
            self._close_file()
            return
        self._hash.update(data)
        if self._file is not None:
            self._file.write(data)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def commit(self) -> str:
        """Make the blob durable under its digest; the digest. TooLarge past the limit."""
        if self.too_large:
            self.discard()
            raise TooLarge(self.limit)
        digest = self.sha256
        try:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())
            self._close_file()
            target = self.store.path_of(digest)
            if target.exists():
                self._path.unlink(missing_ok=True)
                return digest
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self._path, target)
            fsync_dir(target.parent)
        except OSError as e:
            self.discard()
            raise StorageError(f"cannot store an attachment: {e.strerror or e}") from e
        return digest

    def discard(self) -> None:
        """Drop the temporary file."""
        self._close_file()
        with contextlib.suppress(OSError):
            self._path.unlink(missing_ok=True)


class BlobStore:
    """Content-addressed files under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        try:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            (self.root / "sha256").mkdir(exist_ok=True)
        except OSError as e:
            raise StorageError(f"cannot create the storage folder {root}: {e}") from e

    def path_of(self, digest: str) -> Path:
        if not _HEX.match(digest):
            raise StorageError(f"{digest!r} is not a SHA-256 hex digest")
        return self.root / "sha256" / digest[:2] / digest[2:4] / digest

    def writer(self, limit: int) -> BlobWriter:
        try:
            return BlobWriter(self, limit)
        except OSError as e:
            raise StorageError(f"cannot create a temporary file: {e.strerror or e}") from e

    def put_bytes(self, data: bytes, limit: int | None = None) -> str:
        """Store ``data``; its digest."""
        writer = self.writer(limit if limit is not None else len(data))
        writer.write(data)
        return writer.commit()

    def exists(self, digest: str) -> bool:
        return self.path_of(digest).is_file()

    def verify(self, digest: str) -> Path:
        """The blob's path after checking that it still hashes to ``digest``."""
        path = self.path_of(digest)
        h = hashlib.sha256()
        try:
            with path.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    h.update(chunk)
        except OSError as e:
            raise BlobCorrupted(f"blob {digest} is missing or unreadable: {e.strerror}") from e
        if h.hexdigest() != digest:
            raise BlobCorrupted(f"blob {digest} changed on disk (now {h.hexdigest()})")
        return path

    def sweep_temporary(self, older_than_s: float = 3600.0) -> int:
        """Remove temporary files left by a crash (untouched for ``older_than_s``: another
        server process may be writing the recent ones); how many were removed."""
        import time

        count = 0
        for path in self.tmp_dir.glob("upload-*"):
            with contextlib.suppress(OSError):
                if time.time() - path.stat().st_mtime > older_than_s:
                    path.unlink()
                    count += 1
        return count
