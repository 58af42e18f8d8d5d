"""The kiosk seen and steered from the back office: heartbeats out, signed commands in.

For kiosks a Prometheus server cannot reach (behind NAT, on poor links), the kiosk itself calls
the back office every ``[fleet] heartbeat_s`` seconds with its status, and takes the commands
staff queued for it in the answer. Nothing here knows of Kivy: what a command does on screen
is the handler the composition root gives.

    readings.py      the one reading of devices, paper and outbox (the metrics use it too)
    status.py        ``StatusReader``: the heartbeat's JSON (schema 1, ≤ 64 KiB, nothing
                     personal), ``KioskMode`` (service, maintenance, out of service + message)
    today.py         ``DayTally``: today's sessions, dossiers submitted, ratings, satisfied
    audit_feed.py    ``AuditFeed``: audit entries not yet confirmed by the back office, the mark
                     it answers, wrong PINs of the last hour
    command_mac.py   the MAC on each command (shared with backoffice/fleet.py)
    ran_commands.py  ``RanCommands``: ids already run and their results (never run twice)
    commands.py      ``CommandRunner``: MAC, replay, age and name checked, handler run, ``Ack``;
                     ``CommandResult`` (a detail, ok, a screenshot to upload)
    agent.py         ``FleetAgent``: the thread (beat, commands, acks; backoff while the back
                     office is out of reach); ``build_fleet_agent`` wires one from the parts
    state_file.py    the small JSON files under ``<data_dir>/fleet/``, written durably

How a beat goes::

    Services ─► readings ─┐
    DayTally ─────────────┼─► StatusReader ─► POST /kiosks/{id}/heartbeat ─► answer
    AuditFeed (entries) ──┘                                                    │
       ▲ confirm(audit_received_through) ◄─────────────────────────────────────┤
       │                                         pending_commands > 0: GET /commands
       │   CommandRunner: MAC? run before? > 24 h? handler? ─► handler(args) ─► Ack
       └── audit log ◄── fleet.command_run / fleet.command_refused          POST …/ack

Files (under ``[kiosk] data_dir``)::

    fleet/today.json         today's figures and the day's rating baseline
    fleet/audit_mark.json    {"received_through": seq}: the last audit entry the back office holds
    fleet/commands.json      {"commands": {id: {command, state, ok, detail, at}}}, bounded
"""
