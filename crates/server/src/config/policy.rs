//! `[[verification.policies]]`: which factors each operation needs, and
//! for whom. Read in order; the first policy that applies to a person and
//! an operation decides, and with none, questions alone do (touchtone's
//! behaviour before policies).
//!
//! ```toml
//! [[verification.policies]]
//! name = "it-staff"
//! departments = ["IT"]
//! operations = ["reset"]
//! require = [["questions"], ["totp"]]   # questions and a TOTP code
//! fallback = [["questions"]]            # for those without an app; absent: the helpdesk
//!
//! [[verification.policies]]
//! name = "administrators"
//! privileged = true                     # marked privileged (AD's adminCount, the import)
//! groups = ["Domain Admins"]            # or in one of these directory groups
//! require = [["questions"], ["totp"]]
//! ```

use std::collections::HashSet;

use anyhow::bail;
use serde::Deserialize;
use touchtone_service::factors::{Factor, Operation, Requirement, VerificationPolicy};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorName {
    Questions,
    Totp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationName {
    Reset,
    Unlock,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub name: String,
    /// Empty or absent: every operation.
    #[serde(default)]
    pub operations: Vec<OperationName>,
    /// Empty or absent: everyone.
    #[serde(default)]
    pub departments: Vec<String>,
    /// Directory groups (a group's name, i.e. its DN's first value, or its
    /// whole DN); empty or absent: anyone. With `privileged = true` as
    /// well, either makes the policy apply.
    #[serde(default)]
    pub groups: Vec<String>,
    /// `true`: only privileged people (or members of `groups`); `false`:
    /// only people who are not; absent: either.
    #[serde(default)]
    pub privileged: Option<bool>,
    /// Every group is needed; a group is met by any one of its factors.
    pub require: Vec<Vec<FactorName>>,
    #[serde(default)]
    pub fallback: Option<Vec<Vec<FactorName>>>,
}

fn requirement(groups: &[Vec<FactorName>]) -> Requirement {
    groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|f| match f {
                    FactorName::Questions => Factor::Questions,
                    FactorName::Totp => Factor::Totp,
                })
                .collect()
        })
        .collect()
}

fn check_groups(name: &str, key: &str, groups: &[Vec<FactorName>]) -> anyhow::Result<()> {
    if groups.is_empty() || groups.iter().any(Vec::is_empty) {
        bail!(
            "verification.policies {name:?}: {key} needs at least one group, each with at least one factor"
        );
    }
    Ok(())
}

impl PolicyConfig {
    pub fn policy(&self) -> VerificationPolicy {
        VerificationPolicy {
            name: self.name.clone(),
            operations: self
                .operations
                .iter()
                .map(|o| match o {
                    OperationName::Reset => Operation::Reset,
                    OperationName::Unlock => Operation::Unlock,
                })
                .collect(),
            departments: self.departments.clone(),
            groups: self.groups.clone(),
            privileged: self.privileged,
            require: requirement(&self.require),
            fallback: self.fallback.as_deref().map(requirement),
        }
    }
}

/// Names unique and not empty; every requirement has something in it.
pub fn validate(policies: &[PolicyConfig]) -> anyhow::Result<()> {
    let mut names = HashSet::new();
    for p in policies {
        if p.name.trim().is_empty() {
            bail!("verification.policies: every policy needs a name");
        }
        if !names.insert(p.name.as_str()) {
            bail!("verification.policies: the name {:?} is used twice", p.name);
        }
        check_groups(&p.name, "require", &p.require)?;
        if let Some(f) = &p.fallback {
            check_groups(&p.name, "fallback", f)?;
        }
    }
    Ok(())
}
