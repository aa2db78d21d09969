"""Fan-out load benchmark of issue 5: ``python -m bench.load`` (docs/performance.md)."""
