"""Image work for the document camera: plain NumPy in, plain results out.

Frames are NumPy arrays (H×W×3 uint8, BGR, OpenCV's order). Nothing here knows of Kivy or of the
camera device: the caller reads frames and shows results.

    images.py       load/decode under a pixel budget (a 40-MP photo is decoded reduced), downscale
    page_finder.py  find the page in a frame (four corners), straighten it to an upright A4 page
    orientation.py  turn a straightened page so its text is upright (0/90/180/270)
    quality.py      is this frame good enough to capture? issues with a citizen message each
    capture.py      auto-capture: capture once the page is good and still for N frames
    mrz_zone.py, mrz_glyphs.py, mrz_checks.py, mrz_reader.py    the card's MRZ (TD1/TD3)
    qr_reader.py, cccd_qr.py    QR codes, and the CCCD's QR text
    ocr.py, pdf.py  the page's text with Tesseract, searchable PDFs
    errors.py       the exception tree (VisionError and its subclasses)
"""
