"""The card reader: the interface the kiosk uses and the PC/SC driver.

    interface.py    ``CardReader`` and ``CardConnection`` (``transmit(apdu) -> response``)
    pcsc.py         ``PcscCardReader`` over pyscard and pcscd

The simulator is devices/simulated/card_reader.py; devices/factory.py picks one from config.
"""
