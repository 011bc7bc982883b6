#!/usr/bin/env bash
# Validates the CloudFormation templates (deploy/template.yaml, the mailex stack, and
# deploy/watched-advertisers.yaml, its per-advertiser anomaly alarms) with cfn-lint (PyPI;
# installed when missing) and checks the least-privilege rules of issue 5 on both: no `s3:*`
# action and no `*` resource in an IAM or resource policy.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if ! command -v cfn-lint >/dev/null 2>&1; then
  echo "lint-template: installing cfn-lint with pip" >&2
  "$PYTHON" -m pip install --quiet 'cfn-lint>=1,<2' >&2
fi

TEMPLATES=(deploy/template.yaml deploy/watched-advertisers.yaml)
cfn-lint --version
cfn-lint "${TEMPLATES[@]}"

# Least privilege, checked on the parsed template (cfn-lint's own YAML loader, which knows the
# short-form intrinsics): no Allow statement grants `s3:*` or a `*` resource anywhere. A Deny
# may name `s3:*` (the buckets' TLS-only policies deny every action without TLS). A KMS key
# policy is not walked: its `Resource: "*"` means the key itself, and nothing else.
"$PYTHON" - "${TEMPLATES[@]}" <<'PY'
import sys
from cfnlint.decode import cfn_yaml

problems = []


def as_list(value):
    return value if isinstance(value, list) else [value]


def walk(node, path):
    if isinstance(node, dict):
        if "Effect" in node and ("Action" in node or "Resource" in node):
            if node["Effect"] == "Allow":
                actions = [a for a in as_list(node.get("Action", [])) if isinstance(a, str)]
                resources = [r for r in as_list(node.get("Resource", [])) if isinstance(r, str)]
                if any(a in ("*", "s3:*") for a in actions):
                    problems.append(f"{path}: an Allow statement grants {actions}")
                if "*" in resources:
                    problems.append(f"{path}: an Allow statement has a '*' resource")
        for key, value in node.items():
            if key == "KeyPolicy":
                continue
            walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            walk(value, f"{path}[{i}]")


for file in sys.argv[1:]:
    walk(cfn_yaml.load(file).get("Resources", {}), f"{file}: Resources")
if problems:
    print("\n".join(problems), file=sys.stderr)
    print("lint-template: the template is not least-privilege (see above)", file=sys.stderr)
    sys.exit(1)
PY
echo "lint-template: ${TEMPLATES[*]} are valid and least-privilege"
