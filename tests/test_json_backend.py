"""The JSON backend is chosen once at import, and both backends read frames alike."""

from __future__ import annotations

import importlib.util
import os

import pytest

import lasersell_sync as ls
from lasersell_sync.proto import jsonlib
from tests.support import FIXTURES


def test_backend_is_the_expected_one() -> None:
    expected = os.environ.get("LASERSELL_EXPECT_JSON_BACKEND")
    if not expected:
        expected = "orjson" if importlib.util.find_spec("orjson") else "json"
    assert expected == ls.proto.JSON_BACKEND


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_backends_parse_every_fixture_identically(path: object) -> None:
    raw = FIXTURES.joinpath(str(path)).read_bytes()
    assert jsonlib.loads(raw) == jsonlib.loads_exact(raw)


def test_dumps_is_compact_and_keeps_unicode() -> None:
    assert jsonlib.dumps({"a": [1, 2.5], "b": "é"}) == '{"a":[1,2.5],"b":"é"}'


def test_dumps_handles_integers_beyond_64_bits() -> None:
    assert jsonlib.dumps({"a": 2**70}) == '{"a":1180591620717411303424}'
