"""The config engine (kiosk/config/toml_engine.py) on its own: reading a file, typed keys, and
problems that name the file, the section, the key or the line."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from kiosk.config.toml_engine import (
    EXPECTED,
    MAX_BYTES,
    ConfigError,
    ConfigIssue,
    Field,
    Kind,
    Wording,
    check_table,
    read_toml,
    unknown_keys,
)
from kiosk.errors import KioskError

FIELDS = (
    Field("name", Kind.STR, "a name", "x"),
    Field("port", Kind.INT, "a port", 80, minimum=1, maximum=65535),
    Field("ratio", Kind.FLOAT, "a ratio", 0.5, minimum=0, maximum=1),
    Field("enabled", Kind.BOOL, "on or off", True),
    Field("mode", Kind.STR, "a mode", "fast", ("fast", "slow")),
    Field("folder", Kind.PATH, "a folder", "data"),
    Field("extra", Kind.OPTIONAL_PATH, "an optional file", ""),
    Field("codes", Kind.LIST, "codes", (), item=Field("", Kind.STR)),
    Field("limits", Kind.TABLE, "limits", {}, item=Field("", Kind.INT, minimum=0, maximum=9)),
)


def write(tmp_path: Path, body: str | bytes, name: str = "demo.toml") -> Path:
    path = tmp_path / name
    path.write_bytes(body.encode() if isinstance(body, str) else body)
    return path


def problems(tmp_path: Path, body: str) -> list[str]:
    """Every problem of ``[demo]`` in a file, one line each."""
    path = write(tmp_path, body)
    table = read_toml(path)["demo"]
    _, issues = check_table(table, FIELDS, str(path), "demo", tmp_path)
    return [str(issue) for issue in issues]


def refusal(path: Path, where: str | None = None) -> ConfigIssue:
    with pytest.raises(ConfigError) as caught:
        read_toml(path, where)
    assert len(caught.value.issues) == 1
    return caught.value.issues[0]


# --- reading a file ---------------------------------------------------------------------------


def test_a_good_file_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, '[demo]\nname = "Huế"\nport = 8080\n')
    assert read_toml(path) == {"demo": {"name": "Huế", "port": 8080}}


def test_a_byte_order_mark_is_tolerated(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf" + b"[demo]\nport = 1\n")
    assert read_toml(path) == {"demo": {"port": 1}}


def test_a_toml_syntax_error_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "[demo]\nname = 'ok'\nport = = 1\n")
    issue = refusal(path)
    assert (issue.line, issue.column) == (3, 8)
    assert str(issue).startswith(f"{path}: line 3, column 8: TOML syntax error: Invalid value (")
    assert "see https://toml.io" in str(issue)


def test_a_syntax_error_at_the_end_points_at_the_last_line(tmp_path: Path) -> None:
    issue = refusal(write(tmp_path, '[demo]\nname = "open'))
    assert (issue.line, issue.column) == (2, 13)
    assert "TOML syntax error: Unterminated string" in issue.problem


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[demo]\nname = "Café"\n'.encode("latin-1"))
    issue = refusal(path, "config/demo.toml")
    assert str(issue) == (
        "config/demo.toml: not UTF-8 text (bad byte at offset 18) (save the file as UTF-8)"
    )


def test_an_oversized_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = write(tmp_path, "# padding\n" * (MAX_BYTES // 10 + 1))
    issue = refusal(path)
    assert str(issue) == (
        f"{path}: larger than 1024 KB, too large for a config file "
        "(a config file of a few KB; is this the right file?)"
    )
    just_fits = write(tmp_path, "#" * (MAX_BYTES - 1) + "\n", "fits.toml")
    assert read_toml(just_fits) == {}


def test_a_missing_file_and_a_folder_are_refused_with_the_fix(tmp_path: Path) -> None:
    missing = refusal(tmp_path / "none.toml")
    assert str(missing) == f"{tmp_path / 'none.toml'}: file not found (a readable TOML file)"
    with pytest.raises(ConfigError, match="is a folder, not a file"):
        read_toml(tmp_path, fix="a demo file")


def test_the_error_is_a_kiosk_error_that_survives_pickling(tmp_path: Path) -> None:
    with pytest.raises(KioskError) as caught:
        read_toml(tmp_path / "none.toml", "demo.toml")
    assert isinstance(caught.value, ConfigError)
    again = pickle.loads(pickle.dumps(caught.value))
    assert again.issues == caught.value.issues
    assert str(again).splitlines() == [
        "invalid configuration (1 problem):",
        "demo.toml: file not found (a readable TOML file)",
    ]


# --- typed keys ---------------------------------------------------------------------------------


def test_a_wrong_type_names_file_section_and_key(tmp_path: Path) -> None:
    found = problems(tmp_path, '[demo]\nport = "eighty"\nenabled = "yes"\nratio = true\n')
    path = tmp_path / "demo.toml"
    assert found == [
        f'{path}: [demo] port: expected an integer, got "eighty" '
        "(allowed: whole number from 1 to 65535)",
        f"{path}: [demo] ratio: expected a number, got true (allowed: number from 0 to 1)",
        f'{path}: [demo] enabled: expected true or false, got "yes" '
        "(allowed: true or false, without quotes)",
    ]


def test_range_choice_and_control_characters(tmp_path: Path) -> None:
    found = problems(tmp_path, '[demo]\nport = 0\nmode = "Fast"\nname = "a\\tb"\nratio = nan\n')
    assert [line.split(": ", 1)[1] for line in found] == [
        "[demo] name: contains a control character such as a line break or a tab "
        "(allowed: any single-line text)",
        "[demo] port: 0 is out of range (allowed: whole number from 1 to 65535)",
        "[demo] ratio: nan is not a finite number (allowed: number from 0 to 1)",
        '[demo] mode: "Fast" is not one of the allowed values (allowed: one of "fast", "slow")',
    ]


def test_an_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    found = problems(tmp_path, "[demo]\nprot = 80\ncolour = 1\n")
    path = tmp_path / "demo.toml"
    known = "name, port, ratio, enabled, mode, folder, extra, codes, limits"
    assert found == [
        f'{path}: [demo] prot: unknown key, did you mean "port"? (known keys in [demo]: {known})',
        f"{path}: [demo] colour: unknown key (known keys in [demo]: {known})",
    ]


def test_an_unknown_key_can_be_sent_where_it_belongs() -> None:
    issues = unknown_keys({"baud": 1}, ["name"], "f.toml", "demo", elsewhere=lambda k: "[serial]")
    assert str(issues[0]) == (
        "f.toml: [demo] baud: unknown key, did you mean [serial]? (known keys in [demo]: name)"
    )


def test_values_are_typed_normalised_and_paths_taken_from_the_base(tmp_path: Path) -> None:
    body = '[demo]\nname = "Hu\u00ea\u0301"\nratio = 1\nfolder = "../var"\nextra = ""\n'
    path = write(tmp_path, body)
    values, issues = check_table(read_toml(path)["demo"], FIELDS, str(path), "demo", tmp_path)
    assert issues == []
    assert values == {"name": "Huế", "ratio": 1.0, "folder": tmp_path.parent / "var", "extra": None}
    assert isinstance(values["ratio"], float)


def test_wrong_values_are_left_out_for_the_caller_to_default(tmp_path: Path) -> None:
    values, issues = check_table({"port": 0, "name": "ok"}, FIELDS, "f.toml", "demo")
    assert values == {"name": "ok"} and len(issues) == 1


def test_a_list_of_values(tmp_path: Path) -> None:
    assert problems(tmp_path, '[demo]\ncodes = ["IN", "BC"]\n') == []
    values, _ = check_table({"codes": ["IN", "BC"]}, FIELDS, "f.toml", "demo")
    assert values == {"codes": ("IN", "BC")}
    found = problems(tmp_path, '[demo]\ncodes = ["IN", 5]\n')
    assert (
        found[0]
        .split(": ", 1)[1]
        .startswith(
            "[demo] codes: item 2: expected text in quotes, got 5 (allowed: a list, each any "
        )
    )
    assert "expected a list, got " in problems(tmp_path, '[demo]\ncodes = "IN"\n')[0]


def test_a_table_of_values(tmp_path: Path) -> None:
    values, issues = check_table({"limits": {"a": 1, "b": 9}}, FIELDS, "f.toml", "demo")
    assert values == {"limits": {"a": 1, "b": 9}} and issues == []
    found = problems(tmp_path, "[demo.limits]\na = 1\nb = 10\n")
    assert found == [
        f"{tmp_path / 'demo.toml'}: [demo] limits: b: 10 is out of range "
        "(allowed: a table, each value whole number from 0 to 9)"
    ]
    assert "expected a table, got an array" in problems(tmp_path, "[demo]\nlimits = [1]\n")[0]


def test_a_secret_is_never_echoed() -> None:
    token = Field("token", Kind.STR, "a secret", "", check=lambda v: "no", secret=True)
    assert token.validate(["s3cret"]) == (None, "expected text in quotes, got a hidden value")


def test_environment_text_is_typed() -> None:
    port = Field("port", Kind.INT, minimum=1)
    assert port.parse_env(" 0x1F ") == (31, None)
    assert port.parse_env("-3") == (-3, None)
    assert port.parse_env("1e3") == (None, 'expected an integer, got "1e3"')
    flag = Field("on", Kind.BOOL)
    assert flag.parse_env("Yes") == (True, None) and flag.parse_env("off") == (False, None)
    assert flag.parse_env("maybe")[1] == 'expected true/false, 1/0 or yes/no, got "maybe"'
    assert Field("r", Kind.FLOAT).parse_env("fast") == (None, 'expected a number, got "fast"')
    assert Field("codes", Kind.LIST, item=Field("", Kind.STR)).parse_env("a,b")[0] is None


def test_a_file_keeps_its_own_wording() -> None:
    words = Wording(lambda v, secret: repr(v), {**EXPECTED, Kind.INT: "a whole number"}, "no")
    field = Field("calls", Kind.INT, default=3, choices=(1, 2, 3))
    assert field.validate(True, wording=words) == (None, "expected a whole number, got True")
    assert field.validate(4, wording=words) == (None, "4 no")
