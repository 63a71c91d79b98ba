//! The pages' languages: English and German, chosen by the person's
//! switch on the page (a cookie), else by `Accept-Language`, else English.
//! The texts are Fluent files (`locales/LANG/web.ftl`, `mail.ftl`) compiled into the
//! binary; a test checks that every message exists in both.

use std::borrow::{Borrow, Cow};
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid, static_loader};

static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        // Arguments are inserted into HTML that is escaped anyway; the
        // bidi isolation marks Fluent adds by default would only show up
        // as stray characters in form values and screen readers.
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language the pages are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::De];

    /// The BCP 47 tag (`en`, `de`), for `<html lang>` and the cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }

    /// The language's name in itself, for the switch.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::De => "Deutsch",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "de" => Some(Lang::De),
            _ => None,
        }
    }

    /// The best of our languages for an `Accept-Language` header
    /// (RFC 9110 §12.5.4: the highest q wins; q=0 means "not this").
    pub fn negotiate(accept_language: &str) -> Option<Lang> {
        let mut best: Option<(Lang, f32)> = None;
        for item in accept_language.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(|tag| Lang::from_code(tag.trim())) else {
                continue;
            };
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
                best = Some((lang, q));
            }
        }
        best.map(|(lang, _)| lang)
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Lang::En => langid!("en"),
            Lang::De => langid!("de"),
        }
    }
}

/// The texts of one language, for a page.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn new(lang: Lang) -> Tr {
        Tr { lang }
    }

    /// The message `id`.
    pub fn t(&self, id: &str) -> String {
        LOCALES.lookup(&self.lang.id(), id)
    }

    /// The message `id` with one argument.
    pub fn t1(&self, id: &str, name: &'static str, value: impl ToString) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        args.insert(Cow::Borrowed(name), FluentValue::from(value.to_string()));
        LOCALES.lookup_with_args(&self.lang.id(), id, &args)
    }

    /// The message `id` with several text arguments.
    pub fn ta(&self, id: &str, values: &[(&'static str, &str)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue<'_>> = values
            .iter()
            .map(|(name, value)| (Cow::Borrowed(*name), FluentValue::from(value.to_string())))
            .collect();
        LOCALES.lookup_with_args(&self.lang.id(), id, &args)
    }

    /// The message `id` with a number (so plural forms apply).
    pub fn tn(&self, id: &str, name: &'static str, value: impl Borrow<usize>) -> String {
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        args.insert(
            Cow::Borrowed(name),
            FluentValue::from(*value.borrow() as f64),
        );
        LOCALES.lookup_with_args(&self.lang.id(), id, &args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message IDs of a Fluent file (`id = …` at the start of a line).
    fn ids(text: &str) -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with(' ') && !l.starts_with('#'))
            .filter_map(|l| l.split_once(" =").map(|(id, _)| id.trim().to_owned()))
            .filter(|id| !id.is_empty())
            .collect()
    }

    /// Every `$variable` a Fluent file uses.
    fn variables(text: &str) -> Vec<String> {
        let mut found: Vec<String> = text
            .split('$')
            .skip(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect()
            })
            .collect();
        found.sort();
        found.dedup();
        found
    }

    #[test]
    fn every_message_exists_in_both_languages() {
        check_both(
            include_str!("../locales/en/web.ftl"),
            include_str!("../locales/de/web.ftl"),
        );
        check_both(
            include_str!("../locales/en/mail.ftl"),
            include_str!("../locales/de/mail.ftl"),
        );
    }

    fn check_both(en_text: &str, de_text: &str) {
        let en = ids(en_text);
        let de = ids(de_text);
        assert!(!en.is_empty());
        assert_eq!(
            en, de,
            "the German file must have the English file's messages, in order"
        );
        let mut args: HashMap<Cow<'static, str>, FluentValue<'_>> = HashMap::new();
        for name in variables(en_text) {
            args.insert(Cow::Owned(name), FluentValue::from(2.0));
        }
        for id in &en {
            for lang in Lang::ALL {
                let text = LOCALES.lookup_with_args(&lang.id(), id, &args);
                assert!(
                    !text.is_empty() && !text.contains("Unknown localization"),
                    "{id} in {lang:?}: {text}"
                );
            }
        }
    }

    #[test]
    fn accept_language_picks_the_preferred_language_we_have() {
        assert_eq!(Lang::negotiate("de-DE,de;q=0.9,en;q=0.8"), Some(Lang::De));
        assert_eq!(
            Lang::negotiate("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7"),
            Some(Lang::En)
        );
        assert_eq!(Lang::negotiate("en;q=0.3, de;q=0.5"), Some(Lang::De));
        assert_eq!(Lang::negotiate("de;q=0, fr"), None);
        assert_eq!(Lang::negotiate(""), None);
        assert_eq!(Lang::negotiate("*"), None);
    }
}
