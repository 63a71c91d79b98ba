//! Verification factors and the policy that combines them.
//!
//! A person proves who they are with factors: answers to questions (the
//! eight functions' `UserAnswersValidate`) and a code from their
//! authenticator app ([`totp`]). Each factor a session proves for a
//! person is recorded; before a reset or an unlock, [`Service::factor_status`]
//! compares what the session proved with what the first matching
//! `[[verification.policies]]` entry requires. The rule lives here once:
//! the HTTPS door, the IVR and (later) the console all reach it through
//! `UserPasswordSync` and `UserAccountsUnlock`.

pub mod api;
pub mod totp;

use touchtone_store::people::Person as PersonRow;
use touchtone_store::{AnyConnection, questions, session_factors, totp_secrets};

use crate::{Service, ServiceError};

/// A way of proving who one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Factor {
    /// Answers to enrolled questions.
    Questions,
    /// A code from an authenticator app (RFC 6238), keyed on the keypad.
    Totp,
}

impl Factor {
    pub const ALL: [Factor; 2] = [Factor::Questions, Factor::Totp];

    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Questions => "questions",
            Factor::Totp => "totp",
        }
    }

    pub fn parse(text: &str) -> Option<Factor> {
        Factor::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// What a policy is asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Setting a new password (`UserPasswordSync`).
    Reset,
    /// Unlocking accounts (`UserAccountsUnlock`).
    Unlock,
}

impl Operation {
    pub const ALL: [Operation; 2] = [Operation::Reset, Operation::Unlock];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Reset => "reset",
            Operation::Unlock => "unlock",
        }
    }
}

/// Factors required together: every group is needed, and a group is met by
/// any one of its factors (`[["questions"], ["totp"]]` is questions and a
/// TOTP code; `[["questions", "totp"]]` is either).
pub type Requirement = Vec<Vec<Factor>>;

/// One `[[verification.policies]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationPolicy {
    pub name: String,
    /// The operations it governs (empty: all).
    pub operations: Vec<Operation>,
    /// The departments it applies to (empty: everyone).
    pub departments: Vec<String>,
    /// Directory groups it applies to, by name (a DN's first value) or
    /// whole DN (empty: anyone).
    pub groups: Vec<String>,
    /// `Some(true)`: privileged people only (or, with `groups`, people in
    /// one of them); `Some(false)`: people who are not; `None`: either.
    pub privileged: Option<bool>,
    pub require: Requirement,
    /// What a person who has not enrolled a factor the requirement needs
    /// must prove instead; `None`: nothing will do, and the caller is sent
    /// to the helpdesk.
    pub fallback: Option<Requirement>,
}

impl VerificationPolicy {
    fn applies(&self, person: &PersonRow, operation: Operation) -> bool {
        let department = self.departments.is_empty()
            || self
                .departments
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&person.department));
        let in_group = self
            .groups
            .iter()
            .any(|g| person.groups.iter().any(|p| group_matches(g, p)));
        // Groups and the privileged flag are two ways of naming the
        // people an administrators' policy is for: either one will do.
        let who = match (self.privileged, self.groups.is_empty()) {
            (None, true) => true,
            (None, false) => in_group,
            (Some(true), true) => person.privileged,
            (Some(true), false) => person.privileged || in_group,
            (Some(false), true) => !person.privileged,
            (Some(false), false) => !person.privileged && in_group,
        };
        (self.operations.is_empty() || self.operations.contains(&operation)) && department && who
    }
}

/// Whether the configured group `wanted` names the person's group `held`
/// (as the directory gave it, usually a DN): the whole DN, or the value of
/// its first part (`CN=Domain Admins,CN=Users,...` is `Domain Admins`),
/// either without regard to case, as directories compare names.
fn group_matches(wanted: &str, held: &str) -> bool {
    wanted.eq_ignore_ascii_case(held)
        || first_rdn_value(held).is_some_and(|v| wanted.eq_ignore_ascii_case(&v))
}

/// The value of a DN's first RDN, with RFC 4514 escapes undone; `None`
/// for a string that is not a DN. Written here because no crate in use
/// parses DNs (ldap3 only escapes them), and this is all that is needed.
fn first_rdn_value(dn: &str) -> Option<String> {
    let (_, rest) = dn.split_once('=')?;
    let bytes = rest.as_bytes();
    let mut value = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        value.push(b);
                        i += 3;
                    }
                    None => {
                        value.push(*bytes.get(i + 1)?);
                        i += 2;
                    }
                }
            }
            b',' | b'+' => break,
            b => {
                value.push(b);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&value).trim().to_owned())
}

/// The verification policies and the TOTP label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationSettings {
    /// In order: the first that applies to a person and an operation
    /// decides. None applies: questions alone (touchtone's behaviour
    /// before policies).
    pub policies: Vec<VerificationPolicy>,
    /// The issuer shown in people's authenticator apps.
    pub totp_issuer: String,
}

impl Default for VerificationSettings {
    fn default() -> Self {
        Self {
            policies: Vec::new(),
            totp_issuer: "touchtone".into(),
        }
    }
}

