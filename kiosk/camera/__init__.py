"""The session's frame loops: camera frames in (kiosk/vision does the image work), results out.

card_scan.py       the card's QR or MRZ → the chip's access key, without typing
receipt_scan.py    the receipt's QR → the dossier code, for look-up
live_capture.py    live document capture: guidance while the page is found, auto-capture
document_pages.py  a photo of a paper → a straightened, upright page for the dossier
"""
