//! `appvet report --db DB -o DIR`: a static HTML index of a results
//! database, `DIR/index.html` (and one copy per sort order) linking to one
//! page per app under `DIR/apps/`, all offline under the same strict
//! Content-Security-Policy as a single app's page.

use std::path::{Path, PathBuf};

use appvet::report::html;
use appvet::report::html_index::{self, IndexRow};
use appvet::store::{self, blob, Location};

use super::{Error, EXIT_OK, EXIT_SOME_FAILED};

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The results database (`scan --db`).
    #[arg(long)]
    db: PathBuf,
    /// The directory to write into (created if missing).
    #[arg(long, short)]
    output: PathBuf,
}

pub fn run(args: ReportArgs) -> Result<i32, Error> {
    let at = Location::from_arg(&args.db).map_err(|e| Error::Usage(format!("--db: {e}")))?;
    let reports = store::open_reports(&at).map_err(Error::store(&at))?;
    let entries = reports.entries().map_err(Error::store(&at))?;
    let apps_dir = args.output.join("apps");
    std::fs::create_dir_all(&apps_dir).map_err(|source| Error::File { path: apps_dir.clone(), source })?;
    let mut rows = Vec::with_capacity(entries.len());
    let mut failed = 0usize;
    for e in &entries {
        let report =
            match reports.report_blob(&e.sha256).map_err(Error::store(&at))?.map(|b| blob::decode_report(&b))
            {
                Some(Ok(r)) => r,
                Some(Err(msg)) => {
                    eprintln!("appvet: app {}: {msg}", e.sha256);
                    failed += 1;
                    continue;
                }
                None => continue,
            };
        let file = format!("{}.html", e.sha256);
        write(&apps_dir.join(&file), &html::render(&report))?;
        rows.push(IndexRow::of(&report, format!("apps/{file}")));
    }
    let title = format!("appvet: {}", args.db.file_name().map(|n| n.to_string_lossy()).unwrap_or_default());
    for (file, page) in html_index::render(&rows, &title) {
        write(&args.output.join(file), &page)?;
    }
    eprintln!(
        "appvet: wrote {} app pages and the index {}",
        rows.len(),
        args.output.join("index.html").display()
    );
    Ok(if failed == 0 { EXIT_OK } else { EXIT_SOME_FAILED })
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|source| Error::File { path: path.to_path_buf(), source })
}
