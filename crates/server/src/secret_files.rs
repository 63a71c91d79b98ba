//! Secrets on disk: writing a file only its owner can read (keys, the
//! pepper), and loading or creating the pepper file.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;

/// Writes a file readable only by its owner (mode 0600), replacing it.
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(contents)
        .with_context(|| format!("writing {}", path.display()))?;
    file.sync_all()
        .with_context(|| format!("syncing {}", path.display()))
}

/// Reads the pepper file, or creates it with 32 random bytes when `create`.
pub fn load_or_create_pepper(
    path: &Path,
    create: bool,
) -> anyhow::Result<touchtone_core::secret::Pepper> {
    if !path.exists() {
        if !create {
            anyhow::bail!(
                "the pepper file {} does not exist; `touchtone init` creates one",
                path.display()
            );
        }
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
        write_private(path, hex::encode(bytes).as_bytes())?;
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    touchtone_core::secret::Pepper::from_hex(&text)
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
