"""lasersell_sync: a synchronous Python SDK for the LaserSell Exit Intelligence Stream."""

from __future__ import annotations

import logging

from . import proto
from .errors import InvalidStrategyError, LaserSellError, ProtocolError
from .proto import *  # noqa: F403 - the protocol models are part of the public API
from .proto import __all__ as _proto_all

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "InvalidStrategyError",
    "LaserSellError",
    "ProtocolError",
    "__version__",
    "proto",
    *_proto_all,
]
