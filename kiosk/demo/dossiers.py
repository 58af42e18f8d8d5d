"""Plausible sample dossiers over the catalog's procedures, for demos and load tests.

``sample_dossiers(catalog, kiosk_id, n, out_dir)`` builds ``n`` ``DossierSubmission``s, the
procedures taken in turn: a Vietnamese citizen (name, sex, date of birth, a residence in a real
2025 province and commune) with a well-formed 12-digit personal identification number (3-digit
province code of birth registration, a digit for sex and century: 0/1 man/woman born
1900–1999, 2/3 born 2000–2099, the last two digits of the birth year, six random digits), a
declaration generated field by field from the procedure's form (kiosk/forms/spec.py reads its JSON
Schema) and checked with the form's own jsonschema validation, formats included, and each
required document as a small generated PDF (a scanned A4 page with the national heading, the
document's title and the applicant's details) written into ``out_dir``. ``page_bytes`` pads
each page with scanner grain up to about that size, for benchmarks. Same seed, same content
(the idempotency key is always fresh).
"""

from __future__ import annotations

import io
import random
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from devices.simulated.document_scenes import SENTENCES, wrap_words
from kiosk.catalog.procedures import Catalog, Procedure
from kiosk.dossier.model import Applicant, Attachment, DossierSubmission
from kiosk.forms import addresses
from kiosk.forms.field_checks import tax_check_digit
from kiosk.forms.spec import SEX_CHOICES, FormField, FormSpec, Kind
from kiosk.identity.id_number import PROVINCE_CODES
from kiosk.infra.clock import now_vietnam
from kiosk.infra.text import nfc
from kiosk.paths import FONT_BOLD, FONT_REGULAR

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý")  # fmt: skip
MIDDLE_M = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công", "Xuân")
MIDDLE_F = ("Thị", "Ngọc", "Thu", "Thanh", "Minh", "Kim", "Bích", "Hồng")
GIVEN_M = ("An", "Bình", "Cường", "Dũng", "Hùng", "Khánh", "Long", "Nam", "Phúc", "Quân",
           "Sơn", "Tuấn", "Việt")  # fmt: skip
GIVEN_F = ("Anh", "Châu", "Giang", "Hà", "Hằng", "Hương", "Lan", "Linh", "Mai", "Nga",
           "Phương", "Thảo", "Trang", "Yến")  # fmt: skip
STREETS = ("Trần Phú", "Lê Lợi", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt", "Điện Biên Phủ",
           "Quang Trung", "Nguyễn Trãi", "Phan Chu Trinh")  # fmt: skip
BUSINESS = ("Ánh Dương", "Hoa Sen", "Trường An", "Phú Thịnh", "Bình Minh", "Sao Mai",
            "Thành Công", "Việt Hưng", "Hồng Hà")  # fmt: skip
TOPICS = ("Nông nghiệp và Phát triển nông thôn", "Khuyến học", "Y tế cộng đồng",
          "Doanh nhân trẻ", "Văn hóa và Du lịch")  # fmt: skip
HEADING = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


@dataclass(frozen=True)
class Citizen:
    """A sample applicant and the structured form of their residence."""

    applicant: Applicant
    residence: dict[str, str]  # province, commune, street (an address answer)


def id_number(sex: str, born: date, rng: random.Random) -> str:
    """A well-formed 12-digit personal identification number for this person."""
    province = rng.choice(sorted(PROVINCE_CODES))
    century = (born.year - 1900) // 100  # 0 for 1900–1999, 1 for 2000–2099
    digit = 2 * century + (1 if sex == "F" else 0)
    return f"{province}{digit}{born.year % 100:02d}{rng.randrange(10**6):06d}"


def sample_address(rng: random.Random) -> dict[str, str]:
    """A real province and one of its communes (2025 units), with a house and street."""
    province = rng.choice(addresses.provinces())
    commune = rng.choice(addresses.communes(province.code))
    street = f"Số {rng.randrange(1, 300)} đường {rng.choice(STREETS)}"
    return {"province": province.name, "commune": commune.name, "street": nfc(street)}


def one_line(address: dict[str, str]) -> str:
    """An address answer as one line, as a card prints it."""
    return ", ".join(address[p] for p in ("street", "commune", "province") if address.get(p))


def sample_citizen(rng: random.Random, today: date) -> Citizen:
    """An adult citizen: name, sex, date of birth, residence and a matching ID number."""
    sex = rng.choice("MF")
    middle, given = (MIDDLE_F, GIVEN_F) if sex == "F" else (MIDDLE_M, GIVEN_M)
    name = nfc(f"{rng.choice(FAMILY)} {rng.choice(middle)} {rng.choice(given)}")
    born = today - timedelta(days=rng.randrange(19 * 365, 75 * 365))
    residence = sample_address(rng)
    applicant = Applicant(id_number(sex, born, rng), name, born, sex, one_line(residence))
    return Citizen(applicant, residence)


