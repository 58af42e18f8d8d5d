"""Sample data with real-looking Vietnamese content, for the demo, screenshots, tests and benches.

citizens.py     sample citizens and a scripted walk through the real flow to any step
dossiers.py     plausible dossiers over the catalog's procedures, with scanned pages
receipts.py     a sample receipt and queue ticket
staff.py        two sample staff (public PINs: written only into an empty folder, for renders)
"""
