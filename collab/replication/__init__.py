"""Between server instances: the broker (memory hub or Redis pub/sub) carrying envelopes, the
relay and the per-room replica that hang on a room, snapshot leases, and Redis key names."""
