"""Tests of kiosk/config/settings.py: the shipped files, every kind of problem, overrides, paths."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import typing
import unicodedata
from pathlib import Path

import pytest

from kiosk import paths
from kiosk.config.settings import (
    SCHEMA,
    ConfigError,
    ConfigIssue,
    Kind,
    KioskConfig,
    check_config,
    config_as_dict,
    default_config_path,
    describe_schema,
    load_config,
)
from kiosk.errors import KioskError

VALID = """\
[kiosk]
id = "KIOSK-07"
agency_name = "UBND xã Thử Nghiệm"
agency_code = "000.00.08.H21"
"""


def write(tmp_path: Path, text: str, name: str = "kiosk.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def lines(issues: list[ConfigIssue]) -> list[str]:
    return [str(issue) for issue in issues]


def only_issue(path: Path, env: dict[str, str] | None = None) -> str:
    issues = check_config(path, env={} if env is None else env)
    assert len(issues) == 1, lines(issues)
    return str(issues[0])


# --- the shipped files -----------------------------------------------------------------------


def test_default_file_loads_with_simulated_devices() -> None:
    cfg = load_config(paths.DEFAULT_CONFIG_FILE, env={})
    assert cfg.source == paths.DEFAULT_CONFIG_FILE
    assert cfg.kiosk.id == "KIOSK-01"
    assert cfg.kiosk.agency_name == "Trung tâm Phục vụ hành chính công thành phố Huế"
    assert cfg.kiosk.place in cfg.kiosk.agency_name  # one place, named the same everywhere
    assert unicodedata.is_normalized("NFC", cfg.kiosk.agency_name)
    assert cfg.kiosk.agency_code == "000.00.08.H21"
    assert cfg.kiosk.language == "vi"
    assert cfg.kiosk.data_dir == paths.PROJECT_ROOT / "var"
    assert (cfg.kiosk.idle_timeout_s, cfg.kiosk.idle_warning_s) == (90, 20)
    assert cfg.backoffice.url == "" and cfg.backoffice.ca_file is None
    assert cfg.card_reader.mode == "simulated"
    assert cfg.camera.mode == "simulated"
    assert cfg.camera.frames == paths.SAMPLES_DIR / "document-vn.jpg"
    assert cfg.printer.mode == "simulated" and cfg.printer.out_dir is None
    assert cfg.catalog.procedures_dir == paths.CONFIG_DIR / "procedures"
    assert cfg.catalog.holidays_file == paths.CONFIG_DIR / "holidays.toml"


def test_default_file_sets_every_key_explicitly() -> None:
    """The shipped file documents every key; nothing falls back to a hidden default."""
    import tomllib

    data = tomllib.loads(paths.DEFAULT_CONFIG_FILE.read_text(encoding="utf-8"))
    for section in SCHEMA:
        assert sorted(data[section.name]) == sorted(section.key_names), section.name


def test_hardware_example_loads() -> None:
    cfg = load_config(paths.CONFIG_DIR / "hardware.example.toml", env={})
    assert cfg.card_reader.mode == "pcsc"
    assert cfg.camera.mode == "opencv"
    assert cfg.printer.mode == "network" and cfg.printer.host and cfg.printer.port == 9100
    assert cfg.backoffice.url.startswith("https://")
    assert cfg.kiosk.data_dir == Path("/var/lib/motcua-kiosk")


def test_minimal_file_takes_the_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, VALID), env={})
    assert cfg.kiosk.agency_name == "UBND xã Thử Nghiệm"
    assert cfg.kiosk.data_dir == tmp_path.parent / "var"
    assert cfg.kiosk.fullscreen is True and cfg.kiosk.large_text is False
    assert cfg.backoffice.timeout_s == 10.0 and isinstance(cfg.backoffice.timeout_s, float)
    assert cfg.printer.port == 9100 and cfg.printer.width_mm == 80
    assert cfg.catalog.procedures_dir == tmp_path / "procedures"


# --- several problems at once ----------------------------------------------------------------


def test_all_problems_are_reported_together(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[kiosk]\nagency_name = "X"\nagency_code = "000.00.08.H21"\n'
        'idle_timeout_s = "abc"\ncolour = "red"\n',
    )
    before = path.read_bytes()
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    found = lines(caught.value.issues)
    assert len(found) == 3, found
    where = str(path)
    assert (
        f'{where}: [kiosk] idle_timeout_s: expected an integer, got "abc" '
        "(allowed: whole number from 30 to 600)"
    ) in found
    assert any(
        line.startswith(f"{where}: [kiosk] colour: unknown key (known keys in [kiosk]: id, ")
        for line in found
    ), found
    assert any(
        line.startswith(
            f'{where}: [kiosk] id: missing required key (a kiosk identifier such as "KIOSK-01"; '
            "allowed: 1 to 64 characters"
        )
        for line in found
    ), found
    for line in found:
        assert "\n" not in line
    assert str(caught.value).splitlines()[1:] == found
    assert str(caught.value).startswith("invalid configuration (3 problems)")
    assert path.read_bytes() == before  # checking never touches the file


def test_message_names_the_file_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config").mkdir()
    write(tmp_path / "config", VALID + 'idle_timeout_s = "abc"\n')
    monkeypatch.chdir(tmp_path)
    assert only_issue(Path("config/kiosk.toml")) == (
        'config/kiosk.toml: [kiosk] idle_timeout_s: expected an integer, got "abc" '
        "(allowed: whole number from 30 to 600)"
    )


def test_config_error_is_a_kiosk_error_with_a_citizen_message(tmp_path: Path) -> None:
    with pytest.raises(KioskError) as caught:
        load_config(tmp_path / "absent.toml", env={})
    err = caught.value
    assert isinstance(err, ConfigError)
    assert err.user_message() == (
        "This kiosk is not set up correctly. Please ask the staff at the counter for help."
    )
    copy = pickle.loads(pickle.dumps(err))
    assert copy.issues == err.issues and str(copy) == str(err)


# --- every kind of problem in a file ---------------------------------------------------------

PROBLEMS = [
    # (extra text, where it goes, expected line after "<file>: ")
    (
        'fullscreen = "yes"',
        "kiosk",
        '[kiosk] fullscreen: expected true or false, got "yes" '
        "(allowed: true or false, without quotes)",
    ),
    (
        "touch = 1",
        "kiosk",
        "[kiosk] touch: expected true or false, got 1 (allowed: true or false, without quotes)",
    ),
    (
        "idle_timeout_s = true",
        "kiosk",
        "[kiosk] idle_timeout_s: expected an integer, got true "
        "(allowed: whole number from 30 to 600)",
    ),
    (
        "idle_timeout_s = 90.0",
        "kiosk",
        "[kiosk] idle_timeout_s: expected an integer, got 90.0 "
        "(allowed: whole number from 30 to 600)",
    ),
    (
        "idle_timeout_s = 601",
        "kiosk",
        "[kiosk] idle_timeout_s: 601 is out of range (allowed: whole number from 30 to 600)",
    ),
    (
        "idle_timeout_s = 29",
        "kiosk",
        "[kiosk] idle_timeout_s: 29 is out of range (allowed: whole number from 30 to 600)",
    ),
    (
        'language = "fr"',
        "kiosk",
        '[kiosk] language: "fr" is not one of the allowed values (allowed: one of "vi", "en")',
    ),
    (
        'orientation = "Portrait"',
        "kiosk",
        '[kiosk] orientation: "Portrait" is not one of the allowed values '
        '(allowed: one of "portrait", "landscape")',
    ),
    (
        'data_dir = ""',
        "kiosk",
        "[kiosk] data_dir: the path is empty (allowed: a file or folder path, "
        "relative to the config file's folder unless absolute)",
    ),
    (
        "data_dir = 5",
        "kiosk",
        "[kiosk] data_dir: expected a path in quotes, got 5 (allowed: a file or folder path, "
        "relative to the config file's folder unless absolute)",
    ),
    (
        "large_text = [true]",
        "kiosk",
        "[kiosk] large_text: expected true or false, got an array "
        "(allowed: true or false, without quotes)",
    ),
    (
        "high_contrast = { on = true }",
        "kiosk",
        "[kiosk] high_contrast: expected true or false, got a table "
        "(allowed: true or false, without quotes)",
    ),
    (
        "idle_warning_s = 2024-01-01",
        "kiosk",
        "[kiosk] idle_warning_s: expected an integer, got a date/time (2024-01-01) "
        "(allowed: whole number from 5 to 60, less than idle_timeout_s)",
    ),
    ('timeout_s = "10"', "backoffice", '[backoffice] timeout_s: expected a number, got "10"'),
    ("timeout_s = true", "backoffice", "[backoffice] timeout_s: expected a number, got true"),
    ("timeout_s = nan", "backoffice", "[backoffice] timeout_s: nan is not a finite number"),
    ("timeout_s = inf", "backoffice", "[backoffice] timeout_s: inf is not a finite number"),
    (
        "timeout_s = 0.5",
        "backoffice",
        "[backoffice] timeout_s: 0.5 is out of range (allowed: number from 1 to 120)",
    ),
    (
        'url = "ftp://files.example.vn"',
        "backoffice",
        '[backoffice] url: "ftp://files.example.vn" is not an http:// or https:// URL '
        '(allowed: "" (the reference back office on loopback) or an http(s):// URL)',
    ),
    ('url = "https://"', "backoffice", '[backoffice] url: "https://" has no host name'),
    (
        'url = "https://bo.example.vn:99999"',
        "backoffice",
        '[backoffice] url: "https://bo.example.vn:99999" is not a valid URL',
    ),
    (
        'url = "https://bo.example.vn/api?x=1"',
        "backoffice",
        '[backoffice] url: "https://bo.example.vn/api?x=1" has a query or fragment',
    ),
    (
        'url = "https://bo.example.vn/a b"',
        "backoffice",
        '[backoffice] url: "https://bo.example.vn/a b" contains spaces',
    ),
    (
        'url = "https://kiosk:s3cret@bo.example.vn"',
        "backoffice",
        "[backoffice] url: contains a user name or password; put the credential in "
        "[backoffice] token",
    ),
    (
        "token = 123456",
        "backoffice",
        "[backoffice] token: expected text in quotes, got a hidden value",
    ),
    (
        'token = "abc def"',
        "backoffice",
        '[backoffice] token: contains spaces (allowed: text without spaces; "" for none)',
    ),
    ('mode = "pc/sc"', "card_reader", '[card_reader] mode: "pc/sc" is not one of the allowed'),
    (
        'profile = "../etc"',
        "card_reader",
        '[card_reader] profile: "../etc" is not a valid profile name',
    ),
    (
        "device = -1",
        "camera",
        "[camera] device: -1 is out of range (allowed: whole number, at least 0)",
    ),
    (
        "width = 100",
        "camera",
        "[camera] width: 100 is out of range (allowed: whole number from 320 to 8000)",
    ),
    ("height = 9000", "camera", "[camera] height: 9000 is out of range"),
    ("frames = false", "camera", "[camera] frames: expected a path in quotes, got false"),
    (
        "width_mm = 57",
        "printer",
        "[printer] width_mm: 57 is not one of the allowed values (allowed: one of 58, 80)",
    ),
    ("port = 65536", "printer", "[printer] port: 65536 is out of range"),
    ("usb_vendor_id = 0x10000", "printer", "[printer] usb_vendor_id: 65536 is out of range"),
    (
        'host = "tcp://10.0.0.5"',
        "printer",
        '[printer] host: "tcp://10.0.0.5" looks like a URL; give only the host name or IP address',
    ),
    ("timeout_s = 0.1", "printer", "[printer] timeout_s: 0.1 is out of range"),
    (
        'procedures_dir = ""',
        "catalog",
        "[catalog] procedures_dir: the path is empty",
    ),
]


@pytest.mark.parametrize(("text", "section", "expected"), PROBLEMS)
def test_each_kind_of_bad_value(tmp_path: Path, text: str, section: str, expected: str) -> None:
    body = VALID + f"{text}\n" if section == "kiosk" else VALID + f"[{section}]\n{text}\n"
    path = write(tmp_path, body)
    line = only_issue(path)
    assert line.startswith(f"{path}: {expected}"), line
    assert "(allowed: " in line
    with pytest.raises(ConfigError):
        load_config(path, env={})


def test_a_secret_is_never_echoed(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + '[backoffice]\ntoken = "s3cret token"\n')
    assert "s3cret" not in only_issue(path)
    path = write(tmp_path, VALID + "[backoffice]\ntoken = 987654\n")
    assert "987654" not in only_issue(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('id = "KIOSK 01"', '[kiosk] id: "KIOSK 01" is not a valid kiosk id'),
        ('id = ""', '[kiosk] id: "" is not a valid kiosk id'),
        ('id = "' + "K" * 65 + '"', "is not a valid kiosk id"),
        ('id = "Ki-ốt"', '[kiosk] id: "Ki-ốt" is not a valid kiosk id'),
        (
            'agency_code = "000.00.08.h21"',
            '[kiosk] agency_code: "000.00.08.h21" is not a QCVN 102:2016 agency code '
            "(allowed: a QCVN 102:2016 agency code like 000.00.08.H21)",
        ),
        ('agency_code = "000.00.8.H21"', "is not a QCVN 102:2016 agency code"),
        ('agency_name = "   "', "[kiosk] agency_name: must not be blank"),
        (
            'agency_name = "UBND\\nxã"',
            "[kiosk] agency_name: contains a control character such as a line break or a tab",
        ),
        ('agency_name = "UBND\\u2028xã"', "[kiosk] agency_name: contains a control character"),
    ],
)
def test_identity_keys_are_checked(tmp_path: Path, text: str, expected: str) -> None:
    key = text.split(" = ")[0]
    kept = [ln for ln in VALID.splitlines() if not ln.startswith(f"{key} = ")]
    path = write(tmp_path, "\n".join([*kept, text]) + "\n")
    line = only_issue(path)
    assert line.startswith(f"{path}: [kiosk] {key}: "), line
    assert expected in line, line
    assert "(allowed: " in line


def test_the_longest_kiosk_id_is_accepted(tmp_path: Path) -> None:
    body = VALID.replace("KIOSK-07", "K" * 64)
    assert load_config(write(tmp_path, body), env={}).kiosk.id == "K" * 64


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + 'langage = "vi"\n')
    line = only_issue(path)
    assert line.startswith(f'{path}: [kiosk] langage: unknown key, did you mean "language"? (')
    assert "known keys in [kiosk]: id, agency_name, agency_code, place, language," in line


def test_unknown_key_that_belongs_elsewhere(tmp_path: Path) -> None:
    line = only_issue(write(tmp_path, VALID + "port = 9100\n"))
    assert "[kiosk] port: unknown key, did you mean [printer] port?" in line


def test_unknown_key_without_a_suggestion(tmp_path: Path) -> None:
    line = only_issue(write(tmp_path, VALID + 'colour = "red"\n'))
    assert "[kiosk] colour: unknown key (known keys in [kiosk]: " in line
    assert "did you mean" not in line


def test_unknown_section(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + '[camra]\nmode = "opencv"\n[extras]\nx = 1\n')
    found = lines(check_config(path, env={}))
    assert found == [
        f'{path}: [camra]: unknown section, did you mean "[camera]"? '
        "(known sections: kiosk, backoffice, card_reader, camera, printer, catalog, outbox, queue, "
        "telemetry, fleet, staff)",
        f"{path}: [extras]: unknown section "
        "(known sections: kiosk, backoffice, card_reader, camera, printer, catalog, outbox, queue, "
        "telemetry, fleet, staff)",
    ]


def test_key_outside_any_section(tmp_path: Path) -> None:
    path = write(tmp_path, 'language = "vi"\n' + VALID)
    line = only_issue(path)
    assert line.startswith(
        f"{path}: language: unknown top-level key; settings belong in a section, "
        "did you mean to put it under [kiosk]? (known sections: "
    )


def test_section_that_is_not_a_table(tmp_path: Path) -> None:
    path = write(tmp_path, 'camera = "opencv"\n' + VALID)
    assert only_issue(path).startswith(
        f'{path}: [camera]: expected a section [camera], got "opencv" (write "[camera]" '
    )
    path = write(tmp_path, VALID + '[[printer]]\nmode = "none"\n')
    assert "[printer]: expected a section [printer], got an array" in only_issue(path)


def test_missing_section_reports_each_required_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[printer]\nmode = "none"\n')
    found = lines(check_config(path, env={}))
    assert [line.split(": ")[1] for line in found] == [
        "[kiosk] id",
        "[kiosk] agency_name",
        "[kiosk] agency_code",
    ]
    assert all("missing required key (" in line and "allowed: " in line for line in found)


# --- cross-field rules -----------------------------------------------------------------------


@pytest.mark.parametrize(("warning", "timeout"), [(60, 60), (60, 45), (30, 30)])
def test_idle_warning_must_be_shorter_than_the_timeout(
    tmp_path: Path, warning: int, timeout: int
) -> None:
    path = write(tmp_path, VALID + f"idle_timeout_s = {timeout}\nidle_warning_s = {warning}\n")
    assert only_issue(path) == (
        f"{path}: [kiosk] idle_warning_s: {warning} is not less than idle_timeout_s ({timeout}) "
        "(allowed: fewer seconds than [kiosk] idle_timeout_s, so the warning comes first)"
    )


def test_idle_warning_just_below_the_timeout_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "idle_timeout_s = 30\nidle_warning_s = 29\n")
    assert load_config(path, env={}).kiosk.idle_warning_s == 29


def test_idle_rule_is_not_checked_on_a_wrong_value(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "idle_timeout_s = 10\nidle_warning_s = 20\n")
    assert "idle_timeout_s: 10 is out of range" in only_issue(path)


@pytest.mark.parametrize(
    ("printer", "expected"),
    [
        (
            'mode = "network"\nhost = ""',
            '[printer] host: must be set when [printer] mode = "network" '
            "(allowed: the printer's host name or IP)",
        ),
        (
            'mode = "network"\nport = 0',
            '[printer] port: must be set when [printer] mode = "network"',
        ),
        (
            'mode = "usb"\nusb_product_id = 0x0e15',
            '[printer] usb_vendor_id: must be set when [printer] mode = "usb" '
            "(allowed: a USB vendor id such as 0x04b8)",
        ),
        (
            'mode = "usb"\nusb_vendor_id = 0x04b8',
            '[printer] usb_product_id: must be set when [printer] mode = "usb"',
        ),
        (
            'mode = "serial"',
            '[printer] serial_device: must be set when [printer] mode = "serial" '
            "(allowed: a serial device such as /dev/ttyUSB0)",
        ),
        (
            'mode = "serial"\nserial_device = "/dev/ttyS0"\nbaudrate = 9600',
            "[printer] baudrate: 9600 baud is too slow for receipts printed as images (about "
            "100 KB: 104 s a receipt) (allowed: 115200 (set the printer to it), or a code_page",
        ),
    ],
)
def test_printer_mode_needs_its_settings(tmp_path: Path, printer: str, expected: str) -> None:
    path = write(tmp_path, VALID + f"[printer]\n{printer}\n")
    line = only_issue(path)
    assert line.startswith(f"{path}: {expected}"), line
    assert "(allowed: " in line


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("dichvucong.example.gov.vn/{code}", "is not an http(s) address"),
        ("https://dichvucong.example.gov.vn/tra-cuu", "must contain {code} once"),
        ("https://x.example/{code}?again={code}", "must contain {code} once"),
    ],
)
def test_tracking_url_must_be_an_address_with_the_code(
    tmp_path: Path, url: str, problem: str
) -> None:
    path = write(tmp_path, VALID.replace("[kiosk]\n", f'[kiosk]\ntracking_url = "{url}"\n', 1))
    line = only_issue(path)
    assert "[kiosk] tracking_url" in line and problem in line, line


def test_usb_printer_needs_both_ids(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + '[printer]\nmode = "usb"\n')
    found = lines(check_config(path, env={}))
    assert [line.split(": ")[1] for line in found] == [
        "[printer] usb_vendor_id",
        "[printer] usb_product_id",
    ]


def test_printer_modes_with_their_settings_load(tmp_path: Path) -> None:
    usb = VALID + '[printer]\nmode = "usb"\nusb_vendor_id = 0x04b8\nusb_product_id = 0x0e15\n'
    cfg = load_config(write(tmp_path, usb), env={})
    assert (cfg.printer.usb_vendor_id, cfg.printer.usb_product_id) == (0x04B8, 0x0E15)
    serial = VALID + '[printer]\nmode = "serial"\nserial_device = "/dev/ttyUSB0"\nwidth_mm = 58\n'
    cfg = load_config(write(tmp_path, serial), env={})
    assert cfg.printer.serial_device == "/dev/ttyUSB0" and cfg.printer.width_mm == 58
    slow_text = serial + 'baudrate = 9600\ncode_page = "tcvn3"\nqr = "native"\n'
    cfg = load_config(write(tmp_path, slow_text), env={})
    printer = cfg.printer
    assert (printer.baudrate, printer.code_page, printer.qr) == (9600, "tcvn3", "native")
    none = VALID + '[printer]\nmode = "none"\nhost = ""\nport = 0\n'
    assert load_config(write(tmp_path, none), env={}).printer.mode == "none"


# --- the file itself ---------------------------------------------------------------------------


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "idle_timeout_s = = 90\n")
    assert only_issue(path) == (
        f"{path}: line 5, column 18: TOML syntax error: Invalid value "
        "(TOML: key = value, text in double quotes, [section] headers; see https://toml.io)"
    )
    issue = check_config(path, env={})[0]
    assert (issue.line, issue.column) == (5, 18)


def test_toml_syntax_error_at_the_end_of_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + 'agency_name = "unterminated')
    line = only_issue(path)
    assert line.startswith(f"{path}: line 5, column 28: TOML syntax error: Unterminated string")


def test_duplicate_key_is_a_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + 'id = "KIOSK-08"\n')
    assert "line 5, column 16: TOML syntax error: Cannot overwrite a value" in only_issue(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"
    assert only_issue(path) == (
        f"{path}: file not found (a readable TOML config file; pass its path or set KIOSK_CONFIG)"
    )


def test_folder_instead_of_file(tmp_path: Path) -> None:
    assert only_issue(tmp_path) == (
        f"{tmp_path}: is a folder, not a file "
        "(a readable TOML config file; pass its path or set KIOSK_CONFIG)"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    path.chmod(0)
    try:
        assert only_issue(path).startswith(f"{path}: cannot read the file: permission denied (")
    finally:
        path.chmod(0o600)


def test_path_through_a_file(tmp_path: Path) -> None:
    path = write(tmp_path, VALID) / "kiosk.toml"
    assert only_issue(path) == (
        f"{path}: cannot read the file: Not a directory "
        "(a readable TOML config file; pass its path or set KIOSK_CONFIG)"
    )


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    body = VALID.encode().replace("UBND xã Thử Nghiệm".encode(), "Café".encode("latin-1"))
    path.write_bytes(body)
    offset = body.index(b"\xe9")
    assert only_issue(path) == (
        f"{path}: not UTF-8 text (bad byte at offset {offset}) (save the file as UTF-8)"
    )


def test_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    assert load_config(path, env={}).kiosk.id == "KIOSK-07"


def test_text_is_normalised_to_nfc(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "Trung tâm Phục vụ hành chính công")
    body = VALID.replace("UBND xã Thử Nghiệm", decomposed)
    name = load_config(write(tmp_path, body), env={}).kiosk.agency_name
    assert name == unicodedata.normalize("NFC", decomposed) and name != decomposed


# --- paths -------------------------------------------------------------------------------------


def test_relative_paths_follow_the_config_file(tmp_path: Path) -> None:
    sub = tmp_path / "etc" / "kiosk"
    sub.mkdir(parents=True)
    body = (
        VALID
        + 'data_dir = "../../data/./kiosk"\n'
        + '[backoffice]\nca_file = "trust/ca.pem"\n'
        + '[camera]\nframes = "/srv/frames"\n'
        + '[printer]\nout_dir = "out"\n'
        + '[catalog]\nprocedures_dir = "../procedures"\nholidays_file = "/opt/holidays.toml"\n'
    )
    cfg = load_config(write(sub, body), env={})
    assert cfg.kiosk.data_dir == tmp_path / "data" / "kiosk"
    assert cfg.backoffice.ca_file == sub / "trust" / "ca.pem"
    assert cfg.camera.frames == Path("/srv/frames")
    assert cfg.printer.out_dir == sub / "out"
    assert cfg.catalog.procedures_dir == tmp_path / "etc" / "procedures"
    assert cfg.catalog.holidays_file == Path("/opt/holidays.toml")


def test_relative_config_path_gives_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, VALID)
    monkeypatch.chdir(tmp_path)
    cfg = load_config("kiosk.toml", env={})
    assert cfg.source == tmp_path.resolve() / "kiosk.toml"
    assert cfg.kiosk.data_dir == tmp_path.resolve().parent / "var"
    assert cfg.catalog.holidays_file.is_absolute()


def test_home_folder_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    cfg = load_config(write(tmp_path, VALID + 'data_dir = "~/kiosk-data"\n'), env={})
    assert cfg.kiosk.data_dir == tmp_path / "home" / "kiosk-data"


def test_default_config_path(tmp_path: Path) -> None:
    assert default_config_path({}) == paths.DEFAULT_CONFIG_FILE
    assert default_config_path({"KIOSK_CONFIG": ""}) == paths.DEFAULT_CONFIG_FILE
    target = write(tmp_path, VALID)
    assert default_config_path({"KIOSK_CONFIG": str(target)}) == target
    cfg = load_config(env={"KIOSK_CONFIG": str(target)})
    assert cfg.source == target.resolve() and cfg.kiosk.id == "KIOSK-07"
    assert check_config(None, env={"KIOSK_CONFIG": str(target)}) == []


# --- environment overrides -------------------------------------------------------------------


def test_overrides_of_each_type(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {
        "KIOSK_KIOSK_FULLSCREEN": "no",
        "KIOSK_KIOSK_TOUCH": "0",
        "KIOSK_KIOSK_LARGE_TEXT": "Yes",
        "KIOSK_KIOSK_HIGH_CONTRAST": "true",
        "KIOSK_KIOSK_IDLE_TIMEOUT_S": "120",
        "KIOSK_KIOSK_LANGUAGE": "en",
        "KIOSK_KIOSK_DATA_DIR": "state",
        "KIOSK_BACKOFFICE_URL": "http://127.0.0.1:8080",
        "KIOSK_BACKOFFICE_TIMEOUT_S": "2.5",
        "KIOSK_BACKOFFICE_CA_FILE": "/etc/ssl/ca.pem",
        "KIOSK_CARD_READER_MODE": "pcsc",
        "KIOSK_CAMERA_FRAMES": "",
        "KIOSK_PRINTER_PORT": "0",
        "KIOSK_PRINTER_USB_VENDOR_ID": "0x04B8",
        "KIOSK_PRINTER_TIMEOUT_S": "1",
        "KIOSK_CATALOG_HOLIDAYS_FILE": "../h.toml",
    }
    path = write(tmp_path, VALID + '[camera]\nframes = "pics"\n')
    cfg = load_config(path, env=env)
    assert cfg.kiosk.fullscreen is False and cfg.kiosk.touch is False
    assert cfg.kiosk.large_text is True and cfg.kiosk.high_contrast is True
    assert cfg.kiosk.idle_timeout_s == 120 and cfg.kiosk.language == "en"
    assert cfg.kiosk.data_dir == tmp_path / "state"  # env paths follow the current folder
    assert cfg.backoffice.url == "http://127.0.0.1:8080"
    assert cfg.backoffice.timeout_s == 2.5
    assert cfg.backoffice.ca_file == Path("/etc/ssl/ca.pem")
    assert cfg.card_reader.mode == "pcsc"
    assert cfg.camera.frames is None
    assert cfg.printer.port == 0 and cfg.printer.usb_vendor_id == 0x04B8
    assert cfg.printer.timeout_s == 1.0
    assert cfg.catalog.holidays_file == tmp_path.parent / "h.toml"


def test_override_supplies_a_missing_required_key(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('id = "KIOSK-07"\n', ""))
    assert check_config(path, env={})[0].key == "id"
    name = unicodedata.normalize("NFD", "Ki-ốt")
    env = {"KIOSK_KIOSK_ID": "KIOSK-99", "KIOSK_KIOSK_AGENCY_NAME": name}
    cfg = load_config(path, env=env)
    assert cfg.kiosk.id == "KIOSK-99"
    assert cfg.kiosk.agency_name == unicodedata.normalize("NFC", name)


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        (
            "KIOSK_KIOSK_IDLE_TIMEOUT_S",
            "abc",
            "env KIOSK_KIOSK_IDLE_TIMEOUT_S: [kiosk] idle_timeout_s: expected an integer, "
            'got "abc" (allowed: whole number from 30 to 600)',
        ),
        (
            "KIOSK_KIOSK_IDLE_TIMEOUT_S",
            "1e3",
            "env KIOSK_KIOSK_IDLE_TIMEOUT_S: [kiosk] idle_timeout_s: expected an integer, "
            'got "1e3"',
        ),
        (
            "KIOSK_KIOSK_IDLE_TIMEOUT_S",
            "1000",
            "env KIOSK_KIOSK_IDLE_TIMEOUT_S: [kiosk] idle_timeout_s: 1000 is out of range "
            "(allowed: whole number from 30 to 600)",
        ),
        (
            "KIOSK_KIOSK_FULLSCREEN",
            "maybe",
            "env KIOSK_KIOSK_FULLSCREEN: [kiosk] fullscreen: expected true/false, 1/0 or yes/no, "
            'got "maybe" (allowed: true or false, or 1/0, yes/no)',
        ),
        (
            "KIOSK_BACKOFFICE_TIMEOUT_S",
            "fast",
            "env KIOSK_BACKOFFICE_TIMEOUT_S: [backoffice] timeout_s: expected a number, "
            'got "fast" (allowed: number from 1 to 120)',
        ),
        (
            "KIOSK_BACKOFFICE_TIMEOUT_S",
            "nan",
            "env KIOSK_BACKOFFICE_TIMEOUT_S: [backoffice] timeout_s: nan is not a finite number",
        ),
        (
            "KIOSK_BACKOFFICE_URL",
            "bo.example.vn",
            'env KIOSK_BACKOFFICE_URL: [backoffice] url: "bo.example.vn" is not an http:// or '
            "https:// URL",
        ),
        (
            "KIOSK_KIOSK_LANGUAGE",
            "VI",
            'env KIOSK_KIOSK_LANGUAGE: [kiosk] language: "VI" is not one of the allowed values',
        ),
        (
            "KIOSK_KIOSK_DATA_DIR",
            "",
            "env KIOSK_KIOSK_DATA_DIR: [kiosk] data_dir: the path is empty (allowed: a file or "
            "folder path, relative to the current folder unless absolute)",
        ),
        (
            "KIOSK_PRINTER_WIDTH_MM",
            "72",
            "env KIOSK_PRINTER_WIDTH_MM: [printer] width_mm: 72 is not one of the allowed values",
        ),
        (
            "KIOSK_PRINTER_PORT",
            "-1",
            "env KIOSK_PRINTER_PORT: [printer] port: -1 is out of range",
        ),
        (
            "KIOSK_BACKOFFICE_TOKEN",
            "abc\tdef",
            "env KIOSK_BACKOFFICE_TOKEN: [backoffice] token: contains a control character",
        ),
    ],
)
def test_bad_override_names_the_variable(
    tmp_path: Path, var: str, value: str, expected: str
) -> None:
    path = write(tmp_path, VALID)
    line = only_issue(path, {var: value})
    assert line.startswith(expected), line
    assert "(allowed: " in line
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={var: value})
    assert [str(i) for i in caught.value.issues] == [line]


def test_unknown_variables(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    env = {
        "KIOSK_PRINTR_PORT": "9100",
        "KIOSK_KIOSK_COLOUR": "red",
        "KIOSK_KIOSK_LANGAUGE": "en",
        "KIOSK_CONFIG": str(path),
        "KIOSK_TEST_ANYTHING": "1",
        "PATH": "/usr/bin",
        "kiosk_kiosk_id": "ignored",
    }
    found = lines(check_config(path, env=env))
    assert found == [
        "env KIOSK_KIOSK_COLOUR: unknown variable "
        "(KIOSK_<SECTION>_<KEY> for a key of the schema, or KIOSK_CONFIG)",
        "env KIOSK_KIOSK_LANGAUGE: unknown variable, did you mean KIOSK_KIOSK_LANGUAGE? "
        "(KIOSK_<SECTION>_<KEY> for a key of the schema, or KIOSK_CONFIG)",
        "env KIOSK_PRINTR_PORT: unknown variable, did you mean KIOSK_PRINTER_PORT? "
        "(KIOSK_<SECTION>_<KEY> for a key of the schema, or KIOSK_CONFIG)",
    ]


def test_override_rules_apply_across_file_and_environment(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "idle_warning_s = 50\n")
    assert only_issue(path, {"KIOSK_KIOSK_IDLE_TIMEOUT_S": "45"}) == (
        f"{path}: [kiosk] idle_warning_s: 50 is not less than idle_timeout_s (45) "
        "(allowed: fewer seconds than [kiosk] idle_timeout_s, so the warning comes first)"
    )
    line = only_issue(write(tmp_path, VALID), {"KIOSK_PRINTER_MODE": "serial"})
    assert line == (
        f'{path}: [printer] serial_device: must be set when [printer] mode = "serial" '
        "(allowed: a serial device such as /dev/ttyUSB0)"
    )
    env = {"KIOSK_PRINTER_MODE": "serial", "KIOSK_PRINTER_SERIAL_DEVICE": ""}
    assert only_issue(path, env).startswith("env KIOSK_PRINTER_SERIAL_DEVICE: [printer] ")


def test_override_does_not_hide_a_wrong_file(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + 'idle_timeout_s = "abc"\n')
    line = only_issue(path, {"KIOSK_KIOSK_IDLE_TIMEOUT_S": "90"})
    assert line.startswith(f'{path}: [kiosk] idle_timeout_s: expected an integer, got "abc"')


def test_file_and_environment_problems_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    found = lines(check_config(path, env={"KIOSK_PRINTER_PORT": "x"}))
    assert len(found) == 2
    assert found[0].startswith(f"{path}: file not found")
    assert found[1].startswith("env KIOSK_PRINTER_PORT: [printer] port: expected an integer")


# --- schema, dataclasses, JSON ---------------------------------------------------------------

_PYTHON_TYPES = {
    Kind.STR: str,
    Kind.INT: int,
    Kind.FLOAT: float,
    Kind.BOOL: bool,
    Kind.PATH: Path,
    Kind.OPTIONAL_PATH: Path | None,
}


def test_dataclasses_follow_the_schema() -> None:
    assert [f.name for f in dataclasses.fields(KioskConfig)] == [
        *(section.name for section in SCHEMA),
        "source",
    ]
    for section in SCHEMA:
        hints = typing.get_type_hints(section.settings)
        assert list(hints) == section.key_names, section.name
        for spec in section.keys:
            assert hints[spec.name] == _PYTHON_TYPES[spec.kind], (section.name, spec.name)


def test_settings_are_frozen() -> None:
    cfg = load_config(paths.DEFAULT_CONFIG_FILE, env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.kiosk.id = "other"  # type: ignore[misc]


def test_describe_schema() -> None:
    rows = describe_schema()
    json.dumps(rows)
    assert len(rows) == sum(len(section.keys) for section in SCHEMA)
    by_key = {(row["section"], row["key"]): row for row in rows}
    assert by_key[("kiosk", "id")]["required"] is True
    assert by_key[("kiosk", "id")]["default"] is None
    timeout = by_key[("kiosk", "idle_timeout_s")]
    assert timeout == {
        "section": "kiosk",
        "key": "idle_timeout_s",
        "type": "integer",
        "required": False,
        "default": 90,
        "allowed": "whole number from 30 to 600",
        "description": "seconds without a touch before a session ends and is wiped",
        "env": "KIOSK_KIOSK_IDLE_TIMEOUT_S",
    }
    assert by_key[("kiosk", "data_dir")]["default"] == "../var"
    assert by_key[("card_reader", "mode")]["env"] == "KIOSK_CARD_READER_MODE"
    assert all(row["description"] and row["allowed"] for row in rows)


def test_config_as_dict_masks_the_token(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + '[backoffice]\nurl = "https://bo.example.vn"\n')
    cfg = load_config(path, env={"KIOSK_BACKOFFICE_TOKEN": "s3cret-token"})
    assert cfg.backoffice.token == "s3cret-token"
    out = config_as_dict(cfg)
    text = json.dumps(out)
    assert "s3cret" not in text
    assert out["backoffice"]["token"] == "***"
    assert out["backoffice"]["url"] == "https://bo.example.vn"
    assert out["kiosk"]["data_dir"] == str(tmp_path.parent / "var")
    assert out["backoffice"]["ca_file"] is None
    assert out["source"] == str(path.resolve())
    assert set(out) == {*(section.name for section in SCHEMA), "source"}
    empty = config_as_dict(load_config(path, env={}))
    assert empty["backoffice"]["token"] == ""
