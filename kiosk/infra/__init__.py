"""Plumbing that knows no domain: Vietnam's clock, durable file changes, SQLite files, Vietnamese
text.

clock.py        Vietnam's time (UTC+7), ``now_vietnam()``, a clock frozen for screenshots
durable.py      fsync of a folder after a file in it was created, renamed or removed
log_ring.py     the operator's log format, and the recent lines kept in memory, masked, for
                staff to export
sqlite_store.py one SQLite file kept one way (outbox, tickets, ratings): WAL and synchronous=FULL,
                a connection per thread, read/write transactions with lock retries and the
                caller's errors, the integrity check at open, a damaged file quarantined
                (moved aside with a reason, never deleted) and a fresh one salvaged into place
text.py         NFC, money in đồng, dates dd/mm/yyyy: one way of writing them everywhere
"""
