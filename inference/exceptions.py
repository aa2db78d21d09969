"""Errors raised by the inference package.

Tree::

    InferenceError
    ├── AIConfigError       a setting of the AI side is invalid (names the variable and value)
    ├── InvalidInput        a job argument is unusable (wrong size, empty mask, bad box, ...)
    ├── ModelUnavailable    real weights are not configured or failed to load: use the fallback
    ├── NotStarted          a pipeline ran on an InferenceContext that is not started
    └── Cancelled           raised by a progress callback to stop a job at the next step
"""

from __future__ import annotations


class InferenceError(Exception):
    """Base class of the inference package's errors."""


class AIConfigError(InferenceError, ValueError):
    """A configuration value is invalid; ``field`` names the setting when known."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidInput(InferenceError, ValueError):
    """A job argument cannot be used (the message names the argument and the value)."""


class ModelUnavailable(InferenceError):
    """No real model for a pipeline: not configured, not on disk, or its load failed.

    Pipelines catch it and run their CPU fallback; ``reason`` ends up in the job result.
    """

    def __init__(self, pipeline: str, reason: str) -> None:
        super().__init__(f"{pipeline}: {reason}")
        self.pipeline = pipeline
        self.reason = reason


class NotStarted(InferenceError, RuntimeError):
    """The InferenceContext was used before ``start()`` or after ``stop()``."""


class Cancelled(InferenceError):
    """Raise this from a progress callback to stop the running job.

    Diffusers checks the callback after every denoising step, so a cancelled inpainting job
    stops at the next step; the exception propagates to the caller of the pipeline function.
    """
