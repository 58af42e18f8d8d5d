"""The kiosk's configuration: one TOML file, ``KIOSK_<SECTION>_<KEY>`` overrides, frozen settings.

    toml_engine.py  the one engine under every config file: bounded UTF-8 TOML reading, typed
                    keys (Field, Kind), ``ConfigError`` naming file, section, key or line, and fix
    settings.py     kiosk.toml: the declared schema (type, default, range per key), the loader
                    with its overrides, the settings dataclasses

The queue's own file (config/queue.toml) is read by kiosk/tickets/config.py, on the same engine.
"""
