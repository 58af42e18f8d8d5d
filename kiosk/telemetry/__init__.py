"""The kiosk watched from one place: Prometheus metrics (heartbeats and commands: kiosk/fleet).

metrics.py    ``KioskMetrics``: the kiosk's own ``CollectorRegistry`` and every ``kiosk_*``
              metric; ``watch(session, events)`` counts sessions, steps, chip and card reads
              from the session's step changes and the flow's typed events
parts.py      ``PartsCollector``: what the kiosk's ``Services`` hold, read at scrape time
              (device health, printer paper, outbox, queue), each read guarded
server.py     ``serve_metrics``: the registry over HTTP on ``[telemetry] metrics_host`` and
              ``metrics_port`` (0 = off; a port already taken is a warning, the kiosk goes on)

How the figures travel::

    Session.subscribe (steps) ──┐
    Events: SessionEnded,       ├─► KioskMetrics ──► CollectorRegistry ──► GET /metrics
      ChipReadFinished,         │                      ▲
      CardScanFinished ─────────┘    PartsCollector ───┘  (Services, read at each scrape)

The composition root (kiosk/app/) builds it, watches the flow and serves it; screens and
journeys know nothing of it. Labels take values from closed sets only (journey, outcome, step,
result, kind, device, service code, state): never an ID number, a name or a dossier code.
"""
