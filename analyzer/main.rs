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

// musl's allocator takes a lock per call and returns memory to the kernel
// eagerly (a one-app run made 136 mmap and 85 munmap calls); mimalloc keeps
// the static musl build as fast as glibc's malloc. Its "override" feature
// (Cargo.toml) also gives it the C libraries' malloc (SQLite, zstd): under
// musl's, a corpus rescore made ~330 small mmap/munmap calls, each munmap a
// TLB shootdown across the worker threads.
#[cfg(target_env = "musl")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
