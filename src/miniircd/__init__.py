"""miniircd: a small, fast, dependable IRC server (and a bundled terminal client)."""

__version__ = "0.1.0"


def compiled() -> bool:
    """Whether this is the optional compiled build (setup.py: the core compiled with mypyc)
    rather than plain Python."""
    from miniircd.core import server

    return not (server.__file__ or "").endswith(".py")
