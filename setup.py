"""The optional compiled build: `MINIIRCD_COMPILE=1 pip install .` compiles the server's
hot, fully typed modules with mypyc into C extensions (about twice the private-message
throughput, docs/performance.md). Without it, or with it but no C compiler, the package
is the same code as plain Python. Metadata lives in setup.cfg.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import setup

SRC = Path(__file__).resolve().parent / "src"
# The store stays Python: its time is spent inside SQLite (and mypyc 1.19 fails on it).
COMPILED_PACKAGES = ("miniircd/protocol", "miniircd/core", "miniircd/net")
# Left as Python: `Aside` and `ServerLine` subclass bytes, tests subclass `Ids`, and the
# TLS set-up (clients' and links') gains nothing.
KEPT_AS_PYTHON = {
    "miniircd/core/aside.py", "miniircd/core/ids.py", "miniircd/core/serverline.py",
    "miniircd/net/tls.py", "miniircd/net/link_tls.py",
}  # fmt: skip


def compiled_modules() -> list[str]:
    paths = []
    for package in COMPILED_PACKAGES:
        for path in sorted((SRC / package).rglob("*.py")):
            relative = path.relative_to(SRC).as_posix()
            if relative not in KEPT_AS_PYTHON:
                paths.append(f"src/{relative}")
    return paths


def extensions() -> list[object]:
    if os.environ.get("MINIIRCD_COMPILE") != "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("MINIIRCD_COMPILE=1 but mypy is not installed: building plain Python",
              file=sys.stderr)  # fmt: skip
        return []
    return list(mypycify(compiled_modules(), opt_level="3", group_name="miniircd_compiled"))


setup(ext_modules=extensions())
