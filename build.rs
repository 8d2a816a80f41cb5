//! Parses the signature database under `signatures/` once, at build time,
//! into a binary snapshot that the binary embeds (`signatures::Database::embedded`).
//! A syntax error in the database fails the build, naming the file and line.

use std::path::Path;

fn main() {
    let dir = Path::new("signatures");
    println!("cargo:rerun-if-changed=signatures");
    let parsed = match appvet_sigdb::parse_dir(dir) {
        Ok(p) => p,
        Err(e) => {
            println!("cargo:warning=signature database: {e}");
            std::process::exit(1);
        }
    };
    if !parsed.sdks.problems.is_empty() {
        for p in &parsed.sdks.problems {
            println!("cargo:warning=signature database: {p}");
        }
        std::process::exit(1);
    }
    let bytes = match appvet_sigdb::snapshot::encode(&parsed) {
        Ok(b) => b,
        Err(e) => {
            println!("cargo:warning=signature snapshot: {e}");
            std::process::exit(1);
        }
    };
    // The scan trusts what it reads headers-first; check it all once here.
    let check = appvet_sigdb::snapshot::Snapshot::split(Box::leak(bytes.clone().into_boxed_slice()))
        .and_then(|s| s.verify());
    if let Err(e) = check {
        println!("cargo:warning=signature snapshot does not verify: {e}");
        std::process::exit(1);
    }
    let out = Path::new(&std::env::var_os("OUT_DIR").unwrap_or_default()).join("signatures.bin");
    if let Err(e) = std::fs::write(&out, bytes) {
        println!("cargo:warning=writing {}: {e}", out.display());
        std::process::exit(1);
    }
}
