"""Simulated devices that speak the real protocols: APDUs, camera frames, ESC/POS bytes."""
