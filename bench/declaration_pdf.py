"""Benchmark: rendering the declaration PDF (tờ khai): median time and size, typical and long.

    python bench/declaration_pdf.py [--runs 20] [--out DIR] [--json]

The typical declaration is the printing-licence application (kiosk's own procedure
"Cấp giấy phép hoạt động in"): two sections, eight answers, a three-row table, six attached
documents, one page. The long one adds a 3,000-character multi-line answer and a 40-row table
(three pages). Each is rendered once to warm the fonts, then ``--runs`` times; reported: the
median and p95 wall time and the CPU time per render, the PDF size and its page count.
``--out DIR`` also writes both PDFs there, to look at them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.forms.declaration_pdf import (  # noqa: E402 - after the path set-up
    Declaration,
    Line,
    Section,
    Table,
    render_declaration_pdf,
)

VIETNAM = timezone(timedelta(hours=7), "ICT")

_MACHINES = (
    ("Máy in offset 4 màu Heidelberg Speedmaster SM 74", "Đức", "2015", "Đang sử dụng"),
    ("Máy in offset 2 màu Komori Lithrone 26", "Nhật Bản", "2012", "Đang sử dụng"),
    ("Máy cắt giấy Polar 115", "Đức", "2018", "Đang sử dụng"),
)

_DOCUMENTS = (
    "Đơn đề nghị cấp giấy phép hoạt động in (theo mẫu) (bản chính)",
    "Bản sao giấy chứng nhận đăng ký doanh nghiệp (bản lưu trữ, lấy từ kho dữ liệu)",
    "Bản sao giấy chứng nhận đủ điều kiện về an ninh, trật tự (bản chụp tại ki-ốt)",
    "Hợp đồng thuê mặt bằng sản xuất (bản chụp tại ki-ốt)",
    "Sơ yếu lý lịch của người đứng đầu cơ sở in (bản chụp tại ki-ốt)",
    "Danh mục thiết bị in chính (bản chụp tại ki-ốt)",
)


def typical_declaration() -> Declaration:
    """The printing-licence application, filled as a citizen would at the kiosk (one page)."""
    return Declaration(
        form_title="ĐƠN ĐỀ NGHỊ CẤP GIẤY PHÉP HOẠT ĐỘNG IN",
        form_number="Mẫu số 06",
        addressee="Kính gửi: Sở Văn hóa, Thể thao và Du lịch tỉnh Thừa Thiên Huế",
        procedure_name="Cấp giấy phép hoạt động in",
        procedure_code="LOCAL-IN-01",
        sections=(
            Section(
                title="I. THÔNG TIN CƠ SỞ IN",
                items=(
                    Line("Tên cơ sở in", "Công ty TNHH In ấn Sông Hương"),
                    Line(
                        "Địa chỉ nơi sản xuất",
                        "Lô C5, Khu công nghiệp Phú Bài, thị xã Hương Thủy, tỉnh Thừa Thiên Huế",
                    ),
                    Line("Sản phẩm in đề nghị cấp phép", "Báo, tạp chí và ấn phẩm báo chí khác"),
                    Line("Số thiết bị in chính", "3"),
                    Table(
                        "Danh mục thiết bị in chính",
                        ("Tên thiết bị", "Nước sản xuất", "Năm sản xuất", "Tình trạng"),
                        _MACHINES,
                    ),
                ),
            ),
            Section(
                title="II. THÔNG TIN NGƯỜI ĐỨNG ĐẦU",
                items=(
                    Line("Họ và tên người đứng đầu", "Nguyễn Thị Thuỷ"),
                    Line("Số định danh cá nhân", "001185012345"),
                    Line("Chức danh", "Giám đốc"),
                    Line("Điện thoại", "0234 3822 456"),
                ),
            ),
        ),
        documents=_DOCUMENTS,
        place="Huế",
        signed_at=datetime(2026, 11, 24, 9, 30, tzinfo=VIETNAM),
        signer_title="NGƯỜI ĐỨNG ĐẦU CƠ SỞ IN",
        signer_name="Nguyễn Thị Thuỷ",
        identity_note=(
            "Đã xác thực danh tính bằng chip căn cước số 001185012345 "
            "lúc 09:28 ngày 24/11/2026 tại ki-ốt"
        ),
        footer="Ki-ốt HUE-MC-01 · Hồ sơ 000.00.08.H57-261124-0001",
    )


def long_declaration() -> Declaration:
    """The typical one with a 3,000-character multi-line answer and a 40-row table."""
    base = typical_declaration()
    paragraph = (
        "Cơ sở in đã bố trí mặt bằng sản xuất riêng biệt, có hệ thống phòng cháy chữa cháy "
        "được nghiệm thu, có kho chứa giấy và thành phẩm đảm bảo an toàn; "
        "đội ngũ kỹ thuật gồm các kỹ sư được đào tạo về công nghệ in offset và in kỹ thuật số."
    )
    lines = [f"{n}. {paragraph}" for n in range(1, 40)]
    plan = "\n".join(lines)[:3000]
    machines = tuple(
        (f"Máy in số {n:02d} — {_MACHINES[n % 3][0]}", *_MACHINES[n % 3][1:]) for n in range(1, 41)
    )
    sections = (
        *base.sections,
        Section(
            title="III. PHƯƠNG ÁN SẢN XUẤT",
            items=(
                Line("Thuyết minh phương án sản xuất và bảo đảm an ninh, trật tự", plan),
                Table(
                    "Danh mục đầy đủ thiết bị",
                    ("Tên thiết bị", "Nước sản xuất", "Năm sản xuất", "Tình trạng"),
                    machines,
                ),
            ),
        ),
    )
    return Declaration(**{**base.__dict__, "sections": sections})


def _measure(decl: Declaration, runs: int) -> dict[str, float | int]:
    import io

    from pypdf import PdfReader

    pdf = render_declaration_pdf(decl)  # warm-up: fonts parsed, caches filled
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(runs):
        wall_begin, cpu_begin = time.perf_counter(), time.process_time()
        pdf = render_declaration_pdf(decl)
        wall.append(time.perf_counter() - wall_begin)
        cpu.append(time.process_time() - cpu_begin)
    wall.sort()
    return {
        "median_ms": round(statistics.median(wall) * 1000, 1),
        "p95_ms": round(wall[min(len(wall) - 1, int(len(wall) * 0.95))] * 1000, 1),
        "cpu_median_ms": round(statistics.median(cpu) * 1000, 1),
        "size_kb": round(len(pdf) / 1024, 1),
        "pages": len(PdfReader(io.BytesIO(pdf)).pages),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--out", type=Path, help="write typical.pdf and long.pdf here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    # A cold start: the first render in a process parses the four font files.
    cold_begin = time.perf_counter()
    render_declaration_pdf(typical_declaration())
    cold_ms = round((time.perf_counter() - cold_begin) * 1000, 1)

    results = {
        "first_render_ms": cold_ms,
        "typical": _measure(typical_declaration(), args.runs),
        "long": _measure(long_declaration(), args.runs),
        "runs": args.runs,
    }
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "typical.pdf").write_bytes(render_declaration_pdf(typical_declaration()))
        (args.out / "long.pdf").write_bytes(render_declaration_pdf(long_declaration()))
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return 0
    print(
        f"declaration PDF, median of {args.runs} renders (first render in a process: {cold_ms} ms)"
    )
    for name in ("typical", "long"):
        r = results[name]
        print(
            f"  {name:8s} {r['median_ms']:7.1f} ms median, p95 {r['p95_ms']:.1f} ms, "
            f"CPU {r['cpu_median_ms']:.1f} ms; {r['size_kb']:.1f} KiB, {r['pages']} page(s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
