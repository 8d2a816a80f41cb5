//! The fleet commands on a shared PostgreSQL database: `db init`,
//! `enqueue`, `status`, `export`, and `rescore --pg` (the worker is in
//! `worker.rs`). Each prints what it did; the library does the work.

use std::path::PathBuf;
use std::time::Duration;

use appvet::store::pg::queue::{Kind, Status};
use appvet::store::pg::{export, schema, Conn, Target};
use appvet::store::{self, Location};

use super::{inputs, Error, EXIT_OK};

/// `--pg [URL]`: a URL or libpq string; settings it leaves out come from
/// the `PG*` variables (`--pg` alone: all of them).
#[derive(clap::Args, Clone)]
pub struct PgArg {
    /// PostgreSQL database: postgres://user:password@host:port/db?sslmode=require, or
    /// nothing to use only PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE.
    #[arg(long = "pg", value_name = "URL", num_args = 0..=1, default_missing_value = "", required = true)]
    pub url: String,
}

impl PgArg {
    pub fn target(&self) -> Result<Target, Error> {
        Target::resolve(&self.url).map_err(|e| Error::Usage(format!("--pg: {e}")))
    }

    /// A connection to a database whose schema is current.
    pub fn connect(&self) -> Result<(Target, Conn), Error> {
        let target = self.target()?;
        let mut conn = target.connect().map_err(store_error(&target))?;
        schema::check(&mut conn.client).map_err(store_error(&target))?;
        Ok((target, conn))
    }
}

pub fn store_error(target: &Target) -> impl Fn(store::Error) -> Error + '_ {
    move |source| Error::Store { location: Location::Postgres(Box::new(target.clone())), source }
}

#[derive(clap::Args)]
pub struct DbArgs {
    #[command(subcommand)]
    command: DbCommand,
}

#[derive(clap::Subcommand)]
enum DbCommand {
    /// Create or migrate the schema (tables, queue, views); safe to run again.
    Init(PgArg),
}

pub fn db(args: DbArgs) -> Result<i32, Error> {
    let DbCommand::Init(pg) = args.command;
    let target = pg.target()?;
    let mut conn = target.connect().map_err(store_error(&target))?;
    let applied = schema::init(&mut conn.client).map_err(store_error(&target))?;
    if applied.is_empty() {
        eprintln!("appvet: {target} is at schema version {} already", schema::latest());
    } else {
        let list: Vec<String> = applied.iter().map(|v| v.to_string()).collect();
        eprintln!("appvet: {target}: applied schema migrations {}", list.join(", "));
    }
    Ok(EXIT_OK)
}

#[derive(clap::Args)]
pub struct EnqueueArgs {
    /// Inputs as for `scan` (files, directories, globs, @list, `-` for
    /// stdin). Recorded as given, absolute when relative: on shared
    /// storage, give the path every worker sees.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    pg: PgArg,
    /// Judge these jobs under this policy instead of the workers' --policy.
    #[arg(long)]
    policy: Option<String>,
}

pub fn enqueue(args: EnqueueArgs) -> Result<i32, Error> {
    let (target, mut conn) = args.pg.connect()?;
    let (files, errors) = inputs::expand(&args.paths);
    for (path, error) in &errors {
        eprintln!("appvet: {}: {error}", path.display());
    }
    let cwd = std::env::current_dir().ok();
    let paths: Vec<String> = files
        .iter()
        .map(|f| match &cwd {
            Some(cwd) if f.path.is_relative() => cwd.join(&f.path),
            _ => f.path.clone(),
        })
        .map(|p| p.display().to_string())
        .collect();
    let n = conn.enqueue(Kind::Scan, &paths, args.policy.as_deref()).map_err(store_error(&target))?;
    eprintln!(
        "appvet: {} jobs queued ({} new, {} again); {} already queued or running; {} arguments unusable",
        n.new + n.requeued,
        n.new,
        n.requeued,
        n.pending,
        errors.len()
    );
    Ok(if errors.is_empty() { EXIT_OK } else { super::EXIT_SOME_FAILED })
}

