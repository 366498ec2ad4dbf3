//! HTTPS with certificates from an ACME certificate authority (`[tls.acme]` in the config): Let's
//! Encrypt by default, any RFC 8555 server by its directory URL.
//!
//! rustls-acme does the protocol. Its [`AcmeState`] is a stream that, polled, loads the cached
//! certificate, orders one when there is none (or when two thirds of its lifetime have passed),
//! and retries a failed order after a pause that doubles each time (1 s, 2 s, … up to 18 h). Its
//! resolver serves the certificate, and answers the TLS-ALPN-01 challenge (RFC 8737) of an order
//! in progress: a validation connection offers only the ALPN protocol `acme-tls/1`, gets the
//! challenge certificate, and is closed after the handshake by the edge (never handed to HTTP).
//! So the CA must reach the node's HTTPS port on port 443 of each domain name.
//!
//! [`Acme::drive`] polls the stream on its own task and says what happens (`tracing`, and the
//! metrics `hubnet_tls_certificate_expiry_seconds` and `hubnet_tls_acme_errors_total`).
//!
//! Until a first certificate is obtained, the port answers only ACME challenges: every other
//! handshake fails (no certificate to offer), and the connection is closed. Nothing spins: each
//! failed handshake costs one accepted connection, and orders are paced as said above.
//!
//! The account key and the certificates (with their keys) are cached in `cache_dir` (mode 0700,
//! files 0600, each written whole then renamed), named after a hash of the directory URL and the
//! domains (the certificate) or the contacts (the account): a restart serves the cached
//! certificate without asking the CA, and a changed directory or list of domains orders anew.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use rustls::server::ResolvesServerCert;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_acme::{AcmeState, EventError, EventOk};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::watch;
use tracing::{debug, error, info, warn};

/// The ALPN protocol of TLS-ALPN-01 validation connections (RFC 8737).
pub const ACME_TLS_ALPN: &[u8] = rustls_acme::acme::ACME_TLS_ALPN_NAME;

/// Let's Encrypt's production directory: the default of `directory`.
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// Let's Encrypt's staging directory (untrusted certificates, generous rate limits): for trying.
pub const LETS_ENCRYPT_STAGING: &str = "https://acme-staging-v02.api.letsencrypt.org/directory";

/// `[tls.acme]` as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcmeFile {
    /// The domain names of the certificate (at least one).
    #[serde(default)]
    pub domains: Vec<String>,
    /// The account's contacts, `mailto:` URLs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contact: Vec<String>,
    /// The CA's directory URL.
    #[serde(default = "default_directory")]
    pub directory: String,
    /// Where the account key and certificates are kept; relative to the data dir.
    #[serde(default = "default_cache_dir")]
    pub cache_dir: PathBuf,
    /// PEM certificates trusted, besides the usual roots, when talking to the CA (a test CA's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<PathBuf>,
}

fn default_directory() -> String {
    LETS_ENCRYPT.to_owned()
}

/// The default of `cache_dir`, in the data dir.
pub const DEFAULT_CACHE_DIR: &str = "acme";

fn default_cache_dir() -> PathBuf {
    PathBuf::from(DEFAULT_CACHE_DIR)
}

impl AcmeFile {
    /// `[tls.acme]` for `domains`, every other field at its default.
    pub fn new(domains: Vec<String>) -> Self {
        AcmeFile {
            domains,
            contact: Vec::new(),
            directory: default_directory(),
            cache_dir: default_cache_dir(),
            ca_bundle: None,
        }
    }

    /// Checks the fields; `cache_dir` is resolved against `data_dir`, `ca_bundle` against `base`
    /// (the config file's directory).
    pub fn check(&self, data_dir: &Path, base: &Path) -> Result<AcmeSettings, AcmeFieldError> {
        let fail = |field: &'static str, message: String| AcmeFieldError { field, message };
        if self.domains.is_empty() {
            return Err(fail(
                "tls.acme.domains",
                "needs at least one domain name".into(),
            ));
        }
        let mut domains: Vec<String> = Vec::new();
        for d in &self.domains {
            let d = check_domain(d).map_err(|m| fail("tls.acme.domains", m))?;
            if domains.contains(&d) {
                return Err(fail("tls.acme.domains", format!("{d:?} is listed twice")));
            }
            domains.push(d);
        }
        for c in &self.contact {
            let ok = url::Url::parse(c).is_ok_and(|u| u.scheme() == "mailto" && u.path().len() > 1);
            if !ok {
                return Err(fail(
                    "tls.acme.contact",
                    format!("{c:?} is not a mailto: URL (write \"mailto:ops@example.org\")"),
                ));
            }
        }
        match url::Url::parse(&self.directory) {
            Ok(u) if u.scheme() == "https" && u.host().is_some() => {}
            _ => {
                return Err(fail(
                    "tls.acme.directory",
                    format!("{:?} is not an https:// URL", self.directory),
                ));
            }
        }
        if self.cache_dir.as_os_str().is_empty() {
            return Err(fail("tls.acme.cache_dir", "must not be empty".into()));
        }
        let ca_bundle = match &self.ca_bundle {
            None => None,
            Some(p) => {
                let p = base.join(p);
                if !p.is_file() {
                    return Err(fail(
                        "tls.acme.ca_bundle",
                        format!("{} is not a file", p.display()),
                    ));
                }
                Some(p)
            }
        };
        Ok(AcmeSettings {
            domains,
            contact: self.contact.clone(),
            directory: self.directory.clone(),
            cache_dir: data_dir.join(&self.cache_dir),
            ca_bundle,
        })
    }
}

