//! Measures which SDKs appvet still finds when an app is obfuscated or
//! packed: `cargo run --release --example variants -- DIR [OUT]` builds an
//! R8-style renamed and a packed variant of every `.apk` under DIR (see
//! tests/common/variants.rs), scans all three and prints per app and in
//! total the share of the original's SDKs each variant keeps, and whether
//! each packed variant says its code is hidden. With OUT the variants are
//! also written there (never into the project: corpus apps stay outside).

#[path = "../tests/common/variants.rs"]
mod variants;

use std::path::PathBuf;

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::scan::Scanner;
use variants::{kept, packed, renamed, says_code_hidden, sdk_ids, sdk_reach, Kept};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: variants DIR [OUT]");
        std::process::exit(2);
    };
    let out_dir = args.next().map(PathBuf::from);
    let mut apks: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("readable DIR")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "apk"))
        .collect();
    apks.sort();
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let (mut r_total, mut p_total, mut hidden, mut packed_count) = (Kept::default(), Kept::default(), 0, 0);
    // (capability, SDK) pairs reached by an SDK's own code in the originals,
    // and how the renamed variants place them: by name, by host, by library.
    let (mut reach_original, mut reach_by_name, mut reach_by_host, mut reach_by_library) = (0, 0, 0, 0);
    for path in &apks {
        let name = path.file_name().unwrap_or_default().to_string_lossy().to_string();
        let Ok(data) = std::fs::read(path) else { continue };
        let Ok(original) = scanner.scan_bytes(&data, &name) else { continue };
        let ids = sdk_ids(&original.report);
        let reach = sdk_reach(&original.report);
        reach_original += reach.len();
        let mut line = format!("{name}: {} SDKs", ids.len());
        for (label, variant) in [("renamed", renamed(&data)), ("packed", packed(&data))] {
            let Ok(variant) = variant else { continue };
            if let Some(out) = &out_dir {
                let _ = std::fs::write(out.join(format!("{name}.{label}.apk")), &variant);
            }
            let Ok(scan) = scanner.scan_bytes(&variant, &name) else { continue };
            let k = kept(&ids, &sdk_ids(&scan.report));
            if label == "renamed" {
                let after = sdk_reach(&scan.report);
                for basis in reach.keys().filter_map(|pair| after.get(pair)) {
                    match basis.as_deref() {
                        None => reach_by_name += 1,
                        Some(b) if b.contains("native library") => reach_by_library += 1,
                        Some(_) => reach_by_host += 1,
                    }
                }
            }
            line.push_str(&format!(", {label} {}/{}", k.found, k.original));
            let total = if label == "renamed" { &mut r_total } else { &mut p_total };
            total.original += k.original;
            total.found += k.found;
            if label == "packed" {
                packed_count += 1;
                let says = says_code_hidden(&scan.report);
                hidden += usize::from(says);
                if !says {
                    line.push_str(" (packed variant does NOT say its code is hidden)");
                }
                let found = sdk_ids(&scan.report);
                let lost: Vec<&String> = ids.difference(&found).collect();
                if !lost.is_empty() {
                    line.push_str(&format!(" lost when packed: {lost:?}"));
                }
            }
        }
        println!("{line}");
    }
    let pct = |k: Kept| if k.original == 0 { 100.0 } else { 100.0 * k.found as f64 / k.original as f64 };
    println!(
        "total: renamed keeps {}/{} SDKs ({:.1}%), packed keeps {}/{} ({:.1}%), {hidden}/{packed_count} packed variants say their code is hidden",
        r_total.found,
        r_total.original,
        pct(r_total),
        p_total.found,
        p_total.original,
        pct(p_total)
    );
    let kept_reach = reach_by_name + reach_by_host + reach_by_library;
    println!(
        "reach: renamed variants keep {kept_reach}/{reach_original} (capability, SDK) pairs reached by an SDK's own code \
         ({reach_by_name} placed by class name, {reach_by_host} by a host or namespace its code loads, {reach_by_library} by a native library its code loads)"
    );
}
