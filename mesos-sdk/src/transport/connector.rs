//! How the transport reaches an endpoint: TCP with `TCP_NODELAY` and a connect
//! timeout, and TLS (rustls) for `https://`, trusting the bundled web PKI roots plus any
//! CA certificates the user adds.

use std::sync::Arc;
use std::time::Duration;

use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject as _;

use super::error::TransportError;

/// How long a TCP connection (without TLS) may take to open.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The connector of every transport: plain `http://` and `https://` alike.
pub(super) type Connector = HttpsConnector<HttpConnector>;

/// The TLS client configuration trusting the web PKI roots and the PEM-encoded CA
/// certificates `roots`.
pub(super) fn tls_config(roots: &[Vec<u8>]) -> Result<Arc<rustls::ClientConfig>, TransportError> {
    let mut trusted = RootCertStore::empty();
    trusted.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for pem in roots {
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                TransportError::Client(format!("invalid root certificate (PEM expected): {e}"))
            })?;
        if certificates.is_empty() {
            return Err(TransportError::Client(
                "invalid root certificate: no PEM `CERTIFICATE` block found".into(),
            ));
        }
        for certificate in certificates {
            trusted
                .add(certificate)
                .map_err(|e| TransportError::Client(format!("invalid root certificate: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Client(format!("TLS backend: {e}")))?
        .with_root_certificates(trusted)
        .with_no_client_auth();
    Ok(Arc::new(tls))
}

/// A connector for `http://` and, with `tls`, `https://` endpoints.
pub(super) fn connector(tls: &rustls::ClientConfig) -> Connector {
    let mut tcp = HttpConnector::new();
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(CONNECT_TIMEOUT));
    // The scheme is checked by the TLS layer wrapped around it.
    tcp.enforce_http(false);
    HttpsConnectorBuilder::new()
        .with_tls_config(tls.clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(roots: &[Vec<u8>]) -> String {
        match tls_config(roots) {
            Err(TransportError::Client(message)) => message,
            Err(other) => panic!("unexpected error: {other}"),
            Ok(_) => panic!("roots {roots:?} accepted"),
        }
    }

    #[test]
    fn a_generated_ca_certificate_is_trusted() {
        let key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertificateParams::new(vec!["cluster-ca".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        assert!(tls_config(&[ca.pem().into_bytes()]).is_ok());
        assert!(tls_config(&[]).is_ok(), "the web PKI roots alone");
    }

    #[test]
    fn roots_that_are_not_pem_certificates_are_refused_with_the_reason() {
        assert!(
            refusal(&[b"not a certificate".to_vec()]).contains("no PEM `CERTIFICATE` block"),
            "text without a PEM block"
        );
        let broken = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".to_vec();
        assert!(
            refusal(&[broken]).contains("PEM expected"),
            "a block that is not base64"
        );
    }
}