/// A domain name a certificate can be ordered for by TLS-ALPN-01: a DNS name, no IP address, no
/// wildcard. Returned in lower case.
fn check_domain(d: &str) -> Result<String, String> {
    if d.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!(
            "{d:?} is an IP address; certificates are ordered for domain names"
        ));
    }
    if d.contains('*') {
        return Err(format!(
            "{d:?}: wildcard certificates need the DNS-01 challenge, which the node does not answer"
        ));
    }
    let lower = d.to_ascii_lowercase();
    match rustls_pki_types::DnsName::try_from(lower.as_str()) {
        Ok(_) if !lower.ends_with('.') => Ok(lower),
        _ => Err(format!("{d:?} is not a domain name")),
    }
}

/// A field of `[tls.acme]` that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {message}")]
pub struct AcmeFieldError {
    /// The field, `tls.acme.` and its name.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

/// `[tls.acme]`, checked and with paths resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeSettings {
    /// The certificate's domain names, lower case.
    pub domains: Vec<String>,
    /// The account's contacts.
    pub contact: Vec<String>,
    /// The CA's directory URL.
    pub directory: String,
    /// The cache dir.
    pub cache_dir: PathBuf,
    /// Extra roots for talking to the CA.
    pub ca_bundle: Option<PathBuf>,
}

/// ACME that cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcmeError {
    /// `ca_bundle` cannot be read.
    #[error("{path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        cause: std::io::Error,
    },
    /// `ca_bundle` holds no certificate, or one that does not parse.
    #[error("{path}: {cause}")]
    Bundle {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        cause: String,
    },
}

/// The certificate last read from or written to the cache (PEM: its key, then the chain), for
/// the log and the metric.
type Seen = Arc<Mutex<Option<Vec<u8>>>>;

/// ACME for the HTTPS edge: the resolver to serve with, and the state to drive.
pub struct Acme {
    settings: AcmeSettings,
    state: AcmeState<std::io::Error>,
    seen: Seen,
}

