"""The calling policy (kiosk/tickets/policy.py) and the queue's config file
(kiosk/tickets/config.py).

Unit cases for each rule, and hypothesis properties over simulated days: FIFO within a class,
the ratio respected, no younger ticket called before an overdue one, and no ticket waiting
longer than the bound plus one service time whenever first come, first served keeps the bound.
"""

from __future__ import annotations

import heapq
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.catalog.procedures import load_catalog
from kiosk.config.settings import ConfigError
from kiosk.paths import CONFIG_DIR
from kiosk.tickets.config import (
    DEFAULT_PRIORITY_CLASSES,
    load_queue_config,
    parse_queue_config,
    queue_config_path,
)
from kiosk.tickets.policy import (
    Candidate,
    CycleState,
    Mode,
    PolicyParams,
    Reason,
    choose_next,
    estimate_wait_s,
    ewma,
    order_of_calls,
    wait_minutes,
)

MIN = 60.0
BOUNDED = PolicyParams(Mode.BOUNDED, 3, 1, 30 * MIN)


def tickets(spec: str, start: float = 0.0, step: float = 10.0) -> list[Candidate]:
    """ "NNPN" → candidates issued ``step`` seconds apart (P priority, N ordinary)."""
    return [Candidate(i, start + i * step, ch == "P") for i, ch in enumerate(spec)]


def drain(cands: list[Candidate], params: PolicyParams) -> str:
    """Call everyone at one instant, just after the last was issued; the classes in call
    order, e.g. "PPPNP"."""
    now = max((c.issued_at for c in cands), default=0.0) + 1.0
    left, state, out = list(cands), CycleState(), []
    while left:
        choice = choose_next(left, now, state, params)
        assert choice is not None
        out.append("P" if choice.candidate.priority else "N")
        left.remove(choice.candidate)
        state = choice.state
    return "".join(out)


# --- the rules one by one ---


def test_nobody_waiting() -> None:
    assert choose_next([], 0.0, CycleState(), BOUNDED) is None


def test_fcfs_ignores_classes() -> None:
    assert drain(tickets("NPNPP"), PolicyParams(Mode.FCFS)) == "NPNPP"


def test_strict_serves_every_priority_first() -> None:
    assert drain(tickets("NNNNPPPPP"), PolicyParams(Mode.STRICT)) == "PPPPPNNNN"


def test_bounded_ratio_three_to_one() -> None:
    assert drain(tickets("NNNNNPPPPPPPP"), BOUNDED) == "PPPNPPPNPPNNN"


def test_bounded_ratio_two_to_two() -> None:
    params = PolicyParams(Mode.BOUNDED, 2, 2, 30 * MIN)
    assert drain(tickets("NNNNNNPPPPPP"), params) == "PPNNPPNNPPNN"


def test_calls_with_one_class_waiting_do_not_count() -> None:
    state = CycleState(2, 0)
    only_priority = tickets("PP")
    choice = choose_next(only_priority, 100.0, state, BOUNDED)
    assert choice is not None and choice.reason is Reason.ONLY_CLASS and choice.state == state
    choice = choose_next(tickets("NPP"), 100.0, state, BOUNDED)
    assert choice is not None and choice.candidate.priority and choice.state == CycleState(3, 0)
    choice = choose_next(tickets("NPP"), 100.0, choice.state, BOUNDED)
    assert choice is not None and not choice.candidate.priority
    assert choice.reason is Reason.NORMAL and choice.state == CycleState()


def test_fifo_within_class_by_issue_time_then_key() -> None:
    cands = [Candidate(5, 30.0, True), Candidate(2, 10.0, True), Candidate(1, 10.0, True)]
    order = order_of_calls(cands, 100.0, CycleState(), BOUNDED, call_interval_s=0)
    assert [c.key for c in order] == [1, 2, 5]


