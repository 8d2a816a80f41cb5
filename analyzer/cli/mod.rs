//! The command line: parses arguments, runs scans on worker threads, and
//! owns all output (workers and the library never print). Results
//! databases are the library's (`appvet::store`); every failure reaches
//! `main` as one [`Error`], which knows its exit code.
//!
//! Exit codes (a contract for pipelines; [`EXIT_CODES`] is the same table
//! as `scan --help` prints it):
//! - 0: every input was analysed (whatever the verdicts, unless `--fail-on`)
//! - 2: usage error (bad arguments, unreadable signature directory, policy or exceptions file)
//! - 3: at least one input could not be analysed at all (the others were)
//! - 4: no input could be analysed, or there was none (an empty directory)
//! - 10: with `--fail-on review`: the policy sends at least one input to review, none is blocked
//! - 11: with `--fail-on review|block`: the policy blocks at least one input
//!
//! When several apply, the first in this order wins: 2, 4, 11, 10, 3, 0. A
//! verdict on what was analysed outranks "some inputs failed": a blocked app
//! stays blocked whatever happened to the others. Verdicts change the exit
//! code only when the pipeline opts in, as grype's `--fail-on` and trivy's
//! `--exit-code` do, so a first run on the demo apps is not a "failure".
//! `appvet diff` exits 0, or 2 / 4 when an input is unusable, or 10 with
//! `--fail-on red-flag`.

mod batch;
mod calls;
mod completions;
mod diff;
mod error;
mod fleet;
mod inputs;
mod manifest;
mod progress;
mod report_index;
mod show;
mod sigs;
mod worker;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};

use appvet::archive::zip::Limits;
use appvet::database::Database;
use appvet::policy::{Date, Judge};
use appvet::scan::Scanner;
use appvet::store::{self, Location};

pub use error::Error;

pub const EXIT_OK: i32 = 0;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_SOME_FAILED: i32 = 3;
pub const EXIT_ALL_FAILED: i32 = 4;
pub const EXIT_REVIEW: i32 = 10;
pub const EXIT_BLOCK: i32 = 11;

/// Exit codes as `scan --help` lists them.
const EXIT_CODES: &str = "Exit codes: 0 every input analysed (whatever the verdicts); \
2 usage error; 3 some inputs could not be analysed; 4 none could (or there was no input); \
with --fail-on: 10 an app sent to review (none blocked), 11 an app blocked. \
First of 2, 4, 11, 10, 3, 0 wins.";

#[derive(Parser)]
#[command(
    name = "appvet",
    version,
    about = "Static analysis of mobile app binaries (APK, XAPK, APKS/APKM, AAB, IPA, zipped .app, DEX, ELF, Mach-O): \
permissions, SDKs and their owners, hosts, signers, risk and a verdict under a policy"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse apps (APK, XAPK, APKS/APKM, AAB, IPA, zipped .app, DEX, ELF, Mach-O); directories are searched recursively.
    #[command(after_help = EXIT_CODES)]
    Scan(ScanArgs),
    /// Print an app's manifest: AndroidManifest.xml decoded as XML text, or an iOS app's Info.plist as XML.
    Manifest {
        /// APK, XAPK, APKS/APKM, AAB, IPA or zipped .app.
        path: PathBuf,
    },
    /// List every call site of a sensitive API, with the party whose code holds it.
    Calls(calls::CallsArgs),
    /// Compare two versions of an app (apps or JSON reports): what changed and what is a red flag.
    Diff(diff::DiffArgs),
    /// Signature database: `stats` (counts) and `check` (consistency).
    Sigs(sigs::SigsArgs),
    /// Recompute SDK matches, owners, scores and verdicts in a results
    /// database from its stored evidence, under the current signatures.
    Rescore(RescoreArgs),
    /// Combine results databases (e.g. from `--shard` runs) into one.
    Merge(MergeArgs),
    /// Print a stored report from a results database, as the scan wrote it.
    Show(show::ShowArgs),
    /// Write a static HTML index of a results database: one sortable table, one page per app.
    Report(report_index::ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the manual page (roff; `appvet man | man -l -`).
    Man,

    /// PostgreSQL fleet database: `init` creates or migrates its schema.
    Db(fleet::DbArgs),
    /// Queue inputs for the fleet's workers (same inputs as `scan`).
    Enqueue(fleet::EnqueueArgs),
    /// Lease queued jobs from PostgreSQL and do them, until stopped (or the queue is empty).
    Worker(worker::WorkerArgs),
    /// The fleet's progress: jobs done, running, queued, failed; rate, ETA, workers.
    Status(fleet::StatusArgs),
    /// Copy a PostgreSQL results database into a new SQLite file.
    Export(fleet::ExportArgs),
}

