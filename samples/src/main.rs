//! `appvet-samples`: (re)writes the demo apps into the samples/ directory.
//!
//! `cargo run -p appvet-samples` regenerates every sample;
//! `cargo run -p appvet-samples -- keygen` creates the demo keys under
//! samples/keys/ if they are missing (done once; the keys are committed);
//! `cargo run --release -p appvet-samples -- big /tmp/big.apk` writes the
//! TikTok-scale synthetic APK for measurements (about 280 MB, not committed).

use std::path::Path;
use std::process::ExitCode;

use appvet_samples::keys::{generate_pem, DemoKey};

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None => write_samples(root),
        Some("keygen") => keygen(root),
        Some("big") => match args.get(1) {
            Some(path) => big(Path::new(path)),
            None => Err("usage: appvet-samples big OUT.apk".into()),
        },
        Some(other) => {
            Err(format!("unknown command {other:?} (expected nothing, `keygen` or `big OUT.apk`)"))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("appvet-samples: {message}");
            ExitCode::FAILURE
        }
    }
}

fn write_samples(root: &Path) -> Result<(), String> {
    for sample in appvet_samples::all_samples() {
        let path = root.join(sample.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, &sample.bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("{:>9} bytes  {}", sample.bytes.len(), sample.path);
    }
    Ok(())
}

fn big(path: &Path) -> Result<(), String> {
    let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let size = appvet_samples::big::write_big_apk(&mut out, &mut std::io::stdout())
        .and_then(|n| std::io::Write::flush(&mut out).map(|()| n))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    println!("{size:>9} bytes  {}", path.display());
    Ok(())
}

fn keygen(root: &Path) -> Result<(), String> {
    let dir = root.join("keys");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for key in DemoKey::ALL {
        let path = dir.join(key.file_name());
        if std::fs::metadata(&path).is_ok_and(|m| m.len() > 0) {
            println!("exists   {}", path.display());
            continue;
        }
        std::fs::write(&path, generate_pem(key)).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("created  {}", path.display());
    }
    Ok(())
}
