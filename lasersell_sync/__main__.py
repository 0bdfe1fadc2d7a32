"""``python -m lasersell_sync``: see :mod:`lasersell_sync.cli`."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
