"""ICAO 9303 eMRTD protocols and data over any ``transmit(apdu) -> response`` transport.

Pure Python: no Kivy, no pyscard, nothing else of the kiosk. The CCCD (Vietnam's chip ID card) is
an eMRTD with AID A0000002471001; its chip is read with PACE (CAN) or BAC, under secure
messaging, and its data groups are checked against the SOD by passive authentication.

    apdu.py, tlv.py        command/response APDUs (ISO 7816-4), BER-TLV
    mrz.py, keys.py        machine readable zones (TD1, TD3); key derivation for BAC, PACE, SM
    card_access.py         SecurityInfos of EF.CardAccess and DG14: what the chip supports
    bac.py, pace.py        access control: BAC (3DES) and PACE ECDH generic mapping
    secure_messaging.py    secure messaging, reader and card side
    lds.py, datagroups/    the chip's files and their parsers (DG1, DG2 face, DG13 Vietnam, keys)
    sod.py, passive_auth.py  the Document Security Object; is the data what the state signed?
    active_auth.py         the chip proves it holds DG15's key
    reader.py              reading a CCCD: the declared steps from EF.CardAccess to the checks
    errors.py              the exception tree every parser and protocol raises
"""
