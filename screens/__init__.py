"""Kivy screens and widgets of the kiosk: thin views over kiosk.session.state, no rules, no I/O.

shell.py (+ .kv)     one window: header, step bar, notices, the screens
base.py              what every step screen shares: built once, reset per citizen
start, identify, procedure, form, documents, review, receipt, queue, lookup (.py + .kv)
                     one per step of the citizen's path
maintenance.py (+ .kv)   staff sign-in (chooser, PIN pad), maintenance's four pages, and the
                     closed kiosk's message (kiosk.maintenance does the work)
form_rows.py         the form's rows, one per field kind
keyboard.py          the on-screen Vietnamese keyboard (kiosk.forms.vn_typing)
widgets.py (+ .kv)   big buttons, wrapping labels, the keypad, the step bar
theme.py             colours and sizes: normal, large text, high contrast
scrolling.py         bring a widget inside a ScrollView into sight
kivy_env.py          Kivy prepared before its first import (offscreen, no Escape exit)
pilot.py             drive the shell headlessly: frames, taps, a held finger, screenshots
layout_check.py      what a citizen would see wrong on a rendered screen
"""
