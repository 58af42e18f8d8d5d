"""Benchmark: a working day at the one-stop-shop's counters under three calling policies.

    python bench/queue_policy.py [--counters 4] [--days 30] [--seed 1] [--arrivals-per-hour R]
                          [--priority-share 0.15] [--service-mean 8] [--service-sigma 0.5]
                          [--target 15] [--json]

Arrivals: a Poisson process over the opening hours (07:30-11:30 and 13:30-17:00) with a morning
peak (twice the base rate from 08:00 to 09:30), ``--priority-share`` of them priority citizens.
Service times: lognormal with mean ``--service-mean`` minutes and shape ``--service-sigma``,
clipped to 1-60 min. Every counter serves every ticket (one queue); tickets issued before a
session ends are all served (overtime). The same arrivals and service times (common random
numbers, seeded) are replayed under:

* FCFS:     first come, first served;
* strict:   priority citizens always first (the seed's policy);
* project:  config/queue.toml's policy (bounded: 3 priority : 1 ordinary while both wait,
            nobody past max_wait_min, look-ahead), the very code the kiosk runs
            (kiosk/queue_policy.choose_next), driven by a simulated clock, with the calls'
            interval from the exponentially weighted mean of the service times measured so far
            (as the kiosk's ticket store does).

It prints, per policy and class, the mean, 95th percentile and maximum wait (issue to call),
in minutes, at the highest load (arrivals per hour, in steps of 1) at which the project's
policy keeps the average wait within ``--target`` minutes (the province's 15), and at a load
20 % above it, where the policies part ways. ``--arrivals-per-hour`` gives one load instead.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# This file is named like the standard library's ``queue``: take bench/ off the import path so
# that anything importing ``queue`` gets the real one.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from kiosk.tickets.config import load_queue_config  # noqa: E402
from kiosk.tickets.policy import (  # noqa: E402
    Candidate,
    CycleState,
    Mode,
    PolicyParams,
    choose_next,
    ewma,
)

SESSIONS = ((7 * 60 + 30, 11 * 60 + 30), (13 * 60 + 30, 17 * 60))  # minutes after midnight
PEAK = (8 * 60, 9 * 60 + 30)
PEAK_FACTOR = 2.0
OPEN_MIN = sum(end - start for start, end in SESSIONS)


@dataclass(frozen=True)
class Arrival:
    at: float  # minutes after midnight
    priority: bool
    service: float  # minutes


def _rate_factor(minute: float) -> float:
    return PEAK_FACTOR if PEAK[0] <= minute < PEAK[1] else 1.0


def generate_day(
    rng: random.Random, per_hour: float, priority_share: float, mean: float, sigma: float
) -> list[list[Arrival]]:
    """One day's arrivals per session: thinning of a Poisson process whose daily mean is
    ``per_hour`` times the opening hours."""
    weighted = sum(
        _rate_factor(m + 0.5) for start, end in SESSIONS for m in range(start, end)
    )  # minutes, weighted by the peak
    base = per_hour * OPEN_MIN / 60 / weighted  # arrivals per weighted minute
    top = base * PEAK_FACTOR
    mu = math.log(mean) - sigma * sigma / 2
    days: list[list[Arrival]] = []
    for start, end in SESSIONS:
        t = float(start)
        session: list[Arrival] = []
        while True:
            t += rng.expovariate(top)
            if t >= end:
                break
            if rng.random() * top <= base * _rate_factor(t):
                service = min(60.0, max(1.0, rng.lognormvariate(mu, sigma)))
                session.append(Arrival(t, rng.random() < priority_share, service))
        days.append(session)
    return days


def simulate(
    arrivals: list[Arrival], counters: int, params: PolicyParams, prior_mean: float, alpha: float
) -> tuple[list[tuple[bool, float]], float]:
    """(priority?, wait in minutes) per ticket, and the busy counter-minutes."""
    free = [(arrivals[0].at if arrivals else 0.0, k) for k in range(counters)]
    heapq.heapify(free)
    states = [CycleState() for _ in range(counters)]
    waiting: list[Candidate] = []
    waits: list[tuple[bool, float]] = []
    mean: float | None = None
    done: list[tuple[float, float]] = []  # (finish time, service) not yet measured
    busy = 0.0
    i, n, clock = 0, len(arrivals), 0.0
    while i < n or waiting:
        t, k = heapq.heappop(free)
        t = max(t, clock)  # an idle counter acts now, not in the past
        if not waiting and arrivals[i].at > t:
            t = arrivals[i].at
        clock = t
        while i < n and arrivals[i].at <= t:
            waiting.append(Candidate(i, arrivals[i].at * 60, arrivals[i].priority))
            i += 1
        while done and done[0][0] <= t:  # services finished by now are measured
            mean = ewma(mean, heapq.heappop(done)[1], alpha)
        interval = (mean if mean is not None else prior_mean) * 60 / counters
        choice = choose_next(waiting, t * 60, states[k], params, call_interval_s=interval)
        assert choice is not None
        states[k] = choice.state
        waiting.remove(choice.candidate)
        a = arrivals[choice.candidate.key]
        waits.append((a.priority, t - a.at))
        busy += a.service
        heapq.heappush(done, (t + a.service, a.service))
        heapq.heappush(free, (t + a.service, k))
    return waits, busy


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return 0.0
    s = sorted(values)
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _summary(values: list[float], bound_min: float) -> dict:
    return {
        "tickets": len(values),
        "mean": sum(values) / len(values) if values else 0.0,
        "p95": percentile(values, 0.95),
        "max": max(values, default=0.0),
        "over_bound": sum(1 for v in values if v > bound_min) / len(values) if values else 0.0,
    }


def run_load(args: argparse.Namespace, per_hour: float, policies: dict[str, PolicyParams]) -> dict:
    rng = random.Random(args.seed)
    days = [
        generate_day(rng, per_hour, args.priority_share, args.service_mean, args.service_sigma)
        for _ in range(args.days)
    ]
    result: dict = {"arrivals_per_hour": per_hour, "policies": {}}
    tickets = sum(len(s) for d in days for s in d)
    busy_total = 0.0
    for name, params in policies.items():
        waits: list[tuple[bool, float]] = []
        busy_total = 0.0
        for day in days:
            for session in day:
                w, busy = simulate(session, args.counters, params, args.prior_mean, args.alpha)
                waits += w
                busy_total += busy
        bound = args.max_wait_min
        rows = {
            "priority": _summary([w for p, w in waits if p], bound),
            "normal": _summary([w for p, w in waits if not p], bound),
            "all": _summary([w for _, w in waits], bound),
        }
        result["policies"][name] = rows
    result["tickets_per_day"] = tickets / args.days
    result["measured_per_hour"] = tickets / args.days / (OPEN_MIN / 60)
    result["utilisation"] = busy_total / (args.counters * OPEN_MIN * args.days)
    return result


def print_table(args: argparse.Namespace, result: dict, project: PolicyParams, title: str) -> None:
    print(f"\n{title}")
    print(
        f"load: {result['arrivals_per_hour']:g} arrivals/hour asked "
        f"({result['measured_per_hour']:.1f} drawn, {result['tickets_per_day']:.0f} a day, "
        f"{args.priority_share:.0%} priority), {args.counters} counters, "
        f"utilisation {result['utilisation']:.0%}"
    )
    print()
    bound = project.max_wait_s / 60
    print(
        "| policy | class | tickets | mean wait (min) | p95 wait (min) | max wait (min) "
        f"| waited over {bound:g} min |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, rows in result["policies"].items():
        for label in ("priority", "normal", "all"):
            r = rows[label]
            print(
                f"| {name} | {label} | {r['tickets']} | {r['mean']:.1f} | {r['p95']:.1f} "
                f"| {r['max']:.1f} | {r['over_bound']:.1%} |"
            )
    fcfs_max = result["policies"]["FCFS"]["all"]["max"]
    print(
        f"bound {bound:g} min + one {args.service_mean:g}-min service: project's max wait "
        f"{result['policies']['project']['all']['max']:.1f} min, strict's "
        f"{result['policies']['strict']['all']['max']:.1f}, FCFS's {fcfs_max:.1f}"
    )


def main() -> int:
    cfg = load_queue_config()  # config/queue.toml: the policy the kiosk runs
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counters", type=int, default=4)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--arrivals-per-hour", type=float)
    parser.add_argument("--priority-share", type=float, default=0.15)
    parser.add_argument("--service-mean", type=float, default=8.0, help="minutes")
    parser.add_argument("--service-sigma", type=float, default=0.5)
    parser.add_argument("--target", type=float, default=15.0, help="mean wait to keep, minutes")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.prior_mean = cfg.estimate.default_service_min
    args.alpha = cfg.estimate.alpha
    project = cfg.policy if cfg.policy.mode is Mode.BOUNDED else PolicyParams()
    args.max_wait_min = project.max_wait_s / 60
    policies = {
        "FCFS": PolicyParams(Mode.FCFS),
        "strict": PolicyParams(Mode.STRICT),
        "project": project,
    }
    started = time.perf_counter()
    bound_min = project.max_wait_s / 60 + args.service_mean  # the bound plus one service time
    if args.arrivals_per_hour is not None:
        results = [("the load asked for", run_load(args, args.arrivals_per_hour, policies))]
    else:
        capacity = args.counters * 60 / args.service_mean
        kept = target = None
        rate = max(1, math.floor(capacity * 0.4))
        while rate <= capacity:
            r = run_load(args, rate, policies)
            mine = r["policies"]["project"]["all"]
            if mine["mean"] > args.target:
                break
            target = r
            if mine["max"] <= bound_min:
                kept = r
            rate += 1
        if target is None or kept is None:
            print(f"no load keeps the {args.target:g}-minute average and the bound")
            return 1
        results = [
            (
                f"highest load at which the project's policy keeps everyone within the bound "
                f"({project.max_wait_s / 60:g} min + one {args.service_mean:g}-min service) "
                f"and the average within {args.target:g} min",
                kept,
            ),
            (
                f"highest load at which the project's policy keeps the province's target "
                f"(average wait <= {args.target:g} min); the peak outruns the counters",
                target,
            ),
        ]
    seconds = time.perf_counter() - started
    if args.json:
        print(json.dumps({"results": [r for _, r in results], "seconds": seconds}, indent=2))
        return 0
    print(
        f"{args.days} simulated working days (07:30-11:30, 13:30-17:00, peak x{PEAK_FACTOR:g} "
        f"08:00-09:30), seed {args.seed}; service lognormal mean {args.service_mean:g} min "
        f"(sigma {args.service_sigma:g}); project policy: {project.mode.value} "
        f"{project.priority_calls}:{project.normal_calls}, max wait {project.max_wait_s / 60:g} min"
    )
    for title, result in results:
        print_table(args, result, project, title)
    print(f"\n({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
