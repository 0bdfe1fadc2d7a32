"""The backoff policy is a pure function of the attempt number and a random draw."""

from __future__ import annotations

import pytest

from lasersell_sync.backoff import Backoff, exponential_delay


@pytest.mark.parametrize(
    ("attempt", "ceiling"),
    [(0, 0.1), (1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.6), (6, 2.0), (50, 2.0), (10_000, 2.0)],
)
def test_ceiling_doubles_from_initial_to_maximum(attempt: int, ceiling: float) -> None:
    assert exponential_delay(attempt, 0.1, 2.0) == pytest.approx(ceiling)


def test_full_jitter_spans_zero_to_the_ceiling_from_the_second_attempt() -> None:
    policy = Backoff()
    assert policy.delay(4, rand=lambda: 0.0) == 0.0
    assert policy.delay(4, rand=lambda: 0.5) == pytest.approx(0.2)
    assert policy.delay(4, rand=lambda: 0.999) == pytest.approx(0.3996)
    assert policy.delay(2, rand=lambda: 1.0) == pytest.approx(0.1)
    assert policy.delay(30, rand=lambda: 1.0) == pytest.approx(2.0)


def test_the_first_attempt_of_an_outage_is_immediate() -> None:
    assert Backoff().delay(1, rand=lambda: 1.0) == 0.0
    assert Backoff(initial=5.0).delay(1, rand=lambda: 1.0) == 0.0


def test_defaults_follow_the_spec() -> None:
    policy = Backoff()
    assert (policy.initial, policy.maximum, policy.max_attempts) == (0.1, 2.0, None)


@pytest.mark.parametrize("options", [{"initial": -1.0}, {"maximum": -0.1}, {"max_attempts": 0}])
def test_invalid_policies_are_rejected(options: dict) -> None:
    with pytest.raises(ValueError, match="must be >="):
        Backoff(**options)
