"""Benchmark: a full chip read (PACE, DG1 + DG2 + DG13 + SOD, passive authentication) through the
in-process simulated CCCD: APDUs, bytes moved and host CPU time per read, next to the minimum
APDU count for the block size used.

    python bench/chip_read.py [--reads 10] [--profile demo]

The minimum: for each file one SELECT plus ceil(size / block) READ BINARY, plus the access
protocol's own APDUs (PACE: MSE:Set AT and four GENERAL AUTHENTICATE) and the SELECT of the
application. The reader reaches it: the first READ BINARY of a file asks for a whole block,
and the TLV header in it tells how much more to read.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from devices.simulated.profiles import build_chip
    from devices.simulated.test_pki import TestPKI
    from kiosk.emrtd.reader import AccessKey, read_chip

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=10)
    parser.add_argument("--profile", default="demo")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        pki_dir = Path(tmp) / "pki"
        trust = TestPKI.load_or_create(pki_dir).trust_store()
        cpu: list[float] = []
        result = None
        chip = None
        for _ in range(args.reads):
            chip = build_chip(args.profile, pki_dir)
            key = AccessKey(can=chip.profile.can)
            start = time.process_time()
            result = read_chip(chip.process, key, trust, groups=(1, 2, 13))
            cpu.append(time.process_time() - start)
        assert result is not None and chip is not None
        block = result.block_size
        sizes = {name: len(data) for name, data in result.files.items()}
        files_minimum = sum(1 + math.ceil(size / block) for size in sizes.values())
        files_minimum += 2  # EF.CardAccess, read in plain before PACE: SELECT + one READ
        protocol_apdus = 5 if result.protocol == "PACE" else 2
        minimum = files_minimum + protocol_apdus + 1  # + SELECT application
        figures = {
            "protocol": result.protocol,
            "passive_authentication": result.passive.status.value,
            "block_size": block,
            "file_sizes": sizes,
            "apdus": result.stats.apdus,
            "minimum_apdus": minimum,
            "bytes_moved": result.stats.bytes_sent + result.stats.bytes_received,
            "cpu_ms_per_read_median": round(statistics.median(cpu) * 1000, 1),
            "cpu_ms_per_read_min": round(min(cpu) * 1000, 1),
            "reads": args.reads,
        }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for name, value in figures.items():
            print(f"{name:>24}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
