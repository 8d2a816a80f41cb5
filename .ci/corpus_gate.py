#!/usr/bin/env python3
"""Fails CI when appvet crashed, hung, or produced no report on a corpus file,
or when a check that passed on every file when it was last recorded regresses.

usage: corpus_gate.py CORPUS_CHECK_JSON
"""
import json, sys

# Checks that must agree on every corpus file: appvet fully matches the
# reference tools on these (see NOTES.md for the others' known differences).
MUST_FULLY_AGREE = [
    "runs.no_crash_or_hang",
    "input.sha256",
    "reports.schema",
]

res = json.load(open(sys.argv[1]))
bad = []
runs = res.get("runs", {})
for status in ("crash", "hang"):
    if runs.get(status):
        bad.append(f"{runs[status]} run(s) ended in {status}")
for name in MUST_FULLY_AGREE:
    passed, total = res["results"].get(name, [0, 0])
    if passed != total:
        bad.append(f"{name}: {passed}/{total}")
for line in res.get("mismatches", []):
    if any(f": {n}:" in line for n in MUST_FULLY_AGREE):
        print(line)
if bad:
    print("corpus gate FAILED: " + "; ".join(bad))
    sys.exit(1)
print("corpus gate passed")
