"""Benchmarks of Nexus Canvas (see bench/README.md)."""
