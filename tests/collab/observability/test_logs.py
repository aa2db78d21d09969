"""Log formatters: one JSON object per line with extras, or readable text with extras."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collab.observability.logs import (
    JsonFormatter,
    TextFormatter,
    ThrottledLog,
    configure_logging,
)
from tests.support.clock import ManualClock


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


@pytest.mark.parametrize("formatter", [JsonFormatter, TextFormatter])
def test_uvicorns_colour_copy_of_the_message_is_not_an_extra(
    capture: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
    formatter: type[logging.Formatter],
) -> None:
    logger, handler = capture
    handler.setFormatter(formatter())
    # As uvicorn logs its start-up lines: the message again, coloured, for its own formatter.
    logger.info("Started server process [%d]", 42, extra={"color_message": "[\x1b[36m%d\x1b[0m]"})
    text = handler.stream.getvalue()
    assert "Started server process [42]" in text
    assert "color_message" not in text and "\x1b" not in text and "u001b" not in text


def test_text_escapes_control_characters_in_the_message(
    capture: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, handler = capture
    handler.setFormatter(TextFormatter())
    # A request path as uvicorn logs it, percent-decoded: colour codes and a forged line.
    logger.info('"GET %s"', "/ws/\x1b[31mred\nERROR forged")
    (line,) = _lines(handler)
    assert "\x1b" not in line
    assert line.endswith('"GET /ws/\\x1b[31mred\\x0aERROR forged"')


def test_configure_logging_takes_uvicorns_loggers_over(root_logger: logging.Logger) -> None:
    uvicorn_error = logging.getLogger("uvicorn.error")
    foreign = logging.StreamHandler(io.StringIO())
    uvicorn_error.addHandler(foreign)
    uvicorn_error.propagate = False
    uvicorn_error.setLevel(logging.DEBUG)
    try:
        configure_logging("INFO", "json")
        assert uvicorn_error.handlers == []
        assert uvicorn_error.propagate
        assert uvicorn_error.getEffectiveLevel() == logging.INFO
    finally:
        uvicorn_error.handlers.clear()
        uvicorn_error.propagate = True
        uvicorn_error.setLevel(logging.NOTSET)


def test_throttled_log_keeps_to_its_rate_and_counts_what_it_dropped(
    capture: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    logger, handler = capture
    handler.setFormatter(JsonFormatter())
    clock = ManualClock()
    throttled = ThrottledLog(logger, logging.WARNING, 3, clock=clock)
    logged = [throttled.log("refused", {"n": n}) for n in range(7)]
    assert logged == [True, True, True, False, False, False, False]
    assert throttled.suppressed == 4
    clock.advance(0.999)
    assert not throttled.log("refused", {"n": 7})  # still the same second
    clock.advance(0.001)
    assert throttled.log("refused", {"n": 8})
    assert throttled.suppressed == 0
    entries = _json_lines(handler)
    assert [e["n"] for e in entries] == [0, 1, 2, 8]
    assert {e["level"] for e in entries} == {"warning"}
    assert "suppressed" not in entries[0]
    assert entries[-1]["suppressed"] == 5


def test_throttled_log_needs_a_positive_rate(
    capture: tuple[logging.Logger, logging.StreamHandler[io.StringIO]],
) -> None:
    with pytest.raises(ValueError, match="per_second must be at least 1, got 0"):
        ThrottledLog(capture[0], logging.WARNING, 0)
