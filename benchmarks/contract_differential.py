"""Differential run of write-audit-publish against pandera:
`python -m benchmarks.contract_differential --pairs 10000 [--seed N] [--kinds int64,str,...]`.

Draws (contract, frame) pairs with the strategies of tests/integration/storage/contract_generators.py,
publishes each into a fresh table and compares the outcome with pandera's verdict (`compare`). Prints
progress every 1000 pairs and a summary: pairs, published, refused, soundness violations (must be 0),
completeness gaps, deliberate differences by name, and for each kind of violation or gap its smallest
examples, as code. Exits 1 when any soundness violation was found.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings

from dagmesh.storage.warehouse import MeshWarehouse
from tests.integration.storage.contract_generators import (
    COMPLETENESS,
    DELIBERATE,
    KINDS,
    PUBLISHED_OK,
    REFUSED_OK,
    SOUNDNESS,
    Outcome,
    Pair,
    compare,
    pairs,
)

PROGRESS_EVERY = 1000
TABLES_PER_FILE = 1000  # a fresh warehouse file now and then keeps the catalog small


@dataclass
class Tally:
    """Outcomes by kind, and the smallest examples of each soundness or completeness finding."""

    examples_per_key: int
    kinds: Counter[str] = field(default_factory=Counter)
    differences: Counter[str] = field(default_factory=Counter)
    refusals: Counter[str] = field(default_factory=Counter)  # why contracts were refused at load
    findings: dict[str, Counter[str]] = field(
        default_factory=lambda: {SOUNDNESS: Counter(), COMPLETENESS: Counter()}
    )
    examples: dict[tuple[str, str], list[tuple[int, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    def add(self, pair: Pair, outcome: Outcome) -> None:
        self.kinds[outcome.kind] += 1
        if outcome.kind == DELIBERATE:
            self.differences[outcome.difference or "?"] += 1
            if outcome.difference == "contract_refused" and outcome.findings:
                self.refusals[outcome.findings[0].key] += 1
        if outcome.kind not in self.findings:
            return
        text = f"{pair!r}\n# {outcome.describe()}".replace("\n", "\n    ")
        for key in dict.fromkeys(f.key for f in outcome.findings):
            self.findings[outcome.kind][key] += 1
            kept = self.examples[(outcome.kind, key)]
            if any(text == seen for _, seen in kept):
                continue
            kept.append((len(text), text))
            kept.sort(key=lambda example: example[0])
            del kept[self.examples_per_key :]

    @property
    def pairs(self) -> int:
        return sum(self.kinds.values())


def _progress(tally: Tally, started: float) -> str:
    return (
        f"{tally.pairs:,} pairs in {time.monotonic() - started:.0f}s: "
        f"{tally.kinds[PUBLISHED_OK]:,} published, {tally.kinds[REFUSED_OK]:,} refused, "
        f"{tally.kinds[SOUNDNESS]:,} soundness violations, {tally.kinds[COMPLETENESS]:,} completeness "
        f"gaps, {tally.kinds[DELIBERATE]:,} deliberate differences"
    )


def run(
    count: int,
    seed_value: int,
    kinds: tuple[str, ...] = tuple(KINDS),
    examples_per_key: int = 3,
    directory: Path | None = None,
) -> Tally:
    """Compare `count` generated pairs; the same seed draws the same pairs."""
    tally = Tally(examples_per_key)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=directory) as scratch:
        state = {"warehouse": None, "tables": 0}

        def warehouse() -> MeshWarehouse:
            if state["tables"] % TABLES_PER_FILE == 0:
                previous = Path(scratch) / f"w{state['tables'] // TABLES_PER_FILE - 1}.duckdb"
                previous.unlink(missing_ok=True)
                path = Path(scratch) / f"w{state['tables'] // TABLES_PER_FILE}.duckdb"
                state["warehouse"] = MeshWarehouse(database=str(path))
            state["tables"] += 1
            return state["warehouse"]

        @seed(seed_value)
        @settings(
            max_examples=count,
            database=None,
            deadline=None,
            phases=[Phase.generate],  # never shrinks: nothing raises, everything is tallied
            suppress_health_check=list(HealthCheck),
        )
        @given(pair=pairs(kinds))
        def compare_one(pair: Pair) -> None:
            outcome = compare(pair.model, pair.frame, warehouse(), ("t", f"p{state['tables']}"))
            tally.add(pair, outcome)
            if tally.pairs % PROGRESS_EVERY == 0:
                print(_progress(tally, started), flush=True)

        compare_one()
    return tally


def summary(tally: Tally, seed_value: int, seconds: float) -> list[str]:
    lines = [
        f"# Contract differential run (seed {seed_value}, {seconds:.0f}s)",
        "",
        f"pairs: {tally.pairs}",
        f"published: {tally.kinds[PUBLISHED_OK]}",
        f"refused: {tally.kinds[REFUSED_OK]}",
        f"soundness violations: {tally.kinds[SOUNDNESS]}",
        f"completeness gaps: {tally.kinds[COMPLETENESS]}",
        f"deliberate differences: {tally.kinds[DELIBERATE]}",
    ]
    lines += [f"  {name}: {n}" for name, n in tally.differences.most_common()]
    if tally.refusals:
        lines += ["", "Contracts refused at load, most common reasons:"]
        lines += [f"  {n} x {reason}" for reason, n in tally.refusals.most_common(8)]
    for kind, title in ((SOUNDNESS, "Soundness violations"), (COMPLETENESS, "Completeness gaps")):
        found = tally.findings[kind]
        if not found:
            continue
        lines += ["", f"## {title}, by finding (a pair may have several)", ""]
        for key, n in found.most_common():
            lines.append(f"- {n} x {key}")
            for number, (_, text) in enumerate(tally.examples[(kind, key)], 1):
                lines.append(f"  smallest example {number}:\n    {text}")
    return lines


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None, help="default: a random one, printed")
    parser.add_argument(
        "--kinds",
        default=",".join(KINDS),
        help=f"column types to draw, comma-separated, of: {', '.join(KINDS)}",
    )
    parser.add_argument("--examples", type=int, default=3, help="examples shown per finding")
    args = parser.parse_args(argv)
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        parser.error(f"unknown kinds {unknown}; choose from {', '.join(KINDS)}")
    seed_value = args.seed if args.seed is not None else random.randrange(2**32)
    print(f"comparing {args.pairs:,} pairs with pandera (seed {seed_value})", flush=True)
    started = time.monotonic()
    tally = run(args.pairs, seed_value, kinds, args.examples)
    print("\n".join(summary(tally, seed_value, time.monotonic() - started)), flush=True)
    return 1 if tally.kinds[SOUNDNESS] else 0


if __name__ == "__main__":
    raise SystemExit(main())
