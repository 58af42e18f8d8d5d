"""What the kiosk offers: administrative procedures (TTHC) and the agencies that handle them.

procedures.py   config/procedures/*.json checked against their JSON Schema: fields, fees,
                processing times, documents, forms
agencies.py     config/agencies.toml: which agency receives which procedure, and its code
"""
