//! The command line: parses arguments, runs scans on worker threads, and
//! owns all output (workers never print).
//!
//! Exit codes (a contract for pipelines):
//! - 0: every input was analysed
//! - 2: usage error (bad arguments, unreadable signature directory)
//! - 3: at least one input could not be analysed at all (the others were)
//! - 4: no input could be analysed

mod inputs;
mod sigs;

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use rayon::prelude::*;

use appvet::archive::zip::Limits;
use appvet::report::{json, text};
use appvet::scan::Scanner;
use appvet::signatures::Database;

pub const EXIT_OK: i32 = 0;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_SOME_FAILED: i32 = 3;
pub const EXIT_ALL_FAILED: i32 = 4;

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
    /// Use the signature database in this directory instead of the embedded one.
    #[arg(long)]
    signatures: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Json,
    Text,
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
    let (files, mut errors) = inputs::expand(&args.paths);
    let scanner = Scanner::new(db, Limits::default());
    let pool = rayon::ThreadPoolBuilder::new().num_threads(args.jobs.unwrap_or(0)).build();
    let results: Vec<_> = match pool {
        Ok(pool) => pool.install(|| files.par_iter().map(|p| (p, scanner.scan_path(p))).collect()),
        Err(_) => files.iter().map(|p| (p, scanner.scan_path(p))).collect(),
    };

    let several = results.len() + errors.len() > 1;
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
                (Format::Text, _) => text::render(&o.report) + "\n",
            }),
            Err(e) => {
                errors.push(((*path).clone(), e.to_string()));
                if args.format == Format::Json && several {
                    out.push_str(&json::render_error_line(&path.display().to_string(), &e.to_string()));
                }
            }
        }
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
    if errors.is_empty() {
        EXIT_OK
    } else if analysed == 0 {
        EXIT_ALL_FAILED
    } else {
        EXIT_SOME_FAILED
    }
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
