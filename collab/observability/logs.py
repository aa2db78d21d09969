"""Structured logging: one JSON object per line (or readable text), extras included.

``configure_logging`` owns every logger of the process, uvicorn's included: uvicorn's own
handlers and colour formatters are removed and its records reach ours through the root.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import time
from collections.abc import Callable
from typing import Any

# ``color_message``: uvicorn passes its message again with ANSI colour codes as an extra,
# for its own colour formatter; in a log file or a JSON line they are noise.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}
_UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
# Control characters (ESC of colour codes, CR/LF of a forged line) as they come in a request
# path or a client's value; the text format writes them escaped (JSON escapes them itself).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def _escaped(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            **_extras(record),  # first, so an extra can never overwrite the standard keys
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v!r}" for k, v in _extras(record).items())
        line = f"{self.formatTime(record)} {record.levelname:<7} {record.name}: "
        line += _escaped(record.getMessage().rstrip("\n")) + (f" {extras}" if extras else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(level: str, fmt: str) -> None:
    """One handler on the root logger writing ``fmt`` ("json" or "text") lines to stderr;
    uvicorn's loggers lose any handler of their own and propagate to it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)


class ThrottledLog:
    """Lines of one kind (refused connections, say) logged at most ``per_second`` times in a
    second, so a storm of them cannot flood the log; the next line logged after some were
    dropped says how many in its ``suppressed`` extra."""

    def __init__(
        self,
        logger: logging.Logger,
        level: int,
        per_second: int,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_second < 1:
            raise ValueError(f"per_second must be at least 1, got {per_second}")
        self._logger = logger
        self._level = level
        self._per_second = per_second
        self._clock = clock
        self._window_start = -math.inf
        self._in_window = 0
        self.suppressed = 0  # dropped since the last line logged

    def log(self, msg: str, extra: dict[str, Any]) -> bool:
        """Log ``msg`` unless this second's lines are used up; True when it was logged."""
        now = self._clock()
        if now - self._window_start >= 1.0:
            self._window_start = now
            self._in_window = 0
        if self._in_window >= self._per_second:
            self.suppressed += 1
            return False
        self._in_window += 1
        if self.suppressed:
            extra = {**extra, "suppressed": self.suppressed}
            self.suppressed = 0
        self._logger.log(self._level, msg, extra=extra)
        return True
