//! `appvet diff OLD NEW`: what changed between two versions of an app. Each
//! side is an app (scanned now) or a JSON report written earlier by
//! `appvet scan --format json`.

use std::path::{Path, PathBuf};

use clap::ValueEnum;

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::policy::Judge;
use appvet::report::{diff, Report};
use appvet::scan::Scanner;

use super::error::write_stdout;
use super::{Error, EXIT_OK, EXIT_REVIEW};

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The older version: an app or a JSON report.
    old: PathBuf,
    /// The newer version: an app or a JSON report.
    new: PathBuf,
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Policy for apps scanned now (a preset or a file); default baseline.
    #[arg(long)]
    policy: Option<String>,
    /// Exit 10 when the diff raises a red flag (a pipeline gate on updates).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    /// Any red flag: a new signer, a signature that no longer verifies, new
    /// countries, a stricter verdict, an incomplete read, newly reached data.
    RedFlag,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    Text,
    Json,
}

fn load(path: &Path, scanner: &Scanner, judge: &Judge) -> Result<Report, String> {
    let data = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if data.first().is_some_and(|b| *b == b'{') {
        return serde_json::from_slice(&data)
            .map_err(|e| format!("{}: not an appvet report: {e}", path.display()));
    }
    let mut out = scanner
        .scan_bytes(&data, &path.display().to_string())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    judge.apply(&mut out.report);
    Ok(out.report)
}

pub fn run(args: DiffArgs) -> Result<i32, Error> {
    // A diff compares what the apps are, not the day it is run: no
    // exceptions, and date rules (an expired profile) do not match.
    let judge = Judge::load(args.policy.as_deref(), None, None).map_err(|e| Error::Usage(e.to_string()))?;
    let scanner = Scanner::new(Database::embedded(), Limits::default());
    let (old, new) = match (load(&args.old, &scanner, &judge), load(&args.new, &scanner, &judge)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => return Err(Error::Unusable(e)),
    };
    // New parties are judged against the policy's countries of concern; a
    // policy without any (baseline) leaves the risk tables' list.
    let countries = &judge.policy().countries;
    let d =
        if countries.is_empty() { diff::diff(&old, &new) } else { diff::diff_under(&old, &new, countries) };
    let text = match args.format {
        DiffFormat::Json => diff::render_json(&d),
        DiffFormat::Text => diff::render_text(&d),
    };
    write_stdout(text.as_bytes())?;
    Ok(match args.fail_on {
        Some(FailOn::RedFlag) if !d.red_flags.is_empty() => EXIT_REVIEW,
        _ => EXIT_OK,
    })
}
