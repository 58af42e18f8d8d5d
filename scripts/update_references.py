"""Render every screen for the reference-image tests, and regenerate the references after an
intended change of the screens (``make references``; then look at each changed image).

The screens are rendered by ``kiosk screenshot --all --modes all --check`` in a process of their
own, in vi and en × normal, large text and high contrast, with the wall clock held at
``REFERENCE_AT`` so that dates, dossier codes and the receipt's QR are the same every day. The
references are kept at half size (``SCALE``): enough to see a missing photo or a clipped title,
small enough for the repository. tests/screens/rendered/test_rendered_screens.py compares against
them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = ROOT / "tests" / "screens" / "rendered" / "reference"
REFERENCE_AT = "2026-12-07T09:30"  # a Monday morning: a working day, an ordinary queue
SCALE = 0.5
# A pixel differs when a channel moves by more than PIXEL_DELTA of 255; an image differs when
# more than MAX_CHANGED of its pixels do (rendering is deterministic here; the camera's live
# frame may move by a few pixels).
PIXEL_DELTA = 40
MAX_CHANGED = 0.001


def start_render(out: Path) -> subprocess.Popen[str]:
    """Start rendering every screen in every mode into ``out`` (a process of its own). The
    process leaves ``render.json`` (the layout problems), ``render.log`` (its stderr) and, last,
    ``render.exit`` (its exit code) in ``out``, so that another process (a pytest-xdist worker)
    can wait for it too."""
    env = dict(os.environ)
    env.setdefault("KIVY_NO_ARGS", "1")
    env["KIVY_HOME"] = tempfile.mkdtemp(prefix="kivy-home-render-")
    env["SDL_VIDEODRIVER"] = "offscreen"
    kiosk = Path(sys.executable).with_name("kiosk")
    command = [str(kiosk), "screenshot", "--all", str(out), "--modes", "all"]
    command += ["--at", REFERENCE_AT, "--check", "--json"]
    script = '"$@" > "$OUT/render.json" 2> "$OUT/render.log"; echo $? > "$OUT/render.exit.part"'
    script += '; mv "$OUT/render.exit.part" "$OUT/render.exit"'
    env["OUT"] = str(out)
    return subprocess.Popen(
        ["bash", "-c", script, "render", *command], env=env, cwd=ROOT, text=True
    )


def finish_render(out: Path, timeout_s: float = 900.0) -> dict[str, list[str]]:
    """Wait for ``start_render`` into ``out`` (started by this process or another); returns the
    layout problems found per file."""
    done = out / "render.exit"
    deadline = time.monotonic() + timeout_s
    while not done.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the screens were not rendered within {timeout_s:.0f} s")
        time.sleep(0.2)
    code = int(done.read_text().strip() or "-1")
    stdout = (out / "render.json").read_text(encoding="utf-8")
    if code not in (0, 1) or not stdout.strip():
        log = (out / "render.log").read_text(encoding="utf-8", errors="replace")
        raise RuntimeError(f"kiosk screenshot failed ({code}): {log}")
    problems: dict[str, list[str]] = json.loads(stdout)["problems"]
    return problems


def render(out: Path) -> dict[str, list[str]]:
    """Render every screen in every mode into ``out``; returns the layout problems per file."""
    process = start_render(out)
    try:
        return finish_render(out)
    finally:
        process.wait()


def reduced(path: Path) -> np.ndarray:
    """A render at the references' size (BGR)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    size = (round(image.shape[1] * SCALE), round(image.shape[0] * SCALE))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def changed_share(new: np.ndarray, reference: np.ndarray) -> tuple[float, np.ndarray]:
    """The share of pixels that differ, and a picture of where: the new image dimmed, the
    changed pixels in red."""
    if new.shape != reference.shape:
        return 1.0, new
    delta = np.abs(new.astype(np.int16) - reference.astype(np.int16)).max(axis=2)
    mask = delta > PIXEL_DELTA
    picture = (new * 0.35).astype(np.uint8)
    picture[mask] = (0, 0, 255)
    return float(mask.mean()), picture


def main() -> int:
    REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kiosk-references-") as tmp:
        problems = render(Path(tmp))
        for name, lines in sorted(problems.items()):
            for line in lines:
                print(f"layout: {name}: {line}", file=sys.stderr)
        kept = set()
        changed = 0
        for png in sorted(Path(tmp).glob("*.png")):
            image = reduced(png)
            target = REFERENCE_DIR / png.name
            kept.add(png.name)
            if target.exists():
                share, _ = changed_share(image, cv2.imread(str(target), cv2.IMREAD_COLOR))
                if share <= MAX_CHANGED:
                    continue
            cv2.imwrite(str(target), image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
            changed += 1
            print(f"wrote {target.relative_to(ROOT)}")
        for stale in REFERENCE_DIR.glob("*.png"):
            if stale.name not in kept:
                stale.unlink()
                print(f"removed {stale.relative_to(ROOT)}")
    print(f"{changed} reference image(s) changed, {len(kept)} in all")
    return 1 if any(problems.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
