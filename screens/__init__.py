"""Kivy screens and widgets of the kiosk: thin views over kiosk.session, no rules, no I/O."""
