"""setuptools' build backend, plus mypy as a build requirement when MINIIRCD_COMPILE=1
asks for the compiled build (setup.py), so a plain `pip install .` never downloads it."""

from __future__ import annotations

import configparser
import os
from typing import Any

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 - the rest of the backend, unchanged

MYPYC = "mypy>=1.19,<3"


def _extra() -> list[str]:
    """mypyc, and the runtime libraries, whose types it compiles against."""
    if os.environ.get("MINIIRCD_COMPILE") != "1":
        return []
    setup_cfg = configparser.ConfigParser()
    setup_cfg.read("setup.cfg")
    runtime = setup_cfg["options"]["install_requires"].split("\n")
    return [MYPYC, *(line.strip() for line in runtime if line.strip())]


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    return [*_setuptools.get_requires_for_build_wheel(config_settings), *_extra()]


def get_requires_for_build_editable(config_settings: dict[str, Any] | None = None) -> list[str]:
    return [*_setuptools.get_requires_for_build_editable(config_settings), *_extra()]
