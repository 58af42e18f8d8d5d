"""ICAO 9303 eMRTD protocols and data over any ``transmit(apdu) -> response`` transport.

Pure Python: no Kivy, no pyscard. The CCCD (Vietnam's chip ID card) is an eMRTD with AID
A0000002471001; its chip is read with PACE (CAN) or BAC, under secure messaging, and its data
groups are checked against the SOD by passive authentication.
"""
