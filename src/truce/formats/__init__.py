"""File formats: bytes in, domain objects out (and back). No database, web or CLI code here."""
