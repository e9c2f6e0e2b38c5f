"""Median-of-N timing with alternating order, so machine noise hits both sides alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(
    fn: Callable[[], object], repeats: int, setup: Callable[[], object] | None = None
) -> float:
    samples = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def compare(
    candidates: dict[str, Callable[[], object]], repeats: int, setup=None
) -> dict[str, float]:
    """Time each candidate `repeats` times, interleaved (a, b, c, a, b, c, ...); medians by name."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for round_ in range(repeats):
        order = list(candidates) if round_ % 2 == 0 else list(reversed(candidates))
        for name in order:
            if setup is not None:
                setup(name)
            start = time.perf_counter()
            candidates[name]()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}
