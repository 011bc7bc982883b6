#!/usr/bin/env python3
"""Validates JSON-lines records against the record JSON Schema.

Usage: validate-records.py SCHEMA RECORDS.jsonl
Exits 1 (naming the line and the failing path) when a record does not validate, or when the
file holds no records at all.
"""
import json
import sys

import jsonschema


def main() -> int:
    schema_path, records_path = sys.argv[1], sys.argv[2]
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    count = 0
    failures = 0
    with open(records_path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            count += 1
            record = json.loads(line)
            for error in validator.iter_errors(record):
                failures += 1
                path = "/".join(str(p) for p in error.absolute_path)
                print(f"{records_path}:{number}: /{path}: {error.message}", file=sys.stderr)
    if count == 0:
        print(f"{records_path}: no records", file=sys.stderr)
        return 1
    print(f"{count} records valid against {schema_path}" if failures == 0 else f"{failures} schema violations")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
