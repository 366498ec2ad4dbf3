//! HTTPS from a certificate and key in PEM files (`[tls]` in the config), read again when either
//! file changes, so a renewal (certbot, an ACME client, an operator's copy) takes effect without a
//! restart. A file that does not load keeps the certificate in use, with a warning. Also the
//! `[tls]` section as written ([`TlsSection`]: these files, or `[tls.acme]`, `acme.rs`).

use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use super::acme::{AcmeFile, AcmeSettings};

/// How often the files are looked at for a change.
pub const RELOAD_CHECK: Duration = Duration::from_secs(5);

/// `[tls]` in the config: PEM files of the certificate chain (the server's certificate first)
/// and its private key (PKCS#8, PKCS#1 or SEC1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// `[tls]` as written: `cert` and `key`, or a `[tls.acme]` section (exactly one of the two;
/// [`crate::config::Config::check`] says which is missing or that both are given).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// The certificate chain's PEM file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    /// The private key's PEM file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    /// Certificates from an ACME CA instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acme: Option<AcmeFile>,
}

impl From<TlsFiles> for TlsSection {
    fn from(files: TlsFiles) -> Self {
        TlsSection {
            cert: Some(files.cert),
            key: Some(files.key),
            acme: None,
        }
    }
}

impl From<AcmeFile> for TlsSection {
    fn from(acme: AcmeFile) -> Self {
        TlsSection {
            cert: None,
            key: None,
            acme: Some(acme),
        }
    }
}

/// Where the HTTPS certificate comes from, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files, read again when they change.
    Files(TlsFiles),
    /// An ACME CA.
    Acme(AcmeSettings),
}

/// A certificate and key that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file cannot be read.
    #[error("{path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// No PEM certificate in the certificate file.
    #[error("{0}: no PEM certificate in it")]
    NoCertificate(PathBuf),
    /// No PEM private key in the key file.
    #[error("{path}: no PEM private key in it ({cause})")]
    NoKey {
        /// The file.
        path: PathBuf,
        /// The parser's word.
        cause: String,
    },
    /// A PEM block that does not parse.
    #[error("{path}: {cause}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// The parser's word.
        cause: String,
    },
    /// The key is of no supported type, or is not the certificate's.
    #[error("{key} does not go with {cert}: {cause}")]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// rustls's word.
        cause: rustls::Error,
    },
}

/// The crypto provider of every TLS config of the node: ring.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads and checks the pair.
pub fn load(files: &TlsFiles) -> Result<CertifiedKey, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|cause| TlsError::Read {
            path: path.to_owned(),
            cause,
        })
    };
    let cert_pem = read(&files.cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem {
            path: files.cert.clone(),
            cause: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(files.cert.clone()));
    }
    let key_pem = read(&files.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| TlsError::NoKey {
        path: files.key.clone(),
        cause: e.to_string(),
    })?;
    CertifiedKey::from_der(chain, key, &provider()).map_err(|cause| TlsError::Mismatch {
        cert: files.cert.clone(),
        key: files.key.clone(),
        cause,
    })
}

/// What the files looked like when last read: modification time and length of each.
type Stamp = Option<[(SystemTime, u64); 2]>;

fn stamp(files: &TlsFiles) -> Stamp {
    let one = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())))
    };
    Some([one(&files.cert)?, one(&files.key)?])
}

/// The certificate in use, swapped when the files change.
#[derive(Debug)]
pub struct Certificates {
    files: TlsFiles,
    current: RwLock<(Arc<CertifiedKey>, Stamp)>,
}

impl Certificates {
    /// Loads the pair; an error here stops the node from starting.
    pub fn open(files: TlsFiles) -> Result<Arc<Self>, TlsError> {
        let s = stamp(&files);
        let key = load(&files)?;
        Ok(Arc::new(Certificates {
            files,
            current: RwLock::new((Arc::new(key), s)),
        }))
    }

    /// Reads the files again if they changed since last read. Returns whether the certificate
    /// in use changed; a pair that does not load is reported and the old one kept.
    pub fn reload_if_changed(&self) -> Result<bool, TlsError> {
        let now = stamp(&self.files);
        let before = self
            .current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .1;
        if now.is_none() || now == before {
            return Ok(false);
        }
        let key = load(&self.files)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = (Arc::new(key), now);
        Ok(true)
    }

    /// The rustls server config: this certificate, HTTP/1.1 by ALPN.
    pub fn server_config(self: &Arc<Self>) -> Arc<ServerConfig> {
        // The ring provider has safe defaults for every version; it cannot fail here.
        let builder = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .unwrap_or_else(|_| ServerConfig::builder());
        let mut config = builder
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }

    /// Checks the files every [`RELOAD_CHECK`] until `stop`.
    pub async fn watch(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(RELOAD_CHECK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = tick.tick() => {}
            }
            let this = self.clone();
            match tokio::task::spawn_blocking(move || this.reload_if_changed()).await {
                Ok(Ok(true)) => {
                    info!(cert = %self.files.cert.display(), "TLS certificate reloaded")
                }
                Ok(Ok(false)) => {}
                Ok(Err(e)) => {
                    warn!(error = %e, "the TLS files changed but do not load; the certificate in use is kept")
                }
                Err(e) => warn!(error = %e, "checking the TLS files failed"),
            }
        }
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .0
                .clone(),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pair(dir: &Path, name: &str) -> TlsFiles {
        let cert = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
        let files = TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&files.cert, cert.cert.pem()).unwrap();
        std::fs::write(&files.key, cert.key_pair.serialize_pem()).unwrap();
        files
    }

    fn subject(c: &Certificates) -> Vec<u8> {
        c.current.read().unwrap().0.cert[0].to_vec()
    }

    #[test]
    fn a_pair_loads_and_a_changed_pair_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let files = pair(dir.path(), "a.test");
        let c = Certificates::open(files.clone()).unwrap();
        let first = subject(&c);
        assert!(!c.reload_if_changed().unwrap(), "nothing changed");
        // A new pair (other lengths or times): loaded.
        let again = rcgen::generate_simple_self_signed(vec!["b-longer-name.test".into()]).unwrap();
        std::fs::write(&files.cert, again.cert.pem()).unwrap();
        std::fs::write(&files.key, again.key_pair.serialize_pem()).unwrap();
        assert!(c.reload_if_changed().unwrap());
        assert_ne!(subject(&c), first);
    }

    #[test]
    fn a_bad_pair_is_refused_with_the_file_named_and_the_old_one_kept() {
        let dir = tempfile::tempdir().unwrap();
        let files = pair(dir.path(), "a.test");
        let c = Certificates::open(files.clone()).unwrap();
        let first = subject(&c);
        // The key of another certificate.
        let other = rcgen::generate_simple_self_signed(vec!["other-name.test".into()]).unwrap();
        std::fs::write(&files.key, other.key_pair.serialize_pem()).unwrap();
        let e = c.reload_if_changed().unwrap_err();
        assert!(matches!(e, TlsError::Mismatch { .. }), "{e}");
        assert_eq!(subject(&c), first);
        std::fs::write(&files.cert, "not pem").unwrap();
        let e = load(&files).unwrap_err();
        assert!(matches!(e, TlsError::NoCertificate(_)), "{e}");
        assert!(e.to_string().contains("cert.pem"), "{e}");
        std::fs::write(&files.cert, other.cert.pem()).unwrap();
        load(&files).unwrap();
        std::fs::remove_file(&files.key).unwrap();
        let e = Certificates::open(files).unwrap_err();
        assert!(matches!(e, TlsError::Read { .. }), "{e}");
    }
}
