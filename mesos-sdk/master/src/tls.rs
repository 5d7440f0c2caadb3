//! TLS for the master's and the agents' HTTP servers: a certificate chain and its
//! private key in PEM files (`--tls-cert`, `--tls-key`), served with rustls.
//!
//! ```
//! use mesos_master::tls::{TlsConfig, TlsError};
//!
//! let error = TlsConfig::from_pem(b"not a certificate", b"not a key").unwrap_err();
//! assert!(matches!(error, TlsError::NoCertificate { .. }));
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// Why a TLS certificate or key cannot be used.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// No PEM `CERTIFICATE` block in the certificate file.
    #[error("no PEM CERTIFICATE block in {what}")]
    NoCertificate {
        /// The certificate file (or "the certificate").
        what: String,
    },
    /// A PEM `CERTIFICATE` block could not be decoded.
    #[error("invalid PEM certificate in {what}: {reason}")]
    InvalidCertificate {
        /// The certificate file (or "the certificate").
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// No usable private key (PKCS#8, PKCS#1 or SEC1 PEM) in the key file.
    #[error("no PEM private key in {what}: {reason}")]
    NoKey {
        /// The key file (or "the key").
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// rustls refuses the pair (e.g. the key does not match the certificate).
    #[error("the certificate and key cannot be used: {0}")]
    Rejected(String),
    /// Only one of `--tls-cert` and `--tls-key` was given.
    #[error("--tls-cert and --tls-key must be given together")]
    Incomplete,
}

/// A server's TLS settings: its certificate chain and key, ready to accept
/// connections. Cheap to clone.
#[derive(Clone)]
pub struct TlsConfig {
    acceptor: TlsAcceptor,
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsConfig(<certificate and key>)")
    }
}

impl TlsConfig {
    /// Reads a PEM certificate chain (the server's certificate first) and a PEM private
    /// key from files.
    ///
    /// # Errors
    /// [`TlsError`] naming the file that cannot be read or used.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| TlsError::Read {
                path: path.to_owned(),
                source,
            })
        };
        Self::build(
            &read(cert)?,
            &read(key)?,
            &cert.display().to_string(),
            &key.display().to_string(),
        )
    }

    /// Uses a PEM certificate chain and a PEM private key held in memory.
    ///
    /// # Errors
    /// [`TlsError`] when either cannot be decoded or rustls refuses them.
    pub fn from_pem(cert: &[u8], key: &[u8]) -> Result<Self, TlsError> {
        Self::build(cert, key, "the certificate", "the key")
    }

    fn build(cert: &[u8], key: &[u8], cert_name: &str, key_name: &str) -> Result<Self, TlsError> {
        let chain = CertificateDer::pem_slice_iter(cert)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::InvalidCertificate {
                what: cert_name.to_owned(),
                reason: e.to_string(),
            })?;
        if chain.is_empty() {
            return Err(TlsError::NoCertificate {
                what: cert_name.to_owned(),
            });
        }
        let key = PrivateKeyDer::from_pem_slice(key).map_err(|e| TlsError::NoKey {
            what: key_name.to_owned(),
            reason: e.to_string(),
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Rejected(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| TlsError::Rejected(e.to_string()))?;
        Ok(TlsConfig {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// The acceptor that performs the server side of handshakes.
    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

/// `--tls-cert FILE` and `--tls-key FILE`: serve HTTPS instead of HTTP. Flatten it
/// into a clap parser.
///
/// ```
/// use clap::Parser;
/// use mesos_master::tls::TlsFlags;
///
/// #[derive(Parser)]
/// struct Args {
///     #[command(flatten)]
///     tls: TlsFlags,
/// }
/// assert!(Args::parse_from(["master"]).tls.config().unwrap().is_none());
/// // One without the other is a usage error.
/// assert!(Args::try_parse_from(["master", "--tls-cert", "cert.pem"]).is_err());
/// ```
#[derive(Debug, Clone, Default, clap::Args)]
#[non_exhaustive]
pub struct TlsFlags {
    /// Serve HTTPS with this PEM certificate chain (the server's certificate first);
    /// needs `--tls-key`.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) of `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl TlsFlags {
    /// The TLS settings, or `None` when neither flag is given.
    ///
    /// # Errors
    /// [`TlsError`] when only one flag is given, or a file cannot be read or used.
    pub fn config(&self) -> Result<Option<TlsConfig>, TlsError> {
        match (&self.tls_cert, &self.tls_key) {
            (None, None) => Ok(None),
            (Some(cert), Some(key)) => TlsConfig::from_pem_files(cert, key).map(Some),
            _ => Err(TlsError::Incomplete),
        }
    }
}

/// Reads PEM CA certificates to trust (`--tls-ca FILE`), checking that the file holds
/// at least one.
///
/// # Errors
/// [`TlsError`] when the file cannot be read or holds no PEM certificate.
pub fn read_ca(path: &Path) -> Result<Vec<u8>, TlsError> {
    let pem = std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })?;
    let what = path.display().to_string();
    let count = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::InvalidCertificate {
            what: what.clone(),
            reason: e.to_string(),
        })?
        .len();
    if count == 0 {
        return Err(TlsError::NoCertificate { what });
    }
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pem_is_a_typed_error() {
        assert!(matches!(
            TlsConfig::from_pem(b"", b""),
            Err(TlsError::NoCertificate { .. })
        ));
        let missing = TlsConfig::from_pem_files(
            Path::new("/nonexistent/cert.pem"),
            Path::new("/nonexistent/key.pem"),
        )
        .unwrap_err();
        assert!(missing.to_string().contains("/nonexistent/cert.pem"));
    }
}
