"""The kiosk's configuration: one TOML file, ``KIOSK_<SECTION>_<KEY>`` overrides, frozen settings.

    settings.py     the declared schema (type, default, range per key), the loader, the
                    settings dataclasses, ``ConfigError`` naming file, key and fix

The queue's own file (config/queue.toml) is read by kiosk/tickets/config.py.
"""
