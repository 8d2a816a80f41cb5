//! `appvet show --db DB SHA256|PATH`: a stored report, as the scan wrote it
//! (the JSON is the scan's byte for byte), or rendered in another format.

use std::path::PathBuf;

use appvet::report::{cyclonedx, html, json, sarif, text, Report};
use appvet::store::{self, blob, Location, Reports};

use super::error::write_stdout;
use super::{Error, Format};

#[derive(clap::Args)]
pub struct ShowArgs {
    /// The results database (`scan --db`).
    #[arg(long)]
    db: PathBuf,
    /// The app's SHA-256, or an input path as the scan recorded it.
    app: String,
    /// json (as the scan wrote it), text, html, sarif or cyclonedx.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    format: Format,
}

pub fn run(args: ShowArgs) -> Result<i32, Error> {
    let at = Location::from_arg(&args.db).map_err(|e| Error::Usage(format!("--db: {e}")))?;
    let reports = store::open_reports(&at).map_err(Error::store(&at))?;
    let report = load(&*reports, &args.app).map_err(|e| match e {
        Lookup::Store(e) => Error::store(&at)(e),
        Lookup::Missing(msg) => Error::Unusable(msg),
    })?;
    write_stdout(render(&report, args.format).as_bytes())
}

pub(super) enum Lookup {
    Store(store::Error),
    Missing(String),
}

/// A stored report by SHA-256 (any case) or by recorded input path.
pub(super) fn load(reports: &dyn Reports, app: &str) -> Result<Report, Lookup> {
    let by_hash = app.len() == 64 && app.bytes().all(|b| b.is_ascii_hexdigit());
    let sha256 = if by_hash {
        app.to_ascii_lowercase()
    } else {
        reports
            .sha256_of_path(app)
            .map_err(Lookup::Store)?
            .ok_or_else(|| Lookup::Missing(format!("{app}: no analysed input recorded at this path")))?
    };
    let blob = reports
        .report_blob(&sha256)
        .map_err(Lookup::Store)?
        .ok_or_else(|| Lookup::Missing(format!("{app}: no stored report for SHA-256 {sha256}")))?;
    blob::decode_report(&blob).map_err(|e| Lookup::Missing(format!("{app}: {e}")))
}

/// One report in `format`, as `scan` prints it for a single input.
pub(super) fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Json => json::render_pretty(report),
        Format::Text => text::render_styled(report, false) + "\n",
        Format::Html => html::render(report),
        Format::Sarif => sarif::render_runs(sarif::runs_of(report)),
        Format::Cyclonedx => cyclonedx::render_pretty(report),
    }
}
