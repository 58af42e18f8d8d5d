"""``seed-demo``: papers on file for the simulated demo citizen, so the kiosk's "reuse your
papers" step has something to show in a demo.

The demo card (devices/simulated/profiles.py, profile ``demo``) belongs to the citizen of
``PROFILES["demo"]``; the seed gives them a copy of their ID card (``can_cuoc``) and the business
registration certificate of a small printing household business (``dang_ky_doanh_nghiep``),
each a one-page PDF marked as a demo specimen. The PDFs are deterministic: seeding twice adds
nothing.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import TYPE_CHECKING, Any

from backoffice.presence import add_paper
from kiosk import paths

if TYPE_CHECKING:
    from backoffice.context import Context

_FIXED_TIME = datetime(2025, 1, 2, 8, 0, 0)


def _pdf(title: str, lines: list[str]) -> bytes:
    """A one-page A4 PDF (150 dpi raster) with a title and lines of text."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = 1240, 1754
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    bold = ImageFont.truetype(str(paths.FONT_BOLD), 42)
    regular = ImageFont.truetype(str(paths.FONT_REGULAR), 32)
    draw.text((width // 2, 160), "CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM", font=regular, anchor="mm")
    draw.text((width // 2, 210), "Độc lập - Tự do - Hạnh phúc", font=regular, anchor="mm")
    draw.text((width // 2, 340), title, font=bold, anchor="mm")
    y = 460
    for line in lines:
        draw.text((140, y), line, font=regular)
        y += 60
    draw.text(
        (width // 2, height - 200),
        "MẪU MINH HOẠ - KHÔNG CÓ GIÁ TRỊ PHÁP LÝ",
        font=bold,
        anchor="mm",
        fill=96,
    )
    out = io.BytesIO()
    page.save(
        out,
        format="PDF",
        resolution=150.0,
        title=title,
        producer="motcua-kiosk seed-demo",
        creationDate=_FIXED_TIME.timetuple(),
        modDate=_FIXED_TIME.timetuple(),
    )
    return out.getvalue()


def seed_demo(ctx: Context) -> list[dict[str, Any]]:
    """Add the demo citizen's papers on file; the papers (existing ones are not duplicated)."""
    from devices.simulated.card_reader import PROFILES

    person = PROFILES["demo"]
    born = person.date_of_birth.strftime("%d/%m/%Y")
    id_copy = _pdf(
        "BẢN SAO CĂN CƯỚC CÔNG DÂN",
        [
            f"Số định danh cá nhân: {person.id_number}",
            f"Họ, chữ đệm và tên: {person.full_name}",
            f"Ngày sinh: {born}",
            f"Quê quán: {person.place_of_origin}",
            f"Nơi thường trú: {person.place_of_residence}",
        ],
    )
    registration = _pdf(
        "GIẤY CHỨNG NHẬN ĐĂNG KÝ HỘ KINH DOANH",
        [
            "Tên hộ kinh doanh: CƠ SỞ IN ẤN BÌNH AN",
            "Mã số hộ kinh doanh: 01H8012345",
            f"Chủ hộ kinh doanh: {person.full_name}",
            f"Số định danh cá nhân: {person.id_number}",
            "Ngành, nghề kinh doanh: In ấn; dịch vụ liên quan đến in",
            f"Địa điểm kinh doanh: {person.place_of_residence}",
        ],
    )
    return [
        add_paper(
            ctx,
            person.id_number,
            "can_cuoc",
            "Bản sao Căn cước công dân",
            id_copy,
            source="demo",
            issued_on=_FIXED_TIME.date(),
        ),
        add_paper(
            ctx,
            person.id_number,
            "dang_ky_doanh_nghiep",
            "Giấy chứng nhận đăng ký hộ kinh doanh",
            registration,
            source="demo",
            issued_on=_FIXED_TIME.date(),
        ),
    ]
