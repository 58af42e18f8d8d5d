"""Composition root: the only place that turns config into devices, services, a flow and screens.

services.py     ``build_services(cfg)``: catalog, back office (embedded or HTTP), stores,
                devices
launch.py       ``kiosk run``: the Kivy shell over the flow, signals, the first frame
screenshots.py  ``kiosk screenshot``: every screen offscreen in each mode, reached by the flow
"""
