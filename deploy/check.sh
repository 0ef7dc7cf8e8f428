#!/usr/bin/env bash
# Offline checks of deploy/ (run by .ci/run): every Kubernetes manifest in deploy/k8s/ against Kubernetes'
# schemas with kubernetes-validate --strict (unknown fields refused), after showing that a misspelt field is
# refused; deploy/prometheus.yml with promtool; the Grafana dashboard with deploy/check_dashboard.py.
#   deploy/check.sh            (installs kubernetes-validate into .venv-deploy/ on first use; PyPI)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${NEXUS_DEPLOY_VENV:-.venv-deploy}
[ -x "$VENV/bin/kubernetes-validate" ] || { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q kubernetes-validate; }
validate() { "$VENV/bin/kubernetes-validate" --strict "$@"; }

# The checker must be able to fail: a Deployment with a misspelt field.
bad=$(mktemp --suffix=.yaml)
trap 'rm -f "$bad"' EXIT
sed 's/terminationGracePeriodSeconds:/terminationGracePeriodSecond:/' deploy/k8s/scheduler.yaml > "$bad"
if validate "$bad" > /dev/null 2>&1; then echo "kubernetes-validate accepted a misspelt field" >&2; exit 1; fi

validate deploy/k8s/*.yaml
if command -v promtool > /dev/null; then promtool check config deploy/prometheus.yml; fi
python3 deploy/check_dashboard.py
echo "deploy: manifests, Prometheus config and dashboard valid"
