"""DG2: the holder's face, as ICAO 9303-10 §4.7.2 and ISO/IEC 19794-5:2005 lay it out.

    75  DG2
      7F61  biometric information group template
        02    number of instances
        7F60  biometric information template (one per face)
          A1    biometric header template: 80 ICAO header version, 81 biometric type,
                82 subtype, 83 creation date, 85 validity, 86 creator, 87 format owner,
                88 format type (kept as raw bytes by tag)
          5F2E  biometric data block (7F2E when enciphered/constructed): the facial record

    ISO/IEC 19794-5 facial record, big-endian:
      general header (14)   'FAC\\0', version '010\\0', record length (4), number of faces (2)
      per face:
        facial information (20)  block length (4), feature points (2), gender, eye colour,
                                 hair colour (1 each), feature mask (3), expression (2),
                                 pose angles yaw/pitch/roll (3), their uncertainties (3)
        feature points (8 each)  type, major/minor code, x (2), y (2), reserved (2)
        image information (12)   face image type, image data type (0 JPEG, 1 JPEG 2000),
                                 width (2), height (2), colour space, source type,
                                 device type (2), quality (2)
        image data               block length − 20 − 8·points − 12 bytes

The image's MIME type comes from its magic bytes: JPEG ``FFD8``; JPEG 2000 as a JP2 file
(``0000000C6A502020``) or a bare codestream (``FF4FFF51``), both reported as ``image/jp2``.
A data block that is not a 19794-5 record (e.g. the newer ISO/IEC 39794-5) is searched for an
image signature as a fallback (``record_format == "unknown"``).

``decode_face_image`` turns the bytes into a NumPy BGR array for the UI (OpenCV, then Pillow),
after checking the size in the header so that a hostile file cannot ask for gigabytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from kiosk.emrtd import tlv
from kiosk.emrtd.datagroups import decode_small_int, unwrap
from kiosk.emrtd.errors import ParseError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

TAG_DG2 = 0x75
TAG_GROUP_TEMPLATE = 0x7F61
TAG_INSTANCE_COUNT = 0x02
TAG_INFO_TEMPLATE = 0x7F60
TAG_HEADER_TEMPLATE = 0xA1
TAG_DATA_BLOCK = 0x5F2E
TAG_DATA_BLOCK_CONSTRUCTED = 0x7F2E

FORMAT_IDENTIFIER = b"FAC\x00"
VERSION_2005 = b"010\x00"
GENERAL_HEADER = 14
FACIAL_INFORMATION = 20
FEATURE_POINT = 8
IMAGE_INFORMATION = 12

IMAGE_DATA_TYPE_JPEG = 0
IMAGE_DATA_TYPE_JPEG2000 = 1
MIME_JPEG = "image/jpeg"
MIME_JP2 = "image/jp2"

MAGIC_JPEG = b"\xff\xd8"
MAGIC_JP2 = bytes.fromhex("0000000C6A502020")
MAGIC_J2K = bytes.fromhex("FF4FFF51")
MAX_PIXELS = 4096 * 4096


@dataclass(frozen=True)
class FeaturePoint:
    type: int
    code: int  # major code in the high nibble, minor in the low
    x: int
    y: int


@dataclass(frozen=True)
class FaceImage:
    """One face: the image bytes, their MIME type, and what the 19794-5 record says about it."""

    image: bytes = field(repr=False)
    mime_type: str
    width: int = 0
    height: int = 0
    image_data_type: int | None = None
    face_image_type: int = 0
    gender: int = 0
    eye_colour: int = 0
    hair_colour: int = 0
    feature_mask: int = 0
    expression: int = 0
    pose_angle: tuple[int, int, int] = (0, 0, 0)
    pose_angle_uncertainty: tuple[int, int, int] = (0, 0, 0)
    feature_points: tuple[FeaturePoint, ...] = ()
    colour_space: int = 0
    source_type: int = 0
    device_type: int = 0
    quality: int = 0
    header: dict[int, bytes] = field(default_factory=dict)  # biometric header template by tag
    record_format: str = "ISO/IEC 19794-5"


@dataclass(frozen=True)
class DG2:
    faces: tuple[FaceImage, ...]

    @property
    def face(self) -> FaceImage:
        return self.faces[0]

    @property
    def image(self) -> bytes:
        return self.faces[0].image

    @property
    def mime_type(self) -> str:
        return self.faces[0].mime_type


def image_mime_type(image: bytes, data_type: int | None = None) -> str | None:
    """The MIME type from the magic bytes, else from the 19794-5 image data type."""
    if image.startswith(MAGIC_JPEG):
        return MIME_JPEG
    if image.startswith(MAGIC_JP2) or image.startswith(MAGIC_J2K):
        return MIME_JP2
    if data_type is None:
        return None
    return {IMAGE_DATA_TYPE_JPEG: MIME_JPEG, IMAGE_DATA_TYPE_JPEG2000: MIME_JP2}.get(data_type)


class _Reader:
    """Big-endian fields from a bytes buffer; running off the end is a ``ParseError``."""

    def __init__(self, data: bytes, offset: int = 0) -> None:
        self.data = data
        self.offset = offset

    def take(self, count: int, what: str) -> bytes:
        if count < 0 or self.offset + count > len(self.data):
            raise ParseError(
                f"facial record: {what} needs {count} bytes at {self.offset}, "
                f"{len(self.data) - self.offset} left"
            )
        chunk = self.data[self.offset : self.offset + count]
        self.offset += count
        return chunk

    def uint(self, size: int, what: str) -> int:
        return int.from_bytes(self.take(size, what), "big")


def _parse_face(reader: _Reader, header: dict[int, bytes]) -> FaceImage:
    start = reader.offset
    block_length = reader.uint(4, "facial record data length")
    points = reader.uint(2, "number of feature points")
    gender = reader.uint(1, "gender")
    eye = reader.uint(1, "eye colour")
    hair = reader.uint(1, "hair colour")
    mask = reader.uint(3, "feature mask")
    expression = reader.uint(2, "expression")
    pose = tuple(reader.take(3, "pose angle"))
    uncertainty = tuple(reader.take(3, "pose angle uncertainty"))
    feature_points = []
    for _ in range(points):
        kind = reader.uint(1, "feature point type")
        code = reader.uint(1, "feature point code")
        x = reader.uint(2, "feature point x")
        y = reader.uint(2, "feature point y")
        reader.take(2, "feature point reserved bytes")
        feature_points.append(FeaturePoint(kind, code, x, y))
    face_type = reader.uint(1, "face image type")
    data_type = reader.uint(1, "image data type")
    width = reader.uint(2, "image width")
    height = reader.uint(2, "image height")
    colour_space = reader.uint(1, "colour space")
    source_type = reader.uint(1, "source type")
    device_type = reader.uint(2, "device type")
    quality = reader.uint(2, "quality")
    image_length = block_length - (reader.offset - start)
    if image_length <= 0:
        raise ParseError(f"facial record data length {block_length} leaves no image")
    image = reader.take(image_length, "image data")
    mime = image_mime_type(image, data_type)
    if mime is None:
        raise ParseError(f"face image of unknown type (image data type {data_type})")
    return FaceImage(
        image=image,
        mime_type=mime,
        width=width,
        height=height,
        image_data_type=data_type,
        face_image_type=face_type,
        gender=gender,
        eye_colour=eye,
        hair_colour=hair,
        feature_mask=mask,
        expression=expression,
        pose_angle=(pose[0], pose[1], pose[2]),
        pose_angle_uncertainty=(uncertainty[0], uncertainty[1], uncertainty[2]),
        feature_points=tuple(feature_points),
        colour_space=colour_space,
        source_type=source_type,
        device_type=device_type,
        quality=quality,
        header=header,
    )


def parse_facial_record(block: bytes, header: dict[int, bytes] | None = None) -> list[FaceImage]:
    """The faces of an ISO/IEC 19794-5 facial record (a DG2 biometric data block)."""
    header = header or {}
    if not block.startswith(FORMAT_IDENTIFIER):
        return [_fallback(block, header)]
    reader = _Reader(block)
    reader.take(4, "format identifier")
    reader.take(4, "version")
    record_length = reader.uint(4, "record length")
    count = reader.uint(2, "number of facial images")
    if record_length > len(block):
        raise ParseError(f"facial record says {record_length} bytes, the block has {len(block)}")
    if count == 0:
        raise ParseError("facial record holds no face")
    return [_parse_face(reader, header) for _ in range(count)]


def _fallback(block: bytes, header: dict[int, bytes]) -> FaceImage:
    for magic in (MAGIC_JPEG + b"\xff", MAGIC_JP2, MAGIC_J2K):
        at = block.find(magic)
        if at >= 0:
            image = block[at:]
            return FaceImage(
                image=image,
                mime_type=image_mime_type(image) or MIME_JPEG,
                header=header,
                record_format="unknown",
            )
    raise ParseError("DG2 biometric data block is neither a 19794-5 record nor holds an image")


def _parse_instance(template: tlv.TLV) -> list[FaceImage]:
    header: dict[int, bytes] = {}
    block: bytes | None = None
    for item in template.children():
        if item.tag == TAG_HEADER_TEMPLATE:
            header = {child.tag: child.value for child in item.children()}
        elif item.tag in (TAG_DATA_BLOCK, TAG_DATA_BLOCK_CONSTRUCTED):
            block = item.value
    if block is None:
        raise ParseError("DG2 biometric information template has no data block (5F2E)")
    return parse_facial_record(block, header)


def parse_dg2(data: bytes) -> DG2:
    """DG2 → its faces; ``.image`` and ``.mime_type`` are the first face's."""
    outer = unwrap(data, TAG_DG2, "DG2")
    group = tlv.require(outer.children(), TAG_GROUP_TEMPLATE, "DG2")
    items = group.children()
    count_item = tlv.find(items, TAG_INSTANCE_COUNT)
    templates = [item for item in items if item.tag == TAG_INFO_TEMPLATE]
    if count_item is not None:
        count = decode_small_int(count_item.value, "DG2 number of instances")
        if count != len(templates):
            raise ParseError(f"DG2 announces {count} instance(s), holds {len(templates)}")
    if not templates:
        raise ParseError("DG2 holds no biometric information template (7F60)")
    faces: list[FaceImage] = []
    for template in templates:
        faces.extend(_parse_instance(template))
    return DG2(tuple(faces))


def decode_face_image(image: bytes) -> NDArray[np.uint8]:
    """The face image as an H×W×3 BGR array for display; ``ParseError`` if it cannot be read."""
    import cv2
    import numpy as np  # noqa: F811 (the runtime import of the TYPE_CHECKING name)
    from PIL import Image, UnidentifiedImageError

    data = bytes(image)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
    except Image.DecompressionBombError:
        raise ParseError("face image refused: it claims billions of pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ParseError("the face image is not a picture this kiosk can read") from None
    if width <= 0 or height <= 0 or width * height > MAX_PIXELS:
        raise ParseError(f"face image of {width}×{height} pixels refused")
    try:
        array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    except cv2.error:
        array = None
    if array is not None:
        return cast("NDArray[np.uint8]", array)  # IMREAD_COLOR decodes to 8-bit BGR
    try:
        with Image.open(io.BytesIO(data)) as picture:
            rgb = np.asarray(picture.convert("RGB"))
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ParseError("the face image could not be decoded") from None
    return np.ascontiguousarray(rgb[:, :, ::-1])
