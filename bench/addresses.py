"""Benchmark: address search latency, as on each keystroke of the address field.

    python bench/addresses.py [--searches 1000] [--seed 7] [--limit 10] [--json]

1,000 prefixes of random real names (seeded): a commune's or province's name with tones, without
tones, in lower case, with its type word, or without spaces ("daklak"), cut at a random length
from 1 character. Each is searched over all 3,321 communes (``search_communes(None, ...)``),
within the commune's own province, and over the 34 provinces. Prints the median, 95th
percentile and maximum per search in microseconds, and the time to load the data file.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def typed_forms(name: str, short: str) -> list[str]:
    """Ways a citizen may type a name."""
    from kiosk.forms.addresses import fold

    return [short, fold(short), short.lower(), name, fold(short).replace(" ", "")]


def prefixes(rng: random.Random, names: list[tuple[str, str]], count: int) -> list[str]:
    out = []
    for _ in range(count):
        name, short = rng.choice(names)
        form = rng.choice(typed_forms(name, short))
        out.append(form[: rng.randint(1, len(form))])
    return out


def timed(fn, texts: list[str]) -> list[float]:  # noqa: ANN001 - any search function
    """Microseconds per call of ``fn(text)``."""
    out = []
    for text in texts:
        start = time.perf_counter_ns()
        fn(text)
        out.append((time.perf_counter_ns() - start) / 1000)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median_us": round(statistics.median(ordered), 1),
        "p95_us": round(p95, 1),
        "max_us": round(ordered[-1], 1),
    }


def main() -> int:
    from kiosk.forms import addresses

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--searches", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    units = addresses.load()
    load_ms = (time.perf_counter() - start) * 1000

    rng = random.Random(args.seed)
    all_communes = [c for p in units.provinces() for c in units.communes(p.code)]
    commune_texts = prefixes(rng, [(c.name, c.short_name) for c in all_communes], args.searches)
    province_texts = prefixes(
        rng, [(p.name, p.short_name) for p in units.provinces()], args.searches
    )
    # Each prefix searched within a random province that has communes (the usual form flow).
    codes = [rng.choice(all_communes).province_code for _ in commune_texts]
    pairs = iter(zip(codes, commune_texts, strict=True))

    def in_province(_text: str) -> None:
        code, text = next(pairs)
        units.search_communes(code, text, args.limit)

    results = {
        "load_ms": round(load_ms, 1),
        "searches": args.searches,
        "all_communes": summary(
            timed(lambda t: units.search_communes(None, t, args.limit), commune_texts)
        ),
        "one_province": summary(timed(in_province, commune_texts)),
        "provinces": summary(timed(units.search_provinces, province_texts)),
    }
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"data loaded in {results['load_ms']} ms ({units.commune_count()} communes)")
    print(f"{args.searches} random prefixes each, limit {args.limit}:")
    print(f"{'search':<34} {'median':>9} {'p95':>9} {'max':>9}")
    rows = (
        ("all 3,321 communes", results["all_communes"]),
        ("communes of one province", results["one_province"]),
        ("34 provinces", results["provinces"]),
    )
    for label, s in rows:
        print(f"{label:<34} {s['median_us']:>7} µs {s['p95_us']:>6} µs {s['max_us']:>6} µs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