def tax_code(rng: random.Random) -> str:
    """A 10-digit enterprise tax code with a valid check digit."""
    while True:
        first = f"0{rng.randrange(1, 10)}{rng.randrange(10**7):07d}"
        check = tax_check_digit(first)
        if check is not None:
            return f"{first}{check}"


def ascii_slug(text: str) -> str:
    """``Hoa Sen`` → ``hoasen``: lower-case ASCII letters and digits only."""
    folded = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in folded.lower() if c.isascii() and c.isalnum())


def _organisation(rng: random.Random) -> str:
    kind = rng.choice(("Công ty TNHH In", "Cơ sở in", "Công ty cổ phần Truyền thông"))
    return f"{kind} {rng.choice(BUSINESS)}"


# Field-name parts and what a person would write there, most specific first ("=x": the whole
# name is x).
_TEXT_BY_NAME: tuple[tuple[tuple[str, ...], Any], ...] = (
    (("ten_mien",), lambda r: f"{ascii_slug(r.choice(BUSINESS))}{r.randrange(100)}.vn"),
    (("website",), lambda r: f"https://www.{ascii_slug(r.choice(BUSINESS))}.vn"),
    (("ten_viet_tat",), lambda r: ascii_slug(r.choice(BUSINESS)).upper() + " CO., LTD"),
    (("ten_giao_dich",), lambda r: ascii_slug(r.choice(BUSINESS)).upper() + " PRINTING COMPANY"),
    (("ten_ban_tin",), lambda r: f"Bản tin {r.choice(TOPICS)}"),
    (("ten_trang",), lambda r: f"Trang thông tin điện tử {r.choice(TOPICS)}"),
    (("ten_trien_lam",), lambda r: f"Hội chợ sách {r.choice(BUSINESS)} năm 2026"),
    (("ten_thiet_bi",), lambda r: r.choice(MACHINES)),
    (("ten_diem",), lambda r: f"Bưu cục {r.choice(BUSINESS)}"),
    (("ho_ten", "nguoi_", "tac_gia"), None),  # a person's name: see _value
    (("doanh_nghiep", "co_so", "don_vi", "to_chuc", "co_quan", "noi_in"), _organisation),
    (("ten_tai_lieu", "=ten"), lambda r: f"Sổ tay {r.choice(TOPICS).lower()}"),
    (("nhan_hieu",), lambda r: r.choice(("Ricoh", "Canon", "Konica Minolta", "Xerox"))),
    (("model",), lambda r: f"MP C{r.randrange(2000, 6000)}"),
    (("so_may",), lambda r: f"E{r.randrange(10**9):09d}"),
    (("nuoc",), lambda r: r.choice(("Nhật Bản", "Đức", "Hàn Quốc", "Việt Nam", "Hoa Kỳ"))),
    (("chuc_vu", "chuc_danh"), lambda r: r.choice(("Giám đốc", "Phó Giám đốc", "Chủ cơ sở"))),
    (("dia_chi",), lambda r: one_line(sample_address(r))),
    (("kho",), lambda r: r.choice(("19 x 27 cm", "14,5 x 20,5 cm", "A4"))),
    (("so_van_ban",), lambda r: f"{r.randrange(1, 999)}/XN-SVHTT"),
    (("so_van_don",), lambda r: f"VD{r.randrange(10**8):08d}"),
    (("van_bang",), lambda r: "Bằng kỹ sư công nghệ in, Trường Đại học Bách khoa Hà Nội"),
    (("cua_khau",), lambda r: r.choice(("Cảng hàng không quốc tế Nội Bài", "Cửa khẩu Lào Cai"))),
    (("may_chu",), lambda r: "Máy chủ đặt tại trung tâm dữ liệu của VNPT, Hà Nội"),
    (("nha_cung_cap",), lambda r: "Tổng công ty Dịch vụ Viễn thông VNPT"),
    (("khu_vuc",), lambda r: "Các xã, phường trong tỉnh"),
    (("doi_tuong",), lambda r: "Cán bộ, công chức và người dân trong tỉnh"),
)
MACHINES = ("Máy in offset Heidelberg SM 52", "Máy in kỹ thuật số Konica Minolta C4080",
            "Máy cắt giấy Polar 78", "Máy ghi bản CTP Kodak Trendsetter")  # fmt: skip


def _text(name: str, rng: random.Random) -> str | None:
    key = name.lower()
    for words, make in _TEXT_BY_NAME:
        if any(key == w[1:] if w.startswith("=") else w in key for w in words):
            return None if make is None else str(make(rng))
    return rng.choice(SENTENCES)


