"""Benchmark: cold start to the first interactive screen and idle memory, kiosk vs a bare Kivy app.

Runs each app in a fresh process, offscreen (SDL's offscreen driver over Mesa), several times:
the parent measures from process spawn to the child's "ready" line, printed on the first frame
after the welcome screen is on the window; after a few idle seconds it reads the child's RSS.
The bare app is Kivy with one Label, the floor any Kivy kiosk stands on.

    python bench/startup.py [--runs 3] [--idle 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


def child(kind: str) -> None:
    sys.path.insert(0, str(ROOT))
    from screens.kivy_env import prepare_kivy

    prepare_kivy(offscreen=True)
    from kivy.app import App
    from kivy.clock import Clock

    def ready(dt: float) -> None:
        print("READY", flush=True)

    if kind == "bare":
        from kivy.uix.label import Label

        class Bare(App):
            def build(self) -> Label:
                Clock.schedule_once(ready, 0)
                return Label(text="Xin chào")

        Bare().run()
        return

    from kiosk.app.launch import run_kiosk
    from kiosk.config.settings import load_config

    run_kiosk(load_config(), offscreen=True, on_ready=lambda: ready(0))


def measure(kind: str, idle_s: float) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env.update(
            KIVY_NO_ARGS="1",
            KIVY_HOME=str(Path(tmp) / "kivy"),
            SDL_VIDEODRIVER="offscreen",
            KIOSK_KIOSK_DATA_DIR=str(Path(tmp) / "var"),
            KIOSK_KIOSK_FULLSCREEN="false",
            KIOSK_PRINTER_PORT="0",
        )
        start = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, __file__, "--child", kind],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                if line.startswith("READY"):
                    break
            else:
                raise RuntimeError(f"{kind} app exited before it was ready")
            seconds = time.perf_counter() - start
            time.sleep(idle_s)
            rss_mb = psutil.Process(proc.pid).memory_info().rss / 2**20
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    return seconds, rss_mb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=3.0)
    parser.add_argument("--child", choices=["kiosk", "bare"])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    results: dict[str, dict[str, float]] = {}
    for kind in ("bare", "kiosk"):
        runs = [measure(kind, args.idle) for _ in range(args.runs)]
        results[kind] = {
            "start_s": statistics.median(r[0] for r in runs),
            "rss_mb": statistics.median(r[1] for r in runs),
        }
    bare, kiosk = results["bare"], results["kiosk"]
    ratios = {
        "start_ratio": kiosk["start_s"] / bare["start_s"],
        "rss_ratio": kiosk["rss_mb"] / bare["rss_mb"],
    }
    if args.json:
        print(json.dumps({**results, **ratios}, indent=2))
    else:
        print(f"{'app':<8}{'cold start (s)':>16}{'idle RSS (MB)':>16}   (median of {args.runs})")
        for kind in ("bare", "kiosk"):
            print(f"{kind:<8}{results[kind]['start_s']:>16.2f}{results[kind]['rss_mb']:>16.1f}")
        print(f"{'ratio':<8}{ratios['start_ratio']:>15.2f}x{ratios['rss_ratio']:>15.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
