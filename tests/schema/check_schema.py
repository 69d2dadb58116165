#!/usr/bin/python3
"""Checks docs/schema against the repository's files and against the parser (ctest: schema_files).

  /usr/bin/python3 tests/schema/check_schema.py SOURCE_DIR SQUALL_BINARY

1. docs/schema/*.json are what docs/schema/make_schema.py writes, and `squall schema` prints those bytes.
2. Every scenario and policy file in the repository validates against its schema, and so does every policy
   file a scenario names (inline policies are checked as part of their scenario).
3. Every broken file in tests/sim/scenario/broken is refused by the parser (squall validate exits 2), and by
   the schema too unless it is listed in SCHEMA_CANNOT with the reason a schema cannot state; a listed file
   must then pass the schema, so that the list stays true.

Debian's python3-jsonschema (scripts/install-deps.sh) is needed: run with /usr/bin/python3.
"""
import json
import os
import pathlib
import re
import subprocess
import sys

import jsonschema

# Broken files the parser refuses for a reason no JSON Schema states, and why.
SCHEMA_CANNOT = {
    "unknown-model.json": "the workload names a model its provider does not list (a cross-reference)",
    "missing-policy-file.json": "the policy file it names does not exist (a file system fact)",
    "error-mix-over-one.json": "the error probabilities sum to more than 1 (a sum over keys)",
    "assert-unknown-configuration.json": "an assertion names a configuration absent from \"policies\" (a cross-reference)",
    "syntax-error.json": "the file is not JSON at all, so there is nothing to validate",
    "assert-unknown-fault.json": "an assertion names a fault window no provider has (a cross-reference)",
    "duplicate-fault-name.json": "two fault windows of different providers share a name (uniqueness across arrays)",
}
# Broken scenarios whose mistake is in the policy file they name: the policy schema refuses that file.
THROUGH_POLICY_FILE = {"bad-policy-option.json"}

SKIP_DIRS = {".git", "node_modules", "build", "broken"}


def fail(message):
    print("FAIL: " + message)
    return 1


def kind_of(document):
    if isinstance(document, dict) and "providers" in document and "workload" in document:
        return "scenario"
    if isinstance(document, dict) and isinstance(document.get("policies"), list):
        return "policy"
    return None


def errors_of(validator, document):
    found = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return ["$" + "".join("[%r]" % p for p in e.absolute_path) + ": " + e.message[:200] for e in found]


def named_policy_files(scenario, base):
    """The policy files a scenario names, as paths."""
    out = []
    for value in (scenario.get("policies") or {}).values():
        if isinstance(value, dict) and "policy" in value:
            value = value["policy"]
        if isinstance(value, str):
            out.append((base / value).resolve())
    return out


