"""The kiosk's Prometheus metrics, scraped over HTTP from a kiosk built as ``kiosk run`` builds it
(simulated card, camera and printer, the reference back office on loopback), while a scripted
citizen goes through the real flow."""

from __future__ import annotations

import logging
import socket
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from support.net_helpers import free_port

from kiosk.app.launch import build_kiosk
from kiosk.config.settings import ConfigError, load_config
from kiosk.demo.citizens import ManualClock, walk_to
from kiosk.flow.kiosk_flow import KioskFlow
from kiosk.flow.runner import InlineRunner
from kiosk.session.state import Journey, Step
from kiosk.telemetry.metrics import KioskMetrics, kiosk_version

DEMO_ID = "001090012345"  # the simulated demo card's citizen
DEMO_NAME = "Nguyễn Văn An"


class Kiosk:
    """A kiosk as ``kiosk run`` builds it, its metrics served on a loopback port."""

    def __init__(self, flow: KioskFlow, metrics: KioskMetrics, port: int, clock: ManualClock):
        self.flow = flow
        self.metrics = metrics
        self.port = port
        self.clock = clock

    def text(self) -> str:
        return exposition(self.port)

    def scrape(self) -> Samples:
        return scrape(self.port)


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def exposition(port: int) -> str:
    """GET /metrics on the loopback port, as Prometheus would."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as answer:
        assert answer.status == 200
        return str(answer.read().decode("utf-8"))


def scrape(port: int) -> Samples:
    """Every sample of a scrape: (name, sorted labels) → value."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition(port))
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def _config(kiosk_env: dict[str, str], port: int, **extra: str) -> Any:
    env = dict(kiosk_env)
    env.update(KIOSK_TELEMETRY_METRICS_PORT=str(port), **extra)
    return load_config(None, env=env)


@pytest.fixture
def kiosk(kiosk_env: dict[str, str]) -> Iterator[Kiosk]:
    port = free_port()
    clock = ManualClock()
    flow, metrics = build_kiosk(_config(kiosk_env, port), InlineRunner(), clock=clock)
    try:
        yield Kiosk(flow, metrics, port, clock)
    finally:
        flow.session.wipe()
        flow.services.close()


def test_scrape_shows_the_kiosk_its_devices_and_its_queue(kiosk: Kiosk) -> None:
    samples = kiosk.scrape()
    assert value(samples, "kiosk_up") == 1
    assert value(samples, "kiosk_build_info", kiosk_id="KIOSK-01", version="0.1.0") == 1
    for device in ("card_reader", "camera", "printer", "backoffice"):
        assert value(samples, "kiosk_device_up", device=device) == 1, device
    assert value(samples, "kiosk_printer_paper_state", state="ok") == 1
    assert value(samples, "kiosk_printer_paper_state", state="out") == 0
    assert value(samples, "kiosk_outbox_depth", state="pending") == 0
    assert value(samples, "kiosk_outbox_oldest_pending_age_seconds") == 0
    services = [s.code for s in kiosk.flow.services.catalog.services()]
    for code in services:
        assert value(samples, "kiosk_queue_waiting", service=code) == 0
    for part in ("health", "printer", "outbox", "queue"):
        assert value(samples, "kiosk_scrape_errors_total", part=part) == 0
    assert value(samples, "kiosk_maintenance_mode") == 0
    assert value(samples, "kiosk_out_of_service") == 0
    # every series of a closed set is there from the start, at 0
    assert value(samples, "kiosk_sessions_total", journey="dossier", outcome="submitted") == 0
    assert value(samples, "kiosk_chip_reads_total", result="ok") == 0
    assert value(samples, "kiosk_document_reads_total", kind="mrz", result="ok") == 0


