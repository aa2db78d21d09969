"""What every package of the server stands on and nothing of the project's own: the start/stop
lifecycle of long-lived components, light asyncio primitives, URL redaction, clocks.

Import rule (pyproject's import-linter contracts): ``foundation`` imports no other package of
the project, so ``persistence`` and ``inference`` can use it without importing ``collab``.
"""
