//! The command line: parses arguments, runs scans on worker threads, and
//! owns all output (workers never print).
//!
//! Exit codes (a contract for pipelines):
//! - 0: every input was analysed and approved by the policy
//! - 2: usage error (bad arguments, unreadable signature directory, policy or exceptions file)
//! - 3: at least one input could not be analysed at all (the others were, and were approved)
//! - 4: no input could be analysed
//! - 10: review: the policy sends at least one input to review, none is blocked
//! - 11: block: the policy blocks at least one input
//!
//! When several apply, the first in this order wins: 2, 4, 11, 10, 3, 0. A
//! verdict on what was analysed outranks "some inputs failed": a blocked app
//! stays blocked whatever happened to the others. `appvet diff` exits 0, or
//! 2 / 4 when an input is unusable.

mod diff;
mod inputs;
mod manifest;
mod sigs;

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use rayon::prelude::*;

use appvet::archive::zip::Limits;
use appvet::policy::{Date, Decision, Judge};
use appvet::report::{html, json, sarif, text};
use appvet::scan::Scanner;
use appvet::signatures::Database;

pub const EXIT_OK: i32 = 0;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_SOME_FAILED: i32 = 3;
pub const EXIT_ALL_FAILED: i32 = 4;
pub const EXIT_REVIEW: i32 = 10;
pub const EXIT_BLOCK: i32 = 11;

#[derive(Parser)]
#[command(
    name = "appvet",
    version,
    about = "Static analysis of mobile app binaries: permissions, code, signers, endpoints"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse apps (APK, XAPK, APKS, AAB, DEX, ELF); directories are searched recursively.
    Scan(ScanArgs),
    /// Print an app's AndroidManifest.xml, decoded, as XML text.
    Manifest {
        /// APK, AAB, or bundle (XAPK/APKS) with a base.apk.
        path: PathBuf,
    },
    /// Compare two versions of an app (apps or JSON reports): what changed and what is a red flag.
    Diff(diff::DiffArgs),
    /// Signature database: `stats` (counts) and `check` (consistency).
    Sigs(sigs::SigsArgs),
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Files or directories to analyse.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format: json (one document, or JSON Lines for several inputs) or text.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Write the output to this file instead of stdout.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Use the signature database, risk tables and policy presets in this directory instead of the embedded ones.
    #[arg(long)]
    signatures: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Policy: a preset (baseline, nl-aivd, us-foreign-adversaries) or a policy file; default baseline.
    #[arg(long)]
    policy: Option<String>,
    /// Exceptions file (TOML): apps approved for staff who need them, by app id, signer and expiry.
    #[arg(long)]
    exceptions: Option<PathBuf>,
    /// Date exceptions are checked against (YYYY-MM-DD); default: today (UTC).
    #[arg(long)]
    today: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Text,
    /// One self-contained offline page (one input only).
    Html,
    /// SARIF 2.1.0, one run per input.
    Sarif,
}

pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    match cli.command {
        Command::Scan(args) => scan(args),
        Command::Manifest { path } => manifest::run(&path),
        Command::Diff(args) => diff::run(args),
        Command::Sigs(args) => sigs::run(args),
    }
}

fn scan(args: ScanArgs) -> i32 {
    let db = match &args.signatures {
        Some(dir) => match Database::load_dir(dir) {
            Ok(db) => db,
            Err(e) => {
                eprintln!("appvet: signatures: {e}");
                return EXIT_USAGE;
            }
        },
        None => Database::embedded(),
    };
    let judge = match load_judge(&args) {
        Ok(j) => j,
        Err(e) => {
            eprintln!("appvet: {e}");
            return EXIT_USAGE;
        }
    };
    let (files, mut errors) = inputs::expand(&args.paths);
    if args.format == Format::Html && files.len() + errors.len() > 1 {
        eprintln!("appvet: --format html renders one input at a time");
        return EXIT_USAGE;
    }
    let scanner = match Scanner::new(db, Limits::default()).with_signature_dir(args.signatures.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("appvet: signatures: {e}");
            return EXIT_USAGE;
        }
    };
    let scan_one = |p: &PathBuf| {
        scanner.scan_path(p).map(|mut o| {
            judge.apply(&mut o.report);
            o
        })
    };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(args.jobs.unwrap_or(0)).build();
    let results: Vec<_> = match pool {
        Ok(pool) => pool.install(|| files.par_iter().map(|p| (p, scan_one(p))).collect()),
        Err(_) => files.iter().map(|p| (p, scan_one(p))).collect(),
    };

    let several = results.len() + errors.len() > 1;
    let colour =
        args.output.is_none() && io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = String::new();
    for (path, e) in &errors {
        if args.format == Format::Json && several {
            out.push_str(&json::render_error_line(&path.display().to_string(), e));
        }
    }
    for (path, result) in &results {
        match result {
            Ok(o) => out.push_str(&match (args.format, several) {
                (Format::Json, false) => json::render_pretty(&o.report),
                (Format::Json, true) => json::render_line(&o.report),
                (Format::Text, _) => text::render_styled(&o.report, colour) + "\n",
                (Format::Html, _) => html::render(&o.report),
                (Format::Sarif, _) => String::new(),
            }),
            Err(e) => {
                errors.push(((*path).clone(), e.to_string()));
                if args.format == Format::Json && several {
                    out.push_str(&json::render_error_line(&path.display().to_string(), &e.to_string()));
                }
            }
        }
    }
    if args.format == Format::Sarif {
        let reports: Vec<_> =
            results.iter().filter_map(|(_, r)| r.as_ref().ok()).map(|o| &o.report).collect();
        out = sarif::render_all(&reports);
    }
    for (path, e) in &errors {
        eprintln!("appvet: {}: {e}", path.display());
    }
    if let Err(e) = write_output(args.output.as_ref(), &out) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("appvet: writing output: {e}");
            return EXIT_USAGE;
        }
    }
    let analysed = results.iter().filter(|r| r.1.is_ok()).count();
    let worst = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .filter_map(|o| o.report.verdict.as_ref().and_then(|v| Decision::parse(&v.decision)))
        .max();
    if analysed == 0 && !errors.is_empty() {
        EXIT_ALL_FAILED
    } else if worst == Some(Decision::Block) {
        EXIT_BLOCK
    } else if worst == Some(Decision::Review) {
        EXIT_REVIEW
    } else if !errors.is_empty() {
        EXIT_SOME_FAILED
    } else {
        EXIT_OK
    }
}

/// The policy and exceptions of a scan; "today" is read here, at the edge,
/// so that the library stays deterministic.
fn load_judge(args: &ScanArgs) -> Result<Judge, String> {
    let today = match &args.today {
        Some(t) => Date::parse(t).ok_or_else(|| format!("--today {t:?} is not YYYY-MM-DD"))?,
        None => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            Date::from_unix_seconds(secs)
        }
    };
    Judge::load_with_signatures(
        args.policy.as_deref(),
        args.exceptions.as_deref(),
        today,
        args.signatures.as_deref(),
    )
    .map_err(|e| e.to_string())
}

fn write_output(path: Option<&PathBuf>, text: &str) -> io::Result<()> {
    match path {
        Some(p) => std::fs::write(p, text),
        None => {
            let mut stdout = io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()
        }
    }
}
