//! The command line: parses arguments, runs scans on worker threads, and
//! owns all output (workers never print).
//!
//! Exit codes (a contract for pipelines):
//! - 0: every input was analysed
//! - 2: usage error (bad arguments, unreadable signature directory)
//! - 3: at least one input could not be analysed at all (the others were)
//! - 4: no input could be analysed

mod batch;
mod db;
mod evidence_codec;
mod inputs;
mod progress;
mod rescore;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use appvet::archive::zip::Limits;
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
    /// Recompute SDK matches, owners, scores and verdicts in a results
    /// database from its stored evidence, under the current signatures.
    Rescore(RescoreArgs),
    /// Combine results databases (e.g. from `--shard` runs) into one.
    Merge(MergeArgs),
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Inputs: files, directories (searched recursively, apps recognised by
    /// content), glob patterns, `@list.txt` (one path per line) or `-` (paths on stdin).
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
    /// Store results in this SQLite database (created if missing); inputs
    /// already stored by this appvet and signature version are skipped, so a
    /// killed run resumes. Reports go only there unless --output is given.
    #[arg(long)]
    db: Option<PathBuf>,
    /// Give up on one app after this many seconds (recorded as an error; 0: no limit).
    #[arg(long, default_value_t = 120.0)]
    timeout: f64,
    /// Analyse only shard K of N (1 <= K <= N), chosen by a hash of each
    /// input's path relative to the argument it was found under.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<(u64, u64)>,
    /// Analyse again inputs the database records as failed.
    #[arg(long)]
    retry_errors: bool,
    /// Print the end-of-run summary on stderr (default: only on a terminal).
    #[arg(long)]
    summary: bool,
    /// No progress bar and no summary.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(clap::Args)]
struct RescoreArgs {
    /// The results database to update in place.
    #[arg(long)]
    db: PathBuf,
    /// Use the signature database in this directory instead of the embedded one.
    #[arg(long)]
    signatures: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
}

#[derive(clap::Args)]
struct MergeArgs {
    /// The database to merge into (created if missing).
    out: PathBuf,
    /// Databases to merge.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
}

fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (k, n) = s.split_once('/').ok_or("expected K/N, e.g. 3/8")?;
    let k: u64 = k.trim().parse().map_err(|_| "K is not a number")?;
    let n: u64 = n.trim().parse().map_err(|_| "N is not a number")?;
    if n == 0 || k == 0 || k > n {
        return Err("need 1 <= K <= N".into());
    }
    Ok((k, n))
}

/// Whether an input belongs to shard `k` of `n`: a stable hash of its key.
fn in_shard(key: &str, (k, n): (u64, u64)) -> bool {
    use sha2::Digest;
    let d = sha2::Sha256::digest(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    u64::from_be_bytes(first) % n == k - 1
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
        Command::Rescore(args) => match load_signatures(args.signatures.as_ref()) {
            Some(db) => rescore::run(&args.db, db, args.jobs.unwrap_or(0)),
            None => EXIT_USAGE,
        },
        Command::Merge(args) => match db::merge(&args.out, &args.inputs) {
            Ok((apps, paths)) => {
                eprintln!("appvet: merged {apps} apps and {paths} input records into {}", args.out.display());
                EXIT_OK
            }
            Err(e) => {
                eprintln!("appvet: merge: {e}");
                EXIT_USAGE
            }
        },
    }
}

fn load_signatures(dir: Option<&PathBuf>) -> Option<Database> {
    match dir {
        Some(dir) => match Database::load_dir(dir) {
            Ok(db) => Some(db),
            Err(e) => {
                eprintln!("appvet: signatures: {e}");
                None
            }
        },
        None => Some(Database::embedded()),
    }
}

fn scan(args: ScanArgs) -> i32 {
    let Some(db) = load_signatures(args.signatures.as_ref()) else {
        return EXIT_USAGE;
    };
    let (mut files, mut errors) = inputs::expand(&args.paths);
    if let Some(shard) = args.shard {
        files.retain(|f| in_shard(&f.shard_key, shard));
        errors.retain(|(p, _)| in_shard(&p.to_string_lossy(), shard));
    }
    let jobs = match args.jobs {
        Some(n) if n > 0 => n,
        _ => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    let tty = std::io::stderr().is_terminal();
    let timeout = if args.timeout.is_finite() && args.timeout > 0.0 {
        Duration::from_secs_f64(args.timeout.min(1e9))
    } else {
        Duration::ZERO
    };
    let options = batch::BatchOptions {
        format: args.format,
        output: args.output,
        db: args.db,
        jobs,
        timeout,
        progress: tty && !args.quiet,
        summary: (tty || args.summary) && !args.quiet,
        retry_errors: args.retry_errors,
    };
    batch::run(Scanner::new(db, Limits::default()), files, errors, options)
}
