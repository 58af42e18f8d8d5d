"""Getting a dossier to the back office, exactly once, and what the back office gives back.

backoffice.py      the ``BackOffice`` interface and its error tree
signing.py         the HMAC request signature, shared with the reference server
http_client.py     ``HttpBackOffice``: the API of backoffice/ over signed HTTP
papers_on_file.py  the citizen's papers on file, offered after the chip proves presence
outbox/            the durable, encrypted outbox and its sender
"""
