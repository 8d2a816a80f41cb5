#!/usr/bin/env bash
# Builds the binary to deploy (and the one benches/compare.sh measures) and
# prints its path.
#
# On x86_64 Linux that is a static glibc PIE (`+crt-static`, ASLR kept): it
# skips the dynamic loader (~0.3 ms of a ~3 ms one-app run). A static musl
# build was the deployable one until it needed a hand-written memcpy/memcmp
# to keep up (musl's are slower on this workload); measured in one run
# (NOTES.md, fifth session), musl with only mimalloc is ~7% slower per APK
# than this build, which matches the old musl build with its own libc
# routines. Elsewhere it is a plain `cargo build --release`.
#
# The static flag goes through RUSTFLAGS with an explicit --target so that it
# reaches only the target build, not build scripts and proc-macros.
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
if [ "$host" = x86_64-unknown-linux-gnu ]; then
  RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --quiet --target "$host" --bin appvet >&2
  echo "target/$host/release/appvet"
else
  cargo build --release --quiet --bin appvet >&2
  echo "target/release/appvet"
fi
