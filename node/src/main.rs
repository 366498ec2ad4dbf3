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
    no_huge_pages();
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

/// Transparent huge pages off for the whole process. With them, every page mimalloc takes
/// afresh (after returning freed memory to the kernel, as it does a second after it is freed) is
/// a 2 MiB fault zeroed in full, however little of it is then used: in a publishing run 12% of
/// both cores' samples were the kernel zeroing pages (`clear_page_erms`), 3.5% without. A
/// catch-up of 100,000 records ran at 0.78 to 0.83x raw verification with them and at 0.84 to
/// 0.93x with this call, and the caught-up node held 213 to 224 MiB instead of 264 to 282
/// (BENCHMARKS.md, "Huge pages"). The call covers the whole process, memory mapped before `main`
/// included, and hosts where the kernel gives huge pages unasked (`enabled` set to `always`);
/// the `no_thp` build of mimalloc no longer asks for them (what the benches that use mimalloc
/// in-process rely on).
fn no_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = nix::sys::prctl::set_thp_disable(true) {
        // Only slower and larger, never wrong: say so and go on.
        eprintln!("warning: could not turn transparent huge pages off: {e}");
    }
}