def test_a_scripted_day_moves_the_figures(kiosk: Kiosk) -> None:
    flow = kiosk.flow
    walk_to(flow, Step.RECEIPT)  # the chip read, the form, the documents, the submission
    kiosk.clock.advance(1)
    flow.finish()
    service = flow.queue.services_for_queue()[0].code
    flow.start(Journey.QUEUE)
    flow.queue.issue_ticket(service, None)
    flow.finish()
    flow.start(Journey.DOSSIER)
    flow.session.decline_consent()
    flow.start(Journey.LOOKUP)
    flow.cancel()
    flow.start(Journey.QUEUE)
    kiosk.clock.advance(flow.session.timeout_s + 1)  # the citizen walked away
    flow.session.tick()

    samples = kiosk.scrape()
    sessions = {
        (journey, outcome): value(samples, "kiosk_sessions_total", journey=journey, outcome=outcome)
        for journey, outcome in [
            ("dossier", "submitted"),
            ("dossier", "declined"),
            ("dossier", "cancelled"),
            ("queue", "ticket"),
            ("queue", "timed_out"),
            ("lookup", "cancelled"),
            ("lookup", "lookup"),
        ]
    }
    assert sessions == {
        ("dossier", "submitted"): 1,
        ("dossier", "declined"): 1,
        ("dossier", "cancelled"): 0,
        ("queue", "ticket"): 1,
        ("queue", "timed_out"): 1,
        ("lookup", "cancelled"): 1,
        ("lookup", "lookup"): 0,
    }
    assert value(samples, "kiosk_chip_reads_total", result="ok") == 1
    assert value(samples, "kiosk_queue_waiting", service=service) == 1
    assert value(samples, "kiosk_session_duration_seconds_count", journey="dossier") == 2
    assert value(samples, "kiosk_session_duration_seconds_count", journey="queue") == 2
    assert value(samples, "kiosk_session_duration_seconds_count", journey="lookup") == 1
    visits = {
        step.value: value(samples, "kiosk_step_duration_seconds_count", step=step.value)
        for step in Step
    }
    assert visits == {
        "welcome": None,  # the kiosk waiting for a citizen is no step of a session
        "consent": 2,  # accepted once, declined once
        "identify": 1,
        "procedure": 1,
        "form": 1,
        "documents": 1,
        "review": 1,
        "submit": 1,
        "receipt": 1,
        "rating": 0,
        "queue": 2,
        "ticket": 1,
        "lookup": 1,
        "lookup_result": 0,
    }
    # durations by the kiosk's clock: 1 s at the receipt, the idle timeout at the queue
    idle = flow.session.timeout_s + 1
    assert value(samples, "kiosk_session_duration_seconds_sum", journey="dossier") == 1
    assert value(samples, "kiosk_session_duration_seconds_sum", journey="queue") == idle
    assert value(samples, "kiosk_step_duration_seconds_sum", step="receipt") == 1
    assert value(samples, "kiosk_step_duration_seconds_sum", step="queue") == idle
    buckets = {
        le: value(samples, "kiosk_session_duration_seconds_bucket", journey="queue", le=le)
        for le in ("60.0", "90.0", "120.0", "+Inf")
    }
    assert buckets == {"60.0": 1, "90.0": 1, "120.0": 2, "+Inf": 2}
    # a look-up of a dossier just filed, then finished
    walk_to(flow, Step.LOOKUP_RESULT)
    assert flow.session.data.lookup_status is not None
    flow.finish()
    samples = kiosk.scrape()
    assert value(samples, "kiosk_sessions_total", journey="lookup", outcome="lookup") == 1
    assert value(samples, "kiosk_sessions_total", journey="dossier", outcome="submitted") == 2
    assert value(samples, "kiosk_chip_reads_total", result="ok") == 2


def test_no_id_number_name_or_dossier_code_in_the_exposition(kiosk: Kiosk) -> None:
    flow = kiosk.flow
    walk_to(flow, Step.RECEIPT)
    identity = flow.session.data.identity
    assert identity.id_number == DEMO_ID and identity.full_name == DEMO_NAME  # the chip's
    code = flow.session.data.result.dossier_code
    flow.finish()
    walk_to(flow, Step.LOOKUP_RESULT)  # the code typed at the look-up
    flow.finish()
    text = kiosk.text()
    ascii_name = unicodedata.normalize("NFKD", DEMO_NAME).encode("ascii", "ignore").decode()
    for secret in (
        DEMO_ID,
        DEMO_ID[-9:],  # the MRZ's document number
        DEMO_NAME,
        unicodedata.normalize("NFD", DEMO_NAME),
        ascii_name,
        DEMO_NAME.upper(),
        code,
    ):
        assert secret not in text, secret
    assert "kiosk_sessions_total" in text  # the figures themselves are there


