//! TLS to the server, with libpq's `sslmode` meanings: `prefer` and
//! `require` encrypt without checking who answers (what libpq does unless a
//! root certificate is given), `verify-ca` / `verify-full` check the
//! server's certificate against `PGSSLROOTCERT` (a PEM file) or else the
//! Mozilla roots, and its name (rustls always checks the name).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::store::{Error, Result};

/// Whether the server's certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verify {
    /// `prefer`, `require`: encrypted, not authenticated.
    No,
    /// `verify-ca`, `verify-full`.
    Yes,
}

fn provider() -> Arc<CryptoProvider> {
    // ring rather than aws-lc-rs (which rustls now prefers, for post-quantum
    // key exchange): aws-lc-rs needs a C toolchain and CMake and minutes of
    // build, for connections that mostly stay inside an office's network.
    #[allow(deprecated)]
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The connector for `verify`; `root_cert`: a PEM file of trusted roots.
pub fn connector(verify: Verify, root_cert: Option<&Path>) -> Result<MakeRustlsConnect> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::PgConfig(format!("TLS: {e}")))?;
    let config = match verify {
        Verify::No => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unverified(provider)))
            .with_no_client_auth(),
        Verify::Yes => {
            let mut roots = RootCertStore::empty();
            match root_cert {
                Some(path) => {
                    let certs = CertificateDer::pem_file_iter(path)
                        .map_err(|e| Error::PgConfig(format!("{}: {e}", path.display())))?;
                    for cert in certs {
                        let cert = cert.map_err(|e| Error::PgConfig(format!("{}: {e}", path.display())))?;
                        roots.add(cert).map_err(|e| Error::PgConfig(format!("{}: {e}", path.display())))?;
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// Accepts any certificate (libpq `require`), but still checks that the
/// handshake is signed by the key of the certificate presented.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
