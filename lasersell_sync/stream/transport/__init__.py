"""The link to the service: one socket, its frames, the handshake, the reader thread,
keepalive, the outbox of commands, and the reconnect loop. Knows nothing of handlers."""
