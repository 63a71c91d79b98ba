//! Test helpers shared by touchtone's integration tests: throw-away
//! databases on both backends, and real directory servers (OpenLDAP's
//! `slapd`, a Samba Active Directory domain controller) set up in a
//! temporary directory and stopped when dropped.
//!
//! Also the SIP peers the telephony tests talk to: `sipp` and `baresip`,
//! and the loopback ports every server a test starts listens on
//! ([`ports`]: reserved across test processes, never bind-and-release).
//!
//! The programs come from Debian packages that `.ci/run` installs
//! (`slapd ldap-utils`, `samba`, `sip-tester`, `baresip`,
//! `python3-aiosmtpd` for [`smtp`]); a test that
//! needs one fails, never skips, when it is missing.

pub mod baresip;
pub mod bench;
mod certs;
mod database;
mod ldap_tools;
pub mod ports;
pub mod programs;
pub mod samba;
pub mod sipp;
pub mod slapd;
pub mod smtp;
pub mod tones;

pub use certs::TestCa;
pub use database::{Db, TestDatabase};
