//! The `exportgate` binary: everything lives in the library (`lib.rs`).

/// mimalloc: a decision allocates many small strings, and glibc's allocator spent a fifth of
/// `check`'s time on them (see the check benchmark).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    exportgate::cli_main()
}
