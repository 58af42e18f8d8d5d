"""Hardware behind small interfaces (card reader, camera, printer), each with a simulator.

    base.py         ``Health`` and the device error tree (under ``kiosk.errors.KioskError``)
    factory.py      ``make_camera``, ``make_card_reader``, ``make_printer``: config → a device
    camera/ card_reader/ printer/   an interface each and the real drivers
    simulated/      simulators speaking the real protocols (APDUs, frames, ESC/POS bytes)

Devices know only kiosk's errors and shipped files; the simulators also speak the specs they
simulate (kiosk.emrtd, the ID number's rules).
"""
