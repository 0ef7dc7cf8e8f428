#!/usr/bin/env python3
"""Summarise bench/policies.sh output: per workload and arrival process, each policy's max rate on the cluster
(and its share of the capacity bound), nexus-next over the best peer, and the fewest GPUs each needs.

Peers are the policies of today's systems (symphony-like, shepherd-like, triton-deployed); nexus is the paper.
Usage: python3 python/policy_summary.py OUT_DIR [--json]
"""
import argparse
import glob
import json
import os
import sys

PEERS = ("symphony-like", "shepherd-like", "triton-deployed")
OURS = "nexus-next"


def load(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        sys.exit(f"{path}: cannot read JSON ({error})")


def cell_name(path, prefix):
    return os.path.basename(path)[len(prefix):-len(".json")]


def summarise(directory):
    rows = []
    for path in sorted(glob.glob(os.path.join(directory, "maxrate-*.json"))):
        report = load(path)
        rates = {o["policy"]: o.get("maxRatePerSecond") or 0.0 for o in report["outcomes"]}
        bound = report.get("capacityBoundPerSecond") or 0.0
        peers = {p: rates[p] for p in PEERS if p in rates}
        best_peer = max(peers.items(), key=lambda kv: kv[1]) if peers else (None, 0.0)
        row = {"cell": cell_name(path, "maxrate-"), "gpus": report["gpus"], "boundPerSecond": bound, "rates": rates,
               "bestPeer": best_peer[0], "bestPeerOfBound": best_peer[1] / bound if bound else None}
        if OURS in rates:
            ours = rates[OURS]
            row["oursOverBestPeer"] = ours / best_peer[1] if best_peer[1] else None
            row["oursOfBound"] = ours / bound if bound else None
            row["oursOverNexus"] = ours / rates["nexus"] if rates.get("nexus") else None
            # Issue 13's goal: 1.2x the best peer, or >= 0.97 of the bound where the best peer is past 0.8 of it.
            if row["bestPeerOfBound"] is not None and row["bestPeerOfBound"] > 0.8:
                row["goal"] = ">=0.97 of bound and ahead of every peer"
                row["goalMet"] = row["oursOfBound"] >= 0.97 and all(ours > r for r in peers.values())
            else:
                row["goal"] = ">=1.2x best peer"
                row["goalMet"] = row["oursOverBestPeer"] is not None and row["oursOverBestPeer"] >= 1.2
        rows.append(row)
    gpu_rows = []
    for path in sorted(glob.glob(os.path.join(directory, "mingpus-*.json"))):
        report = load(path)
        gpus = {o["policy"]: o.get("minGPUs") for o in report["outcomes"]}
        rate = next((o["totalRatePerSecond"] for o in report["outcomes"]), None)
        peer_counts = [gpus[p] for p in PEERS if gpus.get(p)]
        row = {"cell": cell_name(path, "mingpus-"), "ratePerSecond": rate, "minGPUs": gpus}
        if gpus.get(OURS) and peer_counts:
            row["fewerThanBestPeer"] = 1 - gpus[OURS] / min(peer_counts)
            row["goalMet"] = row["fewerThanBestPeer"] >= 0.2
        gpu_rows.append(row)
    return {"simulated": True, "maxRate": rows, "minGPUs": gpu_rows}


def fmt(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}"


def render(summary):
    lines = []
    policies = []
    for row in summary["maxRate"]:
        for p in row["rates"]:
            if p not in policies:
                policies.append(p)
    header = ["cell", "bound/s"] + policies + ["best peer of bound", "next/best peer", "next of bound", "next/nexus", "goal met"]
    lines.append("[SIMULATED] max rate (requests/s) with >= 99% within SLO")
    lines.append(" | ".join(header))
    for row in summary["maxRate"]:
        cells = [row["cell"], fmt(row["boundPerSecond"], 0)] + [fmt(row["rates"].get(p), 0) for p in policies]
        cells += [fmt(row["bestPeerOfBound"], 3), fmt(row.get("oursOverBestPeer")), fmt(row.get("oursOfBound"), 3),
                  fmt(row.get("oursOverNexus")), str(row.get("goalMet", "-"))]
        lines.append(" | ".join(cells))
    if summary["minGPUs"]:
        gpolicies = []
        for row in summary["minGPUs"]:
            for p in row["minGPUs"]:
                if p not in gpolicies:
                    gpolicies.append(p)
        lines.append("")
        lines.append("[SIMULATED] fewest GPUs with >= 99% within SLO")
        lines.append(" | ".join(["cell", "rate/s"] + gpolicies + ["next fewer than best peer", "goal met"]))
        for row in summary["minGPUs"]:
            cells = [row["cell"], fmt(row["ratePerSecond"], 0)] + [str(row["minGPUs"].get(p) or "none") for p in gpolicies]
            cells += [fmt(row.get("fewerThanBestPeer"), 3), str(row.get("goalMet", "-"))]
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", help="directory written by bench/policies.sh")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    if not os.path.isdir(args.directory):
        sys.exit(f"{args.directory}: not a directory")
    summary = summarise(args.directory)
    print(json.dumps(summary, indent=2) if args.json else render(summary))


if __name__ == "__main__":
    main()
