//! Voice-OTP rules with no I/O: the code's form and its masked display,
//! the destination guard (allowed prefixes, premium-rate numbers), and the
//! dial plan that rewrites an E.164 number into what the trunk expects.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::phone::E164Number;

/// Longest code the reference API accepts.
pub const MAX_CODE_DIGITS: usize = 20;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum OtpError {
    #[error("the code must be 1 to {MAX_CODE_DIGITS} digits")]
    BadCode,
    #[error("calls to this destination are not allowed")]
    DestinationNotAllowed,
    #[error("premium-rate and shared-cost numbers are not called")]
    PremiumRate,
}

/// A one-time code: digits only. Its `Debug` never shows the digits.
#[derive(Clone)]
pub struct OtpCode(SecretString);

impl OtpCode {
    pub fn parse(text: &str) -> Result<OtpCode, OtpError> {
        if text.is_empty()
            || text.len() > MAX_CODE_DIGITS
            || !text.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(OtpError::BadCode);
        }
        Ok(OtpCode(SecretString::from(text.to_owned())))
    }

    pub fn digits(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn len(&self) -> usize {
        self.digits().len()
    }

    pub fn is_empty(&self) -> bool {
        self.digits().is_empty()
    }

    /// Constant-time comparison with what the callee keyed.
    pub fn matches(&self, keyed: &str) -> bool {
        self.digits().len() == keyed.len()
            && bool::from(self.digits().as_bytes().ct_eq(keyed.as_bytes()))
    }

    /// The code as it may be shown in a call record: its length, and its
    /// last digit only when it has at least six (a shorter code would give
    /// away too large a share).
    pub fn mask(&self) -> String {
        let digits = self.digits();
        let shown = if digits.len() >= 6 { 1 } else { 0 };
        let hidden = digits.len() - shown;
        format!("{}{}", "*".repeat(hidden), &digits[hidden..])
    }
}

impl fmt::Debug for OtpCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OtpCode({} digits)", self.len())
    }
}

/// Where calls may go: E.164 prefixes (`"+44"`, `"+1415"`; `"+"` allows
/// every country) and whether premium-rate and shared-cost numbers are
/// refused (they are, unless allowed: toll fraud calls them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationGuard {
    pub allowed_prefixes: Vec<String>,
    pub allow_premium: bool,
}

impl DestinationGuard {
    pub fn check(&self, number: &E164Number) -> Result<(), OtpError> {
        if !self
            .allowed_prefixes
            .iter()
            .any(|p| number.as_str().starts_with(p.as_str()))
        {
            return Err(OtpError::DestinationNotAllowed);
        }
        if !self.allow_premium && number.is_premium_or_shared_cost() {
            return Err(OtpError::PremiumRate);
        }
        Ok(())
    }
}

/// Rewrites an E.164 number for the trunk: the first rule whose `from`
/// prefix matches replaces that prefix with `to` (`"+92" → "0092"`,
/// `"+1" → "1"`); with no matching rule the number is sent as E.164.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialPlan {
    pub rules: Vec<(String, String)>,
}

impl DialPlan {
    pub fn apply(&self, number: &E164Number) -> String {
        let e164 = number.as_str();
        for (from, to) in &self.rules {
            if let Some(rest) = e164.strip_prefix(from.as_str()) {
                return format!("{to}{rest}");
            }
        }
        e164.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pk(n: &str) -> E164Number {
        E164Number::parse(n, Some("PK".parse().unwrap())).unwrap()
    }

    #[test]
    fn codes_are_digits_up_to_twenty() {
        assert!(OtpCode::parse("1234").is_ok());
        assert!(OtpCode::parse(&"9".repeat(20)).is_ok());
        for bad in ["", "12a4", " 1234", "+123", &"1".repeat(21), "１２３"] {
            assert_eq!(
                OtpCode::parse(bad).err(),
                Some(OtpError::BadCode),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn masks_hide_all_but_the_last_of_six_or_more() {
        assert_eq!(OtpCode::parse("1234").unwrap().mask(), "****");
        assert_eq!(OtpCode::parse("482913").unwrap().mask(), "*****3");
        let code = OtpCode::parse("482913").unwrap();
        assert!(!format!("{code:?}").contains("4829"));
        assert!(code.matches("482913"));
        assert!(!code.matches("482914"));
        assert!(!code.matches("4829130"));
        assert!(!code.matches(""));
    }

    #[test]
    fn the_guard_allows_listed_prefixes_and_refuses_premium_rate() {
        let guard = DestinationGuard {
            allowed_prefixes: vec!["+92".into()],
            allow_premium: false,
        };
        assert_eq!(guard.check(&pk("03001234567")), Ok(()));
        let uk = E164Number::parse("+442079460958", None).unwrap();
        assert_eq!(guard.check(&uk), Err(OtpError::DestinationNotAllowed));
        let everywhere = DestinationGuard {
            allowed_prefixes: vec!["+".into()],
            allow_premium: false,
        };
        assert_eq!(everywhere.check(&uk), Ok(()));
        // A UK premium-rate number (09xx).
        let premium = E164Number::parse("+449098790000", None).unwrap();
        assert_eq!(everywhere.check(&premium), Err(OtpError::PremiumRate));
        let lax = DestinationGuard {
            allow_premium: true,
            ..everywhere
        };
        assert_eq!(lax.check(&premium), Ok(()));
    }

    #[test]
    fn the_dial_plan_rewrites_the_first_matching_prefix() {
        let plan = DialPlan {
            rules: vec![("+92".into(), "0092".into()), ("+".into(), "00".into())],
        };
        assert_eq!(plan.apply(&pk("03001234567")), "00923001234567");
        let uk = E164Number::parse("+442079460958", None).unwrap();
        assert_eq!(plan.apply(&uk), "00442079460958");
        assert_eq!(DialPlan::default().apply(&uk), "+442079460958");
    }
}