def _fit(text: str, f: FormField, pattern: str | None) -> str:
    text = nfc(text)
    if f.max_length is not None:
        text = text[: f.max_length].rstrip()
    while len(text) < (f.min_length or 0):
        text += " ."
    if pattern is not None and not re.search(pattern, text):
        raise ValueError(f"no sample value for field {f.name!r} matches {pattern!r}: {text!r}")
    return text


def _value(  # noqa: C901 - one case per field kind
    f: FormField, citizen: Citizen, rng: random.Random, pattern: str | None = None
) -> Any:
    applicant = citizen.applicant
    today = now_vietnam().date()
    prefill = f.prefill or ""
    if f.kind is Kind.TEXT or f.kind is Kind.MULTILINE:
        known = {
            "identity.full_name": applicant.full_name,
            "identity.residence": applicant.residence,
            "identity.nationality": "Việt Nam",
        }
        text = known.get(prefill) or _text(f.name, rng)
        if text is None:  # another person (an author, a member of staff)
            text = sample_citizen(rng, today).applicant.full_name
        return _fit(text, f, pattern)
    if f.kind is Kind.NUMBER:
        low = f.minimum if f.minimum is not None else 0
        high = f.maximum if f.maximum is not None else low + 100
        if "nam" in f.name.split("_"):  # a year: a recent one
            return rng.randint(max(low, today.year - 25), min(high, today.year))
        return rng.randint(low, min(high, low + 60))
    if f.kind is Kind.MONEY:
        amount = rng.randrange(5, 200) * 100_000_000  # e.g. a registered capital
        low = max(f.minimum or 0, 0)
        return max(low, min(amount, f.maximum if f.maximum is not None else amount))
    if f.kind is Kind.DATE:
        if prefill == "identity.date_of_birth" and applicant.date_of_birth:
            return applicant.date_of_birth.isoformat()
        if f.not_after_today:
            return (today - timedelta(days=rng.randrange(30, 1500))).isoformat()
        later = 60 if "ket_thuc" in f.name else 0  # an end after the start
        return (today + timedelta(days=later + rng.randrange(30, 60))).isoformat()
    if f.kind is Kind.CHOICE:
        values = [c.value for c in f.choices]
        if prefill == "identity.sex" and SEX_CHOICES.get(applicant.sex) in values:
            return SEX_CHOICES[applicant.sex]
        return rng.choice(values)
    if f.kind is Kind.YESNO:
        return rng.random() < 0.5
    if f.kind is Kind.PHONE:
        return rng.choice(("09", "08", "03", "07")) + f"{rng.randrange(10**8):08d}"
    if f.kind is Kind.EMAIL:
        return f"lienhe{rng.randrange(1000)}@{ascii_slug(rng.choice(BUSINESS))}.vn"
    if f.kind is Kind.ID_NUMBER:
        if prefill == "identity.id_number":
            return applicant.id_number
        return sample_citizen(rng, today).applicant.id_number
    if f.kind is Kind.TAX_CODE:
        return tax_code(rng)
    if f.kind is Kind.ADDRESS:
        return dict(citizen.residence) if prefill == "identity.residence" else sample_address(rng)
    raise ValueError(f"cannot make a sample value for {f.name!r} ({f.kind})")


def _patterns(schema: dict[str, Any]) -> dict[str, str]:
    """``name`` (or ``group.name``) → the ``pattern`` of that text field."""
    out: dict[str, str] = {}
    for name, prop in schema.get("properties", {}).items():
        if "pattern" in prop:
            out[name] = prop["pattern"]
        for inner, spec in prop.get("items", {}).get("properties", {}).items():
            if "pattern" in spec:
                out[f"{name}.{inner}"] = spec["pattern"]
    return out


def sample_declaration(procedure: Procedure, citizen: Citizen, rng: random.Random) -> dict:
    """Answers to the procedure's form, checked with the form's own validation (its JSON
    Schema through jsonschema, with the formats and place names the screen checks)."""
    form = FormSpec.from_definition(procedure.form)
    patterns = _patterns(procedure.form_schema)
    answers: dict[str, Any] = {}
    for f in form.fields:
        if not f.required and rng.random() >= 0.6:
            continue
        if f.kind is Kind.GROUP:
            count = rng.randint(max(f.min_items, 1), max(f.min_items, 1, min(f.max_items or 3, 3)))
            answers[f.name] = [
                {
                    p.name: _value(p, citizen, rng, patterns.get(f"{f.name}.{p.name}"))
                    for p in f.parts
                    if p.required or rng.random() < 0.6
                }
                for _ in range(count)
            ]
        else:
            answers[f.name] = _value(f, citizen, rng, patterns.get(f.name))
    problems = form.validate_answers(answers)
    if problems:
        found = {k: getattr(p, "msgid", str(p)) for k, p in problems.items()}
        raise ValueError(f"sample declaration for {procedure.code} is invalid: {found}")
    return answers