#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pg: PgArg,
    /// The rate (and so the ETA) is over the jobs finished in the last this many seconds.
    #[arg(long, default_value_t = 300)]
    window: u64,
}

pub fn status(args: StatusArgs) -> Result<i32, Error> {
    let (target, mut conn) = args.pg.connect()?;
    let s = conn.status(Duration::from_secs(args.window.max(1))).map_err(store_error(&target))?;
    print!("{}", render_status(&s));
    Ok(EXIT_OK)
}

fn render_status(s: &Status) -> String {
    let total = s.queued + s.running + s.done + s.failed;
    let eta = match s.eta {
        Some(d) => format_duration(d),
        None if s.queued + s.running == 0 => "-".into(),
        None => "unknown (nothing finished recently)".into(),
    };
    let mut out = format!(
        "jobs: {total}  done {}  running {}  queued {}  failed {}\nrate: {:.2} jobs/s  ETA {eta}\n",
        s.done, s.running, s.queued, s.failed, s.rate
    );
    if !s.workers.is_empty() {
        out.push_str("workers:\n");
    }
    for w in &s.workers {
        let state = if w.stopped {
            "stopped".to_string()
        } else if w.seen_secs_ago > 120.0 {
            format!("silent for {}", format_duration(Duration::from_secs_f64(w.seen_secs_ago.max(0.0))))
        } else {
            "alive".to_string()
        };
        out.push_str(&format!(
            "  {}  host {} pid {}  {} threads  {} running  {} done  {state}\n",
            w.id, w.host, w.pid, w.threads, w.running, w.jobs_done
        ));
    }
    out
}

fn format_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[derive(clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pg: PgArg,
    /// The SQLite file to create.
    #[arg(long)]
    sqlite: PathBuf,
}

pub fn export(args: ExportArgs) -> Result<i32, Error> {
    let (target, mut conn) = args.pg.connect()?;
    let n = export::export(&mut conn, &args.sqlite).map_err(store_error(&target))?;
    eprintln!("appvet: exported {} apps and {} inputs into {}", n.apps, n.inputs, args.sqlite.display());
    Ok(EXIT_OK)
}

/// `rescore --pg`: queues a rescore of every app not current under these
/// signatures and this policy; workers do it.
pub fn enqueue_rescore(pg: &PgArg, signatures: &str, policy: &str) -> Result<i32, Error> {
    let (target, mut conn) = pg.connect()?;
    let n = conn.enqueue_rescore(signatures, policy).map_err(store_error(&target))?;
    eprintln!(
        "appvet: {} apps queued for rescore under signatures {signatures} and policy {policy} \
         ({} already queued); workers (`appvet worker --pg`) do the work",
        n.new + n.requeued,
        n.pending
    );
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use appvet::store::pg::queue::WorkerStatus;

    #[test]
    fn status_names_counts_rate_eta_and_workers() {
        let s = Status {
            queued: 90,
            running: 2,
            done: 7,
            failed: 1,
            rate: 2.0,
            eta: Some(Duration::from_secs(46)),
            workers: vec![WorkerStatus {
                id: "h:1:ab".into(),
                host: "h".into(),
                pid: 1,
                threads: 2,
                jobs_done: 7,
                seen_secs_ago: 1.0,
                stopped: false,
                running: 2,
            }],
        };
        let text = render_status(&s);
        assert!(text.contains("jobs: 100  done 7  running 2  queued 90  failed 1"), "{text}");
        assert!(text.contains("rate: 2.00 jobs/s  ETA 46s"), "{text}");
        assert!(text.contains("h:1:ab  host h pid 1  2 threads  2 running  7 done  alive"), "{text}");
        assert_eq!(format_duration(Duration::from_secs(3725)), "1h02m");
    }
}
