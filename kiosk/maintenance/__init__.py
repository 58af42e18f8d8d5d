"""Maintenance mode's work: what a signed-in staff member can see and do at the kiosk.

The screens (screens/maintenance.py) and the back office's remote commands (kiosk/fleet) call
the same ``MaintenanceConsole``; every action is written to the staff audit log under the staff
member who did it (or the remote command that asked).

    console.py      ``MaintenanceConsole``: device reports and tests (test page, card probe,
                    camera sharpness), the outbox (depth, oldest, parked with their reason;
                    send now, send a parked one again), the queue, the catalog reloaded, out of
                    service with a message and back; each action audited
    reports.py      the plain records the console returns (``DeviceReport``, ``DeviceTest``
                    of ``StepTiming``s, ``CameraCheck``, ``OutboxView``, ``QueueView``)
    export.py       the logs onto a USB stick: the masked recent log, the audit log, the
                    status, each file whole and synced
    mode.py         ``MaintenanceMode``: sign in (PIN or staff card), the session's time-out,
                    leave; puts the kiosk's ``ServiceState`` in and out of maintenance
"""
