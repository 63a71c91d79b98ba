//! Telephone numbers in E.164 form (`+` and up to 15 digits), parsed once
//! at the edge with a default region for numbers written nationally, so
//! that `03001234567` in Pakistan and `+92 300 1234567` are the same number.
//!
//! Parsing and validation use the `phonenumber` crate (Google's
//! libphonenumber metadata, compiled in); no network, no I/O.

use std::fmt;
use std::str::FromStr;
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PhoneError {
    #[error("not a telephone number")]
    Unparsable,
    #[error("not a valid number for its country")]
    Invalid,
    #[error("unknown region code {0:?} (use an ISO 3166 code such as \"GB\" or \"PK\")")]
    UnknownRegion(String),
}

/// A region (ISO 3166-1 alpha-2 code) whose national dialling rules apply
/// to numbers written without a country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(phonenumber::country::Id);

impl FromStr for Region {
    type Err = PhoneError;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        code.trim()
            .to_ascii_uppercase()
            .parse::<phonenumber::country::Id>()
            .map(Region)
            .map_err(|_| PhoneError::UnknownRegion(code.to_string()))
    }
}

/// A valid number in E.164 form, for example `+923001234567`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct E164Number(String);

impl E164Number {
    /// Parses `input` (spaces, dashes, dots and brackets allowed; a leading
    /// `+` or the region's international prefix for foreign numbers).
    pub fn parse(input: &str, default_region: Option<Region>) -> Result<Self, PhoneError> {
        let number = phonenumber::parse(default_region.map(|r| r.0), input)
            .map_err(|_| PhoneError::Unparsable)?;
        if !phonenumber::is_valid(&number) {
            return Err(PhoneError::Invalid);
        }
        let formatted = number.format().mode(phonenumber::Mode::E164).to_string();
        Ok(E164Number(formatted))
    }

    /// `+` and digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether libphonenumber classes the number as premium rate or
    /// shared cost (the numbers toll fraud makes a service call).
    pub fn is_premium_or_shared_cost(&self) -> bool {
        phonenumber::parse(None, &self.0).is_ok_and(|n| {
            matches!(
                n.number_type(&phonenumber::metadata::DATABASE),
                phonenumber::Type::PremiumRate | phonenumber::Type::SharedCost
            )
        })
    }

    /// The digits without the `+`, as most trunks want them.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

impl fmt::Display for E164Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(code: &str) -> Option<Region> {
        Some(code.parse().unwrap())
    }

    #[test]
    fn national_numbers_take_the_default_region() {
        let n = E164Number::parse("03001234567", region("PK")).unwrap();
        assert_eq!(n.as_str(), "+923001234567");
        assert_eq!(n.digits(), "923001234567");
        let n = E164Number::parse("020 7946 0958", region("GB")).unwrap();
        assert_eq!(n.as_str(), "+442079460958");
    }

    #[test]
    fn international_forms_ignore_the_default_region() {
        for input in ["+92 300 1234567", "+92-300-123-4567", "0092 300 1234567"] {
            assert_eq!(
                E164Number::parse(input, region("PK")).unwrap().as_str(),
                "+923001234567",
                "{input}"
            );
        }
        assert_eq!(
            E164Number::parse("+1 (415) 555-2671", None)
                .unwrap()
                .as_str(),
            "+14155552671"
        );
        assert_eq!(
            E164Number::parse("011 44 20 7946 0958", region("US"))
                .unwrap()
                .as_str(),
            "+442079460958"
        );
    }

    #[test]
    fn bad_numbers_are_refused() {
        assert_eq!(
            E164Number::parse("12", region("PK")),
            Err(PhoneError::Invalid)
        );
        assert_eq!(
            E164Number::parse("hello", region("PK")),
            Err(PhoneError::Unparsable)
        );
        assert_eq!(
            E164Number::parse("", region("PK")),
            Err(PhoneError::Unparsable)
        );
        assert!(
            E164Number::parse("03001234567", None).is_err(),
            "national form needs a region"
        );
        assert!(E164Number::parse("+999 1234567", None).is_err());
        assert_eq!(
            "XX".parse::<Region>(),
            Err(PhoneError::UnknownRegion("XX".into()))
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = E164Number::parse(&s, Some(Region(phonenumber::country::Id::PK)));
        }
    }
}
