//! Speed of each parser on its own (`cargo bench --bench parsers`): ZIP
//! (directory plus inflating every entry), binary XML manifests,
//! resources.arsc, DEX tables (class names and method references), ELF, and
//! host extraction over DEX strings. Inputs are the entries of the corpus
//! APKs when `../shared/corpus` exists, else of the bundled samples.

use std::path::{Path, PathBuf};

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};

use appvet::archive::zip::{Budget, Limits, ZipArchive};
use appvet::evidence::hosts::HostExtractor;
use appvet::formats::{arsc, axml, dex, elf};
use appvet::report::EvidenceKind;

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("../shared/corpus/apk");
    let dir = if corpus.is_dir() { corpus } else { root.join("samples") };
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    out.retain(|p| p.extension().is_some_and(|e| e == "apk"));
    out.sort();
    out
}

/// Entries pulled out of the APKs once, by kind.
#[derive(Default)]
struct Entries {
    apks: Vec<Vec<u8>>,
    manifests: Vec<Vec<u8>>,
    arscs: Vec<Vec<u8>>,
    dexes: Vec<Vec<u8>>,
    elves: Vec<Vec<u8>>,
}

fn total(v: &[Vec<u8>]) -> u64 {
    v.iter().map(|d| d.len() as u64).sum()
}

fn load() -> Entries {
    let limits = Limits::default();
    let mut e = Entries::default();
    for path in inputs() {
        let Ok(data) = std::fs::read(&path) else { continue };
        if let Ok(zip) = ZipArchive::parse(&data, &limits) {
            let mut budget = Budget::new(&limits);
            for entry in &zip.entries {
                let Ok(bytes) = zip.read(entry, &mut budget) else { continue };
                let name = entry.name.as_str();
                if name == "AndroidManifest.xml" {
                    e.manifests.push(bytes.into_owned());
                } else if name == "resources.arsc" {
                    e.arscs.push(bytes.into_owned());
                } else if name.starts_with("classes") && name.ends_with(".dex") {
                    e.dexes.push(bytes.into_owned());
                } else if name.starts_with("lib/") && name.ends_with(".so") && bytes.starts_with(b"\x7fELF") {
                    e.elves.push(bytes.into_owned());
                }
            }
        }
        e.apks.push(data);
    }
    e
}

fn bench_parsers(c: &mut Criterion) {
    let e = load();
    let limits = Limits::default();
    let mut g = c.benchmark_group("parsers");
    g.sample_size(10);

    g.throughput(Throughput::Bytes(total(&e.apks)));
    g.bench_function("zip_directory_and_inflate_all", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for apk in &e.apks {
                if let Ok(zip) = ZipArchive::parse(apk, &limits) {
                    let mut budget = Budget::new(&limits);
                    for entry in &zip.entries {
                        n += zip.read(entry, &mut budget).map(|d| d.len()).unwrap_or(0);
                    }
                }
            }
            n
        })
    });
    g.bench_function("zip_directory_only", |b| {
        b.iter(|| e.apks.iter().filter_map(|apk| ZipArchive::parse(apk, &limits).ok()).count())
    });

    g.throughput(Throughput::Bytes(total(&e.manifests)));
    g.bench_function("axml_manifests", |b| {
        b.iter(|| e.manifests.iter().for_each(|m| drop(black_box(axml::parse(m)))))
    });

    if !e.arscs.is_empty() {
        g.throughput(Throughput::Bytes(total(&e.arscs)));
        g.bench_function("arsc", |b| b.iter(|| e.arscs.iter().for_each(|m| drop(black_box(arsc::parse(m))))));
    }

    g.throughput(Throughput::Bytes(total(&e.dexes)));
    g.bench_function("dex_classes_and_method_refs", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for d in &e.dexes {
                if let Ok(f) = dex::parse(d) {
                    n += f.class_names().count() + f.method_refs().count();
                }
            }
            n
        })
    });

    // The call-site walk: every method's instructions, every class of every DEX.
    g.throughput(Throughput::Bytes(total(&e.dexes)));
    g.bench_function("dex_code_walk", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for d in &e.dexes {
                let Ok(f) = dex::parse(d) else { continue };
                for class in f.class_defs() {
                    for m in f.class_methods(&class) {
                        if let Some(insns) = f.code_insns(m.code_off) {
                            dex::walk_code(insns, |_| n += 1);
                        }
                    }
                }
            }
            n
        })
    });

    if !e.elves.is_empty() {
        g.throughput(Throughput::Bytes(total(&e.elves)));
        g.bench_function("elf", |b| b.iter(|| e.elves.iter().filter(|d| elf::parse(d).is_ok()).count()));
    }

    g.throughput(Throughput::Bytes(total(&e.dexes)));
    g.bench_function("hosts_over_dex_strings", |b| {
        b.iter_batched(
            || HostExtractor::new(&[]),
            |mut hosts| {
                for d in &e.dexes {
                    if let Ok(f) = dex::parse(d) {
                        for s in f.strings() {
                            hosts.scan("classes.dex", EvidenceKind::String, &s);
                        }
                    }
                }
                hosts.finish().len()
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_parsers);
criterion_main!(benches);
