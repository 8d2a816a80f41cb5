#!/usr/bin/env python3
"""Regenerates signatures/android/permissions.tsv from the AOSP permission list
(androguard's api_specific_resources/aosp_permissions/permissions_36.json,
Apache-2.0, copied in ../shared/sigdata/android/).

usage: import_aosp_permissions.py SIGDATA_DIR > signatures/android/permissions.tsv
"""
import json, os, sys

src = os.path.join(sys.argv[1], "android", "aosp_permissions_api36.json")
perms = json.load(open(src))["permissions"]
print("# name\tprotection_level\tgroup\tsource")
print("# source: AOSP frameworks/base/core/res/AndroidManifest.xml (API 36) via androguard permissions_36.json, Apache-2.0")
for name in sorted(perms):
    p = perms[name]
    level = (p.get("protectionLevel") or "").strip() or "normal"
    group = (p.get("permissionGroup") or "").strip()
    print(f"{name}\t{level}\t{group}\taosp-api36")
