//! A real Active Directory domain controller for one test: Samba (Debian
//! package `samba`) provisioned in a temporary directory as the DC of
//! `TT.TEST`, serving only LDAP and LDAPS on a loopback address of its own
//! (`127.0.0.N`, reserved like the tests' ports: Samba has no setting for
//! the LDAP ports, so DCs are told apart by address), with a
//! certificate from a throw-away CA, a lockout policy of three bad
//! passwords, and a service account holding exactly the rights touchtone's
//! AD target needs, delegated on `CN=Users` as the README documents:
//! the Reset Password extended right and write access to `pwdLastSet` and
//! `lockoutTime` on user objects.
//!
//! `old password allowed period = 0`: by default Samba (like Windows'
//! `OldPasswordAllowedPeriod`) still accepts the previous password for an
//! hour after a change, which would hide whether a reset took effect.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::TestCa;

pub const REALM: &str = "tt.test";
pub const BASE_DN: &str = "DC=tt,DC=test";
pub const USERS_DN: &str = "CN=Users,DC=tt,DC=test";
pub const ADMIN_PASSWORD: &str = "Adm1n-Pass!x";
pub const SERVICE_ACCOUNT: &str = "touchtone-svc";
pub const SERVICE_PASSWORD: &str = "Svc-Pass-123!x";

/// The rights of the service account, as SDDL with `{sid}` for its SID.
/// User object class bf967aba…; Reset Password 00299570…; pwdLastSet
/// bf967a0a…; lockoutTime 28630ebf….
const DELEGATION: &str = "(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967aba-0de6-11d0-a285-00aa003049e2;{sid})\
(OA;CIIO;WP;bf967a0a-0de6-11d0-a285-00aa003049e2;bf967aba-0de6-11d0-a285-00aa003049e2;{sid})\
(OA;CIIO;WP;28630ebf-41d5-11d1-a9c1-0000f80367c1;bf967aba-0de6-11d0-a285-00aa003049e2;{sid})";

pub struct SambaDc {
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// The loopback address it listens on.
    pub ip: String,
    pub ca_file: PathBuf,
}

