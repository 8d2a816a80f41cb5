#!/usr/bin/env bash
# Fleet throughput: two `worker --jobs 1` processes on one PostgreSQL queue
# against `scan --jobs 2 --db x.sqlite`, same inputs, same run; then the
# queue's own cost per job (jobs whose input is already stored: the lease,
# which reads the path's record, and marking done; no analysis).
#
# Inputs: distinct copies of the corpus apps (../shared/corpus) when
# present, else of the generated samples; COPIES copies each (a few bytes
# appended so every copy is a distinct app).
#
#   [APPVET_BIN=path] benches/fleet.sh [COPIES]   (needs a release build and PostgreSQL;
#                                  PG_ADMIN=postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
COPIES=${1:-3}
ADMIN=${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}
DB=appvet_bench_$$
URL=${ADMIN%/*}/$DB
BIN=${APPVET_BIN:-target/release/appvet}   # APPVET_BIN: another build (before / after)
[ -x "$BIN" ] || cargo build --release
WORK=$(mktemp -d)
trap 'psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT

SRC=()
if [ -d ../shared/corpus ]; then
  while IFS= read -r f; do SRC+=("$f"); done < <(find ../shared/corpus -type f \( -name '*.apk' -o -name '*.ipa' -o -name '*.xapk' -o -name '*.apks' \) | sort)
else
  while IFS= read -r f; do SRC+=("$f"); done < <(find samples -maxdepth 1 -type f \( -name '*.apk' -o -name '*.ipa' -o -name '*.apks' \) | sort)
fi
mkdir -p "$WORK/in"
i=0
for f in "${SRC[@]}"; do
  ext=${f##*.}
  for k in $(seq 1 "$COPIES"); do
    # Appended bytes make each copy a distinct app (the analysis is the same).
    { cat "$f"; head -c "$k" /dev/zero; } > "$WORK/in/a$i-$k.$ext"
  done
  i=$((i + 1))
done
N=$(find "$WORK/in" -type f | wc -l)
MB=$(du -sm "$WORK/in" | cut -f1)
echo "inputs: $N apps ($MB MB) from ${#SRC[@]} originals x $COPIES"

now() { date +%s.%N; }
rate() { python3 -c "import sys; n,t=float(sys.argv[1]),float(sys.argv[2]); print(f'{t:.2f} s, {n/t:.2f} apps/s')" "$1" "$2"; }

# Warm the page cache so both runs read from memory.
cat "$WORK"/in/* > /dev/null

t0=$(now)
"$BIN" scan "$WORK/in" --jobs 2 --db "$WORK/x.sqlite" -q || true
t1=$(now)
SQLITE_S=$(python3 -c "print($t1 - $t0)")
echo "scan --jobs 2 --db x.sqlite: $(rate "$N" "$SQLITE_S")"

psql -q "$ADMIN" -c "CREATE DATABASE $DB" >/dev/null
"$BIN" db init --pg "$URL" 2>/dev/null
# What the worker sets per session since this was written (older binaries: set it here).
[ -n "${BENCH_SYNC_OFF:-}" ] && psql -q "$ADMIN" -c "ALTER DATABASE $DB SET synchronous_commit = off" >/dev/null
t0=$(now)
"$BIN" enqueue "$WORK/in" --pg "$URL" 2>/dev/null
t1=$(now)
python3 -c "print(f'enqueue (walk + insert {$N} jobs): {$t1 - $t0:.2f} s')"
t0=$(now)
"$BIN" worker --pg "$URL" --jobs 1 --exit-when-empty -q & A=$!
"$BIN" worker --pg "$URL" --jobs 1 --exit-when-empty -q & B=$!
wait $A $B
t1=$(now)
PG_S=$(python3 -c "print($t1 - $t0)")
echo "2 x worker --jobs 1 (PostgreSQL): $(rate "$N" "$PG_S")"
python3 -c "print(f'fleet / sqlite throughput: {$SQLITE_S / $PG_S:.3f}x')"

# Queue overhead: the same jobs again, every input already stored (lease
# with the path's record, mark done; no hashing, no analysis). One worker,
# one thread.
"$BIN" enqueue "$WORK/in" --pg "$URL" 2>/dev/null
t0=$(now)
"$BIN" worker --pg "$URL" --jobs 1 --exit-when-empty -q
t1=$(now)
OV=$(python3 -c "print($t1 - $t0)")
python3 -c "print(f'queue overhead: {($OV) / $N * 1000:.2f} ms per job ({$N} already-stored jobs in {$OV:.2f} s, one worker thread)')"
psql -At "$URL" -c "SELECT 'jobs: ' || count(*) || ', apps: ' || (SELECT count(*) FROM apps) FROM jobs"
