"""The browser app's benchmark: ``python -m bench.web`` (see docs/performance.md)."""
