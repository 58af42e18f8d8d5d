"""The receipt printer: layout blocks, their typesetting, the interface and the ESC/POS driver.

    blocks.py               a layout's vocabulary (text, field, item, separator, QR), paper widths
    raster.py               blocks typeset to a raster image with the shipped fonts (Vietnamese)
    interface.py            ``ReceiptPrinter``, ``PrinterStatus``, its errors, ``NoPrinter``
    escpos_job.py           a layout as one ESC/POS job (raster, code-page text, native QR)
    vietnamese_code_pages.py  CP1258 and TCVN3 encodings, for printers configured to use them
    escpos.py               ``EscposReceiptPrinter``: network, USB, serial; status before and after

The simulator is devices/simulated/escpos_printer.py; devices/factory.py picks one from config.
"""
