"""What the kiosk prints and whether it can: receipt and ticket layouts, the printer's watch.

receipt.py        receipt, queue ticket and test page as layout blocks
                  (devices/printer/blocks.py)
printer_watch.py  will tickets print? the citizen's notice and one staff alert per problem
"""
