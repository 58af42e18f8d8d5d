"""motcua-kiosk: the logic of a self-service one-stop-shop kiosk, importable without a display."""

__version__ = "0.1.0"
