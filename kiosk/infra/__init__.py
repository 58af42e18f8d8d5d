"""Plumbing that knows no domain: Vietnam's clock, durable file changes, Vietnamese text.

clock.py        Vietnam's time (UTC+7), ``now_vietnam()``, a clock frozen for screenshots
durable.py      fsync of a folder after a file in it was created, renamed or removed
text.py         NFC, money in đồng, dates dd/mm/yyyy: one way of writing them everywhere
"""
