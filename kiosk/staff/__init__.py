"""Maintenance mode's trust: who the staff are, whether they typed their own PIN, what they did.

Pure Python over files in the kiosk's data folder; nothing here knows of Kivy, the devices or
the back office. The composition root and the CLI build a ``StaffDesk``; screens will only see
its results.

    accounts.py     per-person staff accounts (id, NFC name, role, optional staff-card number),
                    PINs as salted scrypt hashes, the PIN rules; ``<data_dir>/staff/accounts.json``
    lockout.py      failed-PIN lock-out for the whole PIN pad: 30 s after 3 failures in a row,
                    doubling up to 1 hour, kept in ``<data_dir>/staff/lockout.json`` across restarts
    audit.py        the append-only, hash-chained audit log ``<data_dir>/audit.jsonl``: append,
                    verify (first bad line and why), entries since a sequence number
    desk.py         ``StaffDesk``: sign in with an account and PIN or with a staff card, each
                    attempt audited; ``StaffSession`` (who, since when, ends after inactivity)
    service_state.py  ``ServiceState``: in service, maintenance (while staff are signed in) or
                    out of service with a message (kept across restarts in staff/service.json)
    files.py        private JSON files: written atomically with mode 0600, read with errors that
                    name the file, a lock for read-modify-write across processes
    errors.py       the exception tree (StaffError and its subclasses)

Files (all under the kiosk's ``[kiosk] data_dir``)::

    staff/accounts.json   {"format", "version", "next_number", "accounts": [...]}   mode 0600
    staff/lockout.json    {"failures", "locked_until", "last_seen"}                  mode 0600
    staff/.lock           the lock the two files above are changed under
    staff/service.json    {"out_of_service", "message"}                          mode 0600
    audit.jsonl           one JSON object a line, each chained to the one before    mode 0600
"""
