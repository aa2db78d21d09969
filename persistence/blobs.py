"""The blob store interface: immutable byte strings (layer images) named by their sha256.

A blob is stored once however often it is put; :func:`~persistence.blob_gc.collect_blobs`
deletes the blobs no stored state refers to.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable

from persistence.errors import BlobNotFound
from persistence.records import BlobInfo, BlobRecord

_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_sha256(value: object) -> str:
    """``value`` if it is a blob name (64 lowercase hex characters), else ValueError."""
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        shown = value[:80] if isinstance(value, str) else value
        raise ValueError(f"blob hash must be 64 lowercase hex characters (sha256), got {shown!r}")
    return value


def check_blob(sha256: str, data: bytes) -> None:
    """Raise ValueError unless ``sha256`` names ``data``."""
    check_sha256(sha256)
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise ValueError(
            f"blob bytes hash to {actual}, not to the name they were put under {sha256}"
        )


class BlobStore(ABC):
    """Content-addressed blobs.

    Implemented by every :class:`~persistence.base.Store`; its methods raise
    :class:`~persistence.errors.StoreNotStarted` outside the store's ``start()``..``stop()``.
    """

    @abstractmethod
    async def put_blob(
        self,
        sha256: str,
        data: bytes,
        *,
        media_type: str,
        width: int | None = None,
        height: int | None = None,
    ) -> bool:
        """Store ``data`` under its sha256 in one transaction; True if it was new.

        Putting a blob that exists changes nothing but its ``stored_at`` (and returns False).
        Raises ValueError if ``sha256`` is not the lowercase hex digest of ``data``: a store
        never holds bytes under another content's name.
        """

    @abstractmethod
    async def get_blob(self, sha256: str) -> BlobRecord:
        """The blob and its bytes; raises BlobNotFound."""

    @abstractmethod
    async def blob_info(self, sha256: str) -> BlobInfo:
        """The blob's metadata without its bytes; raises BlobNotFound."""

    async def has_blob(self, sha256: str) -> bool:
        try:
            await self.blob_info(sha256)
        except BlobNotFound:
            return False
        return True

    @abstractmethod
    async def list_blob_hashes(self, *, stored_before: float | None = None) -> list[str]:
        """Every blob's sha256 (only those last put before ``stored_before``, if given)."""

    @abstractmethod
    async def delete_blobs(
        self, hashes: Iterable[str], *, stored_before: float | None = None
    ) -> list[str]:
        """Delete these blobs (those last put before ``stored_before``, if given) in one
        transaction; returns the hashes actually deleted. Unknown hashes are ignored."""
