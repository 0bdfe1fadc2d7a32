"""Handing events to the user: the handler registry, the two priority lanes with per-key
ordering, and ``events()`` iterators. Knows nothing of sockets."""
