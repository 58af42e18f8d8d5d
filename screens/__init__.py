"""Kivy screens and widgets of the kiosk: thin views over kiosk.session, no business rules, no I/O."""
