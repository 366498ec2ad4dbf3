//! The `hubnet` binary.

use std::process::ExitCode;

fn main() -> ExitCode {
    match hubnet_node::cli::run() {
        Ok(code) => code,
        // A reader that went away (`hubnet log KZ | head`) is not an error.
        Err(e)
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
