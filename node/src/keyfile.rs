//! Key files on disk: created with mode 0600 and never overwritten.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use hubnet_protocol::{KeyError, SecretKey};

/// Key file failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// Refusing to overwrite.
    #[error("{0} already exists; hubnet never overwrites a key file")]
    Exists(PathBuf),
    /// An IO error.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// The content is not a key.
    #[error("{path}: {cause}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: KeyError,
    },
    /// The OS random source failed.
    #[error("the operating system's random source failed: {0}")]
    Random(String),
}

/// Draws a fresh key from the OS random source.
pub fn generate() -> Result<SecretKey, KeyFileError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| KeyFileError::Random(e.to_string()))?;
    Ok(SecretKey::from_seed(seed))
}

/// Writes `key` to a new file at `path` with mode 0600.
pub fn write_new(path: &Path, key: &SecretKey, comment: &str) -> Result<(), KeyFileError> {
    let io = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyFileError::Exists(path.to_owned())
        } else {
            KeyFileError::Io {
                path: path.to_owned(),
                cause: source,
            }
        }
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(key.to_file_text(comment).as_bytes())
        .map_err(io)?;
    file.sync_all().map_err(io)?;
    crate::durable::sync_dir(path).map_err(io)
}

/// Reads a key file, warning when others can read it.
pub fn read(path: &Path) -> Result<SecretKey, KeyFileError> {
    let io = |source| KeyFileError::Io {
        path: path.to_owned(),
        cause: source,
    };
    let text = std::fs::read_to_string(path).map_err(io)?;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "key file is readable by others; chmod 600 it");
    }
    SecretKey::from_file_text(&text).map_err(|source| KeyFileError::Invalid {
        path: path.to_owned(),
        cause: source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_key_file_is_private_and_never_overwritten() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("k.key");
        let key = generate().expect("random");
        write_new(&path, &key, "test").expect("writes");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read(&path).expect("reads").public_key(), key.public_key());
        assert!(matches!(
            write_new(&path, &generate().expect("random"), "x"),
            Err(KeyFileError::Exists(_))
        ));
        assert_eq!(
            read(&path).expect("still the first").public_key(),
            key.public_key()
        );
    }
}