#[derive(clap::Args)]
struct ScanArgs {
    /// Inputs: files, directories (searched recursively, apps recognised by
    /// content), glob patterns, `@list.txt` (one path per line) or `-` (paths on stdin).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Output format: json (one document, or JSON Lines for several inputs),
    /// text, html (one input), sarif, or cyclonedx (a CycloneDX 1.6 SBOM; JSON Lines for several inputs).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
    /// Exit 10 when an app is sent to review (`review`) and 11 when one is
    /// blocked (`review` or `block`); without it verdicts do not change the exit code.
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
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
    /// The day of the verdict (YYYY-MM-DD): exceptions and expired provisioning profiles are checked against it; default: today (UTC).
    #[arg(long)]
    today: Option<String>,
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
    #[arg(long, required_unless_present = "pg", conflicts_with = "pg")]
    db: Option<PathBuf>,
    /// Queue the rescore of every app in this PostgreSQL database not current
    /// under these signatures and policy; workers do it.
    #[arg(long = "pg", value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pg: Option<String>,
    /// Re-judge every app under this policy (a preset or a file); default:
    /// the policy each stored verdict names (a preset), else baseline for --pg.
    #[arg(long)]
    policy: Option<String>,
    /// The day of the verdicts (YYYY-MM-DD); default today (UTC).
    #[arg(long)]
    today: Option<String>,
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
    /// The report (schema appvet/report/v1); JSON Lines for several inputs.
    Json,
    /// A readable summary.
    Text,
    /// One self-contained offline page (one input only).
    Html,
    /// SARIF 2.1.0, one run per input.
    Sarif,
    /// A CycloneDX 1.6 JSON SBOM: SDKs and native libraries as components.
    Cyclonedx,
}

/// The least strict verdict that fails a run (`scan --fail-on`).
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FailOn {
    /// Exit 10 on review, 11 on block.
    Review,
    /// Exit 11 on block; review exits 0.
    Block,
}

impl FailOn {
    fn decision(self) -> appvet::report::Decision {
        match self {
            FailOn::Review => appvet::report::Decision::Review,
            FailOn::Block => appvet::report::Decision::Block,
        }
    }
}

/// Runs the command line; `Ok` is the exit code of a run that finished
/// (its verdicts, or some inputs that failed).
pub fn run() -> Result<i32, Error> {
    let cli = Cli::try_parse()?;
    match cli.command {
        Command::Scan(args) => scan(args),
        Command::Manifest { path } => manifest::run(&path),
        Command::Calls(args) => calls::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Sigs(args) => sigs::run(args),
        Command::Rescore(args) => rescore(args),
        Command::Show(args) => show::run(args),
        Command::Report(args) => report_index::run(args),
        Command::Completions(args) => completions::run(args),
        Command::Man => completions::man(),

        Command::Db(args) => fleet::db(args),
        Command::Enqueue(args) => fleet::enqueue(args),
        Command::Worker(args) => worker::run(args),
        Command::Status(args) => fleet::status(args),
        Command::Export(args) => fleet::export(args),
        Command::Merge(args) => {
            let inputs = args
                .inputs
                .iter()
                .map(|p| Location::from_arg(p))
                .collect::<Result<Vec<_>, _>>()
                .map_err(Error::Merge)?;
            let out = Location::from_arg(&args.out).map_err(Error::Merge)?;
            let stats = store::merge(&out, &inputs).map_err(Error::Merge)?;
            eprintln!(
                "appvet: merged {} apps and {} input records into {}",
                stats.apps,
                stats.inputs,
                args.out.display()
            );
            Ok(EXIT_OK)
        }
    }
}

fn load_signatures(dir: Option<&PathBuf>) -> Result<Database, Error> {
    match dir {
        Some(dir) => Database::load_dir(dir).map_err(|e| Error::Signatures(e.to_string())),
        None => Ok(Database::embedded()),
    }
}

