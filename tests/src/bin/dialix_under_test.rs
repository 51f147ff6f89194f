//! The `dialix` binary, built as part of this package so the multi-process tests always run
//! the current code (`CARGO_BIN_EXE_dialix-under-test`).

fn main() -> std::process::ExitCode {
    dialix_api::cli::main()
}
