#!/usr/bin/python3
"""Checks the fake model's structured outputs with a real JSON Schema validator (python3-jsonschema).

Runs emit_instances over schema_corpus.json for a range of seeds and validates every instance against
its schema, the draft chosen by the schema's $schema (2020-12 otherwise), formats checked too. Gemini's
OpenAPI-subset schemas ("dialect": "gemini") are first translated to JSON Schema (upper-case types,
`nullable`, counts as strings). Entries marked "expect_error" must be refused with an error instead.
Exits 1, naming the schema and seed, on any invalid instance.

Usage: /usr/bin/python3 validate.py <emit_instances binary> [corpus.json] [seeds]
"""
import copy
import json
import os
import re
import subprocess
import sys

import jsonschema

# jsonschema checks these formats only with optional packages Debian does not install; RFC 3339 and 1123.
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time")
def is_date_time(value):
    return not isinstance(value, str) or re.fullmatch(
        r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", value) is not None


@FORMATS.checks("time")
def is_time(value):
    return not isinstance(value, str) or re.fullmatch(r"\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", value) is not None


@FORMATS.checks("hostname")
def is_hostname(value):
    label = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    return not isinstance(value, str) or re.fullmatch(rf"{label}(\.{label})*", value) is not None


COUNTS = {"minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties"}


def from_gemini(schema):
    """Gemini's Schema object as JSON Schema: lower-case types, nullable as a type array, int64 counts."""
    if isinstance(schema, list):
        return [from_gemini(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for key, value in schema.items():
        if key in ("properties",):
            out[key] = {name: from_gemini(s) for name, s in value.items()}
        elif key in ("items", "anyOf"):
            out[key] = from_gemini(value)
        elif key in COUNTS and isinstance(value, str):
            out[key] = int(value)
        elif key == "type":
            out[key] = value.lower()
        elif key in ("nullable", "propertyOrdering"):
            continue
        elif key == "format" and value == "enum":
            continue
        else:
            out[key] = value
    if schema.get("nullable") is True and "type" in out:
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = out["enum"] + [None]
    return out


def main():
    # jsonschema descends a few Python frames per nesting level of recursive schemas.
    sys.setrecursionlimit(10000)
    binary = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    corpus_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "schema_corpus.json")
    seeds = sys.argv[3] if len(sys.argv) > 3 else "25"
    with open(corpus_path) as f:
        corpus = {entry["name"]: entry for entry in json.load(f)}
    run = subprocess.run([binary, corpus_path, seeds], capture_output=True, text=True, check=False)
    if run.returncode != 0:
        print(f"{binary} failed ({run.returncode}): {run.stderr}")
        return 1
    checked, failures = 0, []
    seen = set()
    for line in run.stdout.splitlines():
        result = json.loads(line)
        entry = corpus[result["name"]]
        seen.add(entry["name"])
        where = f'{entry["name"]!r} seed {result["seed"]}'
        if entry.get("expect_error"):
            if "error" not in result:
                failures.append(f"{where}: expected an error, got {json.dumps(result['instance'])}")
            continue
        if "error" in result:
            failures.append(f"{where}: no instance: {result['error']}")
            continue
        schema = copy.deepcopy(entry["schema"])
        if entry.get("dialect") == "gemini":
            schema = from_gemini(schema)
        validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        validator_class.check_schema(schema)
        errors = list(validator_class(schema, format_checker=FORMATS).iter_errors(result["instance"]))
        checked += 1
        for error in errors:
            path = "$" + "".join(f"[{p!r}]" for p in error.absolute_path)
            failures.append(f"{where}: {path}: {error.message}\n    instance: {json.dumps(result['instance'])}")
    missing = set(corpus) - seen
    for name in sorted(missing):
        failures.append(f"{name!r}: nothing emitted")
    for failure in failures:
        print("INVALID", failure)
    print(f"{checked} instances of {len(corpus)} schemas checked, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
