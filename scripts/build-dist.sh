#!/usr/bin/env bash
# Builds the binary to deploy and to benchmark, and prints its path.
#
# A one-app run takes ~3 ms, and on a virtual machine a third of it can be
# process start: glibc's start-up probes the CPU's caches with dozens of
# CPUID instructions, each a trap to the hypervisor (~10 us here). So on
# x86_64 Linux the deployable binary is, in order of preference:
#
# 1. a static musl executable (static PIE, ASLR kept) when the
#    x86_64-unknown-linux-musl Rust target and musl-gcc (Debian: musl-tools,
#    for the C dependencies) are installed. Its start costs ~0.1 ms instead
#    of ~0.65 ms. It links mimalloc (analyzer/main.rs) because musl's malloc
#    locks on every call and returns memory eagerly; nothing else of musl is
#    replaced (its memcpy and memcmp are slower than glibc's, which NOTES.md
#    measures, but an app-vetting tool should not carry its own libc).
#    mimalloc is built without transparent huge pages: with THP "always", its
#    1 GiB arena is backed by 2 MiB pages that the kernel zeroes on first
#    touch, which cost more than a whole small-app run saves. It also skips
#    the collection mimalloc runs at exit (MI_SKIP_COLLECT_ON_EXIT, meant
#    for stand-alone programs): a dozen madvise calls returning memory to a
#    process that is about to end.
# 2. otherwise a static glibc PIE (`+crt-static`), which at least skips the
#    dynamic loader (~0.3 ms).
#
# The static flag goes through RUSTFLAGS with an explicit --target so that it
# reaches only the target build, not build scripts and proc-macros. Elsewhere
# this is a plain `cargo build --release`. Set APPVET_DIST=glibc to skip musl.
set -euo pipefail
cd "$(dirname "$0")/.."
host=$(rustc -vV | sed -n 's/^host: //p')
musl=x86_64-unknown-linux-musl
if [ "$host" = x86_64-unknown-linux-gnu ] && [ "${APPVET_DIST:-}" != glibc ] \
  && [ -d "$(rustc --print sysroot)/lib/rustlib/$musl/lib" ] && command -v musl-gcc >/dev/null; then
  CFLAGS_x86_64_unknown_linux_musl="${CFLAGS_x86_64_unknown_linux_musl:-} -DMI_DEFAULT_ALLOW_THP=0 -DMI_SKIP_COLLECT_ON_EXIT" \
    cargo build --release --quiet --target "$musl" --bin appvet >&2
  echo "target/$musl/release/appvet"
elif [ "$host" = x86_64-unknown-linux-gnu ]; then
  RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --quiet --target "$host" --bin appvet >&2
  echo "target/$host/release/appvet"
else
  cargo build --release --quiet --bin appvet >&2
  echo "target/release/appvet"
fi
