//! `appvet calls APP [--format json|text]`: every call site of a sensitive
//! API, uncapped, with the method holding it and the party that owns it.

use std::io::Write;
use std::path::PathBuf;

use appvet::archive::zip::Limits;
use appvet::risk::reach::call_records;
use appvet::scan::Scanner;

use clap::ValueEnum;

use super::{load_signatures, Error, EXIT_OK};

#[derive(clap::Args)]
pub struct CallsArgs {
    /// APK, AAB, bundle or DEX.
    path: PathBuf,
    /// json (`{"calls": [...]}`) or text (one call site a line).
    #[arg(long, value_enum, default_value_t = CallsFormat::Json)]
    format: CallsFormat,
    /// Use the signature database and risk tables in this directory.
    #[arg(long)]
    signatures: Option<PathBuf>,
}

/// A call-site list has no page, SARIF or SBOM form: clap refuses those.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CallsFormat {
    Json,
    Text,
}

pub fn run(args: CallsArgs) -> Result<i32, Error> {
    let db = load_signatures(args.signatures.as_ref())?;
    let scanner = Scanner::new(db, Limits::default())
        .with_signature_dir(args.signatures.as_deref())
        .map_err(|e| Error::Signatures(e.to_string()))?;
    let out = scanner
        .scan_path(&args.path)
        .map_err(|e| Error::Unusable(format!("{}: {e}", args.path.display())))?;
    let calls = call_records(&scanner.db, &out.report, &out.evidence, scanner.risk_tables());
    let mut stdout = std::io::stdout().lock();
    let written = match args.format {
        CallsFormat::Json => {
            let doc = serde_json::json!({ "calls": calls });
            serde_json::to_writer_pretty(&mut stdout, &doc)
                .map_err(std::io::Error::from)
                .and_then(|_| writeln!(stdout))
        }
        CallsFormat::Text => calls.iter().try_for_each(|c| {
            let owner = c.party.owner.as_deref().map(|o| format!(", {o}")).unwrap_or_default();
            let country = c.party.country.as_deref().map(|o| format!(", {o}")).unwrap_or_default();
            writeln!(
                stdout,
                "{}\t{}\t{}\t{}\t{} {}{owner}{country}",
                c.capability, c.api, c.caller, c.source, c.party.kind, c.party.id
            )
        }),
    };
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Unusable(e.to_string())),
        _ => Ok(EXIT_OK),
    }
}