def test_outbox_backlog_shows_depth_and_age(kiosk: Kiosk) -> None:
    services = kiosk.flow.services
    services.config = replace(
        services.config, outbox=replace(services.config.outbox, wait_for_code_s=0.3)
    )
    services.sender.stop()  # the back office is out of reach for now
    walk_to(kiosk.flow, Step.RECEIPT)
    kiosk.flow.finish()
    samples = kiosk.scrape()
    assert value(samples, "kiosk_outbox_depth", state="pending") == 1
    age = value(samples, "kiosk_outbox_oldest_pending_age_seconds")
    assert age is not None and age > 0


def test_printer_out_of_paper_shows_in_the_paper_gauge(kiosk: Kiosk) -> None:
    printer = kiosk.flow.services.virtual_printer
    assert printer is not None
    printer.set_paper("out")
    samples = kiosk.scrape()
    paper = {
        s: value(samples, "kiosk_printer_paper_state", state=s)
        for s in ("ok", "near_end", "out", "unknown")
    }
    assert paper == {"ok": 0, "near_end": 0, "out": 1, "unknown": 0}
    assert value(samples, "kiosk_device_up", device="printer") == 0
    printer.set_paper("near_end")
    samples = kiosk.scrape()
    assert value(samples, "kiosk_printer_paper_state", state="near_end") == 1
    assert value(samples, "kiosk_printer_paper_state", state="out") == 0


def test_a_device_down_shows_down(kiosk: Kiosk) -> None:
    kiosk.flow.services.camera.unplug()  # type: ignore[attr-defined]
    kiosk.flow.services.card_reader.unplug()  # type: ignore[attr-defined]
    samples = kiosk.scrape()
    assert value(samples, "kiosk_device_up", device="camera") == 0
    assert value(samples, "kiosk_device_up", device="card_reader") == 0
    assert value(samples, "kiosk_device_up", device="printer") == 1


def test_chip_reads_and_card_scans_are_counted_by_result(kiosk: Kiosk) -> None:
    flow = kiosk.flow
    reader = flow.services.card_reader
    flow.services.chip.wait_s = 0.2  # type: ignore[attr-defined]
    flow.start(Journey.DOSSIER)
    flow.session.accept_consent()
    reader.remove()  # type: ignore[attr-defined]
    flow.identify.read_card(DEMO_ID)  # nobody puts a card on the reader
    reader.insert()  # type: ignore[attr-defined]
    flow.identify.read_card("001090012346")  # another number: its CAN does not open the chip
    flow.identify.scan_card("qr", seconds=0.3)  # the camera sees a document, not a card
    samples = kiosk.scrape()
    assert value(samples, "kiosk_chip_reads_total", result="no_card") == 1
    assert value(samples, "kiosk_chip_reads_total", result="access_denied") == 1
    assert value(samples, "kiosk_chip_reads_total", result="ok") == 0
    assert value(samples, "kiosk_document_reads_total", kind="qr", result="not_found") == 1
    assert value(samples, "kiosk_document_reads_total", kind="qr", result="ok") == 0


def test_a_card_scan_that_reads_is_counted(kiosk_env: dict[str, str], tmp_path: Path) -> None:
    from support.vision_helpers import card_photo_on_desk

    photo = card_photo_on_desk(tmp_path, "back")
    port = free_port()
    cfg = _config(kiosk_env, port, KIOSK_CAMERA_FRAMES=str(photo))
    flow, _ = build_kiosk(cfg, InlineRunner())
    try:
        flow.start(Journey.DOSSIER)
        flow.session.accept_consent()
        flow.identify.scan_card("mrz", seconds=5)
        samples = scrape(port)
        assert value(samples, "kiosk_document_reads_total", kind="mrz", result="ok") == 1
        assert value(samples, "kiosk_chip_reads_total", result="ok") == 1
    finally:
        flow.session.wipe()
        flow.services.close()


