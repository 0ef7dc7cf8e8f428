#!/usr/bin/env python3
"""Compare profiles measured by `nexus profile` with a reference profile CSV (same columns).

Prints, per model and batch size, the measured and reference graph_median_ms / graph_p99_ms and their
ratio, and each model's peak throughput (items/s at its best batch) in both. Used by python/gpu_check.sh.

    python3 python/compare_profiles.py --reference data/h100-torchvision-fp16-profiles.csv NEW.csv [NEW.csv ...]
"""
import argparse
import csv


def read(path):
    rows = {}
    with open(path) as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            rows[(row["model"], int(row["batch"]))] = row
    return rows


def peak(rows, model):
    best = max(((b * 1000 / float(r["graph_median_ms"]), b) for (m, b), r in rows.items() if m == model), default=None)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reference", required=True)
    parser.add_argument("measured", nargs="+")
    args = parser.parse_args()
    reference = read(args.reference)
    for path in args.measured:
        measured = read(path)
        models = sorted({m for m, _ in measured})
        for model in models:
            print(f"\n{model}  ({path})")
            print(f"{'batch':>5} {'median ms':>10} {'ref':>8} {'ratio':>6} {'p99 ms':>8} {'ref':>8} {'ratio':>6} {'eager ms':>9}")
            for (m, b), row in sorted(measured.items()):
                if m != model:
                    continue
                ref = reference.get((m, b))
                med, p99 = float(row["graph_median_ms"]), float(row["graph_p99_ms"])
                if ref:
                    rmed, rp99 = float(ref["graph_median_ms"]), float(ref["graph_p99_ms"])
                    print(f"{b:>5} {med:>10.4f} {rmed:>8.4f} {med / rmed:>6.2f} {p99:>8.4f} {rp99:>8.4f} {p99 / rp99:>6.2f} {float(row['eager_median_ms']):>9.4f}")
                else:
                    print(f"{b:>5} {med:>10.4f} {'-':>8} {'-':>6} {p99:>8.4f} {'-':>8} {'-':>6} {float(row['eager_median_ms']):>9.4f}")
            mine, theirs = peak(measured, model), peak(reference, model)
            if mine and theirs:
                print(f"peak: {mine[0]:.0f}/s at batch {mine[1]} vs reference {theirs[0]:.0f}/s at batch {theirs[1]} "
                      f"(ratio {mine[0] / theirs[0]:.3f})")


if __name__ == "__main__":
    main()
