#!/usr/bin/env python3
"""Checks deploy/grafana/nexus.json: valid JSON, a Grafana dashboard shape (unique panel ids, each panel with a
title and Prometheus targets), and every metric an expression names is one the processes export. The exported
list is docs/metrics.md, which python/tests/test_prometheus.py holds equal to a live /metrics scrape.

Usage: deploy/check_dashboard.py [DASHBOARD] [METRICS_DOC]; exit status 1 with one line per problem.
"""
import json
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
# Series Prometheus adds itself for every target: allowed in expressions.
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}


def documented(path):
    """Metric name -> type, from the tables of docs/metrics.md (| `name` | type | ...)."""
    metrics = {}
    with open(path) as doc:
        for line in doc:
            match = re.match(r"\|\s*`(nexus_[a-z0-9_]+)`\s*\|\s*(counter|gauge|histogram)\s*\|", line)
            if match:
                metrics[match.group(1)] = match.group(2)
    return metrics


def names_in(expr):
    """Metric names of a PromQL expression: identifiers that are not functions, keywords, labels or strings."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    without_labels = re.sub(r"\{[^}]*\}", "{}", without_strings)
    without_grouping = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", without_labels)
    without_ranges = re.sub(r"\[[^\]]*\]", "[]", without_grouping)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_ranges):
        end = match.end()
        rest = without_ranges[end:].lstrip()
        if rest.startswith("("):
            continue  # a function or an aggregation
        names.add(match.group(0))
    return names - {"and", "or", "unless", "bool", "offset", "e", "Inf", "NaN"}


def check(dashboard_path, doc_path):
    problems = []
    try:
        with open(dashboard_path) as source:
            dashboard = json.load(source)
    except (OSError, json.JSONDecodeError) as error:
        return [f"{dashboard_path}: not valid JSON: {error}"]
    metrics = documented(doc_path)
    if not metrics:
        problems.append(f"{doc_path}: lists no metrics")
    for key in ("title", "uid", "panels", "schemaVersion"):
        if key not in dashboard:
            problems.append(f"dashboard: no '{key}'")
    ids = [panel.get("id") for panel in dashboard.get("panels", [])]
    if len(ids) != len(set(ids)) or None in ids:
        problems.append(f"panel ids must be present and unique, got {ids}")
    for panel in dashboard.get("panels", []):
        where = f"panel {panel.get('id')} '{panel.get('title', '')}'"
        if not panel.get("title") or not panel.get("targets") or "gridPos" not in panel:
            problems.append(f"{where}: needs a title, targets and a gridPos")
        for target in panel.get("targets", []):
            expr = target.get("expr", "")
            if not expr:
                problems.append(f"{where} target {target.get('refId')}: no expr")
            for name in sorted(names_in(expr)):
                base = next((name[: -len(s)] for s in HISTOGRAM_SUFFIXES
                             if name.endswith(s) and metrics.get(name[: -len(s)]) == "histogram"), name)
                if base not in metrics and name not in PROMETHEUS_SERIES:
                    problems.append(f"{where}: '{name}' is not a metric Nexus exports (docs/metrics.md)")
                elif base in metrics and metrics[base] == "histogram" and base == name:
                    problems.append(f"{where}: histogram '{name}' needs _bucket, _sum or _count")
    return problems


def main(argv):
    dashboard = argv[1] if len(argv) > 1 else os.path.join(ROOT, "deploy/grafana/nexus.json")
    doc = argv[2] if len(argv) > 2 else os.path.join(ROOT, "docs/metrics.md")
    problems = check(dashboard, doc)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"{os.path.relpath(dashboard, ROOT)}: valid; every metric it names is in {os.path.relpath(doc, ROOT)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
