"""Chaos soak: 3 server instances on a shared Postgres and a private Redis, 60 painting clients
over 12 documents and AI fallback jobs over REST, while a fault injector kills, restarts, cuts
and pauses the parts in turn; at the end nothing acknowledged may be missing anywhere.

``python -m bench.chaos [--duration 600] [--short] [--json out.json]``; see bench/README.md.

Modules: ``config`` (the run's shape), ``services`` (private Redis, the Postgres schema),
``proxy`` (TCP proxies in a child process, cut and restored by name), ``topology`` (server
instances and job workers as processes), ``ledger`` (every edit with its id, who saw it
when), ``painters`` (browser-like clients), ``jobs`` (AI jobs over REST), ``faults`` (the
injector), ``verify`` (the final checks), ``diagnostics`` (Postgres sessions and rows for a
post-mortem), ``report`` (the table and JSON), ``run`` (all of it in order).
"""
