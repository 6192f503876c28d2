"""Storage, key hierarchy, crypto helpers and the audit trail. No Qt here."""
