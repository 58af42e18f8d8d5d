"""Benchmark: the MRZ reader, the QR reader and the live page finder on generated pictures.

    OMP_THREAD_LIMIT=1 python bench/vision.py [--per-tier 40] [--qr-per-tier 50] [--json]

MRZ: ``devices/simulated/card_images.mrz_sample`` pictures (seeded) of five tiers that make the
headline set (``easy``, ``medium``, ``hard``, ``strip``, ``passport``: 40 each by default, so
200) and a ``harsh`` stress tier reported apart (worse than a kiosk camera should deliver, where
refusing is the right answer). Each picture is either read exactly, refused (``MRZUnreadable``:
the citizen rescans), not found, or read wrong (the figure that must stay 0). Time is wall time
per picture on one core (BLAS, OpenCV and tesseract limited to one thread), with the process's
CPU time beside it (steadier on a machine doing other work; tesseract runs in a child process,
so its CPU time is not counted there). Tesseract alone
(``read_mrz(reader="tesseract")``: the same zone finding, straightening and check-digit repair,
tesseract reading the cells) is measured on a sample for comparison.

QR: ``qr_sample`` pictures of four tiers (``easy``, ``small``, ``tilted``, ``glossy``); the
share decoded exactly by ``read_qr`` (zxing-cpp with the enhancement passes), by one plain
zxing-cpp pass, and by OpenCV's ``cv2.QRCodeDetector``.

Page finder: frames per second of ``bench/page_finder.measure_finder_fps`` on 1280×720 frames
on one core, when that benchmark exists.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

# One core: tesseract (OpenMP), NumPy's BLAS. Set before NumPy is first imported (below, lazily).
for _name in ("OMP_THREAD_LIMIT", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADLINE_TIERS = ("easy", "medium", "hard", "strip", "passport")
STRESS_TIERS = ("harsh",)
OUTCOMES = ("exact", "refused", "not_found", "wrong")


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def bench_mrz(tiers: tuple[str, ...], per_tier: int, seed: int, reader: str) -> dict[str, Any]:
    from devices.simulated.card_images import mrz_sample
    from kiosk.vision.errors import MRZNotFound, MRZUnreadable
    from kiosk.vision.mrz_reader import read_mrz

    outcomes: dict[str, Counter[str]] = {tier: Counter() for tier in tiers}
    seconds: list[float] = []
    cpu: list[float] = []
    repaired = 0
    wrong: list[str] = []
    for tier in tiers:
        for index in range(per_tier):
            sample = mrz_sample(seed + index, tier)
            started, started_cpu = time.perf_counter(), time.process_time()
            try:
                result = read_mrz(sample.image, reader=reader)
                outcome = "exact" if result.lines == list(sample.mrz_lines) else "wrong"
                repaired += bool(result.repaired)
                if outcome == "wrong":
                    wrong.append(f"{tier}/{seed + index}")
            except MRZUnreadable:
                outcome = "refused"
            except MRZNotFound:
                outcome = "not_found"
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            outcomes[tier][outcome] += 1
    total: Counter[str] = Counter()
    for counts in outcomes.values():
        total.update(counts)
    count = sum(total.values())
    return {
        "reader": reader,
        "images": count,
        "exact_share": total["exact"] / count if count else 0.0,
        "outcomes": {name: total[name] for name in OUTCOMES},
        "per_tier": {t: {name: c[name] for name in OUTCOMES} for t, c in outcomes.items()},
        "repaired_reads": repaired,
        "wrong_reads": wrong,
        "median_ms": 1000 * statistics.median(seconds) if seconds else float("nan"),
        "p95_ms": 1000 * _percentile(seconds, 0.95),
        "cpu_median_ms": 1000 * statistics.median(cpu) if cpu else float("nan"),
        "cpu_p95_ms": 1000 * _percentile(cpu, 0.95),
    }


def bench_qr(per_tier: int, seed: int) -> dict[str, Any]:
    import cv2
    import zxingcpp

    from devices.simulated.card_images import QR_DIFFICULTIES, qr_sample
    from kiosk.vision.qr_reader import timed_read_qr

    detector = cv2.QRCodeDetector()
    rows: dict[str, dict[str, int]] = {}
    seconds: list[float] = []
    for tier in QR_DIFFICULTIES:
        row = Counter()
        for index in range(per_tier):
            sample = qr_sample(seed + index, tier)
            texts, took = timed_read_qr(sample.image)
            seconds.append(took)
            row["read_qr"] += sample.qr_payload in texts
            plain = zxingcpp.read_barcodes(
                cv2.cvtColor(sample.image, cv2.COLOR_BGR2GRAY),
                formats=zxingcpp.BarcodeFormat.QRCode,
            )
            row["zxing_plain"] += any(
                bytes(b.bytes).decode("utf-8", "replace") == sample.qr_payload for b in plain
            )
            try:
                text, _, _ = detector.detectAndDecode(sample.image)
            except cv2.error:
                text = ""
            row["cv2_qrcodedetector"] += text == sample.qr_payload
        rows[tier] = {"images": per_tier, **row}
    totals = Counter()
    for row in rows.values():
        totals.update({k: v for k, v in row.items() if k != "images"})
    count = per_tier * len(QR_DIFFICULTIES)
    return {
        "images": count,
        "share": {
            name: totals[name] / count for name in ("read_qr", "zxing_plain", "cv2_qrcodedetector")
        },
        "per_tier": rows,
        "read_qr_median_ms": 1000 * statistics.median(seconds),
        "read_qr_p95_ms": 1000 * _percentile(seconds, 0.95),
    }


def bench_page_finder(frames: int = 20) -> dict[str, Any]:
    try:
        from bench.page_finder import generated_frames, measure_finder_fps
    except ImportError as exc:
        return {"fps": None, "note": f"bench/page_finder.py not available ({exc})"}
    scenes = [frame for frame, _ in generated_frames(frames)]
    return {"fps": measure_finder_fps(scenes, min_seconds=2.0), "frames": frames}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-tier", type=int, default=40, help="MRZ images per tier")
    parser.add_argument("--stress", type=int, default=40, help="harsh MRZ images (0: none)")
    parser.add_argument("--tesseract", type=int, default=8, help="tesseract-alone images per tier")
    parser.add_argument("--qr-per-tier", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--no-finder", action="store_true", help="skip the page finder fps")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import cv2

    cv2.setNumThreads(1)
    figures: dict[str, Any] = {
        "mrz": bench_mrz(HEADLINE_TIERS, args.per_tier, args.seed, "templates"),
    }
    if args.stress:
        figures["mrz_stress"] = bench_mrz(STRESS_TIERS, args.stress, args.seed, "templates")
    if args.tesseract:
        figures["mrz_tesseract_alone"] = bench_mrz(
            HEADLINE_TIERS, args.tesseract, args.seed, "tesseract"
        )
    if args.qr_per_tier:
        figures["qr"] = bench_qr(args.qr_per_tier, args.seed)
    if not args.no_finder:
        figures["page_finder"] = bench_page_finder()
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        print(_table(figures))
    return 0


def _table(figures: dict[str, Any]) -> str:
    lines = []
    for key in ("mrz", "mrz_stress", "mrz_tesseract_alone"):
        if key not in figures:
            continue
        f = figures[key]
        o = f["outcomes"]
        lines.append(
            f"{key:<20} {f['images']:>4} images  exact {100 * f['exact_share']:5.1f} %  "
            f"refused {o['refused']:>3}  not found {o['not_found']:>3}  wrong {o['wrong']:>2}  "
            f"median {f['median_ms']:6.1f} ms  p95 {f['p95_ms']:6.1f} ms  "
            f"(CPU {f['cpu_median_ms']:.1f} / {f['cpu_p95_ms']:.1f} ms)"
        )
        for tier, counts in f["per_tier"].items():
            n = sum(counts.values())
            lines.append(
                f"  {tier:<18} {n:>4}         exact {100 * counts['exact'] / n:5.1f} %  "
                f"refused {counts['refused']:>3}  not found {counts['not_found']:>3}  "
                f"wrong {counts['wrong']:>2}"
            )
    if "qr" in figures:
        q = figures["qr"]
        s = q["share"]
        lines.append(
            f"{'qr':<20} {q['images']:>4} images  read_qr {100 * s['read_qr']:5.1f} %  "
            f"zxing plain {100 * s['zxing_plain']:5.1f} %  "
            f"cv2.QRCodeDetector {100 * s['cv2_qrcodedetector']:5.1f} %  "
            f"median {q['read_qr_median_ms']:.1f} ms  p95 {q['read_qr_p95_ms']:.1f} ms"
        )
        for tier, row in q["per_tier"].items():
            n = row["images"]
            lines.append(
                f"  {tier:<18} {n:>4}         read_qr {100 * row.get('read_qr', 0) / n:5.1f} %  "
                f"zxing plain {100 * row.get('zxing_plain', 0) / n:5.1f} %  "
                f"cv2.QRCodeDetector {100 * row.get('cv2_qrcodedetector', 0) / n:5.1f} %"
            )
    if "page_finder" in figures:
        p = figures["page_finder"]
        fps = p.get("fps")
        text = f"{fps:.1f} fps" if isinstance(fps, int | float) else p.get("note", str(p))
        lines.append(f"{'page finder':<20} 1280x720, one core: {text}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
