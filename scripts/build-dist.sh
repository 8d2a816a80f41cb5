#!/usr/bin/env bash
# Builds the binary to deploy and to benchmark, and prints its path.
#
# On x86_64 Linux with glibc it is a static PIE (`+crt-static`): no dynamic
# loader resolving libc, libm and libgcc_s at every start, which is ~0.3 ms
# of a 3 ms one-app run; ASLR is kept. The flag goes through RUSTFLAGS with
# an explicit --target so it reaches only the target build, not build
# scripts and proc-macros (which cannot be static). Elsewhere this is a
# plain `cargo build --release`.
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
