"""Run the benchmarks: `python -m benchmarks.run [--size tiny|full] [--only io,validation,e2e,scale]`.

Writes `<out>/latest.json` and `<out>/latest.md`. Every comparison is measured in the same run (the
machine is noisy: read the ratios, not the seconds).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import warnings
from pathlib import Path

SIZES = {
    "tiny": {"rows": [20_000], "repeats": 1, "scales": [0.01], "mesh": [(2, 4), (3, 4)]},
    "full": {
        "rows": [1_000_000, 5_000_000],
        "repeats": 5,
        # the cost model's points; SF 10 takes a few minutes to generate, once
        "scales": [0.1, 1.0, 10.0],
        "mesh": [(10, 20), (25, 20), (50, 20)],
    },
}


def _md_io(results: list[dict]) -> list[str]:
    lines = [
        "## IO: 10-column table",
        "",
        "| rows | op | stock IO manager | dagmesh | raw Arrow | dagmesh vs stock | dagmesh vs raw |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for op in ("write", "read"):
            s = r[f"{op}_seconds"]
            lines.append(
                f"| {r['rows']:,} | {op} | {s['stock']:.3f}s | {s['dagmesh']:.3f}s | {s['raw_arrow']:.3f}s "
                f"| {s['stock'] / s['dagmesh']:.2f}x faster | {s['dagmesh'] / s['raw_arrow']:.2f}x |"
            )
    lines += [
        "",
        "Reads again, each in a fresh process (as a Dagster step loads its input), with peak memory growth:",
        "",
        "| rows | stock IO manager | dagmesh | raw Arrow | dagmesh vs stock | dagmesh vs raw |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        f = r["fresh_process_reads"]
        cells = " | ".join(
            f"{f[side]['seconds']:.3f}s, {f[side]['peak_mib']:.0f} MiB"
            for side in ("stock", "dagmesh", "raw_arrow")
        )
        lines.append(
            f"| {r['rows']:,} | {cells} | {r['fresh_process_read_speedup_vs_stock']:.2f}x faster "
            f"| {f['dagmesh']['seconds'] / f['raw_arrow']['seconds']:.2f}x |"
        )
    return lines


def _md_validation(results: list[dict]) -> list[str]:
    lines = [
        "## Contract validation (same 10 checks)",
        "",
        "| rows | dagmesh SQL audit | types + audit (as published) | Arrow conversion alone | hand-written SQL | pandera (pandas) | GX (pandas) | audit vs pandera | types + audit vs pandera | vs GX | vs hand SQL |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        s = r["seconds"]
        lines.append(
            f"| {r['rows']:,} | {s['dagmesh_sql_audit']:.3f}s | {s['dagmesh_types_and_audit']:.3f}s "
            f"| {s['arrow_from_pandas']:.3f}s | {s['hand_written_sql']:.3f}s "
            f"| {s['pandera_pandas']:.3f}s | {s['great_expectations_pandas']:.3f}s "
            f"| {r['speedup_vs_pandera']:.1f}x faster | {r['whole_check_speedup_vs_pandera']:.1f}x faster "
            f"| {r['speedup_vs_gx']:.1f}x faster | {r['vs_hand_written_sql']:.2f}x |"
        )
    return lines


def _answers(r: dict) -> str:
    if not r["answers_equal"]:
        return "no official answers at this scale"
    wrong = [f"Q{q}" for q, ok in r["answers_equal"].items() if not ok]
    return "all equal" if not wrong else f"DIFFER: {', '.join(wrong)}"


def _md_e2e(results: list[dict]) -> list[str]:
    lines = [
        "## End to end: `dagmesh run` of the sample mesh vs the plain-DuckDB floor",
        "",
        "| TPC-H SF | dagmesh run | floor | dagmesh / floor | first run in a new home / floor | peak RSS "
        "| floor peak RSS | start (import + load) | steps | run overhead | floor engine | all published "
        "| TPC-H answers |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['scale_factor']:g} | {r['wall_seconds']:.1f}s | {r['floor_wall_seconds']:.1f}s "
            f"| {r['vs_floor']:.2f}x | {r['first_run_vs_floor']:.2f}x (+{r['new_instance_seconds']:.1f}s) "
            f"| {r['peak_rss_mib']:.0f} MiB | {r['floor_peak_rss_mib']:.0f} MiB "
            f"| {r['startup_seconds']:.1f}s | {r['step_seconds']:.1f}s | {r['run_overhead_seconds']:.1f}s "
            f"| {r['floor_engine_seconds']:.1f}s | {r['all_published']} | {_answers(r)} |"
        )
    largest = max(results, key=lambda r: r["scale_factor"])
    lines += [
        "",
        f"Per product at SF {largest['scale_factor']:g} (step time from Dagster's step stats; floor: the "
        "same table built by DuckDB alone):",
        "",
        "| product | rows | step | floor |",
        "|---|---:|---:|---:|",
    ]
    for p in largest["products"]:
        floor = "-" if p.get("floor_seconds") is None else f"{p['floor_seconds']:.2f}s"
        lines.append(
            f"| {p['product']} | {p['rows'] or 0:,} | {p['seconds'] or 0:.2f}s | {floor} |"
        )
    return lines


def _md_scale(results: list[dict]) -> list[str]:
    lines = [
        "## Scale of the mesh (generated workspace)",
        "",
        "| domains x products | products | load all locations | dagmesh lint | lint per product | SLO tick | quality tick | drift tick |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        t = r["sensor_tick_seconds"]
        lines.append(
            f"| {r['domains']} x {r['products_per_domain']} | {r['products']} | {r['load_seconds']:.2f}s "
            f"| {r['lint_seconds']:.2f}s | {r['lint_ms_per_product']:.1f} ms | {t['governance_slo']:.2f}s "
            f"| {t['governance_quality']:.2f}s | {t['governance_drift']:.2f}s |"
        )
    return lines


def _targets(report: dict) -> list[str]:
    lines = ["## Targets", "", "| benchmark | target | met |", "|---|---|---|"]
    for section in ("io", "validation"):
        for r in report.get(section, []):
            for target, met in r["targets"].items():
                lines.append(
                    f"| {section} {r['rows']:,} rows | {target} | {'yes' if met else 'NO'} |"
                )
    if report.get("e2e"):
        from benchmarks.end_to_end import targets as e2e_targets

        for target, met in e2e_targets(report["e2e"]).items():
            lines.append(f"| end to end | {target} | {'yes' if met else 'NO'} |")
    if report.get("scale"):
        from benchmarks.mesh_scale import targets

        for target, met in targets(report["scale"]).items():
            lines.append(f"| scale | {target} | {'yes' if met else 'NO'} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument("--only", default="io,validation,e2e,scale")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    size = SIZES[args.size]
    only = set(args.only.split(","))
    report: dict = {
        "size": args.size,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    if "io" in only:
        from benchmarks import io_bench

        report["io"] = [io_bench.run(rows, size["repeats"]) for rows in size["rows"]]
    if "validation" in only:
        from benchmarks import validation

        report["validation"] = [validation.run(rows, size["repeats"]) for rows in size["rows"]]
    if "e2e" in only:
        from benchmarks import end_to_end

        report["e2e"] = [end_to_end.run(scale) for scale in size["scales"]]
    if "scale" in only:
        from benchmarks import mesh_scale

        report["scale"] = [mesh_scale.run(d, p) for d, p in size["mesh"]]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(report, indent=2, default=str))
    lines = [f"# dagmesh benchmarks ({args.size}, {report['date']}, {report['machine']})", ""]
    if "io" in report:
        lines += [*_md_io(report["io"]), ""]
    if "validation" in report:
        lines += [*_md_validation(report["validation"]), ""]
    if "e2e" in report:
        lines += [*_md_e2e(report["e2e"]), ""]
    if "scale" in report:
        lines += [*_md_scale(report["scale"]), ""]
    lines += _targets(report)
    (args.out / "latest.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
