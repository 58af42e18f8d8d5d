"""The flow: takes the citizen's actions from the screens, does the I/O, drives the session.

kiosk_flow.py      ``KioskFlow``: the journeys below over one session; start, back, cancel
identify.py        who the citizen is: typed number, the card's QR/MRZ, the chip
dossier.py         the procedure, its form, review, submission, receipt and rating
documents.py       the dossier's papers: live camera pages, or papers on file
ticket.py          a number for a counter, the ticket printed (the queue journey)
lookup.py          a dossier's status from the code on its receipt
submission.py      the dossier built, digitised (searchable PDFs, the tờ khai), sent, its receipt
papers_on_file.py  the citizen's papers on file: asked once the chip proved presence,
                   offered at the documents step instead of capturing the paper again
context.py         what every journey shares: session, services, runner, events, the citizen
runner.py          where slow work runs (inline, a worker thread); the citizen's token
events.py          what the screens hear: notices, chip-read progress, scanned number, pages
services.py        ``Services``: what the flow works with, built by kiosk/app/services.py

Imports run down this list's dependencies: journeys → context → runner, events, services.
"""
