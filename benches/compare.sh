#!/usr/bin/env bash
# Times appvet against the floor for reading an archive (`unzip -tqq`) and
# against other tools when installed (aapt dump badging; the Exodus method:
# dexdump class listing plus tracker regex matching; androguard), on the same
# files in one run, and prints ratios. Also: --jobs 2 vs --jobs 1 throughput,
# peak RSS of whole-corpus batches (x1 and x10 via symlinks), the results
# database size per app, and rescore vs rescan.
#
# usage: benches/compare.sh [CORPUS_DIR]   (default ../shared/corpus/apk)
# env:   APPVET=path/to/appvet (default: the deployable build, scripts/build-dist.sh)
#        EXODUS_SAMPLE=N  APKs timed with the slow tools (default 15)
#        PYTHON=python with androguard and exodus-core installed, e.g. a venv:
#          python3 -m venv /tmp/v && /tmp/v/bin/pip install androguard exodus-core
#          PYTHON=/tmp/v/bin/python benches/compare.sh
set -u
cd "$(dirname "$0")/.."
CORPUS=${1:-../shared/corpus/apk}
APPVET=${APPVET:-}
EXODUS_SAMPLE=${EXODUS_SAMPLE:-15}
PYTHON=${PYTHON:-python3}
TRACKERS=../shared/sigdata/exodus/trackers.json
if [ -z "$APPVET" ]; then APPVET=$(scripts/build-dist.sh) || exit 1; fi
[ -x "$APPVET" ] || { echo "no appvet binary at $APPVET"; exit 1; }
mapfile -t APKS < <(find "$CORPUS" -maxdepth 1 -type f -name '*.apk' | sort)
[ ${#APKS[@]} -gt 0 ] || { echo "no APKs under $CORPUS"; exit 0; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
have() { command -v "$1" >/dev/null 2>&1; }
now() { date +%s.%N; }
# seconds for running "$@" once
secs() { local t0 t1; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now); echo "$t1 - $t0" | bc -l; }
# fastest of N runs of "$@" (N = $1), timed in-process: forking `date` around
# a 4 ms command would add a millisecond to every sample.
mintime() {
  python3 -c 'import subprocess, sys, time
best = None
for _ in range(int(sys.argv[1])):
    t0 = time.perf_counter()
    subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = time.perf_counter() - t0
    best = t if best is None else min(best, t)
print(f"{best:.6f}")' "$@"
}
REPS=${REPS:-5}
median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { echo "scale=2; $1 / $2" | bc -l; }
bytes=$(du -cb "${APKS[@]}" | tail -1 | cut -f1)
echo "corpus: ${#APKS[@]} APKs, $((bytes / 1000000)) MB, appvet $($APPVET --version)"

# Warm the page cache so every tool reads from memory.
cat "${APKS[@]}" >/dev/null

echo
echo "== whole corpus, one process, single thread =="
unzip_all() { for f in "${APKS[@]}"; do unzip -tqq "$f"; done; }
t_unzip=$(secs unzip_all)
t_appvet1=$(secs "$APPVET" scan --jobs 1 --timeout 0 -q -o /dev/null "${APKS[@]}")
echo "unzip -tqq (one process per APK): ${t_unzip} s"
echo "appvet --jobs 1 (one batch):       ${t_appvet1} s   ratio appvet/unzip = $(ratio "$t_appvet1" "$t_unzip")  (goal <= 1.5)"

echo
echo "== per APK, one process each (median over ${#APKS[@]} APKs, fastest of $REPS runs each) =="
: >"$WORK/appvet.t"; : >"$WORK/unzip.t"; : >"$WORK/aapt.t"
for f in "${APKS[@]}"; do
  mintime "$REPS" "$APPVET" scan --timeout 0 -q "$f" >>"$WORK/appvet.t"
  mintime "$REPS" unzip -tqq "$f" >>"$WORK/unzip.t"
  have aapt && mintime "$REPS" aapt dump badging "$f" >>"$WORK/aapt.t"
done
m_appvet=$(median <"$WORK/appvet.t")
m_unzip=$(median <"$WORK/unzip.t")
echo "appvet scan:       ${m_appvet} s"
echo "unzip -tqq:        ${m_unzip} s   appvet/unzip = $(ratio "$m_appvet" "$m_unzip")"
if have aapt; then
  m_aapt=$(median <"$WORK/aapt.t")
  echo "aapt dump badging: ${m_aapt} s   appvet/aapt = $(ratio "$m_appvet" "$m_aapt")  (goal <= 1)"
fi

# The Exodus method. With exodus-core installed: its StaticAnalysis (androguard
# reads the APK, dexdump lists the classes of every DEX, Python regexes match
# the tracker code signatures), with the signatures read from the local copy
# of the Exodus tracker list instead of its web API. Without it, a stand-in:
# dexdump plus the same regex matching.
: >"$WORK/appvet_s.t"
for f in "${APKS[@]:0:$EXODUS_SAMPLE}"; do
  mintime "$REPS" "$APPVET" scan --timeout 0 -q "$f" >>"$WORK/appvet_s.t"
done
m_av=$(median <"$WORK/appvet_s.t")
echo "appvet scan, first $EXODUS_SAMPLE APKs: ${m_av} s"
if have dexdump && [ -f "$TRACKERS" ]; then
  if "$PYTHON" -c 'import exodus_core' 2>/dev/null; then
    cat >"$WORK/exodus_core_run.py" <<'EOF'
import json, sys
from collections import namedtuple
from exodus_core.analysis.static_analysis import StaticAnalysis
trackers = json.load(open(sys.argv[2]))["trackers"]
sa = StaticAnalysis(sys.argv[1])
sa.signatures = [namedtuple("tracker", t.keys())(*t.values()) for t in trackers.values()]
sa._compile_signatures()
print(len(sa.detect_trackers()))
EOF
    exodus_one() { mintime 1 "$PYTHON" "$WORK/exodus_core_run.py" "$1" "$TRACKERS"; }
    exodus_name="exodus-core StaticAnalysis"
  else
    cat >"$WORK/exodus_match.py" <<'EOF'
import json, re, sys
trackers = json.load(open(sys.argv[1]))["trackers"].values()
sigs = [(t["name"], re.compile(t["code_signature"])) for t in trackers if t.get("code_signature")]
classes = [l.split("'")[1].strip("L;").replace("/", ".") for l in sys.stdin if "Class descriptor" in l and "'" in l]
found = {n for n, r in sigs for c in classes if r.search(c)}
print(len(classes), sorted(found))
EOF
    exodus_one() { mintime 1 sh -c 'dexdump "$1" 2>/dev/null | "$2" "$3" "$4"' sh "$1" "$PYTHON" "$WORK/exodus_match.py" "$TRACKERS"; }
    exodus_name="Exodus stand-in (dexdump + regex; exodus-core not installed)"
  fi
  : >"$WORK/exodus.t"
  for f in "${APKS[@]:0:$EXODUS_SAMPLE}"; do
    exodus_one "$f" >>"$WORK/exodus.t"
  done
  m_ex=$(median <"$WORK/exodus.t")
  echo "$exodus_name: ${m_ex} s   exodus/appvet = $(ratio "$m_ex" "$m_av")  (goal >= 100)"
fi
if "$PYTHON" -c 'import androguard' 2>/dev/null; then
  : >"$WORK/ag.t"
  for f in "${APKS[@]:0:$EXODUS_SAMPLE}"; do
    mintime 1 "$PYTHON" -c 'import sys; from androguard.misc import AnalyzeAPK; AnalyzeAPK(sys.argv[1])' "$f" >>"$WORK/ag.t"
  done
  m_ag=$(median <"$WORK/ag.t")
  echo "androguard AnalyzeAPK: ${m_ag} s   androguard/appvet = $(ratio "$m_ag" "$m_av")  (goal >= 250)"
else
  echo "androguard: not installed for $PYTHON (skipped)"
fi

echo
echo "== parallel throughput and peak memory (corpus x10 via symlinks) =="
mkdir -p "$WORK/x10"
for i in $(seq 1 10); do
  mkdir -p "$WORK/x10/$i"
  for f in "${APKS[@]}"; do ln -s "$(realpath "$f")" "$WORK/x10/$i/$(basename "$f")"; done
done
t_j1=$(secs "$APPVET" scan --jobs 1 -q -o /dev/null "$WORK/x10")
t_j2=$(secs "$APPVET" scan --jobs 2 -q -o /dev/null "$WORK/x10")
echo "--jobs 1: ${t_j1} s   --jobs 2: ${t_j2} s   throughput ratio = $(ratio "$t_j1" "$t_j2")  (goal >= 1.8)"
rss() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1; }
if [ -x /usr/bin/time ]; then
  r1=$(rss "$APPVET" scan -q -o /dev/null "$CORPUS")
  r10=$(rss "$APPVET" scan -q -o /dev/null "$WORK/x10")
  echo "peak RSS, whole corpus: $((r1 / 1024)) MB; corpus x10: $((r10 / 1024)) MB  (goal < 250 MB)"
fi

echo
echo "== results database, resume, rescore =="
db="$WORK/r.sqlite"
# Timed in-process like the per-APK figures: forking `date` around a 20 ms
# rescore would add a millisecond or more to it.
# Both are the fastest of REPS runs; each scan starts from an empty database.
t_db=$(mintime "$REPS" sh -c 'rm -f "$1" "$1-wal" "$1-shm"; exec "$2" scan -q --db "$1" "$3"' sh "$db" "$APPVET" "$CORPUS")
apps=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from apps").fetchone()[0])' "$db")
size=$(du -b "$db" | cut -f1)
echo "scan into the database (fastest of $REPS): ${t_db} s; ${apps} apps, $((size / 1024)) KiB, $((size / (apps > 0 ? apps : 1) / 1024)) KiB per app"
t_resume=$(secs "$APPVET" scan -q --db "$db" "$CORPUS")
echo "re-run (everything stored): ${t_resume} s"
t_rescore=$(mintime "$REPS" "$APPVET" rescore --db "$db")
echo "rescore (fastest of $REPS): ${t_rescore} s   rescan/rescore = $(ratio "$t_db" "$t_rescore")  (goal >= 20)"
