"""motcua-kiosk: the logic of a self-service one-stop-shop kiosk, importable without a display.

One house with rooms; each room's ``__init__`` draws its own map. Imports run down this list
(pyproject.toml ``[tool.importlinter]``, checked by tests/project/test_import_contracts.py)::

    cli/        the ``kiosk`` command, one module per group
    app/        composition root: config → services → flow → Kivy shell; screenshots
    demo/ telemetry/ maintenance/   sample citizens, dossiers, receipts, staff; the Prometheus
                metrics; maintenance mode's actions (each audited)
    fleet/      heartbeats to the back office, its signed commands run once
    flow/       the citizen's actions → I/O → session; the ``Services`` it works with
    camera/     the session's frame loops: card scan, receipt scan, live document capture
    delivery/   the back-office interface, signed HTTP client, the durable outbox
    dossier/    dossier model and codes, rules shared with the back office, working days
    forms/ session/ tickets/ printing/ staff/   declaration forms; the session; the queue;
                what prints; staff accounts and the audit log
    vision/     image work: page finder, quality, MRZ and QR readers, OCR, PDF
    identity/   the ID number's rules, ``Identity``, the chip service
    emrtd/ catalog/ config/ infra/   ICAO 9303; procedures and agencies; config; clock, files
    i18n.py     gettext (English message ids, Vietnamese catalog)
    paths.py    where the shipped files live
    errors.py   the root of the error tree and what a citizen is told

Only ``app`` and ``cli`` (and ``demo``, for simulated documents) import ``screens``,
``backoffice`` or ``devices.simulated``.
"""

__version__ = "0.1.0"
