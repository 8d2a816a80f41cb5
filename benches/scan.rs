//! End-to-end scan speed of each bundled sample, of the corpus APKs when
//! `../shared/corpus` exists, and of the TikTok-scale synthetic APK when
//! `APPVET_BIG_APK` names it (`cargo run --release -p appvet-samples -- big
//! /tmp/big.apk; APPVET_BIG_APK=/tmp/big.apk cargo bench --bench scan`).

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::scan::Scanner;

fn files_in(dir: &Path, exts: &[&str]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    out.retain(|p| p.extension().and_then(|e| e.to_str()).is_some_and(|e| exts.contains(&e)));
    out.sort();
    out
}

fn bench_samples(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let mut group = c.benchmark_group("scan");
    for path in files_in(&root.join("samples"), &["apk", "apks"]) {
        let data = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(&name, |b| {
            b.iter(|| scanner.scan_bytes(&data, &name).map(|o| o.report.hosts.len()))
        });
    }
    group.finish();

    let corpus = root.join("../shared/corpus/apk");
    let apks = files_in(&corpus, &["apk"]);
    if !apks.is_empty() {
        let data: Vec<(String, Vec<u8>)> =
            apks.iter().map(|p| (p.display().to_string(), std::fs::read(p).unwrap())).collect();
        let total: usize = data.iter().map(|(_, d)| d.len()).sum();
        let mut group = c.benchmark_group("corpus");
        group.sample_size(10);
        group.throughput(Throughput::Bytes(total as u64));
        group.bench_function("all_apks_single_thread", |b| {
            b.iter(|| data.iter().filter(|(n, d)| scanner.scan_bytes(d, n).is_ok()).count())
        });
        group.finish();
    }
}

fn bench_big(c: &mut Criterion) {
    let Some(path) = std::env::var_os("APPVET_BIG_APK") else { return };
    let Ok(data) = std::fs::read(&path) else { return };
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let mut group = c.benchmark_group("big");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("tiktok_scale_synthetic", |b| {
        b.iter(|| scanner.scan_bytes(&data, "big.apk").map(|o| o.evidence.class_count()))
    });
    group.finish();
}

criterion_group!(benches, bench_samples, bench_big);
criterion_main!(benches);
