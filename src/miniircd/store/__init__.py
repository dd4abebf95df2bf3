"""Accounts, rooms, history and the inbox, behind a small interface (SQLite underneath)."""
