#!/usr/bin/env python3
"""Per-APK median time of two appvet binaries over the same files, in one
run, interleaved (old, new, old, new ...) so that machine load hits both
alike; fastest of REPS runs per APK and binary. Also peak RSS of one input
(e.g. the synthetic TikTok-scale APK, `cargo run -p appvet-samples -- big`).

usage: benches/compare_binaries.py OLD NEW [CORPUS_DIR] [--one FILE]
"""
import os, resource, statistics, subprocess, sys, time

def run(binary, path):
    t0 = time.perf_counter()
    subprocess.run([binary, "scan", "--jobs", "1", "--timeout", "0", "-o", "/dev/null", path],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0

def peak_rss_mb(binary, path):
    pid = os.fork()
    if pid == 0:
        os.execv(binary, [binary, "scan", "--jobs", "1", "-o", "/dev/null", path])
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_maxrss / 1024

args = [a for a in sys.argv[1:] if not a.startswith("--")]
old, new = args[0], args[1]
reps = int(os.environ.get("REPS", "3"))
if "--one" in sys.argv:
    path = sys.argv[sys.argv.index("--one") + 1]
    for name, b in (("old", old), ("new", new)):
        t = min(run(b, path) for _ in range(reps))
        print(f"{name}: {t:.3f} s, peak RSS {peak_rss_mb(b, path):.0f} MB  ({path})")
    sys.exit(0)
corpus = args[2] if len(args) > 2 else "../shared/corpus/apk"
apks = sorted(os.path.join(corpus, f) for f in os.listdir(corpus) if f.endswith(".apk"))
times = {"old": [], "new": []}
for p in apks:
    best = {"old": None, "new": None}
    for _ in range(reps):
        for name, b in (("old", old), ("new", new)):
            t = run(b, p)
            best[name] = t if best[name] is None else min(best[name], t)
    for k in times:
        times[k].append(best[k])
mo, mn = statistics.median(times["old"]), statistics.median(times["new"])
print(f"{len(apks)} APKs, fastest of {reps}: median old {mo*1000:.1f} ms, new {mn*1000:.1f} ms, ratio {mn/mo:.2f}")
print(f"total old {sum(times['old']):.2f} s, new {sum(times['new']):.2f} s, ratio {sum(times['new'])/sum(times['old']):.2f}")
