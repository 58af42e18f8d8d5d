"""Composition root: the only place that turns config into devices, services, a flow and screens.

services.py     ``KioskParts(cfg)``: catalog, back office (embedded or HTTP), stores and
                devices, each built on first use; ``build_services`` gives ``kiosk run`` all
                of them, every CLI command asks for the parts it needs
launch.py       ``kiosk run``: the Kivy shell over the flow, signals, the first frame;
                ``build_kiosk``: services, flow and metrics without the screens
screenshots.py  ``kiosk screenshot``: every screen offscreen in each mode, reached by the flow
remote.py       the back office's commands run here: maintenance's console, the screen
"""
