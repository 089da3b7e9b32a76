//! The `exportgate` binary: everything lives in the library (`lib.rs`).

fn main() -> std::process::ExitCode {
    exportgate::cli_main()
}
