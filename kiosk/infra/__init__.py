"""Plumbing that knows no domain: Vietnam's clock and durable file changes.

clock.py        Vietnam's time (UTC+7), ``now_vietnam()``, a clock frozen for screenshots
durable.py      fsync of a folder after a file in it was created, renamed or removed
"""
