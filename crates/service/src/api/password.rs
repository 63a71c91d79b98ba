//! `PasswordRandomGet`, and the password policy a person's new password
//! must meet (the strictest of the base policy and their targets').

use serde_json::json;
use touchtone_core::password::{self, PasswordPolicy};
use touchtone_core::secret::SecretString;
use touchtone_store::{AnyConnection, people};

use super::Rotated;
use crate::people::active_person;
use crate::session_gate::CallTx;
use crate::{Caller, Service, ServiceError};

/// A generated password and how to read it out.
#[derive(Debug, Clone)]
pub struct RandomPassword {
    pub password: SecretString,
    /// One entry per character: "capital Kilo", "seven", …
    pub spoken: Vec<String>,
}

impl Service {
    pub async fn password_random_get(
        &self,
        caller: &Caller,
        token: &str,
        user_id: &str,
    ) -> Result<Rotated<RandomPassword>, ServiceError> {
        super::check_id("user_id", user_id)?;
        let mut call = self.open_call(caller, token, "PasswordRandomGet").await?;
        match self.generate_for(&mut call, user_id).await {
            Ok(generated) => {
                let detail = json!({"length": generated.spoken.len()});
                let session = self.commit_call(call, user_id, detail).await?;
                Ok(Rotated {
                    value: generated,
                    session,
                })
            }
            Err(e) => Err(self.fail_call(call, user_id, e).await),
        }
    }

    async fn generate_for(
        &self,
        call: &mut CallTx,
        user_id: &str,
    ) -> Result<RandomPassword, ServiceError> {
        let person = active_person(call.conn(), user_id).await?;
        let policy = self.policy_for(call.conn(), &person.id, None).await?;
        let generated =
            password::generate(&policy, self.settings().password_length, &mut rand::rng())
                .map_err(|e| ServiceError::PolicyConflict(e.to_string()))?;
        let spoken = password::spell(&generated);
        Ok(RandomPassword {
            password: SecretString::from(generated),
            spoken,
        })
    }

    /// The strictest of the base policy and the policies of the person's
    /// targets (only those of `selected` accounts, when given).
    pub(crate) async fn policy_for(
        &self,
        conn: &mut AnyConnection,
        person_id: &str,
        selected: Option<&[touchtone_store::people::AccountRef]>,
    ) -> Result<PasswordPolicy, ServiceError> {
        let accounts = match selected {
            Some(s) => s.to_vec(),
            None => people::accounts(conn, person_id).await?,
        };
        let mut policies = vec![self.settings().base_policy.clone()];
        for account in &accounts {
            if let Some(target) = self.targets().get(&account.target) {
                policies.push(target.policy().clone());
            }
        }
        PasswordPolicy::strictest(&policies)
            .map_err(|e| ServiceError::PolicyConflict(e.to_string()))
    }
}