def main():
    source = pathlib.Path(sys.argv[1]).resolve()
    squall = sys.argv[2]
    failures = 0
    schema_dir = source / "docs" / "schema"

    # 1. The committed files are the generator's output, and the binary carries them.
    check = subprocess.run([sys.executable, str(schema_dir / "make_schema.py"), "--check"], capture_output=True, text=True)
    if check.returncode != 0:
        failures += fail(check.stdout.strip() or check.stderr.strip())
    schemas = {}
    for kind in ("scenario", "policy"):
        path = schema_dir / (kind + ".schema.json")
        text = path.read_text()
        schemas[kind] = json.loads(text)
        jsonschema.Draft7Validator.check_schema(schemas[kind])
        printed = subprocess.run([squall, "schema", kind], capture_output=True, text=True)
        if printed.returncode != 0 or printed.stdout != text:
            failures += fail("`squall schema %s` does not print %s (exit %d)" % (kind, path, printed.returncode))
    # The scenario schema carries the policy definitions for inline policies: the same ones.
    for name, definition in schemas["policy"]["definitions"].items():
        if schemas["scenario"]["definitions"].get(name) != definition:
            failures += fail("scenario.schema.json's definition %r differs from policy.schema.json's" % name)
    validators = {k: jsonschema.Draft7Validator(s) for k, s in schemas.items()}

    # 2. Every scenario and policy file of the repository (broken/ aside) is valid.
    counts = {"scenario": 0, "policy": 0}
    checked = set()
    named = set()
    for root, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("build"))
        for name in sorted(files):
            if not name.endswith(".json"):
                continue
            path = pathlib.Path(root) / name
            try:
                document = json.loads(path.read_text())
            except (ValueError, UnicodeDecodeError):
                continue
            kind = kind_of(document)
            if kind is None:
                continue
            counts[kind] += 1
            checked.add(path.resolve())
            for e in errors_of(validators[kind], document):
                failures += fail("%s is a %s file the schema refuses: %s" % (path.relative_to(source), kind, e))
            if kind == "scenario":
                named.update(p for p in named_policy_files(document, path.parent) if "broken" not in p.parts)
    for path in sorted(named - checked):
        if not path.exists():
            continue  # squall validate reports it; the schema cannot
        counts["policy"] += 1
        for e in errors_of(validators["policy"], json.loads(path.read_text())):
            failures += fail("%s (named by a scenario) is refused by the policy schema: %s" % (path, e))
    # Complete examples in the documentation (```json blocks that parse; most are fragments and do not).
    docs = sorted((source / "docs").glob("*.md")) + [source / "README.md"]
    examples = 0
    for doc in docs:
        for block in re.findall(r"```json\n(.*?)```", doc.read_text(), re.S):
            try:
                document = json.loads(block)
            except ValueError:
                continue
            kind = kind_of(document)
            if kind is None:
                continue
            examples += 1
            for e in errors_of(validators[kind], document):
                failures += fail("a %s example in %s is refused by the schema: %s" % (kind, doc.relative_to(source), e))
    print("valid: %d complete examples in the documentation" % examples)
    # A walk that found nothing would prove nothing: the library has dozens of each.
    if counts["scenario"] < 40 or counts["policy"] < 25:
        failures += fail("found only %(scenario)d scenarios and %(policy)d policy files" % counts)
    print("valid: %(scenario)d scenario files, %(policy)d policy files" % counts)

    # 3. Broken files: refused by the parser, and by the schema unless listed with why.
    broken = source / "tests" / "sim" / "scenario" / "broken"
    files = sorted(broken.glob("*.json")) + sorted((broken / "policies").glob("*.json"))
    refused = 0
    for path in files:
        rel = path.relative_to(broken).as_posix()
        is_policy = path.parent.name == "policies"
        if not is_policy:
            parser = subprocess.run([squall, "validate", str(path)], capture_output=True, text=True)
            if parser.returncode != 2:
                failures += fail("squall validate %s exited %d, expected 2" % (rel, parser.returncode))
        try:
            document = json.loads(path.read_text())
        except ValueError:
            if rel not in SCHEMA_CANNOT:
                failures += fail("%s is not JSON; list it in SCHEMA_CANNOT" % rel)
            continue
        kind = "policy" if is_policy else "scenario"
        errors = errors_of(validators[kind], document)
        if rel in THROUGH_POLICY_FILE:
            for p in named_policy_files(document, path.parent):
                if p.exists():
                    errors += errors_of(validators["policy"], json.loads(p.read_text()))
        if rel in SCHEMA_CANNOT:
            if errors:
                failures += fail("%s is listed as beyond the schema, but the schema refuses it (%s): "
                                 "remove it from SCHEMA_CANNOT" % (rel, errors[0]))
            continue
        if not errors:
            failures += fail("the parser refuses %s but the schema accepts it" % rel)
        else:
            refused += 1
            print("refused by both: %s (%s)" % (rel, errors[0]))
    for rel in sorted(set(SCHEMA_CANNOT) - {p.relative_to(broken).as_posix() for p in files}):
        failures += fail("SCHEMA_CANNOT lists %s, which is not in %s" % (rel, broken))
    print("broken files: %d refused by both, %d beyond a schema" % (refused, len(SCHEMA_CANNOT)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
