#!/usr/bin/env python3
"""Write amplification against over-provisioning ρ, per copygc policy, beside the analytic
greedy curve — from `zonealloc simulate` runs.

Two steps, either or both:

  # run the simulations (appends one row per run to the results CSV; rows already there are kept
  # and not run again, so an interrupted sweep resumes)
  tools/plot-wa.py run --zonealloc .build/release/zonealloc --results wa-results.csv \\
      --zones 4096 --rho 0.07,0.08,0.10,0.12,0.16,0.20,0.28 \\
      --policies greedy,cost-benefit,lifetime --workloads uniform,hotcold:90/10,hotcold:80/20

  # draw the PNG (one panel per workload; the analytic greedy curve is the Lambert-W form of
  # anchors §4.1, exact for uniform random overwrite with large buckets)
  tools/plot-wa.py plot --results wa-results.csv --out wa.png

  # print the results as a Markdown table (workload × ρ × policy)
  tools/plot-wa.py table --results wa-results.csv

Needs matplotlib for `plot` (`pip install matplotlib`). The results CSV columns are workload,
policy, zones, zone_size, rho, wa, analytic_greedy, warmup, measure, seed, elapsed_s,
block_writes_per_s, user_blocks_per_s, mean_unwritten_blocks (free buckets and the unwritten rest of open
buckets, averaged over the measured phase), effective_rho = (T − U − mean unwritten) / U and
analytic_greedy_effective (the Lambert-W value there).
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys

FIELDS = [
    "workload", "policy", "zones", "zone_size", "rho", "wa", "analytic_greedy", "warmup", "measure", "seed",
    "elapsed_s", "block_writes_per_s", "user_blocks_per_s", "mean_unwritten_blocks", "effective_rho",
    "analytic_greedy_effective",
]


def lambert_w0(x):
    """Principal branch of Lambert W for x >= -1/e (Halley's method)."""
    if x < -math.exp(-1) - 1e-12:
        raise ValueError("W0 is undefined below -1/e")
    if x < -0.3:
        p = math.sqrt(max(0.0, 2 * (math.e * x + 1)))
        w = -1 + p - p * p / 3 + 11 * p ** 3 / 72
    else:
        w = math.log1p(x)
    for _ in range(64):
        e = math.exp(w)
        f = w * e - x
        step = f / (e * (w + 1) - (w + 2) * f / (2 * w + 2))
        w -= step
        if abs(step) < 1e-15 * (1 + abs(w)):
            break
    return w


def greedy_wa(rho):
    """Lambert-W greedy write amplification under uniform random overwrite (anchors §4.1)."""
    a = 1 + rho
    return a / (a + lambert_w0(-a * math.exp(-a)))


def read_results(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def key(row):
    return (row["workload"], row["policy"], str(row["zones"]), "%.4f" % float(row["rho"]), str(row["seed"]))


def run(args):
    done = {key(r) for r in read_results(args.results)}
    new_file = not os.path.exists(args.results)
    with open(args.results, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        for workload in args.workloads.split(","):
            for rho in [float(r) for r in args.rho.split(",")]:
                for policy in args.policies.split(","):
                    row_key = (workload, policy, str(args.zones), "%.4f" % rho, str(args.seed))
                    if row_key in done:
                        print(f"skip {row_key}: already in {args.results}", file=sys.stderr)
                        continue
                    command = [
                        args.zonealloc, "simulate", "--json", "--quiet", "--workload", workload, "--policy", policy,
                        "--zones", str(args.zones), "--zone-size", args.zone_size, "--rho", str(rho),
                        "--warmup", str(args.warmup), "--measure", str(args.measure), "--seed", str(args.seed),
                    ]
                    print("running: " + " ".join(command), file=sys.stderr)
                    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
                    result = json.loads(output)
                    row = {
                        "workload": workload,
                        "policy": policy,
                        "zones": args.zones,
                        "zone_size": args.zone_size,
                        "rho": "%.4f" % result["layout"]["overProvisioning"],
                        "wa": "%.4f" % result["writeAmplification"],
                        "analytic_greedy": "%.4f" % result["analyticGreedyWriteAmplification"],
                        "warmup": args.warmup,
                        "measure": args.measure,
                        "seed": args.seed,
                        "elapsed_s": "%.1f" % result["elapsedSeconds"],
                        "block_writes_per_s": "%.0f" % result["blockWritesPerSecond"],
                        "user_blocks_per_s": "%.0f" % result["userBlockWritesPerSecond"],
                        "mean_unwritten_blocks": "%.0f" % result["meanUnwrittenBlocks"],
                        "effective_rho": "%.4f" % result["effectiveOverProvisioning"],
                        "analytic_greedy_effective": "%.4f" % (result.get("analyticGreedyAtEffectiveOverProvisioning")
                                                               or float("nan")),
                    }
                    writer.writerow(row)
                    f.flush()
                    print(f"  WA {row['wa']} (analytic greedy {row['analytic_greedy']}), {row['elapsed_s']} s",
                          file=sys.stderr)


def plot(args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in read_results(args.results) if not args.zones or str(r["zones"]) == str(args.zones)]
    if not rows:
        sys.exit(f"plot-wa: no results in {args.results}" + (f" for {args.zones} zones" if args.zones else ""))
    workloads = list(dict.fromkeys(r["workload"] for r in rows))
    policies = list(dict.fromkeys(r["policy"] for r in rows))
    figure, axes = plt.subplots(1, len(workloads), figsize=(5.2 * len(workloads), 4.4), squeeze=False)
    rhos = [float(r["rho"]) for r in rows]
    low, high = min(rhos) * 0.9, max(rhos) * 1.05
    curve_x = [low + (high - low) * i / 200 for i in range(201)]
    markers = ["o", "s", "^", "D", "v", "P"]
    for axis, workload in zip(axes[0], workloads):
        axis.plot(curve_x, [greedy_wa(x) for x in curve_x], "k--", linewidth=1,
                  label="analytic greedy, uniform (Lambert-W)")
        for index, policy in enumerate(policies):
            points = sorted((float(r["rho"]), float(r["wa"])) for r in rows
                            if r["workload"] == workload and r["policy"] == policy)
            if points:
                # Shrinking markers keep policies that coincide (greedy and cost-benefit under
                # uniform overwrite) visible on top of each other.
                axis.plot([p[0] for p in points], [p[1] for p in points], marker=markers[index % len(markers)],
                          markersize=max(4, 9 - 2 * index), label=policy)
        zones = sorted({r["zones"] for r in rows if r["workload"] == workload})
        axis.set_title(f"{workload} ({', '.join(zones)} zones)")
        axis.set_xlabel("over-provisioning ρ = (T − U) / U")
        axis.set_ylabel("write amplification")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle("zonealloc simulate: copygc write amplification against ρ", fontsize=11)
    figure.tight_layout()
    figure.savefig(args.out, dpi=130)
    print(f"wrote {args.out}", file=sys.stderr)


def table(args):
    rows = read_results(args.results)
    if args.zones:
        rows = [r for r in rows if str(r["zones"]) == str(args.zones)]
    policies = list(dict.fromkeys(r["policy"] for r in rows))
    print("| workload | zones | ρ | " + " | ".join(policies) + " | analytic greedy |")
    print("|---|---|---|" + "---|" * len(policies) + "---|")
    groups = {}
    for r in rows:
        groups.setdefault((r["workload"], r["zones"], "%.2f" % float(r["rho"])), {})[r["policy"]] = r
    for (workload, zones, rho), by_policy in groups.items():
        cells = [by_policy[p]["wa"][:5] if p in by_policy else "–" for p in policies]
        analytic = next(iter(by_policy.values()))["analytic_greedy"][:5]
        print(f"| {workload} | {zones} | {rho} | " + " | ".join(cells) + f" | {analytic} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run", help="run simulations and append to the results CSV")
    runner.add_argument("--zonealloc", default=".build/release/zonealloc", help="the zonealloc binary")
    runner.add_argument("--results", default="wa-results.csv")
    runner.add_argument("--zones", type=int, default=4096)
    runner.add_argument("--zone-size", default="16M")
    runner.add_argument("--rho", default="0.07,0.08,0.10,0.12,0.16,0.20,0.28")
    runner.add_argument("--policies", default="greedy,cost-benefit,lifetime")
    runner.add_argument("--workloads", default="uniform")
    runner.add_argument("--warmup", type=float, default=4)
    runner.add_argument("--measure", type=float, default=4)
    runner.add_argument("--seed", type=int, default=1)
    plotter = commands.add_parser("plot", help="draw the PNG from the results CSV")
    plotter.add_argument("--results", default="wa-results.csv")
    plotter.add_argument("--out", default="wa.png")
    plotter.add_argument("--zones", help="only results of this many zones")
    tabler = commands.add_parser("table", help="print a Markdown table from the results CSV")
    tabler.add_argument("--results", default="wa-results.csv")
    tabler.add_argument("--zones", help="only results of this many zones")
    args = parser.parse_args()
    {"run": run, "plot": plot, "table": table}[args.command](args)


if __name__ == "__main__":
    main()
