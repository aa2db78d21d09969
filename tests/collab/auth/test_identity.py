"""Principals from query parameters, and document id checks."""

from __future__ import annotations

import re

import pytest

from collab.auth.identity import InvalidUser, Principal, check_doc_id, principal_from_params
from collab.exceptions import InvalidDocumentId


def test_user_and_name() -> None:
    assert principal_from_params({"user": "alice", "name": "Alice A."}) == Principal(
        "alice", "Alice A."
    )


def test_name_defaults_to_the_user_id() -> None:
    assert principal_from_params({"user": "bob@example.com"}) == Principal(
        "bob@example.com", "bob@example.com"
    )


def test_long_name_is_truncated_to_64_characters() -> None:
    principal = principal_from_params({"user": "u", "name": "n" * 500})
    assert principal.name == "n" * 64


@pytest.mark.parametrize("params", [{}, {"user": ""}, {"name": "Guest"}])
def test_missing_user_gets_a_generated_anonymous_id(params: dict[str, str]) -> None:
    principal = principal_from_params(params)
    assert re.fullmatch(r"anon-[0-9a-f]{12}", principal.user_id)
    assert principal.name == params.get("name", principal.user_id)


def test_anonymous_ids_differ() -> None:
    ids = {principal_from_params({}).user_id for _ in range(50)}
    assert len(ids) == 50


@pytest.mark.parametrize("user", ["a", "A_b.c@d:e-f", "x" * 64, "0", "user:42"])
def test_valid_user_ids(user: str) -> None:
    assert principal_from_params({"user": user}).user_id == user


@pytest.mark.parametrize("user", ["bad user", "x" * 65, "a/b", "ü", "<script>", "a\tb", "a;b"])
def test_invalid_user_is_refused_naming_the_value(user: str) -> None:
    with pytest.raises(InvalidUser) as excinfo:
        principal_from_params({"user": user})
    assert repr(user[:80]) in str(excinfo.value)
    assert "1-64 characters" in str(excinfo.value)


def test_invalid_user_message_is_bounded() -> None:
    with pytest.raises(InvalidUser) as excinfo:
        principal_from_params({"user": "!" * 10_000})
    assert len(str(excinfo.value)) < 200


def test_invalid_user_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        principal_from_params({"user": "no spaces"})


def test_user_with_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidUser):
        principal_from_params({"user": "alice\n"})


@pytest.mark.parametrize("doc_id", ["a", "doc", "A1", "team:canvas-1", "v1.2_final", "d" * 128])
def test_good_document_ids(doc_id: str) -> None:
    assert check_doc_id(doc_id) == doc_id


@pytest.mark.parametrize(
    "doc_id",
    ["", "-doc", ".hidden", "_x", ":x", "a/b", "a b", "d" * 129, "ümlaut", "a?b", "../etc"],
)
def test_bad_document_ids_are_refused_naming_the_value(doc_id: str) -> None:
    with pytest.raises(InvalidDocumentId) as excinfo:
        check_doc_id(doc_id)
    assert repr(doc_id[:140]) in str(excinfo.value)
    assert "1-128 characters" in str(excinfo.value)


def test_document_id_with_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidDocumentId):
        check_doc_id("doc\n")
