"""The import contracts of pyproject.toml ([tool.importlinter]) hold, with imports inside
functions counted, and kiosk/'s root holds only what every room shares."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from kiosk.paths import PROJECT_ROOT as ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_project_keeps_its_import_contracts() -> None:
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_an_import_hidden_inside_a_function_breaks_a_contract(tmp_path: Path) -> None:
    """The contracts are worth something only if a late import is seen too."""
    pkg = tmp_path / "house"
    (pkg / "low").mkdir(parents=True)
    (pkg / "high").mkdir()
    for init in (pkg, pkg / "low", pkg / "high"):
        (init / "__init__.py").write_text('"""room"""\n')
    (pkg / "high" / "shell.py").write_text("VALUE = 1\n")
    (pkg / "low" / "rules.py").write_text(
        textwrap.dedent(
            """
            def late():
                from house.high.shell import VALUE
                return VALUE
            """
        )
    )
    (tmp_path / ".importlinter").write_text(
        textwrap.dedent(
            """
            [importlinter]
            root_package = house

            [importlinter:contract:layers]
            name = high above low
            type = layers
            containers = house
            layers =
                high
                low
            """
        )
    )
    done = _lint(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "house.low.rules -> house.high.shell" in done.stdout


def test_the_kiosk_root_holds_only_what_every_room_shares() -> None:
    root_modules = sorted(p.name for p in (ROOT / "kiosk").glob("*.py"))
    assert root_modules == ["__init__.py", "errors.py", "i18n.py", "paths.py"]


def test_every_package_draws_its_map() -> None:
    """Each package's ``__init__`` says what it holds (a docstring naming its modules)."""
    for top in ("kiosk", "devices", "screens", "backoffice"):
        for init in (ROOT / top).rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            text = init.read_text(encoding="utf-8")
            assert text.lstrip().startswith('"""'), f"{init} has no docstring"
            modules = [p.stem for p in init.parent.glob("*.py") if p.name != "__init__.py"]
            if init.parent.name in ("datagroups",) or len(modules) < 2:
                continue
            missing = [m for m in modules if m not in text]
            assert not missing, f"{init.relative_to(ROOT)} does not name {missing}"
