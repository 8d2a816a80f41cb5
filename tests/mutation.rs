//! Seeded mutation test: thousands of byte-level mutations and truncations
//! of the samples (and of small corpus files when `../shared/corpus` exists)
//! must never panic, hang, or run away with memory.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::scan::Scanner;
use common::Rng;

const SEED: u64 = 0x5eed_a99e_7000_0001;
/// Generous: a scan of these small files takes milliseconds; this only
/// catches a loop that never ends.
const HANG_AFTER: Duration = Duration::from_secs(60);

/// One mutation: flips, overwrites with boundary values, splices and truncations,
/// the shapes that break length fields in ZIP, AXML, ARSC and DEX.
fn mutate(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    if d.is_empty() {
        return d;
    }
    for _ in 0..1 + rng.below(4) {
        let pos = rng.below(d.len());
        match rng.below(6) {
            0 => d[pos] ^= 1 << rng.below(8),
            1 => d[pos] = rng.next() as u8,
            2 => {
                let v: [u8; 4] = match rng.below(4) {
                    0 => [0xff; 4],
                    1 => [0; 4],
                    2 => 0x7fff_ffffu32.to_le_bytes(),
                    _ => 0x8000_0000u32.to_le_bytes(),
                };
                for (i, b) in v.iter().enumerate() {
                    if let Some(x) = d.get_mut(pos + i) {
                        *x = *b;
                    }
                }
            }
            3 => d.truncate(pos.max(1)),
            4 => {
                let len = rng.below(64).min(d.len() - pos);
                let chunk = d[pos..pos + len].to_vec();
                let at = rng.below(d.len());
                d.splice(at..at, chunk);
            }
            _ => {
                let len = rng.below(64).min(d.len() - pos);
                d.drain(pos..pos + len);
            }
        }
        if d.is_empty() {
            break;
        }
    }
    d
}

fn limits() -> Limits {
    Limits { max_total_inflated: 256 << 20, max_entry_size: 64 << 20, ..Limits::default() }
}

fn run_mutations(inputs: Vec<(String, Vec<u8>)>, per_input: usize, seed: u64) -> usize {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let scanner = Scanner::new(Database::embedded(), limits());
        let mut rng = Rng(seed);
        let mut done = 0usize;
        for (name, data) in &inputs {
            for i in 0..per_input {
                let m = mutate(&mut rng, data);
                let label = format!("{name} mutation {i} (seed {seed:#x})");
                tx.send(label.clone()).unwrap();
                let _ = scanner.scan_bytes(&m, name);
                done += 1;
            }
        }
        done
    });
    let mut last = String::from("start");
    loop {
        match rx.recv_timeout(HANG_AFTER) {
            Ok(label) => last = label,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("no progress for {HANG_AFTER:?} after {last}")
            }
        }
    }
    match worker.join() {
        Ok(n) => n,
        Err(_) => panic!("scan panicked; last input: {last}"),
    }
}

#[test]
fn mutated_samples_never_panic_or_hang() {
    let inputs: Vec<_> = common::sample_files()
        .into_iter()
        .map(|p| (common::rel(&p), std::fs::read(&p).unwrap()))
        .filter(|(_, d)| d.len() < 4 << 20)
        .collect();
    assert!(!inputs.is_empty(), "no samples to mutate");
    let per_input = 3000 / inputs.len();
    let n = run_mutations(inputs, per_input, SEED);
    assert!(n >= 2000, "only {n} mutations ran");
}

#[test]
fn mutated_corpus_files_never_panic_or_hang() {
    let Some(dir) = common::corpus_dir() else {
        return;
    };
    let mut inputs = Vec::new();
    for sub in ["apk", "dex", "elf", "bundle", "ipa", "macho"] {
        let Ok(rd) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        let mut files: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for p in files {
            let data = std::fs::read(&p).unwrap();
            if data.len() <= 64 << 10 {
                inputs.push((format!("{sub}/{}", p.file_name().unwrap().to_string_lossy()), data));
            }
        }
    }
    if inputs.is_empty() {
        return;
    }
    let per_input = (2000 / inputs.len()).max(10);
    run_mutations(inputs, per_input, SEED ^ 0xc0de);
}

#[test]
fn mutation_is_deterministic_for_a_seed() {
    let data: Vec<u8> = (0..=255u8).collect();
    let a = mutate(&mut Rng(7), &data);
    let b = mutate(&mut Rng(7), &data);
    assert_eq!(a, b);
    assert_ne!(a, data);
}
