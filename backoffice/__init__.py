"""The reference back office: the server kiosks submit dossiers to (FastAPI, SQLAlchemy).

Layout::

    settings.py   config/backoffice.toml + BACKOFFICE_<KEY> overrides
    context.py    what the parts share: database, blob store, catalog, holidays, CSCAs, clock
    db.py         the tables; SQLite (WAL, BEGIN IMMEDIATE) by default, PostgreSQL by URL
    storage.py    attachments by SHA-256 on disk, atomic writes, checked on read
    auth.py       kiosks' signed requests and secrets at rest, the staff token
    upload.py     the streamed multipart upload of a dossier
    dossiers.py   receiving (codes, appointment, idempotency), look-up, staff moves, report
    presence.py   the citizen's presence proved by the chip, papers on file
    fleet.py      kiosks, heartbeats, commands
    fleet_alerts.py  the fleet page's view of each kiosk and its alerts (config/monitoring/'s rules)
    api.py        the /api/v1 routes; schemas.py their bodies; errors.py the error shape
    staff.py      the staff page (templates/, static/)
    app.py        create_app(settings); openapi.json is the committed API description
    embedded.py   the server in a thread on loopback (the kiosk's demo mode)
    demo.py       seed-demo: papers on file for the simulated demo citizen

Run it with ``kiosk backoffice serve`` (kiosk/cli/backoffice.py); in code,
``backoffice.app.create_app(backoffice.settings.load_settings())``.
"""
