"""Argument checks every backend makes the same way (private to the store implementations)."""

from __future__ import annotations


def check_page(limit: int, offset: int) -> None:
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must be >= 0, got {offset}")


def check_up_to_seq(doc_id: str, up_to_seq: int, last_seq: int) -> None:
    if not 0 <= up_to_seq <= last_seq:
        raise ValueError(
            f"up_to_seq must be within 0..{last_seq} (last seq of document {doc_id!r}), "
            f"got {up_to_seq}"
        )