/// Where a session stands with a person and an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorStatus {
    /// The policy that decided (`"default"` when none applied).
    pub policy: String,
    /// Factors the person has enrolled.
    pub enrolled: Vec<Factor>,
    /// Factors this session proved for the person.
    pub proved: Vec<Factor>,
    /// Groups of the requirement not met yet (each: any one of).
    pub missing: Requirement,
    /// The person has not enrolled any factor of a group still missing
    /// (and no fallback helps): the operation cannot happen by this door.
    pub unavailable: bool,
}

impl FactorStatus {
    pub fn met(&self) -> bool {
        self.missing.is_empty()
    }

    /// The missing groups as the API names them (`"totp"`, `"questions or
    /// totp"`).
    pub fn missing_names(&self) -> Vec<String> {
        self.missing
            .iter()
            .map(|g| {
                g.iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            })
            .collect()
    }
}

/// The groups of `requirement` that `proved` does not meet.
fn unmet(requirement: &Requirement, proved: &[Factor]) -> Requirement {
    requirement
        .iter()
        .filter(|group| !group.iter().any(|f| proved.contains(f)))
        .cloned()
        .collect()
}

/// Whether every group of `requirement` has a factor in `enrolled`.
fn reachable(requirement: &Requirement, enrolled: &[Factor]) -> bool {
    requirement
        .iter()
        .all(|group| group.iter().any(|f| enrolled.contains(f)))
}

impl Service {
    /// The policy's requirement for `person` and `operation`, with its name
    /// and fallback.
    fn requirement_for(
        &self,
        person: &PersonRow,
        operation: Operation,
    ) -> (String, Requirement, Option<Requirement>) {
        match self
            .settings()
            .verification
            .policies
            .iter()
            .find(|p| p.applies(person, operation))
        {
            Some(p) => (p.name.clone(), p.require.clone(), p.fallback.clone()),
            None => ("default".into(), vec![vec![Factor::Questions]], None),
        }
    }

    /// The factors `person` has enrolled.
    pub(crate) async fn enrolled_factors(
        &self,
        conn: &mut AnyConnection,
        person: &PersonRow,
    ) -> Result<Vec<Factor>, ServiceError> {
        let mut enrolled = Vec::new();
        if !questions::enrolled(conn, &person.id).await?.is_empty() {
            enrolled.push(Factor::Questions);
        }
        if totp_secrets::is_enrolled(conn, &person.id).await? {
            enrolled.push(Factor::Totp);
        }
        Ok(enrolled)
    }

    /// Where session `session_id` stands with `person` for `operation`.
    /// `verified_person` is the session's record of a question
    /// verification from before factors were recorded one by one.
    pub(crate) async fn factor_status(
        &self,
        conn: &mut AnyConnection,
        session_id: &str,
        verified_person: Option<&str>,
        person: &PersonRow,
        operation: Operation,
    ) -> Result<FactorStatus, ServiceError> {
        let enrolled = self.enrolled_factors(conn, person).await?;
        let mut proved: Vec<Factor> = session_factors::proved(conn, session_id, &person.id)
            .await?
            .iter()
            .filter_map(|f| Factor::parse(f))
            .collect();
        if verified_person == Some(person.id.as_str()) && !proved.contains(&Factor::Questions) {
            proved.push(Factor::Questions);
        }
        proved.sort();
        let (name, require, fallback) = self.requirement_for(person, operation);
        // What is already proved counts as reachable: a factor removed in
        // the portal mid-call does not undo this call's proof.
        let mut usable = enrolled.clone();
        usable.extend(proved.iter().copied());
        let (requirement, unavailable) = if reachable(&require, &usable) {
            (require, false)
        } else {
            match fallback {
                Some(f) if reachable(&f, &usable) => (f, false),
                Some(f) => (f, true),
                None => (require, true),
            }
        };
        let missing = unmet(&requirement, &proved);
        let unavailable = unavailable && !missing.is_empty();
        Ok(FactorStatus {
            policy: name,
            enrolled,
            proved,
            missing,
            unavailable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_met_by_any_of_its_factors() {
        let require = vec![
            vec![Factor::Questions],
            vec![Factor::Totp, Factor::Questions],
        ];
        assert_eq!(
            unmet(&require, &[Factor::Questions]),
            Vec::<Vec<Factor>>::new()
        );
        let require = vec![vec![Factor::Questions], vec![Factor::Totp]];
        assert_eq!(
            unmet(&require, &[Factor::Questions]),
            vec![vec![Factor::Totp]]
        );
        assert!(!reachable(&require, &[Factor::Questions]));
        assert!(reachable(&require, &[Factor::Totp, Factor::Questions]));
    }

    #[test]
    fn a_group_is_named_by_its_dn_or_its_first_value_with_escapes_undone() {
        let dn = "CN=Domain Admins,CN=Users,DC=tt,DC=test";
        assert!(group_matches("domain admins", dn));
        assert!(group_matches("cn=domain admins,cn=users,dc=tt,dc=test", dn));
        assert!(!group_matches("Users", dn));
        assert!(!group_matches("Domain", dn));
        assert!(group_matches("Ops, Night", r"CN=Ops\, Night,OU=Groups"));
        assert!(group_matches("Ops, Night", r"CN=Ops\2C Night,OU=Groups"));
        assert!(group_matches("Zürich", r"CN=Z\C3\BCrich,OU=Groups"));
        assert!(
            group_matches("Helpdesk", "Helpdesk"),
            "a plain name from an import"
        );
        assert_eq!(first_rdn_value(r"CN=broken\"), None);
    }
}
