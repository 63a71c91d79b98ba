//! A real OpenLDAP server for one test: `slapd` from Debian's package,
//! configured in a temporary directory with the ppolicy overlay (lockout
//! after three failed binds, minimum length 8, history 3), TLS from a
//! throw-away CA on an LDAPS port and StartTLS on the plain port, and a
//! service account with only the rights touchtone needs (the same ACL the
//! README documents).

use crate::ports;
use crate::programs::require;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::TestCa;

pub const BASE_DN: &str = "dc=example,dc=test";
pub const PEOPLE_DN: &str = "ou=people,dc=example,dc=test";
pub const ROOT_DN: &str = "cn=admin,dc=example,dc=test";
pub const ROOT_PASSWORD: &str = "root-secret";
pub const SERVICE_DN: &str = "cn=touchtone,ou=services,dc=example,dc=test";
pub const SERVICE_PASSWORD: &str = "svc-secret";

const SLAPD: &str = "/usr/sbin/slapd";

pub struct Slapd {
    dir: tempfile::TempDir,
    child: Option<Child>,
    pub port: u16,
    pub ldaps_port: u16,
    pub ca_file: PathBuf,
}

impl Slapd {
    /// Configures and starts a server; `extra_ldif` entries are loaded
    /// with the base entries before it starts.
    pub fn start(extra_ldif: &str) -> Self {
        require(SLAPD, "slapd");
        require("ldapmodify", "ldap-utils");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path();
        let ca = TestCa::new(path);
        let (cert, key) = ca.server_cert(path, "server", &["localhost", "127.0.0.1"]);
        std::fs::create_dir(path.join("data")).expect("the data directory");
        let conf = format!(
            r#"include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile {dir}/slapd.pid
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {key}
sizelimit 100000
database mdb
maxsize 104857600
suffix "{BASE_DN}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {dir}/data
password-hash {{SSHA}}
overlay ppolicy
ppolicy_default "cn=default,ou=policies,{BASE_DN}"
ppolicy_hash_cleartext
ppolicy_use_lockout
access to attrs=userPassword
  by dn.exact="{SERVICE_DN}" write
  by self write
  by anonymous auth
  by * none
access to attrs=pwdReset,pwdAccountLockedTime,pwdFailureTime
  by dn.exact="{SERVICE_DN}" manage
  by * read
access to * by * read
"#,
            dir = path.display(),
            ca = ca.ca_file.display(),
            cert = cert.display(),
            key = key.display(),
        );
        std::fs::write(path.join("slapd.conf"), conf).expect("write slapd.conf");
        let base = format!(
            r#"dn: {BASE_DN}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: {PEOPLE_DN}
objectClass: organizationalUnit
ou: people

dn: ou=services,{BASE_DN}
objectClass: organizationalUnit
ou: services

dn: ou=policies,{BASE_DN}
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,{BASE_DN}
objectClass: pwdPolicy
objectClass: device
cn: default
pwdAttribute: userPassword
pwdMinLength: 8
pwdCheckQuality: 2
pwdInHistory: 3
pwdLockout: TRUE
pwdMaxFailure: 3
pwdLockoutDuration: 0

dn: {SERVICE_DN}
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: touchtone
userPassword: {SERVICE_PASSWORD}

{extra_ldif}
"#
        );
        std::fs::write(path.join("base.ldif"), base).expect("write base.ldif");
        let out = Command::new("/usr/sbin/slapadd")
            .arg("-f")
            .arg(path.join("slapd.conf"))
            .arg("-l")
            .arg(path.join("base.ldif"))
            .output()
            .expect("run slapadd");
        assert!(
            out.status.success(),
            "slapadd failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut server = Self {
            ca_file: ca.ca_file.clone(),
            dir,
            child: None,
            port: ports::port(),
            ldaps_port: ports::port(),
        };
        // A reserved port can still be taken by a program outside the
        // tests: slapd then exits at once, and is tried on other ports.
        for attempt in 1.. {
            match server.run() {
                Ok(()) => break,
                Err(log) if attempt < 5 => {
                    eprintln!(
                        "slapd did not start on {} and {} ({log}); other ports",
                        server.port, server.ldaps_port
                    );
                    server.port = ports::port();
                    server.ldaps_port = ports::port();
                }
                Err(log) => panic!("slapd did not start in {attempt} attempts: {log}"),
            }
        }
        server
    }

