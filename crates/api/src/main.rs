//! `dialix`: see `dialix_api::cli`.

fn main() -> std::process::ExitCode {
    dialix_api::cli::main()
}
