//! `UserIVRList`: who matches the digits a caller keyed.

use serde_json::json;
use touchtone_core::keypad::KeypadDigits;
use touchtone_store::people;

use super::Rotated;
use crate::{Caller, Service, ServiceError};

/// One person whose keypad ID matched, with what a voice menu needs to
/// tell namesakes apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMatch {
    pub user_id: String,
    pub display_name: String,
    pub department: String,
}

impl Service {
    pub async fn ivr_list(
        &self,
        caller: &Caller,
        token: &str,
        ivr_id: &str,
    ) -> Result<Rotated<Vec<UserMatch>>, ServiceError> {
        let digits = KeypadDigits::parse(ivr_id)
            .map_err(|e| ServiceError::BadRequest(format!("ivr_id: {e}")))?;
        let mut call = self.open_call(caller, token, "UserIVRList").await?;
        let found = match people::find_by_keypad(call.conn(), digits.as_str()).await {
            Ok(found) => found,
            Err(e) => return Err(self.fail_call(call, "", e.into()).await),
        };
        let matches: Vec<UserMatch> = found
            .into_iter()
            .map(|p| UserMatch {
                user_id: p.id,
                display_name: p.display_name,
                department: p.department,
            })
            .collect();
        let detail = json!({"ivr_id": digits.as_str(), "matches": matches.len()});
        let session = self.commit_call(call, "", detail).await?;
        Ok(Rotated {
            value: matches,
            session,
        })
    }
}
