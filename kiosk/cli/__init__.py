"""The ``kiosk`` command, one module per group of subcommands.

main.py         the parser, logging, ``run``, ``screenshot``, ``config check``, ``doctor``
backoffice.py   ``backoffice serve|report|kiosk``
catalog.py      ``catalog list``, ``forms validate``
chip.py         ``chip read|simulate``
outbox.py       ``submit``, ``outbox status|flush``
printer.py      ``printer …``, ``receipt render``
queue.py        ``queue …``
staff.py        ``staff add|list|remove|pin``, ``audit verify|show``
usage.py        ``UsageError``: bad input, one line, exit code 2
vision.py       ``ocr mrz|qr``, ``scan``
"""
