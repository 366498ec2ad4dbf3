//! The `hubnet` binary.

use std::process::ExitCode;

fn main() -> ExitCode {
    match hubnet_node::cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
