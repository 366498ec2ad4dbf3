//! The `hubnet` binary.

use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: a node's threads allocate and free many small buffers
/// (records moving from the network through verification into the store). In a catch-up of
/// 100,000 records glibc's malloc had a tenth of the node's CPU samples and the node ended at
/// 374 to 405 MiB resident; with mimalloc, 283 to 311 MiB at the same speed (BENCHMARKS.md,
/// "Catch-up").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
