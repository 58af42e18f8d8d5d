"""Benchmark: dossiers per second through the durable outbox against direct posting to the back
office, and the latency the outbox adds per dossier.

    python bench/submit.py [--dossiers 40] [--page-kb 200] [--dir DIR] [--json]

Each dossier is a plausible sample (kiosk/demo/dossiers.py) of procedure 2.001740 with two
scanned PDF pages of about ``--page-kb`` KB. The back office is the reference server
(backoffice/) embedded on loopback as in the kiosk's demo mode (``EmbeddedBackOffice``: SQLite
in WAL with synchronous=FULL, pages streamed, hashed and stored), reached through the kiosk's
``HttpBackOffice`` (signed requests, multipart upload), in a temporary folder (``--dir``: put it
on the disk the kiosk uses; fsync costs are the point). The server runs in a thread of this
process, as in demo mode: client and server share one interpreter. All three runs go to the
same server, each with its own client and its own dossiers (another seed: no page is already
stored), after one warm-up dossier:

- direct: ``HttpBackOffice.submit`` one dossier after the other (what the kiosk did before);
- outbox, one by one: ``put`` then wait until the sender thread recorded the answer, as the
  submit screen does; its latency minus the direct one is what the outbox adds;
- outbox, burst: every dossier ``put`` first (the back office being away), then the sender
  drains the queue: the outbox's throughput.

``put`` alone is what a citizen waits for before the kiosk may say "submitted".
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere: the project's packages first

PROCEDURE = "2.001740"
KIOSK = "KIOSK-01"
RUNS = ("direct", "one", "burst")


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 2),
    }


def main() -> int:
    from backoffice.embedded import EmbeddedBackOffice
    from backoffice.settings import Settings
    from kiosk.catalog.procedures import load_catalog
    from kiosk.delivery.http_client import HttpBackOffice
    from kiosk.delivery.outbox.crypto import generate_key
    from kiosk.delivery.outbox.sender import OutboxSender
    from kiosk.delivery.outbox.store import EntryState, Outbox
    from kiosk.demo.dossiers import sample_dossiers
    from kiosk.paths import CONFIG_DIR

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=40)
    parser.add_argument("--page-kb", type=int, default=200)
    parser.add_argument("--dir", help="where the temporary files go (default: the system's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    catalog = load_catalog(CONFIG_DIR / "procedures")
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-submit-") as tmp:
        work = Path(tmp)

        def dossiers_for(run: str, seed: int, n: int) -> list[Any]:
            return sample_dossiers(
                catalog,
                KIOSK,
                n,
                work / "in" / run,
                seed=seed,
                procedures=[PROCEDURE],
                pages_per_document=2,
                page_bytes=args.page_kb * 1000,
                optional_documents=False,
            )

        runs = {run: dossiers_for(run, seed, args.dossiers) for seed, run in enumerate(RUNS, 1)}
        dossiers = runs["direct"]
        pages = [p for d in dossiers for a in d.attachments for p in a.pages]
        page_kb = statistics.fmean(p.stat().st_size for p in pages) / 1000

        server = EmbeddedBackOffice(Settings.for_folder(work / "backoffice"))
        url = server.start()
        try:
            secret = server.ensure_kiosk(KIOSK)

            def office() -> HttpBackOffice:
                client = HttpBackOffice(url, KIOSK, secret, timeout_s=60)
                assert client.health().ok  # connected before the clock starts
                return client

            with office() as warm:
                warm.submit(dossiers_for("warm-up", 0, 1)[0])

            # 1. direct
            direct = office()
            direct_lat: list[float] = []
            start = time.perf_counter()
            for d in dossiers:
                t0 = time.perf_counter()
                direct.submit(d)
                direct_lat.append(time.perf_counter() - t0)
            direct_rate = len(dossiers) / (time.perf_counter() - start)
            direct.close()

            # 2. outbox, one by one
            recorded: dict[str, float] = {}

            def note(name: str, entry: Any) -> None:
                if name == "recorded":
                    recorded[entry.reference] = time.perf_counter()

            one = office()
            outbox = Outbox(work / "one" / "outbox.sqlite", generate_key(), KIOSK)
            sender = OutboxSender(outbox, one, checkpoint=note)
            put_lat: list[float] = []
            end_lat: list[float] = []
            sender.start()
            start = time.perf_counter()
            for d in runs["one"]:
                t0 = time.perf_counter()
                entry = outbox.put(d)
                put_lat.append(time.perf_counter() - t0)
                done = outbox.wait_delivered(entry.reference, 60)
                assert done is not None and done.state is EntryState.DELIVERED
                end_lat.append(recorded[entry.reference] - t0)
                assert entry.id is not None
                outbox.purge_delivered(entry.id)  # the receipt is printed
            one_rate = len(dossiers) / (time.perf_counter() - start)
            sender.stop()
            outbox.close()
            one.close()

            # 3. outbox, burst
            burst = office()
            outbox = Outbox(work / "burst" / "outbox.sqlite", generate_key(), KIOSK)
            start = time.perf_counter()
            for d in runs["burst"]:
                outbox.put(d)
            put_all = time.perf_counter() - start
            status = OutboxSender(outbox, burst).flush(600)
            burst_rate = len(dossiers) / (time.perf_counter() - start)
            assert status.pending == 0 and status.delivered == len(dossiers)
            outbox.close()
            burst.close()
            stored = server.context.blobs
            sent = [p for run in runs.values() for d in run for a in d.attachments for p in a.pages]
            assert all(stored.exists(_sha256(p)) for p in sent)  # every page is at the server
        finally:
            server.stop()

    direct_stats = _stats(direct_lat)
    end_stats = _stats(end_lat)
    result = {
        "dossiers": len(dossiers),
        "pages_per_dossier": round(len(pages) / len(dossiers), 2),
        "page_kb": round(page_kb, 1),
        "direct": {"dossiers_per_s": round(direct_rate, 1), "latency": direct_stats},
        "outbox_one_by_one": {
            "dossiers_per_s": round(one_rate, 1),
            "put": _stats(put_lat),
            "put_to_recorded": end_stats,
        },
        "outbox_burst": {
            "dossiers_per_s": round(burst_rate, 1),
            "puts_per_s": round(len(dossiers) / put_all, 1),
        },
        "added_latency_ms": round(end_stats["mean_ms"] - direct_stats["mean_ms"], 2),
        "ratio_one_by_one": round(one_rate / direct_rate, 3),
        "ratio_burst": round(burst_rate / direct_rate, 3),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{result['dossiers']} dossiers, {result['pages_per_dossier']} PDF pages each, "
        f"{result['page_kb']} KB a page"
    )
    print(
        f"direct submit:        {direct_rate:7.1f} dossiers/s   "
        f"latency mean {direct_stats['mean_ms']} ms, p95 {direct_stats['p95_ms']} ms"
    )
    print(
        f"outbox, one by one:   {one_rate:7.1f} dossiers/s   "
        f"put→recorded mean {end_stats['mean_ms']} ms, p95 {end_stats['p95_ms']} ms"
    )
    print(
        f"outbox, burst:        {burst_rate:7.1f} dossiers/s   "
        f"(puts alone {result['outbox_burst']['puts_per_s']} /s)"
    )
    put = result["outbox_one_by_one"]["put"]
    print(f"put (until 'submitted' may be shown): mean {put['mean_ms']} ms, p95 {put['p95_ms']} ms")
    print(
        f"added latency per dossier: {result['added_latency_ms']} ms; throughput ratio "
        f"outbox/direct: {result['ratio_one_by_one']} one by one, {result['ratio_burst']} burst"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
