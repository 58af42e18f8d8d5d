"""Simulated devices that speak the real protocols: APDUs, camera frames, ESC/POS bytes.

card_reader.py       a reader with a simulated CCCD on it, behind the PC/SC reader's interface
cccd_card.py         the chip: an ISO 7816-4 APDU processor with the eMRTD file layout
chip_bac.py, chip_pace.py  the card's side of BAC and PACE
lds_builder.py       its files: EF.COM, DG1, DG2, DG13, DG14, DG15, EF.SOD
test_pki.py          a TEST PKI: CSCA, Document Signer, Active Authentication key
profiles.py          the simulated cards by name
vpcd.py              the chip plugged into pcscd through vsmartcard's virtual reader
camera.py            a camera playing still images or a folder of frames
card_images.py       generated pictures of ID cards (front with QR, back with MRZ)
document_scenes.py   generated frames of a document on a desk, with the truth about them
escpos_printer.py    a virtual ESC/POS printer on a TCP port, printing PNGs
escpos_decoder.py    the ESC/POS byte stream decoded into the paper it would print
"""
