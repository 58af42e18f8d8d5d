"""What several test folders share: real servers and fakes at the edges, and drivers.

    backoffice_server.py     the reference back office as a real server process on loopback
    scripted_backoffice.py   a back office that answers as a script says (outbox tests)
    fault_proxy.py           an HTTP proxy that fails, hangs or cuts on cue, in front of a server
    net_helpers.py           free ports, a server that accepts and says nothing
    cli_helpers.py           the ``kiosk`` command run as a subprocess
    ui_harness.py            the Kivy app offscreen with a pilot that taps real widgets
    form_filler.py           a citizen filling any form on the on-screen keyboard
    emrtd_samples.py         chip data and certificates for the eMRTD tests
    vision_helpers.py        images for the vision tests

Imported as ``support.<module>`` (pyproject.toml puts tests/ on the path).
"""
