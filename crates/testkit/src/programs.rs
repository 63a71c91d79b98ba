//! Finding the external programs tests drive, and free loopback ports for
//! them. A missing program fails the test with the package that provides it.

use std::path::PathBuf;

/// A TCP port that was free a moment ago on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on loopback")
}

/// A UDP port that was free a moment ago on loopback.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port on loopback")
}

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