impl std::fmt::Debug for Acme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acme")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Acme {
    /// Reads `ca_bundle`; writes nothing (the cache dir is made when first written to).
    pub fn open(settings: AcmeSettings) -> Result<Self, AcmeError> {
        let client = Arc::new(client_config(settings.ca_bundle.as_deref())?);
        let seen = Seen::default();
        let cache = Cache {
            dir: settings.cache_dir.clone(),
            directory: settings.directory.clone(),
            seen: seen.clone(),
        };
        let state = rustls_acme::AcmeConfig::new_with_client_config(&settings.domains, client)
            .contact(&settings.contact)
            .directory(&settings.directory)
            .cache(cache)
            .state();
        Ok(Acme {
            settings,
            state,
            seen,
        })
    }

    /// The rustls server config: the ACME certificate, HTTP/1.1 and `acme-tls/1` by ALPN.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        server_config(self.state.resolver())
    }

    /// Polls the ACME state until `stop`: orders, renewals, retries, each logged.
    pub async fn drive(self, metrics: Arc<AcmeMetrics>, mut stop: watch::Receiver<bool>) {
        let Acme {
            settings,
            mut state,
            seen,
        } = self;
        let domains = settings.domains.join(",");
        debug!(%domains, directory = %settings.directory, "ACME: started");
        // When the certificate served is due for renewal (for the log: the state orders by
        // itself), and how many orders failed in a row (for the pause that follows).
        let mut renew_at: Option<SystemTime> = None;
        let mut failures: u32 = 0;
        loop {
            let due = renew_at.map(|t| {
                t.duration_since(SystemTime::now())
                    .unwrap_or(Duration::ZERO)
            });
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                () = async {
                    match due {
                        Some(d) => tokio::time::sleep(d).await,
                        None => std::future::pending().await,
                    }
                } => {
                    info!(%domains, "ACME: the certificate is due for renewal; ordering a new one");
                    renew_at = None;
                }
                event = state.next() => {
                    let Some(event) = event else { return };
                    let cert = || served(&seen);
                    match event {
                        Ok(EventOk::DeployedCachedCert) => {
                            let v = cert();
                            renew_at = v.as_ref().map(Validity::renew_at);
                            metrics.set_expiry(v.as_ref());
                            info!(
                                %domains,
                                expires = %v.as_ref().map_or("?".into(), Validity::expires),
                                renew_after = %v.as_ref().map_or("?".into(), Validity::renews),
                                "ACME: serving the cached certificate"
                            );
                        }
                        // Told once it is cached (the next event), when the cache has seen it.
                        Ok(EventOk::DeployedNewCert) => failures = 0,
                        Ok(EventOk::CertCacheStore) | Err(EventError::CertCacheStore(_)) => {
                            let v = cert();
                            renew_at = v.as_ref().map(Validity::renew_at);
                            metrics.set_expiry(v.as_ref());
                            info!(
                                %domains,
                                expires = %v.as_ref().map_or("?".into(), Validity::expires),
                                renew_after = %v.as_ref().map_or("?".into(), Validity::renews),
                                "ACME: certificate obtained"
                            );
                            if let Err(EventError::CertCacheStore(e)) = event {
                                metrics.errors.inc();
                                warn!(error = %e, cache_dir = %settings.cache_dir.display(), "ACME: the new certificate could not be cached; a restart will order another");
                            }
                        }
                        Ok(EventOk::AccountCacheStore) => {
                            info!(directory = %settings.directory, "ACME: new account key cached");
                        }
                        Err(EventError::Order(e)) => {
                            metrics.errors.inc();
                            let pause = 1u64 << failures.min(16);
                            failures = failures.saturating_add(1);
                            warn!(
                                %domains,
                                error = %e,
                                retry_in_secs = pause,
                                "ACME: ordering a certificate failed"
                            );
                        }
                        Err(EventError::CachedCertParse(e)) => {
                            metrics.errors.inc();
                            warn!(error = %e, "ACME: the cached certificate does not parse; ordering a new one");
                        }
                        Err(e) => {
                            metrics.errors.inc();
                            error!(error = %e, cache_dir = %settings.cache_dir.display(), "ACME: the cache failed");
                        }
                    }
                }
            }
        }
    }
}

/// The rustls server config over `resolver`: HTTP/1.1, and `acme-tls/1` for validations.
fn server_config(resolver: Arc<dyn ResolvesServerCert>) -> Arc<ServerConfig> {
    let builder = ServerConfig::builder_with_provider(super::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| ServerConfig::builder());
    let mut config = builder.with_no_client_auth().with_cert_resolver(resolver);
    config.alpn_protocols = vec![b"http/1.1".to_vec(), ACME_TLS_ALPN.to_vec()];
    Arc::new(config)
}

/// The client config for talking to the CA: the web's roots (webpki-roots), and `ca_bundle`'s.
fn client_config(ca_bundle: Option<&Path>) -> Result<ClientConfig, AcmeError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_bundle {
        let bundle = |cause: String| AcmeError::Bundle {
            path: path.to_owned(),
            cause,
        };
        let pem = std::fs::read(path).map_err(|cause| AcmeError::Read {
            path: path.to_owned(),
            cause,
        })?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bundle(e.to_string()))?;
        if certs.is_empty() {
            return Err(bundle("no PEM certificate in it".into()));
        }
        for c in certs {
            roots
                .add(c)
                .map_err(|e| bundle(format!("not a usable root certificate: {e}")))?;
        }
    }
    Ok(ClientConfig::builder_with_provider(super::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| ClientConfig::builder())
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// A certificate's validity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Not before, Unix seconds.
    pub not_before: i64,
    /// Not after, Unix seconds.
    pub not_after: i64,
}

impl Validity {
    /// The validity of the first certificate in `pem`.
    pub fn of_pem(pem: &[u8]) -> Option<Self> {
        let first = CertificateDer::pem_slice_iter(pem).next()?.ok()?;
        let (_, cert) = x509_parser::parse_x509_certificate(&first).ok()?;
        let v = cert.validity();
        Some(Validity {
            not_before: v.not_before.timestamp(),
            not_after: v.not_after.timestamp(),
        })
    }