def sample_pdf(
    path: Path, title: str, lines: list[str], rng: random.Random, page_bytes: int | None = None
) -> Path:
    """A one-page scanned-looking A4 PDF (JPEG inside) with the given text; about
    ``page_bytes`` large when asked (scanner grain), else as small as it compresses."""
    width, height = (827, 1169) if page_bytes else (620, 877)  # A4 at 100 or 75 dpi
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    bold = ImageFont.truetype(str(FONT_BOLD), width // 42)
    regular = ImageFont.truetype(str(FONT_REGULAR), width // 48)
    margin = width // 10
    y = margin
    for text, font in ((HEADING[0], bold), (HEADING[1], regular), ("", regular), (title, bold)):
        for line in wrap_words(nfc(text), font, width - 2 * margin) or [""]:
            w = font.getlength(line)
            draw.text(((width - w) / 2, y), line, font=font, fill=0)
            y += int(font.size * 1.5)
    y += regular.size
    for text in lines:
        for line in wrap_words(nfc(text), regular, width - 2 * margin):
            draw.text((margin, y), line, font=regular, fill=0)
            y += int(regular.size * 1.5)
    quality = 60
    if page_bytes:
        grain = Image.frombytes("L", page.size, rng.randbytes(width * height))
        page = Image.blend(page, grain, 0.14)
        quality = 50
    for _ in range(6):
        buffer = io.BytesIO()
        page.save(buffer, "PDF", resolution=100.0 if page_bytes else 75.0, quality=quality)
        data = buffer.getvalue()
        if not page_bytes or abs(len(data) - page_bytes) < page_bytes * 0.15:
            break
        quality = max(5, min(95, int(quality * (page_bytes / len(data)) ** 0.7)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def sample_dossier(
    procedure: Procedure,
    kiosk_id: str,
    out_dir: Path,
    rng: random.Random,
    *,
    pages_per_document: int = 1,
    page_bytes: int | None = None,
    optional_documents: bool = True,
    created_at: datetime | None = None,
) -> DossierSubmission:
    """One plausible dossier for ``procedure``; its PDFs are written under ``out_dir``."""
    created = created_at or now_vietnam()
    citizen = sample_citizen(rng, created.date())
    applicant = citizen.applicant
    declaration = sample_declaration(procedure, citizen, rng)
    key = uuid.uuid4().hex  # fresh even for a fixed seed: a rerun is a new dossier
    folder = Path(out_dir) / key
    attachments = []
    for doc in procedure.documents:
        if not doc.required and (not optional_documents or rng.random() < 0.5):
            continue
        # Papers on file are linked only when the back office holds one for this applicant
        # (the kiosk links what the citizen picked); sample citizens have none, so every
        # document is a generated PDF.
        details = [
            f"Họ và tên: {applicant.full_name}",
            f"Số định danh cá nhân: {applicant.id_number}",
            f"Nơi cư trú: {applicant.residence}",
            rng.choice(SENTENCES),
        ]
        pages = [
            sample_pdf(folder / f"{doc.id}-{n}.pdf", doc.title_vi.upper(), details, rng, page_bytes)
            for n in range(1, pages_per_document + 1)
        ]
        attachments.append(Attachment(doc.id, doc.title_vi, pages))
    return DossierSubmission(
        procedure_code=procedure.code,
        kiosk_id=kiosk_id,
        applicant=applicant,
        declaration=declaration,
        attachments=attachments,
        created_at=created,
        idempotency_key=key,
    )


def sample_dossiers(
    catalog: Catalog,
    kiosk_id: str,
    n: int,
    out_dir: Path,
    *,
    seed: int | None = None,
    procedures: list[str] | None = None,
    pages_per_document: int = 1,
    page_bytes: int | None = None,
    optional_documents: bool = True,
) -> list[DossierSubmission]:
    """``n`` dossiers over the catalog's procedures (or the given codes), taken in turn."""
    rng = random.Random(seed)
    chosen = [catalog.get(c) for c in procedures] if procedures else catalog.procedures()
    if not chosen:
        raise ValueError("the catalog has no procedure")
    return [
        sample_dossier(
            chosen[i % len(chosen)],
            kiosk_id,
            out_dir,
            rng,
            pages_per_document=pages_per_document,
            page_bytes=page_bytes,
            optional_documents=optional_documents,
        )
        for i in range(n)
    ]