fn run(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The loopback address, checked to have nothing on the LDAP ports
/// (Samba cannot move them, and only binds addresses an interface has).
impl SambaDc {
    /// Provisions and starts a domain controller (about ten seconds).
    pub fn start() -> Self {
        for (program, package) in [
            ("/usr/sbin/samba", "samba"),
            ("/usr/bin/samba-tool", "samba"),
            ("/usr/bin/ldapmodify", "ldap-utils"),
        ] {
            assert!(
                Path::new(program).exists(),
                "this test needs {program} (Debian package {package}); run .ci/run, which installs it"
            );
        }
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().to_owned();
        // A loopback address of its own: the DC listens on the fixed
        // LDAP ports, so two DCs (or a system slapd on 127.0.0.1:389)
        // must not share one.
        let ip = crate::ports::loopback_address_for(&[389, 636]).to_string();
        let p = path.display();
        run(
            "samba-tool",
            &[
                "domain",
                "provision",
                "--realm=TT.TEST",
                "--domain=TT",
                "--server-role=dc",
                "--dns-backend=NONE",
                "--host-name=dc1",
                &format!("--adminpass={ADMIN_PASSWORD}"),
                &format!("--targetdir={p}"),
                // With a mask, Samba takes the address on the interface
                // whose network holds it (lo, 127.0.0.0/8).
                &format!("--option=interfaces={ip}/8"),
                "--option=bind interfaces only=yes",
                "--option=server services=ldap",
                &format!("--option=log file={p}/samba.log"),
            ],
        );
        let sam = format!("tdb://{p}/private/sam.ldb");
        run(
            "samba-tool",
            &[
                "domain",
                "passwordsettings",
                "set",
                "--account-lockout-threshold=3",
                "--account-lockout-duration=0",
                "--reset-account-lockout-after=30",
                "-H",
                &sam,
            ],
        );
        run(
            "samba-tool",
            &[
                "user",
                "create",
                SERVICE_ACCOUNT,
                SERVICE_PASSWORD,
                "-H",
                &sam,
            ],
        );
        let shown = run(
            "samba-tool",
            &[
                "user",
                "show",
                SERVICE_ACCOUNT,
                "--attributes=objectSid",
                "-H",
                &sam,
            ],
        );
        let sid = String::from_utf8_lossy(&shown.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("objectSid: ").map(str::to_owned))
            .expect("the service account's SID");
        run(
            "samba-tool",
            &[
                "dsacl",
                "set",
                &format!("--objectdn={USERS_DN}"),
                "--action=allow",
                &format!("--sddl={}", DELEGATION.replace("{sid}", &sid)),
                "-H",
                &sam,
            ],
        );
        let ca = TestCa::new(&path);
        let (cert, key) = ca.server_cert(&path, "dc1", &["dc1.tt.test", &ip]);
        std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("key permissions");
        let conf_path = path.join("etc/smb.conf");
        let conf = std::fs::read_to_string(&conf_path).expect("smb.conf");
        let conf = conf.replacen(
            "[global]",
            &format!(
                "[global]\n\told password allowed period = 0\n\ttls enabled = yes\n\ttls keyfile = {}\n\ttls certfile = {}\n\ttls cafile = {}\n",
                key.display(),
                cert.display(),
                ca.ca_file.display()
            ),
            1,
        );
        std::fs::write(&conf_path, conf).expect("write smb.conf");
        let mut dc = Self {
            dir,
            child: None,
            ip,
            ca_file: ca.ca_file.clone(),
        };
        dc.launch();
        dc
    }

    fn launch(&mut self) {
        let path = self.dir.path();
        let log = std::fs::File::create(path.join("samba.out")).expect("the log file");
        let child = Command::new("/usr/sbin/samba")
            .args(["-i", "-M", "single", "-s"])
            .arg(path.join("etc/smb.conf"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file"))
            .stderr(log)
            .spawn()
            .expect("start samba");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        let address = format!("{}:636", self.ip).parse().expect("an address");
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("samba exited with {status}: {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "samba did not listen: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("samba.out")).unwrap_or_default()
    }

    /// `ldaps://IP` (the certificate names the address).
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://{}", self.ip)
    }

    pub fn ldap_url(&self) -> String {
        format!("ldap://{}", self.ip)
    }

    /// The service account's bind name (a UPN, as AD accepts).
    pub fn service_bind_dn() -> String {
        format!("{SERVICE_ACCOUNT}@{REALM}")
    }

    pub fn user_dn(name: &str) -> String {
        format!("CN={name},{USERS_DN}")
    }

    /// Adds an enabled user with a password, department and employee ID.
    pub fn add_user(&self, name: &str, display_name: &str, department: &str, password: &str) {
        let quoted: Vec<u8> = format!("\"{password}\"")
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let encoded = base64_encode(&quoted);
        self.modify(&format!(
            "dn: {dn}\nchangetype: add\nobjectClass: user\nsAMAccountName: {name}\n\
             userPrincipalName: {name}@{REALM}\ndisplayName: {display_name}\ndepartment: {department}\n\
             unicodePwd:: {encoded}\nuserAccountControl: 512\n",
            dn = Self::user_dn(name)
        ));
    }

    /// Sets the ACCOUNTDISABLE bit.
    pub fn disable_user(&self, name: &str) {
        self.modify(&format!(
            "dn: {}\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 514\n",
            Self::user_dn(name)
        ));
    }

    /// Applies LDIF as the domain administrator over LDAPS.
    pub fn modify(&self, ldif: &str) {
        let out = self.tool(
            "ldapmodify",
            &[
                "-D",
                &format!("Administrator@{REALM}"),
                "-w",
                ADMIN_PASSWORD,
            ],
            ldif,
        );
        assert!(
            out.status.success(),
            "ldapmodify failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Whether a simple bind as `name@tt.test` succeeds.
    pub fn bind_ok(&self, name: &str, password: &str) -> bool {
        // Samba has no WhoAmI operation: a search of the root DSE binds.
        self.tool(
            "ldapsearch",
            &[
                "-D",
                &format!("{name}@{REALM}"),
                "-w",
                password,
                "-s",
                "base",
                "-b",
                "",
                "1.1",
            ],
            "",
        )
        .status
        .success()
    }

    /// The values of an attribute, read by the administrator (none when
    /// the search fails).
    pub fn attribute(&self, dn: &str, attribute: &str) -> Vec<String> {
        let admin = format!("Administrator@{REALM}");
        crate::ldap_tools::read_attribute(
            &self.ldaps_url(),
            Some(&self.ca_file),
            (&admin, ADMIN_PASSWORD),
            dn,
            attribute,
        )
        .unwrap_or_default()
    }

    fn tool(&self, tool: &str, args: &[&str], stdin: &str) -> Output {
        crate::ldap_tools::run(&self.ldaps_url(), Some(&self.ca_file), tool, args, stdin)
    }
}

impl Drop for SambaDc {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
