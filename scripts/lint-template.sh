#!/usr/bin/env bash
# Validates deploy/template.yaml with cfn-lint (PyPI; installed when missing) and checks the
# least-privilege rules of issue 5: no `s3:*` action and no `*` resource anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
if ! command -v cfn-lint >/dev/null 2>&1; then
  echo "lint-template: installing cfn-lint with pip" >&2
  "$PYTHON" -m pip install --quiet 'cfn-lint>=1,<2' >&2
fi

cfn-lint --version
cfn-lint deploy/template.yaml

if grep -nE '"?s3:\*"?' deploy/template.yaml; then
  echo "lint-template: the template grants s3:* (see the lines above)" >&2
  exit 1
fi
if grep -nE '^\s*-?\s*Resource:\s*"?\*"?\s*$|^\s*-\s*"\*"\s*$' deploy/template.yaml; then
  echo "lint-template: the template has a '*' resource (see the lines above)" >&2
  exit 1
fi
echo "lint-template: deploy/template.yaml is valid and least-privilege"
