//! `appvet completions SHELL` and `appvet man`: shell completion scripts
//! and the manual page, generated from the same clap definitions as
//! `--help`, so they cannot drift from the real options.

use clap::{CommandFactory, ValueEnum};

use super::error::write_stdout;
use super::{Cli, Error};

#[derive(clap::Args)]
pub struct CompletionsArgs {
    /// The shell to write a completion script for.
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Clone, Copy, ValueEnum)]
enum Shell {
    /// `appvet completions bash > /etc/bash_completion.d/appvet`
    Bash,
    /// `appvet completions zsh > "${fpath[1]}/_appvet"`
    Zsh,
    /// `appvet completions fish > ~/.config/fish/completions/appvet.fish`
    Fish,
    /// `appvet completions powershell >> $PROFILE`
    Powershell,
}

pub fn run(args: CompletionsArgs) -> Result<i32, Error> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "appvet", &mut script);
    write_stdout(&script)
}

/// The manual page in roff, for `man -l -` or `/usr/share/man/man1/appvet.1`.
pub fn man() -> Result<i32, Error> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|_| Error::Internal("the manual page could not be rendered"))?;
    write_stdout(&page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        // clap's own checks (conflicting names, bad defaults), which the
        // completion scripts and the man page are generated from.
        Cli::command().debug_assert();
    }
}
