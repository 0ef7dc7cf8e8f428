"""deploy/check_dashboard.py: passes the checked-in dashboard and refuses what it must (an unknown metric, a
bare histogram name, bad JSON, duplicate panel ids). No processes; docs/metrics.md is the exported list."""
import json
import os
import sys
import tempfile
import unittest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "deploy"))
import check_dashboard  # noqa: E402

DOC = os.path.join(ROOT, "docs/metrics.md")
DASHBOARD = os.path.join(ROOT, "deploy/grafana/nexus.json")


def panel(panel_id, expr):
    return {"id": panel_id, "title": f"p{panel_id}", "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
            "targets": [{"refId": "A", "expr": expr}]}


class CheckDashboardTest(unittest.TestCase):
    def check(self, dashboard):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as out:
            out.write(dashboard if isinstance(dashboard, str) else json.dumps(dashboard))
        try:
            return check_dashboard.check(out.name, DOC)
        finally:
            os.unlink(out.name)

    def dashboard(self, *panels):
        return {"title": "t", "uid": "u", "schemaVersion": 39, "panels": list(panels)}

    def test_checked_in_dashboard_names_only_exported_metrics(self):
        self.assertEqual(check_dashboard.check(DASHBOARD, DOC), [])

    def test_unknown_metric_is_refused(self):
        problems = self.check(self.dashboard(panel(1, "sum(rate(nexus_frontend_requests_totl[1m]))")))
        self.assertEqual(len(problems), 1)
        self.assertIn("'nexus_frontend_requests_totl' is not a metric", problems[0])

    def test_histogram_suffixes_are_allowed_and_a_bare_histogram_is_refused(self):
        ok = panel(1, 'histogram_quantile(0.99, sum by (le) (rate(nexus_backend_batch_size_bucket{session="a"}[1m])))')
        bare = panel(2, "nexus_backend_batch_size")
        problems = self.check(self.dashboard(ok, bare))
        self.assertEqual(len(problems), 1)
        self.assertIn("histogram 'nexus_backend_batch_size' needs", problems[0])

    def test_bad_json_and_duplicate_ids_are_refused(self):
        self.assertIn("not valid JSON", self.check("{")[0])
        problems = self.check(self.dashboard(panel(1, "up"), panel(1, "up")))
        self.assertEqual(len(problems), 1)
        self.assertIn("unique", problems[0])


if __name__ == "__main__":
    unittest.main()
