//! The `appvet` command; see `cli` for subcommands and exit codes.

mod cli;

fn main() {
    std::process::exit(cli::run());
}
