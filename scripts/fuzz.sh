#!/usr/bin/env bash
# Runs every fuzz target for SECS seconds (default 60), seeded from the real
# files of ../shared/corpus when it is there (whole files for the container
# parsers, the matching ZIP entries for the entry parsers), and lists the
# crashes libFuzzer saved under fuzz/artifacts/<target>/.
#
# cargo-fuzz needs a nightly compiler for its sanitizer flags; on a stable
# toolchain RUSTC_BOOTSTRAP=1 lets it use them. A crash found here is fixed
# in the parser and pinned as a regression test (tests/fuzz_regressions.rs)
# with the crashing input committed under tests/fuzz-regressions/.
#
# usage: scripts/fuzz.sh [SECS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls fuzz/fuzz_targets | sed 's/\.rs$//')
fi
seeds=target/fuzz-seeds
if [ -d ../shared/corpus ] && [ ! -d "$seeds" ]; then
  python3 - "$seeds" <<'EOF'
import os, sys, zipfile, hashlib
out = sys.argv[1]
corpus = "../shared/corpus"
# target -> (whole-file folders, zip entry name test)
plan = {
    "zip": (["apk", "bundle", "ipa"], None),
    "signing_block": (["apk"], None),
    "dex": (["dex"], lambda n: n.endswith(".dex")),
    "elf": (["elf"], lambda n: n.endswith(".so")),
    "macho": (["macho"], None),
    "codesign": ([], None),
    "axml": ([], lambda n: n.endswith(".xml") and not n.startswith("res/raw")),
    "arsc": ([], lambda n: n == "resources.arsc"),
    "proto_xml": ([], lambda n: n.endswith("AndroidManifest.xml")),
    "plist": ([], lambda n: n.endswith(".plist") or n.endswith(".mobileprovision")),
    "pkcs7": ([], lambda n: n.upper().endswith((".RSA", ".DSA", ".EC"))),
    "hosts": ([], lambda n: n.endswith((".json", ".js", ".txt", ".xml", ".properties"))),
}
def add(target, data):
    if not data or len(data) > 4 << 20:
        return
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)
files = []
for root, _, names in os.walk(corpus):
    files += [os.path.join(root, n) for n in names if n != "MANIFEST.tsv"]
for target, (folders, entry_test) in plan.items():
    for path in files:
        kind = os.path.relpath(path, corpus).split(os.sep)[0]
        if kind in folders:
            add(target, open(path, "rb").read())
        if entry_test is None:
            continue
        try:
            with zipfile.ZipFile(path) as z:
                for info in z.infolist()[:2000]:
                    if entry_test(info.filename) and info.file_size < 4 << 20:
                        add(target, z.read(info))
        except Exception:
            pass
EOF
fi
for t in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$t"
  seed_dir=()
  [ -d "$seeds/$t" ] && seed_dir=("$seeds/$t")
  echo "== $t (${secs}s)"
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" "fuzz/corpus/$t" "${seed_dir[@]}" -- \
    -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=0 2>&1 | grep -E "^(==|INFO: seed|#[0-9]+ *DONE|SUMMARY|artifact_prefix|Test unit written)" || true
done
echo "== crashes"
ls fuzz/artifacts/*/ 2>/dev/null || echo "none"