def test_overdue_ticket_goes_first_whatever_its_class() -> None:
    old = Candidate(1, 0.0, False)
    cands = [old, *tickets("PPP", start=20 * MIN)]
    choice = choose_next(cands, 29 * MIN, CycleState(), BOUNDED)
    assert choice is not None and choice.candidate.priority
    choice = choose_next(cands, 30 * MIN, CycleState(), BOUNDED)
    assert choice is not None and choice.candidate is old and choice.reason is Reason.OVERDUE
    assert choice.state == CycleState()  # an ordinary call completes the 3:1 cycle


def test_strict_has_no_bound() -> None:
    cands = [Candidate(1, 0.0, False), Candidate(2, 5 * 3600.0, True)]
    choice = choose_next(cands, 6 * 3600.0, CycleState(), PolicyParams(Mode.STRICT))
    assert choice is not None and choice.candidate.key == 2


def test_look_ahead_keeps_an_older_ticket_from_the_bound() -> None:
    # An ordinary ticket has waited 25 min; each call takes 4 min (8-min services, 2 counters).
    cands = [Candidate(1, 0.0, False), Candidate(2, 1 * MIN, False), *tickets("P", 24 * MIN)]
    now = 25 * MIN
    blind = choose_next(cands, now, CycleState(), BOUNDED)
    assert blind is not None and blind.candidate.priority
    seeing = choose_next(cands, now, CycleState(), BOUNDED, call_interval_s=4 * MIN)
    assert seeing is not None and seeing.candidate.key == 1 and seeing.reason is Reason.DEADLINE
    relaxed = choose_next(cands, 20 * MIN, CycleState(), BOUNDED, call_interval_s=4 * MIN)
    assert relaxed is not None and relaxed.candidate.priority