def test_a_failing_part_is_counted_and_the_scrape_still_answers(
    kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> dict[str, int]:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(kiosk.flow.services.tickets, "waiting_by_service", broken)
    monkeypatch.setattr(kiosk.flow.services.printer, "status", broken)
    kiosk.scrape()
    samples = kiosk.scrape()
    assert value(samples, "kiosk_scrape_errors_total", part="queue") == 2
    assert value(samples, "kiosk_scrape_errors_total", part="printer") == 2
    assert value(samples, "kiosk_scrape_errors_total", part="outbox") == 0
    assert value(samples, "kiosk_printer_paper_state", state="unknown") == 1
    assert value(samples, "kiosk_outbox_depth", state="pending") == 0  # the rest is read
    assert value(samples, "kiosk_up") == 1


def test_counting_never_breaks_a_session(kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("a bug in counting")

    monkeypatch.setattr(kiosk.metrics.sessions, "labels", broken)
    monkeypatch.setattr(kiosk.metrics.step_duration, "labels", broken)
    kiosk.flow.start(Journey.QUEUE)
    kiosk.flow.cancel()
    assert kiosk.flow.session.step is Step.WELCOME


def test_maintenance_and_out_of_service_gauges(kiosk: Kiosk) -> None:
    kiosk.metrics.set_maintenance(True)
    kiosk.metrics.set_out_of_service(True)
    samples = kiosk.scrape()
    assert value(samples, "kiosk_maintenance_mode") == 1
    assert value(samples, "kiosk_out_of_service") == 1
    kiosk.metrics.set_maintenance(False)
    assert value(kiosk.scrape(), "kiosk_maintenance_mode") == 0


def test_the_metrics_port_closes_with_the_kiosk(kiosk_env: dict[str, str]) -> None:
    port = free_port()
    flow, _ = build_kiosk(_config(kiosk_env, port), InlineRunner())
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30).close()
    finally:
        flow.services.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)


def test_port_in_use_is_one_warning_and_the_kiosk_still_serves(
    kiosk_env: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    taken = socket.create_server(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    try:
        with caplog.at_level(logging.INFO, logger="kiosk.telemetry"):
            flow, metrics = build_kiosk(_config(kiosk_env, port), InlineRunner())
        try:
            warnings = [
                r
                for r in caplog.records
                if r.name.startswith("kiosk.telemetry") and r.levelno >= logging.WARNING
            ]
            assert len(warnings) == 1
            message = warnings[0].getMessage()
            assert f"port {port}" in message and "already in use" in message
            assert "goes on serving citizens" in message and "metrics_port" in message
            service = flow.queue.services_for_queue()[0].code  # the citizen is served
            flow.start(Journey.QUEUE)
            flow.queue.issue_ticket(service, None)
            assert flow.session.step is Step.TICKET
            assert metrics.registry.get_sample_value("kiosk_up") == 1  # still counted
        finally:
            flow.session.wipe()
            flow.services.close()
    finally:
        taken.close()


def test_port_zero_serves_nothing(kiosk_config: Any) -> None:
    from kiosk.app.services import KioskParts

    assert kiosk_config.telemetry.metrics_port == 0  # the shipped default: off
    assert kiosk_config.telemetry.metrics_host == "127.0.0.1"
    with KioskParts(kiosk_config) as parts:
        assert parts.metrics_server() is None


def test_the_telemetry_settings_are_checked(kiosk_env: dict[str, str]) -> None:
    env = dict(
        kiosk_env, KIOSK_TELEMETRY_METRICS_PORT="70000", KIOSK_TELEMETRY_METRICS_HOST="http://x/"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(None, env=env)
    text = str(caught.value)
    assert "[telemetry] metrics_port: 70000 is out of range" in text
    assert "[telemetry] metrics_host" in text and "looks like a URL" in text


def test_two_kiosks_in_one_process_keep_their_own_figures() -> None:
    first, second = KioskMetrics("KIOSK-01"), KioskMetrics("KIOSK-02")
    first.set_out_of_service(True)
    assert first.registry.get_sample_value("kiosk_out_of_service") == 1
    assert second.registry.get_sample_value("kiosk_out_of_service") == 0
    info = {"kiosk_id": "KIOSK-02", "version": kiosk_version()}
    assert second.registry.get_sample_value("kiosk_build_info", info) == 1
    assert first.registry.get_sample_value("kiosk_build_info", info) is None
