"""The AI task log interface (``ai_tasks``): one row per AI job, kept after its document."""

from __future__ import annotations

from abc import ABC, abstractmethod

from persistence.records import TaskRecord


class TaskLog(ABC):
    """AI task records.

    Implemented by every :class:`~persistence.base.Store`; its methods raise
    :class:`~persistence.errors.StoreNotStarted` outside the store's ``start()``..``stop()``.
    """

    @abstractmethod
    async def record_task(self, record: TaskRecord) -> None:
        """Insert the task's row or replace it (jobs are retried: recording is idempotent).

        A row whose status is final (``TASK_FINAL_STATUSES``) is only replaced by another
        final one, so a late "running" record never brings a finished task back.
        """

    @abstractmethod
    async def get_task(self, task_id: str) -> TaskRecord:
        """Raises TaskNotFound."""

    @abstractmethod
    async def list_tasks(
        self, *, doc_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[TaskRecord]:
        """Tasks (of one document, if given), newest first (by created_at, then id)."""
