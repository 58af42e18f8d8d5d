"""Declaration forms: from a procedure's JSON Schema to fields, typing, checks and the filled form.

spec.py             form spec (pages and fields), prefill from identity and session, validation
field_checks.py     phone, e-mail, ID number, tax code: one ``Problem`` per wrong value
addresses.py        the 2025 two-level administrative map, search as typed, address values
vn_typing.py        Vietnamese typing: tones and vowel forms for the on-screen keyboard
declaration.py      the answers as lines and tables people read
declaration_pdf.py  the filled declaration (tờ khai) as a PDF
"""