@pytest.mark.parametrize(
    "kwargs",
    [{"priority_calls": 0}, {"normal_calls": 0}, {"max_wait_s": 0}, {"max_wait_s": float("inf")}],
)
def test_bad_params(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        PolicyParams(**kwargs)  # type: ignore[arg-type]


def test_mode_from_text() -> None:
    assert PolicyParams("strict").mode is Mode.STRICT  # type: ignore[arg-type]


# --- estimates ---


def test_ewma() -> None:
    assert ewma(None, 300.0, 0.2) == 300.0
    assert ewma(300.0, 600.0, 0.2) == pytest.approx(360.0)
    with pytest.raises(ValueError):
        ewma(1.0, 1.0, 0.0)


def test_estimate_wait() -> None:
    assert estimate_wait_s(0, 480.0, 2, free_counters=1) == 0.0
    assert estimate_wait_s(1, 480.0, 2, free_counters=2) == 0.0
    assert estimate_wait_s(0, 480.0, 2) == pytest.approx(120.0)  # half an interval
    assert estimate_wait_s(3, 480.0, 2) == pytest.approx(3.5 * 240.0)
    with pytest.raises(ValueError):
        estimate_wait_s(1, 480.0, 0)
    assert [wait_minutes(s) for s in (0.0, 1.0, 60.0, 61.0)] == [0, 1, 1, 2]


def test_order_of_calls_replays_the_policy() -> None:
    order = order_of_calls(tickets("NNNNPPPP"), 100.0, CycleState(), BOUNDED, call_interval_s=60)
    assert "".join("P" if c.priority else "N" for c in order) == "PPPNPNNN"


# --- properties over simulated days ---


def simulate(
    arrivals: list[tuple[float, bool]],
    service_s: float,
    counters: int,
    params: PolicyParams,
) -> tuple[dict[int, float], list[tuple[float, int]]]:
    """Identical counters with a fixed service time; returns waits and (time, key) calls."""
    free = [(0.0, k) for k in range(counters)]
    states = [CycleState() for _ in range(counters)]
    waiting: list[Candidate] = []
    waits: dict[int, float] = {}
    calls: list[tuple[float, int]] = []
    i, clock = 0, 0.0
    while i < len(arrivals) or waiting:
        t, k = heapq.heappop(free)
        t = max(t, clock)  # an idle counter acts now, not in the past
        if not waiting and arrivals[i][0] > t:
            t = arrivals[i][0]
        clock = t
        while i < len(arrivals) and arrivals[i][0] <= t:
            waiting.append(Candidate(i, arrivals[i][0], arrivals[i][1]))
            i += 1
        choice = choose_next(waiting, t, states[k], params, call_interval_s=service_s / counters)
        assert choice is not None
        states[k] = choice.state
        waiting.remove(choice.candidate)
        waits[choice.candidate.key] = t - choice.candidate.issued_at
        calls.append((t, choice.candidate.key))
        heapq.heappush(free, (t + service_s, k))
    return waits, calls


@st.composite
def days(draw: st.DrawFn) -> tuple[list[tuple[float, bool]], float, int, PolicyParams]:
    counters = draw(st.integers(1, 4))
    service = draw(st.sampled_from([60.0, 300.0, 480.0, 600.0]))
    bound = draw(st.sampled_from([5 * MIN, 10 * MIN, 20 * MIN, 30 * MIN]))
    gaps = draw(st.lists(st.floats(0, 3 * service / counters), min_size=1, max_size=60))
    classes = draw(st.lists(st.booleans(), min_size=len(gaps), max_size=len(gaps)))
    t, arrivals = 0.0, []
    for gap, priority in zip(gaps, classes, strict=True):
        t += round(gap)
        arrivals.append((t, priority))
    params = PolicyParams(Mode.BOUNDED, draw(st.integers(1, 5)), draw(st.integers(1, 3)), bound)
    return arrivals, service, counters, params


@settings(max_examples=300, deadline=None)
@given(days())
def test_property_bound_plus_one_service(day) -> None:  # type: ignore[no-untyped-def]
    arrivals, service, counters, params = day
    fcfs, _ = simulate(arrivals, service, counters, PolicyParams(Mode.FCFS))
    mine, _ = simulate(arrivals, service, counters, params)
    assert len(mine) == len(arrivals)  # everyone is called
    limit = max(params.max_wait_s, max(fcfs.values())) + service
    assert max(mine.values()) <= limit + 1e-6
    if max(fcfs.values()) <= params.max_wait_s:  # the counters can keep the bound
        assert max(mine.values()) <= params.max_wait_s + service + 1e-6


@settings(max_examples=300, deadline=None)
@given(days())
def test_property_overdue_and_fifo_order(day) -> None:  # type: ignore[no-untyped-def]
    arrivals, service, counters, params = day
    _, calls = simulate(arrivals, service, counters, params)
    called_at = {key: t for t, key in calls}
    for a, (ta, pa) in enumerate(arrivals):
        for b in range(a + 1, len(arrivals)):
            tb, pb = arrivals[b]
            if tb == ta:
                continue
            # FIFO within a class: an older ticket of the same class is never called later.
            if pa == pb:
                assert called_at[a] <= called_at[b]
            # Nobody issued later is called after ``a`` became overdue and before ``a``.
            if called_at[b] < called_at[a]:
                assert called_at[b] < ta + params.max_wait_s


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(1, 4), st.integers(0, 40), st.integers(0, 40))
def test_property_ratio_when_both_wait(p: int, n: int, priorities: int, normals: int) -> None:
    params = PolicyParams(Mode.BOUNDED, p, n, 10 * 3600.0)
    spec = "N" * normals + "P" * priorities  # ordinary ones first: no FIFO help for priority
    order = drain(tickets(spec), params)
    # While both classes wait, the calls repeat p priority then n ordinary.
    both = min(priorities // p, normals // n)
    assert order[: both * (p + n)] == ("P" * p + "N" * n) * both
    assert sorted(order) == sorted(spec)


# --- the queue config file ---


def test_shipped_config_matches_the_catalog() -> None:
    catalog = load_catalog(CONFIG_DIR / "procedures")
    codes = {s.code for s in catalog.services()}
    cfg = load_queue_config(CONFIG_DIR / "queue.toml", known_services=codes)
    assert cfg.policy == PolicyParams(Mode.BOUNDED, 3, 1, 30 * MIN)
    assert cfg.priority_classes == DEFAULT_PRIORITY_CLASSES
    assert {s for c in cfg.counters for s in c.services} == codes  # every service has a counter
    assert cfg.board.host == "127.0.0.1" and cfg.voice.voice == "vi"
    assert all(c.token == "" for c in cfg.counters)  # no secret in the repository


def test_queue_config_path_follows_the_kiosk_config(kiosk_config) -> None:  # type: ignore[no-untyped-def]
    assert queue_config_path(kiosk_config) == kiosk_config.source.parent / "queue.toml"

    class WithQueue:
        class queue:  # noqa: N801 - mimics the [queue] section the lead adds
            file = Path("/srv/kiosk/queue.toml")

    assert queue_config_path(WithQueue()) == Path("/srv/kiosk/queue.toml")


def good() -> dict:
    return tomllib.loads(
        """
        [policy]
        priority_calls = 2
        [[counters]]
        number = 1
        services = ["IN"]
        token = "0123456789abcdef"
        """
    )


def test_defaults_fill_missing_keys() -> None:
    cfg = parse_queue_config(good())
    assert cfg.policy.priority_calls == 2 and cfg.policy.normal_calls == 1
    assert cfg.counters[0].name == "Quầy 1" and cfg.counters[0].open
    assert cfg.estimate.default_service_min == 8.0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["policy"].update(max_wait_min=0), "[policy] max_wait_min: 0 is out of range"),
        (lambda d: d["policy"].update(mode="random"), '[policy] mode: "random" is not allowed'),
        (
            lambda d: d["policy"].update(priority_call=3),
            'unknown key, did you mean "priority_calls"',
        ),
        (lambda d: d.update(polcy={}), '[polcy]: unknown table, did you mean "policy"'),
        (lambda d: d["counters"][0].update(number=0), "[counters #1] number: 0 is not a counter"),
        (
            lambda d: d["counters"][0].update(services=["XB"]),
            '"XB" is not a service of the catalog',
        ),
        (
            lambda d: d["counters"][0].update(services="IN"),
            "[counters #1] services: expected a list",
        ),
        (
            lambda d: d["counters"][0].update(token="short"),
            "[counters #1] token: not a usable token",
        ),
        (lambda d: d["counters"].append(dict(d["counters"][0])), "counter 1 is listed twice"),
        (lambda d: d.update(counters=[]), "[counters]: no counter is configured"),
        (lambda d: d["policy"].update(priority_calls=True), "expected a whole number, got True"),
        (
            lambda d: d.update(
                priority_classes=[{"code": "vip", "label_vi": "A", "label_en": "B"}]
            ),
            'no class with code "elderly"',
        ),
    ],
)
def test_bad_config_names_file_table_and_key(change, expected: str) -> None:  # type: ignore[no-untyped-def]
    data = good()
    change(data)
    with pytest.raises(ConfigError) as e:
        parse_queue_config(data, "config/queue.toml", known_services=["IN", "BC"])
    assert expected in str(e.value)
    assert all(str(i).startswith("config/queue.toml: ") for i in e.value.issues)
    assert all("\n" not in str(i) for i in e.value.issues)


def test_every_problem_is_listed_at_once() -> None:
    data = good()
    data["policy"]["max_wait_min"] = -1
    data["board"] = {"port": 70000}
    data["counters"][0]["services"] = ["in"]
    with pytest.raises(ConfigError) as e:
        parse_queue_config(data, "q.toml")
    assert len(e.value.issues) == 3


def test_labels_are_nfc() -> None:
    data = good()
    decomposed = "Người cao tuổi".replace("ờ", "ơ\u0300")
    data["priority_classes"] = [{"code": "elderly", "label_vi": decomposed, "label_en": "Old"}]
    cfg = parse_queue_config(data)
    assert cfg.priority_classes[0].label_vi == "Người cao tuổi"


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_queue_config(tmp_path / "none.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="TOML syntax error"):
        load_queue_config(bad)
