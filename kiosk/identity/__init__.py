"""Who the citizen is: the ID number's rules, the ``Identity`` a session holds, the chip read.

id_number.py    the 12-digit personal number: province, century and sex, year, CAN
model.py        ``Identity`` (from chip, QR, MRZ or typed) and how far it is trusted
chip_service.py reader → chip protocols (kiosk/emrtd) → passive/active authentication →
                ``Identity``; a wait for the card that stops when the citizen leaves
trust.py        the CSCA certificates cards are checked against (the kiosk's and the back
                office's one loader)
"""
