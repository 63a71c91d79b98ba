//! Running the OpenLDAP command-line tools (`ldap-utils`) against a test
//! server: the harnesses use them to change and read the directory the
//! way an administrator would, independently of the code under test.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `tool -x -H url ARGS` with `stdin`, trusting `ca_file` for TLS.
pub(crate) fn run(
    url: &str,
    ca_file: Option<&Path>,
    tool: &str,
    args: &[&str],
    stdin: &str,
) -> Output {
    let mut command = Command::new(tool);
    if let Some(ca) = ca_file {
        command.env("LDAPTLS_CACERT", ca);
    }
    let mut child = command
        .args(["-x", "-H", url])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"))
}

/// The values of one attribute of the entry `dn`, read with `ldapsearch`
/// bound as `bind_dn`; the tool's error text when the search fails.
pub(crate) fn read_attribute(
    url: &str,
    ca_file: Option<&Path>,
    (bind_dn, password): (&str, &str),
    dn: &str,
    attribute: &str,
) -> Result<Vec<String>, String> {
    let out = run(
        url,
        ca_file,
        "ldapsearch",
        &[
            "-D",
            bind_dn,
            "-w",
            password,
            "-LLL",
            "-o",
            "ldif-wrap=no",
            "-s",
            "base",
            "-b",
            dn,
            attribute,
        ],
        "",
    );
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let prefix = format!("{attribute}: ");
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_owned))
        .collect())
}
