"""Every benchmark in bench/ runs: a brief run of each with tiny sizes, from inside bench/ as a
reader would start it (``python queue_policy.py``), so that a benchmark broken by a change fails
the suite instead of surprising the next reader (issue 18: bench/queue.py once shadowed the
standard library's ``queue`` and ``make bench`` crashed for every script run from bench/).
The figures themselves are not checked here: benchmarks are run on demand."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"

BRIEF_RUNS = {
    "addresses.py": ["--searches", "20"],
    "chip_read.py": ["--reads", "1"],
    "declaration_pdf.py": ["--runs", "1"],
    "page_finder.py": ["--frames", "2", "--seconds", "0.2"],
    "printer.py": ["--repeat", "1"],
    "queue_policy.py": ["--days", "1"],
    "queue_screen.py": [],
    "startup.py": ["--runs", "1", "--idle", "0.5"],
    "submit.py": ["--dossiers", "2", "--page-kb", "20"],
    "vision.py": ["--per-tier", "1", "--stress", "0", "--tesseract", "0", "--qr-per-tier", "1",
                  "--no-finder"],
}  # fmt: skip


def test_every_benchmark_has_a_brief_run() -> None:
    assert sorted(p.name for p in BENCH.glob("*.py")) == sorted(BRIEF_RUNS)


@pytest.mark.timeout(180)
@pytest.mark.parametrize("script", sorted(BRIEF_RUNS))
def test_the_benchmark_runs(script: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    env.update(
        KIVY_NO_ARGS="1",
        KIVY_HOME=tempfile.mkdtemp(prefix="kivy-home-bench-"),
        SDL_VIDEODRIVER="offscreen",
        OMP_THREAD_LIMIT="1",
    )
    done = subprocess.run(
        [sys.executable, script, *BRIEF_RUNS[script]],
        cwd=BENCH,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert done.returncode == 0, (done.stdout[-2000:], done.stderr[-3000:])
    assert done.stdout.strip(), "a benchmark that prints nothing measured nothing"