    /// Starts slapd and waits until both ports accept connections. An
    /// exit before that (a port in use) is an `Err` with the log.
    fn run(&mut self) -> Result<(), String> {
        let path = self.dir.path();
        let log = std::fs::File::create(path.join("slapd.log")).expect("the log file");
        // `-d 0` keeps slapd in the foreground, so the test owns the process.
        let child = Command::new(SLAPD)
            .arg("-h")
            .arg(format!(
                "ldap://127.0.0.1:{}/ ldaps://127.0.0.1:{}/",
                self.port, self.ldaps_port
            ))
            .arg("-f")
            .arg(path.join("slapd.conf"))
            .args(["-d", "0"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log)
            .spawn()
            .expect("start slapd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        for port in [self.port, self.ldaps_port] {
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                if let Some(child) = self.child.as_mut()
                    && let Ok(Some(status)) = child.try_wait()
                {
                    self.child = None;
                    return Err(format!("slapd exited with {status}: {}", self.log()));
                }
                assert!(
                    Instant::now() < deadline,
                    "slapd did not listen: {}",
                    self.log()
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    }

    /// Stops the server (its data stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops and starts the server again on the same ports and data.
    pub fn restart(&mut self) {
        self.stop();
        if let Err(log) = self.run() {
            panic!("slapd did not restart on its ports: {log}");
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("slapd.log")).unwrap_or_default()
    }

    /// `ldap://127.0.0.1:PORT` (for StartTLS the certificate names
    /// `127.0.0.1` too).
    pub fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// `ldaps://localhost:PORT`.
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://localhost:{}", self.ldaps_port)
    }

    /// The DN of a person under `ou=people`.
    pub fn user_dn(uid: &str) -> String {
        format!("uid={uid},{PEOPLE_DN}")
    }

    /// Applies LDIF (with `changetype`s) as the root DN.
    pub fn modify(&self, ldif: &str) {
        let out = self.ldap_tool("ldapmodify", &["-D", ROOT_DN, "-w", ROOT_PASSWORD], ldif);
        assert!(
            out.status.success(),
            "ldapmodify failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Whether a simple bind with these credentials succeeds.
    pub fn bind_ok(&self, dn: &str, password: &str) -> bool {
        let out = self.ldap_tool("ldapwhoami", &["-D", dn, "-w", password], "");
        out.status.success()
    }

    /// The values of an attribute of one entry, as the root DN reads them.
    pub fn attribute(&self, dn: &str, attribute: &str) -> Vec<String> {
        crate::ldap_tools::read_attribute(
            &self.url(),
            None,
            (ROOT_DN, ROOT_PASSWORD),
            dn,
            attribute,
        )
        .unwrap_or_else(|e| panic!("ldapsearch failed: {e}"))
    }

    fn ldap_tool(&self, tool: &str, args: &[&str], stdin: &str) -> std::process::Output {
        crate::ldap_tools::run(&self.url(), None, tool, args, stdin)
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// LDIF of a person under `ou=people` with a password and the usual
/// attributes.
pub fn person_ldif(
    uid: &str,
    name: &str,
    department: &str,
    employee_number: &str,
    password: &str,
) -> String {
    let surname = name.rsplit(' ').next().unwrap_or(name);
    format!(
        "dn: uid={uid},{PEOPLE_DN}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {name}\nsn: {surname}\n\
         departmentNumber: {department}\nemployeeNumber: {employee_number}\ntelephoneNumber: +1 555 01{employee_number}\n\
         mail: {uid}@example.test\nuserPassword: {password}\n\n"
    )
}
