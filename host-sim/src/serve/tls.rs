//! HTTPS listeners: TLS terminated by rustls (its ring provider) with the certificate chain and
//! key given as PEM files, offering HTTP/2 and HTTP/1.1 by ALPN. The client's SNI reaches the
//! filter as Envoy's `connection.requested_server_name`.

use std::sync::Arc;

use anyhow::{Context, Result};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

use crate::cli::TlsFiles;

/// The acceptor for an HTTPS listener.
///
/// # Errors
///
/// When a file cannot be read, holds no certificate or key, or they do not match.
pub(super) fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor> {
    let certs = CertificateDer::pem_file_iter(&files.cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("--cert {}: no PEM certificate chain", files.cert.display()))?;
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .with_context(|| format!("--key {}: no PEM private key", files.key.display()))?;
    #[allow(
        deprecated,
        reason = "rustls 0.23.48 deprecates ring's provider for its lack of post-quantum key \
                  exchange; a local gateway does without, and aws-lc-rs would need a C toolchain"
    )]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS: no protocol version the ring provider supports")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .with_context(|| {
            format!(
                "--cert {} and --key {} do not make a usable certificate",
                files.cert.display(),
                files.key.display()
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
