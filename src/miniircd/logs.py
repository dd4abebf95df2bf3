"""Structured logging to stderr: one `key=value` line per event (logfmt), with levels.

    ts=2026-11-24T12:00:00.123Z level=info logger=miniircd.core msg="client registered"
    nick=alice host=127.0.0.1

Extra fields come from `log.info("...", extra={"fields": {...}})`. Passwords are never
passed to the log, so none can appear in it.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any


def _quote(value: object) -> str:
    text = str(value)
    if text and not any(ch in text for ch in ' ="\\') and text.isprintable():
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


class LogfmtFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        parts = [
            f"ts={stamp}.{int(record.msecs):03d}Z",
            f"level={record.levelname.lower()}",
            f"logger={record.name}",
            f"msg={_quote(record.getMessage())}",
        ]
        fields: dict[str, Any] = getattr(record, "fields", {})
        parts.extend(f"{key}={_quote(value)}" for key, value in fields.items())
        if record.exc_info:
            parts.append(f"error={_quote(self.formatException(record.exc_info))}")
        return " ".join(parts)


def setup(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogfmtFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def fields(**values: object) -> dict[str, Any]:
    """`extra=` for a log call: `log.info("login", extra=fields(account=name))`."""
    return {"fields": values}
