"""The durable outbox: a dossier is on disk, encrypted, before the citizen is told "submitted".

store.py        ``Outbox``: entries in SQLite (WAL, synchronous FULL), states, provisional
                references, quarantine of damaged entries, the key
crypto.py       AES-256-GCM per blob, bound to its entry and name
sender.py       ``OutboxSender``: delivers oldest first with backoff, exactly once
"""
