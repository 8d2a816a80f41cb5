//! The `appvet` command; see `cli` for subcommands and exit codes.

mod cli;

fn main() {
    let code = match cli::run() {
        Ok(code) => code,
        Err(e) => {
            e.report();
            e.exit_code()
        }
    };
    std::process::exit(code);
}
