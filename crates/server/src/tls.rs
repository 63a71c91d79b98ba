//! TLS for the HTTPS API: the operator's certificate and key, or a
//! self-signed certificate generated once for a trial (the demo).
//!
//! The whole binary uses one rustls crypto provider, ring: mixing
//! providers panics at run time.

use std::path::{Path, PathBuf};

use anyhow::Context;
use axum_server::tls_rustls::RustlsConfig;

/// Makes ring the process-wide rustls provider. Safe to call repeatedly.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The certificate and key files to serve.
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Writes a self-signed certificate for localhost, 127.0.0.1 and ::1 into
/// `dir` unless one is already there.
pub fn ensure_self_signed(dir: &Path) -> anyhow::Result<TlsFiles> {
    let files = TlsFiles {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    if files.cert.exists() && files.key.exists() {
        return Ok(files);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let generated = rcgen::generate_simple_self_signed(names)
        .context("generating a self-signed certificate")?;
    std::fs::write(&files.cert, generated.cert.pem())
        .with_context(|| format!("writing {}", files.cert.display()))?;
    crate::secret_files::write_private(
        &files.key,
        generated.signing_key.serialize_pem().as_bytes(),
    )?;
    Ok(files)
}

/// Loads the rustls server configuration for the HTTPS listener.
pub async fn server_config(files: &TlsFiles) -> anyhow::Result<RustlsConfig> {
    install_crypto_provider();
    RustlsConfig::from_pem_file(&files.cert, &files.key)
        .await
        .with_context(|| {
            format!(
                "loading TLS certificate {} and key {}",
                files.cert.display(),
                files.key.display()
            )
        })
}
