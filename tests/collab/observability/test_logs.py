"""Log formatters: one JSON object per line with extras, or readable text with extras."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collab.observability.logs import JsonFormatter, TextFormatter, configure_logging


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, logging.StreamHandler[io.StringIO]]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("tests.collab.test_logs")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, handler
    finally:
        logger.handlers.clear()
        logger.propagate = True


def _lines(handler: logging.StreamHandler[io.StringIO]) -> list[str]:
    return handler.stream.getvalue().splitlines()


def _json_lines(handler: logging.StreamHandler[io.StringIO]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _lines(handler)]


def test_json_one_object_per_line_with_extras(
    capture: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, handler = capture
    handler.setFormatter(JsonFormatter())
    logger.info("room loaded", extra={"doc_id": "d1", "ms": 1.5, "from_snapshot": True})
    logger.warning("closing %s", "conn-7", extra={"doc_id": "d2", "code": 1002})
    first, second = _json_lines(handler)
    assert first["msg"] == "room loaded"
    assert first["level"] == "info"
    assert first["logger"] == "tests.collab.test_logs"
    assert isinstance(first["ts"], float)
    assert (first["doc_id"], first["ms"], first["from_snapshot"]) == ("d1", 1.5, True)
    assert "exc" not in first
    assert second["msg"] == "closing conn-7"
    assert (second["level"], second["doc_id"], second["code"]) == ("warning", "d2", 1002)


def test_json_has_no_standard_record_attributes(
    capture: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, handler = capture
    handler.setFormatter(JsonFormatter())
    logger.info("plain")
    (entry,) = _json_lines(handler)
    assert set(entry) == {"ts", "level", "logger", "msg"}


def test_json_exception_is_included_and_stays_on_one_line(
    capture: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, handler = capture
    handler.setFormatter(JsonFormatter())
    try:
        raise ValueError("boom")
    except ValueError:
        logger.exception("failed\nbadly", extra={"doc_id": "d3"})
    lines = _lines(handler)
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["msg"] == "failed\nbadly"
    assert entry["level"] == "error"
    assert entry["doc_id"] == "d3"
    assert entry["exc"].startswith("Traceback")
    assert "ValueError: boom" in entry["exc"]


def test_json_stringifies_values_it_cannot_serialise(
    capture: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, handler = capture
    handler.setFormatter(JsonFormatter())
    logger.info("path", extra={"where": Path("/x/y"), "ids": {1}})
    (entry,) = _json_lines(handler)
    assert entry["where"] == "/x/y"
    assert entry["ids"] == "{1}"


def test_text_includes_level_logger_message_and_extras(
    capture: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, handler = capture
    handler.setFormatter(TextFormatter())
    logger.info("room loaded", extra={"doc_id": "d1", "ms": 2.0})
    logger.debug("no extras")
    first, second = _lines(handler)
    assert "INFO" in first
    assert "tests.collab.test_logs: room loaded" in first
    assert first.endswith("doc_id='d1' ms=2.0")
    assert second.endswith("tests.collab.test_logs: no extras")


def test_text_appends_the_traceback(
    capture: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, handler = capture
    handler.setFormatter(TextFormatter())
    try:
        raise RuntimeError("kaput")
    except RuntimeError:
        logger.exception("store failed", extra={"doc_id": "d9"})
    text = handler.stream.getvalue()
    head, _, rest = text.partition("\n")
    assert "ERROR" in head
    assert "store failed doc_id='d9'" in head
    assert rest.startswith("Traceback")
    assert "RuntimeError: kaput" in rest


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield root
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.parametrize(("fmt", "formatter"), [("json", JsonFormatter), ("text", TextFormatter)])
def test_configure_logging_installs_one_handler(
    root_logger: logging.Logger, fmt: str, formatter: type[logging.Formatter]
) -> None:
    configure_logging("WARNING", fmt)
    (handler,) = root_logger.handlers
    assert isinstance(handler.formatter, formatter)
    assert root_logger.level == logging.WARNING
