"""miniircd: a small, fast, dependable IRC server (and a bundled terminal client)."""

__version__ = "0.1.0"
