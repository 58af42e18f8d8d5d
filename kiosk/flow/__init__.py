"""The flow: takes the citizen's actions from the screens, does the I/O, drives the session.

kiosk_flow.py      ``KioskFlow`` and its runners (inline for tests, a worker thread)
services.py        ``Services``: what the flow works with, built by kiosk/app/services.py
papers_on_file.py  the citizen's papers on file: asked once the chip proved presence,
                   offered at the documents step instead of capturing the paper again
"""