    /// When rustls-acme orders a new certificate: two thirds into its lifetime.
    pub fn renew_at(&self) -> SystemTime {
        let at = self.not_after - (self.not_after - self.not_before) / 3;
        SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(at).unwrap_or(0))
    }

    /// The expiry as RFC 3339.
    pub fn expires(&self) -> String {
        rfc3339(self.not_after)
    }

    /// [`Validity::renew_at`] as RFC 3339.
    pub fn renews(&self) -> String {
        rfc3339(self.not_after - (self.not_after - self.not_before) / 3)
    }
}

fn rfc3339(unix_secs: i64) -> String {
    chrono::DateTime::from_timestamp(unix_secs, 0)
        .map_or_else(|| unix_secs.to_string(), |t| t.to_rfc3339())
}

fn served(seen: &Seen) -> Option<Validity> {
    seen.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .as_deref()
        .and_then(Validity::of_pem)
}

/// Registered under `hubnet_tls_*`.
#[derive(Debug, Default)]
pub struct AcmeMetrics {
    /// When the certificate served expires, Unix seconds (0: none yet).
    pub expiry: Gauge,
    /// Failed orders and cache errors.
    pub errors: Counter,
}

impl AcmeMetrics {
    /// Registers the metrics in `registry` (the node's, prefixed `hubnet`).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tls_certificate_expiry_seconds",
            "When the certificate served by ACME expires, in Unix seconds (0: none yet)",
            self.expiry.clone(),
        );
        registry.register(
            "tls_acme_errors",
            "ACME orders that failed and ACME cache errors",
            self.errors.clone(),
        );
    }

    fn set_expiry(&self, v: Option<&Validity>) {
        if let Some(v) = v {
            self.expiry.set(v.not_after);
        }
    }
}

/// The node's ACME cache: one directory, files written whole (mode 0600) then renamed.
struct Cache {
    dir: PathBuf,
    directory: String,
    seen: Seen,
}

impl Cache {
    /// `prefix-` and a hash of `parts` and the directory URL.
    fn name(&self, prefix: &str, parts: &[String]) -> String {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p.as_bytes());
            h.update([0]);
        }
        h.update(self.directory.as_bytes());
        format!("{prefix}-{}", hex::encode(&h.finalize()[..16]))
    }

    async fn read(&self, name: String) -> std::io::Result<Option<Vec<u8>>> {
        let path = self.dir.join(name);
        blocking(move || match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", path.display()),
            )),
        })
        .await
    }

    async fn write(&self, name: String, bytes: Vec<u8>) -> std::io::Result<()> {
        let dir = self.dir.clone();
        blocking(move || {
            write_private(&dir, &name, &bytes)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", dir.display())))
        })
        .await
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> std::io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)))
}

