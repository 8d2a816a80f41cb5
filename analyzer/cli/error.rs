//! The one error type every subcommand hands back to `main`, and the exit
//! code each maps to (see the table in `cli/mod.rs`). Outcomes that are not
//! errors (verdicts, some inputs failed) are exit codes in `Ok`.

use std::path::PathBuf;

use appvet::store::{self, Location};

use super::{EXIT_ALL_FAILED, EXIT_OK, EXIT_USAGE};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad arguments, or `--help` / `--version`, which clap prints itself.
    #[error(transparent)]
    Args(#[from] clap::Error),
    /// A bad option value, policy or exceptions file.
    #[error("{0}")]
    Usage(String),
    /// A `--signatures` directory that cannot be used.
    #[error("signatures: {0}")]
    Signatures(String),
    /// A file that cannot be created (e.g. `--output`).
    #[error("{}: {source}", path.display())]
    File { path: PathBuf, source: std::io::Error },
    #[error("{location}: {source}")]
    Store { location: Location, source: store::Error },
    #[error("merge: {0}")]
    Merge(store::Error),
    /// An input that cannot be used at all (`diff`, `manifest`).
    #[error("{0}")]
    Unusable(String),
    /// Something that should not happen (a thread that died).
    #[error("{0}")]
    Internal(&'static str),
    /// Failures already reported, each as it happened (a run goes on after
    /// a failed write, so that one bad disk moment does not lose the rest).
    #[error("results could not be written")]
    Reported,
}

impl Error {
    pub fn store(location: &Location) -> impl FnOnce(store::Error) -> Error + '_ {
        move |source| Error::Store { location: location.clone(), source }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Args(e) if !e.use_stderr() => EXIT_OK,
            Error::Unusable(_) => EXIT_ALL_FAILED,
            _ => EXIT_USAGE,
        }
    }

    /// Tells the user, on stderr (clap's help and version go to stdout).
    pub fn report(&self) {
        match self {
            Error::Args(e) => {
                let _ = e.print();
            }
            Error::Reported => {}
            e => eprintln!("appvet: {e}"),
        }
    }
}

/// Writes what a command prints to stdout. A closed pipe (`| head -1`) is
/// not an error and never a panic, as `print!` would make it.
pub fn write_stdout(bytes: &[u8]) -> Result<i32, Error> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::File { path: "<stdout>".into(), source: e })
        }
        _ => Ok(EXIT_OK),
    }
}
