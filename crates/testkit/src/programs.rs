//! Finding the external programs tests drive. A missing program fails the
//! test with the package that provides it. (Ports for them: [`crate::ports`].)

use std::path::PathBuf;

/// Panics, naming the Debian package, when `program` cannot be found.
pub fn require(program: &str, package: &str) {
    if !std::path::Path::new(program).exists() && which(program).is_none() {
        panic!(
            "this test needs {program} (Debian package {package}); run .ci/run, which installs it, or apt-get install {package}"
        );
    }
}

pub fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.exists())
    })
}