fn rescore(args: RescoreArgs) -> Result<i32, Error> {
    let signatures = load_signatures(args.signatures.as_ref())?;
    let today = parse_today(args.today.as_deref()).map_err(Error::Usage)?;
    let load = |name: &str| {
        Judge::load_with_signatures(Some(name), None, Some(today), args.signatures.as_deref())
            .map_err(|e| format!("policy {name}: {e}"))
    };
    let (Some(db), None) = (&args.db, &args.pg) else {
        let policy = args.policy.as_deref().unwrap_or(appvet::policy::DEFAULT_POLICY);
        // The name workers will load: fail here, not on every job.
        let name = load(policy).map_err(Error::Usage)?.policy().name.clone();
        let pg = fleet::PgArg { url: args.pg.clone().unwrap_or_default() };
        return fleet::enqueue_rescore(&pg, &signatures.version, &name);
    };
    // One judge for --policy; else one per preset, for the policy each
    // stored verdict names (an app judged under a policy file that is not
    // given again cannot be re-judged: it fails and is left as it was).
    let judges: Vec<Judge> = match &args.policy {
        Some(p) => vec![load(p).map_err(Error::Usage)?],
        None => appvet::policy::Policy::preset_names()
            .map(load)
            .collect::<Result<_, _>>()
            .map_err(Error::Usage)?,
    };
    let forced = args.policy.is_some();
    let rejudge = |stored: Option<&str>, report: &mut appvet::report::Report| -> Result<(), String> {
        let stored = stored.unwrap_or(appvet::policy::DEFAULT_POLICY);
        let judge = if forced { judges.first() } else { judges.iter().find(|j| j.policy().name == stored) };
        match judge {
            Some(j) => {
                j.apply(report);
                Ok(())
            }
            None => Err(format!("judged under policy {stored:?}, which is not a preset: give --policy")),
        }
    };
    let at = Location::from_arg(db).map_err(|e| Error::Usage(e.to_string()))?;
    let mut target = store::open_rescore(&at).map_err(Error::store(&at))?;
    let report_failure = |f: store::Failure| eprintln!("appvet: app {}: {}", f.sha256, f.error);
    let summary =
        store::rescore(&mut *target, &signatures, &rejudge, args.jobs.unwrap_or(0), &report_failure)
            .map_err(Error::store(&at))?;
    let (done, failed) = (summary.rescored, summary.failed);
    let secs = summary.elapsed.as_secs_f64();
    eprintln!(
        "appvet: rescored {done} apps ({failed} failed) under signatures {} in {secs:.2} s ({:.0} apps/s)",
        summary.signatures_version,
        done as f64 / secs.max(1e-3)
    );
    Ok(if failed == 0 {
        EXIT_OK
    } else if done == 0 {
        EXIT_ALL_FAILED
    } else {
        EXIT_SOME_FAILED
    })
}

fn scan(args: ScanArgs) -> Result<i32, Error> {
    let db = load_signatures(args.signatures.as_ref())?;
    let judge = load_judge(&args).map_err(Error::Usage)?;
    let (mut files, mut errors) = inputs::expand(&args.paths);
    if let Some(shard) = args.shard {
        files.retain(|f| in_shard(&f.shard_key, shard));
        errors.retain(|(p, _)| in_shard(&p.to_string_lossy(), shard));
    }
    if files.is_empty() && errors.is_empty() {
        let names: Vec<String> = args.paths.iter().map(|p| p.display().to_string()).collect();
        return Err(Error::Unusable(format!("no app file found in {}", names.join(", "))));
    }
    let jobs = match args.jobs {
        Some(n) if n > 0 => n,
        // Asking for the core count reads cgroup files: not worth it for one input.
        _ if files.len() <= 1 => 1,
        _ => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    };
    if args.format == Format::Html && files.len() + errors.len() > 1 {
        return Err(Error::Usage("--format html renders one input at a time".into()));
    }
    let scanner = Scanner::new(db, Limits::default())
        .with_signature_dir(args.signatures.as_deref())
        .map_err(|e| Error::Signatures(e.to_string()))?;
    let tty = std::io::stderr().is_terminal();
    let colour = args.output.is_none()
        && args.db.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let timeout = if args.timeout.is_finite() && args.timeout > 0.0 {
        Duration::from_secs_f64(args.timeout.min(1e9))
    } else {
        Duration::ZERO
    };
    let options = batch::BatchOptions {
        format: args.format,
        output: args.output,
        db: args
            .db
            .as_deref()
            .map(Location::from_arg)
            .transpose()
            .map_err(|e| Error::Usage(format!("--db: {e}")))?,
        jobs,
        timeout,
        progress: tty && !args.quiet,
        summary: (tty || args.summary) && !args.quiet,
        retry_errors: args.retry_errors,
        judge,
        colour,
        fail_on: args.fail_on.map(FailOn::decision),
    };
    batch::run(scanner, files, errors, options)
}

/// The policy and exceptions of a scan; "today" is read here, at the edge,
/// so that the library stays deterministic.
fn load_judge(args: &ScanArgs) -> Result<Judge, String> {
    let today = parse_today(args.today.as_deref())?;
    Judge::load_with_signatures(
        args.policy.as_deref(),
        args.exceptions.as_deref(),
        Some(today),
        args.signatures.as_deref(),
    )
    .map_err(|e| e.to_string())
}

/// `--today`, or today (UTC).
pub(crate) fn parse_today(arg: Option<&str>) -> Result<Date, String> {
    match arg {
        Some(t) => Date::parse(t).ok_or_else(|| format!("--today {t:?} is not YYYY-MM-DD")),
        None => {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            Ok(Date::from_unix_seconds(secs))
        }
    }
}