/// Writes `dir/name` whole: a temporary file of mode 0600, synced, renamed. Makes `dir` (mode
/// 0700) if missing, and narrows it to 0700 if wider.
fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode != 0o700 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    let tmp = dir.join(format!(".{name}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(name))?;
    std::fs::File::open(dir)?.sync_all()
}

#[async_trait::async_trait]
impl rustls_acme::CertCache for Cache {
    type EC = std::io::Error;

    async fn load_cert(
        &self,
        domains: &[String],
        _directory_url: &str,
    ) -> Result<Option<Vec<u8>>, Self::EC> {
        let found = self.read(self.name("certificate", domains)).await?;
        match &found {
            Some(pem) => {
                *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(pem.clone());
            }
            None => info!(
                domains = %domains.join(","),
                directory = %self.directory,
                "ACME: no cached certificate; ordering one (until it is obtained, HTTPS answers \
                 only the CA's validations)"
            ),
        }
        Ok(found)
    }

    async fn store_cert(
        &self,
        domains: &[String],
        _directory_url: &str,
        cert: &[u8],
    ) -> Result<(), Self::EC> {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(cert.to_vec());
        self.write(self.name("certificate", domains), cert.to_vec())
            .await?;
        debug!(dir = %self.dir.display(), "ACME: certificate cached");
        Ok(())
    }
}

#[async_trait::async_trait]
impl rustls_acme::AccountCache for Cache {
    type EA = std::io::Error;

    async fn load_account(
        &self,
        contact: &[String],
        _directory_url: &str,
    ) -> Result<Option<Vec<u8>>, Self::EA> {
        self.read(self.name("account", contact)).await
    }

    async fn store_account(
        &self,
        contact: &[String],
        _directory_url: &str,
        account: &[u8],
    ) -> Result<(), Self::EA> {
        self.write(self.name("account", contact), account.to_vec())
            .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn check(change: impl FnOnce(&mut AcmeFile)) -> Result<AcmeSettings, AcmeFieldError> {
        let mut file = AcmeFile::new(vec!["hub.kz.example".into()]);
        change(&mut file);
        file.check(Path::new("/data"), Path::new("/etc/hubnet"))
    }

    #[test]
    fn defaults_are_lets_encrypt_and_a_cache_in_the_data_dir() {
        let s = check(|_| {}).unwrap();
        assert_eq!(s.directory, LETS_ENCRYPT);
        assert_eq!(s.cache_dir, Path::new("/data/acme"));
        assert_eq!(s.domains, ["hub.kz.example"]);
        let s = check(|f| {
            f.domains = vec!["Hub.KZ.example".into(), "www.kz.example".into()];
            f.cache_dir = "/var/cache/hubnet".into();
            f.contact = vec!["mailto:ops@kz.example".into()];
            f.directory = LETS_ENCRYPT_STAGING.into();
        })
        .unwrap();
        assert_eq!(s.domains, ["hub.kz.example", "www.kz.example"]);
        assert_eq!(s.cache_dir, Path::new("/var/cache/hubnet"));
    }

    #[test]
    fn each_bad_field_is_named() {
        type Case = (fn(&mut AcmeFile), &'static str, &'static str);
        let cases: [Case; 9] = [
            (|f| f.domains.clear(), "tls.acme.domains", "at least one"),
            (
                |f| f.domains = vec!["*.kz.example".into()],
                "tls.acme.domains",
                "DNS-01",
            ),
            (
                |f| f.domains = vec!["192.0.2.1".into()],
                "tls.acme.domains",
                "IP address",
            ),
            (
                |f| f.domains = vec!["hub kz".into()],
                "tls.acme.domains",
                "not a domain name",
            ),
            (
                |f| f.domains = vec!["a.example".into(), "A.example".into()],
                "tls.acme.domains",
                "twice",
            ),
            (
                |f| f.contact = vec!["ops@kz.example".into()],
                "tls.acme.contact",
                "mailto:",
            ),
            (
                |f| f.directory = "http://127.0.0.1/dir".into(),
                "tls.acme.directory",
                "https://",
            ),
            (
                |f| f.cache_dir = PathBuf::new(),
                "tls.acme.cache_dir",
                "empty",
            ),
            (
                |f| f.ca_bundle = Some("nope.pem".into()),
                "tls.acme.ca_bundle",
                "/etc/hubnet/nope.pem is not a file",
            ),
        ];
        for (change, field, words) in cases {
            let e = check(change).unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert!(e.message.contains(words), "{e}");
        }
    }

    #[test]
    fn a_bundle_without_certificates_is_refused_and_a_good_one_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not pem").unwrap();
        let e = client_config(Some(&path)).unwrap_err();
        assert!(e.to_string().contains("no PEM certificate"), "{e}");
        let ca = rcgen::generate_simple_self_signed(vec!["ca.test".into()]).unwrap();
        std::fs::write(&path, ca.cert.pem()).unwrap();
        client_config(Some(&path)).unwrap();
    }

    #[test]
    fn the_cache_writes_private_files_whole_and_reads_them_back() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("data/acme");
        let cache = Cache {
            dir: cache_dir.clone(),
            directory: LETS_ENCRYPT.into(),
            seen: Seen::default(),
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            use rustls_acme::{AccountCache, CertCache};
            let domains = vec!["hub.test".to_owned()];
            assert_eq!(cache.load_cert(&domains, "").await.unwrap(), None);
            let cert = rcgen::generate_simple_self_signed(domains.clone()).unwrap();
            let pem = format!("{}{}", cert.key_pair.serialize_pem(), cert.cert.pem());
            cache
                .store_cert(&domains, "", pem.as_bytes())
                .await
                .unwrap();
            cache.store_account(&[], "", b"key").await.unwrap();
            assert_eq!(
                cache.load_cert(&domains, "").await.unwrap().as_deref(),
                Some(pem.as_bytes())
            );
            assert_eq!(
                cache.load_account(&[], "").await.unwrap().as_deref(),
                Some(&b"key"[..])
            );
            // Another list of domains is another certificate.
            assert_eq!(cache.load_cert(&["x.test".into()], "").await.unwrap(), None);
        });
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&cache_dir), 0o700);
        for e in std::fs::read_dir(&cache_dir).unwrap() {
            let p = e.unwrap().path();
            assert_eq!(mode(&p), 0o600, "{}", p.display());
            assert!(!p.to_string_lossy().ends_with(".tmp"));
        }
        let v = served(&cache.seen).unwrap();
        assert!(v.not_after > v.not_before);
        assert!(v.renew_at() > SystemTime::UNIX_EPOCH);
    }
}
