"""Receiving a dossier upload: multipart/form-data streamed to disk, hashed on the way.

``receive_upload(request, blobs, ...)`` reads the request body chunk by chunk (never whole in
memory) through python-multipart's push parser: the ``dossier`` JSON part is kept in memory (up
to 4 MiB); every other part goes into a ``BlobWriter`` (a temporary file, hashed and counted as
it arrives). The body's SHA-256 is computed at the same time, for the request signature. The
caller checks the dossier against the parts, then ``commit``s them into the blob store or
``discard``s them: a refused upload leaves no file behind.

An attachment above ``max_part_bytes`` is not stored, but the rest of the request is still read
(and dropped) up to ``max_request_bytes`` so the kiosk receives the 413 answer instead of a
reset connection. A request announcing more than ``max_request_bytes`` in its Content-Length is
refused before it is read.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from backoffice.errors import ApiError
from backoffice.storage import BlobStore, BlobWriter, StorageError, TooLarge

DOSSIER_PART = "dossier"
MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_PARTS = 200


def too_large(what: str, limit: int) -> ApiError:
    mb = limit / 1_000_000
    return ApiError(
        413,
        "too_large",
        f"{what} is larger than the limit of {limit} bytes ({mb:.0f} MB)",
        f"{what} vượt quá giới hạn {limit} byte ({mb:.0f} MB)",
        limit=limit,
    )


def bad_request(message: str, message_vi: str) -> ApiError:
    return ApiError(400, "bad_request", message, message_vi)


@dataclass
class ReceivedPart:
    """A file part stored in the blob store (or dropped: ``too_large``)."""

    name: str
    filename: str
    content_type: str
    sha256: str
    size: int
    head: bytes  # the first bytes, to check the file type


@dataclass
class Upload:
    """What a multipart request carried; the parts are in temporary files until ``commit``
    (after the dossier is checked: a refused dossier leaves nothing behind) or ``discard``."""

    dossier_json: bytes | None
    parts: dict[str, ReceivedPart]
    body_sha256: str
    body_size: int
    _receiver: _Receiver = field(repr=False)

    def commit(self) -> None:
        """Move every part into the blob store (fsync, rename; blocking: use a worker
        thread); a 503 ApiError when the storage fails."""
        self._receiver.commit()

    def discard(self) -> None:
        self._receiver.discard()


@dataclass
class _Current:
    headers: dict[str, str] = field(default_factory=dict)
    name: str = ""
    filename: str = ""
    content_type: str = ""
    buffer: bytearray | None = None
    writer: BlobWriter | None = None
    head: bytearray = field(default_factory=bytearray)


class _Receiver:
    def __init__(self, blobs: BlobStore, max_part_bytes: int) -> None:
        self.blobs = blobs
        self.max_part_bytes = max_part_bytes
        self.current = _Current()
        self._field = bytearray()
        self._value = bytearray()
        self.dossier_json: bytes | None = None
        self.writers: list[tuple[str, str, str, BlobWriter, bytes]] = []
        self.names: set[str] = set()
        self.error: ApiError | None = None

    def fail(self, error: ApiError) -> None:
        if self.error is None:
            self.error = error

    # python-multipart callbacks
    def on_part_begin(self) -> None:
        self.current = _Current()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        name = self._field.decode("latin-1").strip().lower()
        self.current.headers[name] = self._value.decode("utf-8", "replace").strip()
        self._field.clear()
        self._value.clear()

    def on_headers_finished(self) -> None:
        cur = self.current
        _, params = parse_options_header(cur.headers.get("content-disposition", ""))
        cur.name = params.get(b"name", b"").decode("utf-8", "replace")
        cur.filename = params.get(b"filename", b"").decode("utf-8", "replace")
        cur.content_type = cur.headers.get("content-type", "")
        if not cur.name:
            self.fail(bad_request("a part has no name", "một phần dữ liệu không có tên"))
        elif cur.name in self.names:
            self.fail(bad_request(f"part {cur.name!r} sent twice", f"phần {cur.name!r} bị lặp"))
        elif len(self.names) >= MAX_PARTS:
            self.fail(bad_request("too many parts", "quá nhiều phần dữ liệu"))
        self.names.add(cur.name)
        if self.error is not None:
            return
        if cur.name == DOSSIER_PART:
            cur.buffer = bytearray()
        else:
            try:
                cur.writer = self.blobs.writer(self.max_part_bytes)
            except StorageError as e:
                self.fail(ApiError(503, "unavailable", str(e), "không lưu được tệp đính kèm"))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        cur = self.current
        chunk = data[start:end]
        if cur.buffer is not None:
            cur.buffer += chunk
            if len(cur.buffer) > MAX_JSON_BYTES:
                cur.buffer = None
                self.fail(too_large("the dossier part", MAX_JSON_BYTES))
        elif cur.writer is not None:
            if len(cur.head) < 16:
                cur.head += chunk[: 16 - len(cur.head)]
            cur.writer.write(chunk)
            if cur.writer.too_large:
                self.fail(too_large(f"attachment {cur.name!r}", self.max_part_bytes))

    def on_part_end(self) -> None:
        cur = self.current
        if cur.buffer is not None:
            self.dossier_json = bytes(cur.buffer)
        elif cur.writer is not None:
            self.writers.append(
                (cur.name, cur.filename, cur.content_type, cur.writer, bytes(cur.head))
            )
        self.current = _Current()

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def discard(self) -> None:
        for *_, writer, _head in self.writers:
            writer.discard()
        if self.current.writer is not None:
            self.current.writer.discard()

    def parts(self) -> dict[str, ReceivedPart]:
        return {
            name: ReceivedPart(name, filename, content_type, writer.sha256, writer.size, head)
            for name, filename, content_type, writer, head in self.writers
        }

    def commit(self) -> None:
        for name, *_, writer, _head in self.writers:
            try:
                writer.commit()
            except TooLarge:
                self.discard()
                raise too_large(f"attachment {name!r}", self.max_part_bytes) from None
            except StorageError as e:
                self.discard()
                raise ApiError(503, "unavailable", str(e), "không lưu được tệp đính kèm") from e


async def receive_upload(
    request: Request, blobs: BlobStore, max_part_bytes: int, max_request_bytes: int
) -> Upload:
    """Read a multipart request into the blob store; see the module docstring."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise ApiError(
            415,
            "unsupported_media_type",
            "a dossier is sent as multipart/form-data with a boundary",
            "hồ sơ phải được gửi dạng multipart/form-data",
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_request_bytes:
        raise too_large("the request", max_request_bytes)

    receiver = _Receiver(blobs, max_part_bytes)
    parser = MultipartParser(boundary, receiver.callbacks())
    body_hash = hashlib.sha256()
    size = 0
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            size += len(chunk)
            if size > max_request_bytes:
                receiver.discard()
                raise too_large("the request", max_request_bytes)
            body_hash.update(chunk)
            if receiver.error is None:  # after an error the rest is only drained
                try:
                    parser.write(chunk)
                except MultipartParseError as e:
                    receiver.fail(bad_request(f"malformed multipart body: {e}", "dữ liệu hỏng"))
        if receiver.error is None:
            parser.finalize()
    except ClientDisconnect:
        receiver.discard()
        raise bad_request("the kiosk hung up mid-upload", "ki-ốt ngắt kết nối") from None
    except MultipartParseError as e:
        receiver.discard()
        raise bad_request(f"malformed multipart body: {e}", "dữ liệu multipart hỏng") from e
    except OSError as e:  # the disk is full or gone
        receiver.discard()
        raise ApiError(
            503,
            "unavailable",
            f"cannot store the attachments: {e.strerror or e}",
            "không lưu được tệp đính kèm",
            headers={"Retry-After": "60"},
        ) from e
    if receiver.error is not None:
        receiver.discard()
        raise receiver.error
    return Upload(receiver.dossier_json, receiver.parts(), body_hash.hexdigest(), size, receiver)
