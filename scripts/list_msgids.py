"""List every message id the kiosk shows, from the kv rules, the screens and the error classes.

Used by tests/project/test_i18n.py to check that the Vietnamese catalog translates each of them,
and by developers (``python scripts/list_msgids.py``) to see what to add to kiosk.po.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KV_CALL = re.compile(r'app\.t\(\s*"((?:[^"\\]|\\.)*)"')
T_CALL_NAMES = {"t"}
MSG_CONST = re.compile(r"^(MSG_[A-Z_]+|msgid)$")


def kv_msgids() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "screens").glob("*.kv"):
        for match in KV_CALL.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1).encode().decode("unicode_escape").encode("latin-1").decode())
    return found


def py_msgids() -> set[str]:
    """String literals passed to ``*.t(...)`` and assigned to ``msgid``/``MSG_*`` names."""
    found: set[str] = set()
    for folder in ("screens", "kiosk", "devices"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and node.args:
                    func = node.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    first = node.args[0]
                    literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
                    if name in T_CALL_NAMES and literal:
                        found.add(first.value)
                if isinstance(node, ast.Assign | ast.AnnAssign):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        if isinstance(target, ast.Name) and MSG_CONST.match(target.id):
                            value = node.value
                            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                                found.add(value.value)
    return found


def mapping_msgids() -> set[str]:
    """Message ids kept in tables: step names, dossier states, rating levels, error classes."""
    from kiosk.session.ratings import LEVELS
    from kiosk.vision.quality import MESSAGES as QUALITY_MESSAGES

    found = set(LEVELS.values()) | set(QUALITY_MESSAGES.values())
    shell = ROOT / "screens" / "shell.py"
    lookup = ROOT / "screens" / "lookup.py"
    for path in (shell, lookup):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for value in node.values:
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        found.add(value.value)
    import kiosk
    from kiosk.errors import KioskError

    for package in ("kiosk", "devices"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
            if info.name in {"kiosk.app.launch", "kiosk.cli.main"}:
                continue
            importlib.import_module(info.name)
    stack = [KioskError]
    while stack:
        cls = stack.pop()
        found.add(cls.msgid)
        stack.extend(cls.__subclasses__())
    del kiosk
    return found


def all_msgids() -> set[str]:
    return kv_msgids() | py_msgids() | mapping_msgids()


if __name__ == "__main__":
    for msgid in sorted(all_msgids()):
        print(msgid)
