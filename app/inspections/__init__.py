"""Inspections (督促检查): the division's checklists, spot checks filled on a phone, their
findings (each opens a rectification-ledger item) and random draws (双随机)."""
