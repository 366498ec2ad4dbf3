//! Files that must survive a crash once a command has said it wrote them: charters, proposals,
//! exported bundles, key files, the store's own files.
//!
//! A file is durable when its bytes and its directory entry are: write to a temporary file beside
//! it, `fsync` the file, rename (or link) it into place, then `fsync` the directory. Every write
//! that a command or the API acknowledges goes through here or through the store's journals,
//! which follow the same order.
//!
//! And how to tell a file that failed for a reason outside it (a full disk, say) from a damaged
//! one ([`environmental`]): only a damaged one may be set aside and rebuilt.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Whether `e` says a file could not be read or written for a reason outside it: the disk or
/// quota is full, the process may not, the file system is read-only, the process is out of
/// memory or file descriptors. A file that fails so is not damaged: setting it aside or
/// rebuilding it would not help (and on a full disk a rebuild fails too).
pub fn environmental(e: &io::Error) -> bool {
    use io::ErrorKind;
    use nix::errno::Errno;
    matches!(
        e.kind(),
        ErrorKind::StorageFull
            | ErrorKind::QuotaExceeded
            | ErrorKind::PermissionDenied
            | ErrorKind::ReadOnlyFilesystem
            | ErrorKind::OutOfMemory
            | ErrorKind::ResourceBusy
            | ErrorKind::Interrupted
    ) || matches!(
        e.raw_os_error().map(Errno::from_raw),
        Some(Errno::ENOSPC | Errno::EDQUOT | Errno::EROFS | Errno::EACCES | Errno::EPERM)
            | Some(Errno::ENOMEM | Errno::EMFILE | Errno::ENFILE)
    )
}

/// Makes the directory entry of `path` durable (an `fsync` of its parent directory).
pub fn sync_dir(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => File::open(dir)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

/// Replaces `path` with `bytes`, durably and atomically: a reader sees the old file or the new
/// one, never a part, and after a crash the new one if this returned `Ok`.
pub fn replace(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temporary(path);
    write_synced(&tmp, bytes)?;
    fs::rename(&tmp, path)?;
    sync_dir(path)
}

/// Writes `bytes` to `path`, which must not exist, durably and atomically; an existing file is
/// never overwritten (`ErrorKind::AlreadyExists`), even one created while this runs.
pub fn create_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temporary(path);
    write_synced(&tmp, bytes)?;
    let linked = fs::hard_link(&tmp, path);
    let removed = fs::remove_file(&tmp);
    linked?;
    removed?;
    sync_dir(path)
}

/// Moves a file that is already synced into place at `to`, durably.
pub fn rename_synced(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)?;
    sync_dir(to)
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// `NAME.tmp` beside `path` (appended, so `charter.toml` gives `charter.toml.tmp`).
fn temporary(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_writes_whole_files_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("charter.toml");
        replace(&path, b"first").expect("writes");
        replace(&path, b"second").expect("replaces");
        assert_eq!(fs::read(&path).expect("reads"), b"second");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("lists")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["charter.toml"]);
    }

    #[test]
    fn create_new_never_overwrites() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("proposal.json");
        create_new(&path, b"one").expect("writes");
        let err = create_new(&path, b"two").expect_err("exists");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).expect("reads"), b"one");
        assert!(!dir.path().join("proposal.json.tmp").exists());
    }
}
