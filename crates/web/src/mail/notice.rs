//! Notices to a person of what happened to their accounts (a reset, an
//! unlock, a lockout, a failed verification). The service queues them with
//! the change ([`touchtone_service::notices`]); this writes and sends them.
//! A notice never contains the password, a code or an answer: only what
//! happened, when, by which door, and on which systems.

use std::sync::Arc;

use askama::Template;
use async_trait::async_trait;
use lettre::message::Message;
use touchtone_service::delivery::Sink;
use touchtone_service::notices::{Notice, NoticeKind};

use super::Mailer;
use crate::i18n::{Lang, Tr};

/// The sink of [`touchtone_service::notices::NOTICE_ACTION`].
pub struct NoticeMailer {
    mailer: Arc<Mailer>,
}

#[derive(Template)]
#[template(path = "mail/notice.txt")]
struct NoticeText {
    greeting: String,
    what: String,
    systems_heading: String,
    systems: Vec<String>,
    lock_line: Option<String>,
    not_you: String,
    was_you: String,
    footer: String,
}

impl NoticeMailer {
    pub fn new(mailer: Arc<Mailer>) -> NoticeMailer {
        NoticeMailer { mailer }
    }

    /// The message for `notice`, queued as outbox item `item_id`.
    pub fn message(&self, notice: &Notice, item_id: &str) -> Result<Message, String> {
        let tr = Tr::new(Lang::from_code(&notice.language).unwrap_or(Lang::En));
        let time = self.mailer.local_time(notice.at);
        let door = notice.door.as_str();
        let systems = notice
            .accounts
            .iter()
            .map(|a| {
                let id = if a.ok {
                    "notice-system-done"
                } else if a.unknown {
                    "notice-system-unknown"
                } else {
                    "notice-system-failed"
                };
                tr.ta(id, &[("target", &a.target), ("account", &a.account)])
            })
            .collect();
        let lock_line = (notice.kind == NoticeKind::LockedOut).then(|| match notice.locked_until {
            Some(until) => tr.t1(
                "notice-lockout-until",
                "time",
                self.mailer.local_time(until),
            ),
            None => tr.t("notice-lockout-indefinite"),
        });
        // To the person: "your password was reset …"; to an administrator:
        // "the password of NAME (ID), a privileged account, …".
        let (subject, greeting, what, not_you, was_you) = if notice.for_admin {
            let (subject_id, what_id) = match notice.kind {
                NoticeKind::PasswordReset => ("notice-admin-subject-reset", "notice-admin-reset"),
                NoticeKind::AccountsUnlocked => {
                    ("notice-admin-subject-unlock", "notice-admin-unlock")
                }
                NoticeKind::LockedOut | NoticeKind::VerificationFailed => {
                    ("notice-admin-subject-lockout", "notice-admin-lockout")
                }
            };
            let (name, id) = (notice.display_name.as_str(), notice.person_id.as_str());
            (
                tr.t1(subject_id, "id", id),
                tr.t("notice-admin-greeting"),
                tr.ta(
                    what_id,
                    &[("name", name), ("id", id), ("door", door), ("time", &time)],
                ),
                tr.t1("notice-admin-check", "name", name),
                String::new(),
            )
        } else {
            let (subject_id, what_id) = match notice.kind {
                NoticeKind::PasswordReset if notice.any_ok() => {
                    ("notice-subject-reset", "notice-reset")
                }
                NoticeKind::PasswordReset => ("notice-subject-reset-failed", "notice-reset-failed"),
                NoticeKind::AccountsUnlocked => ("notice-subject-unlock", "notice-unlock"),
                NoticeKind::LockedOut => ("notice-subject-lockout", "notice-lockout"),
                NoticeKind::VerificationFailed => {
                    ("notice-subject-verify-failure", "notice-verify-failure")
                }
            };
            (
                tr.t(subject_id),
                tr.t1("notice-greeting", "name", &notice.display_name),
                tr.ta(what_id, &[("door", door), ("time", &time)]),
                tr.t("notice-not-you"),
                tr.t("notice-was-you"),
            )
        };
        let body = NoticeText {
            greeting,
            what,
            systems_heading: tr.t("notice-systems"),
            systems,
            lock_line,
            not_you,
            was_you,
            footer: tr.t("notice-footer"),
        }
        .render()
        .map_err(|e| format!("rendering the notice: {e}"))?;
        let recipient = if notice.for_admin {
            ""
        } else {
            notice.display_name.as_str()
        };
        self.mailer
            .message((recipient, &notice.to), subject, "notice", item_id, body)
            .map_err(|e| format!("the notice to {}: {e}", notice.person_id))
    }
}

#[async_trait]
impl Sink for NoticeMailer {
    async fn deliver(&self, item_id: &str, _event_type: &str, payload: &str) -> Result<(), String> {
        let notice: Notice =
            serde_json::from_str(payload).map_err(|e| format!("not a notice: {e}"))?;
        let message = self.message(&notice, item_id)?;
        self.mailer
            .send(message)
            .await
            .map_err(|e| format!("sending the notice to {}: {e}", notice.to))?;
        tracing::info!(person = %notice.person_id, kind = notice.kind.as_str(), "notice e-mail sent");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use touchtone_service::notices::NoticeAccount;

    use super::*;

    fn mailer() -> NoticeMailer {
        NoticeMailer::new(Arc::new(
            Mailer::new(&super::super::test_settings()).unwrap(),
        ))
    }

    fn notice(kind: NoticeKind, language: &str) -> Notice {
        Notice {
            person_id: "jsmith".into(),
            display_name: "Jörg Smith".into(),
            to: "jsmith@example.com".into(),
            kind,
            // 2026-12-02 09:42 UTC, 10:42 in Berlin.
            at: 1_796_204_520_000,
            door: "ivr".into(),
            accounts: vec![
                NoticeAccount {
                    target: "ad".into(),
                    account: "jsmith".into(),
                    ok: true,
                    unknown: false,
                },
                NoticeAccount {
                    target: "ldap".into(),
                    account: "jsmith".into(),
                    ok: false,
                    unknown: false,
                },
            ],
            locked_until: None,
            language: language.into(),
            for_admin: false,
        }
    }

    /// The message with quoted-printable soft line breaks undone.
    fn text(message: &Message) -> String {
        String::from_utf8(message.formatted())
            .unwrap()
            .replace("=\r\n", "")
    }

    #[tokio::test]
    async fn a_reset_notice_says_when_how_and_where_in_local_time() {
        let en = text(
            &mailer()
                .message(&notice(NoticeKind::PasswordReset, "en"), "abc/@notice-mail")
                .unwrap(),
        );
        assert!(en.contains("Subject: Your password was reset"), "{en}");
        assert!(
            en.contains("reset by telephone at 2026-12-02 10:42 CET."),
            "{en}"
        );
        assert!(en.contains("- ad (jsmith): done"), "{en}");
        assert!(en.contains("- ldap (jsmith): not changed"), "{en}");
        assert!(en.contains("If this was not you"), "{en}");
        assert!(
            en.contains("Message-ID: <notice-abc..notice-mail@example.com>"),
            "{en}"
        );
        let de = text(
            &mailer()
                .message(&notice(NoticeKind::PasswordReset, "de"), "x")
                .unwrap(),
        );
        assert!(de.contains("am 2026-12-02 10:42 CET per Telefon"), "{de}");
    }

    #[tokio::test]
    async fn every_kind_has_its_own_words_and_a_lockout_says_until_when() {
        let m = mailer();
        let mut failed = notice(NoticeKind::PasswordReset, "en");
        for a in &mut failed.accounts {
            a.ok = false;
        }
        let mut lockout = notice(NoticeKind::LockedOut, "en");
        lockout.accounts.clear();
        lockout.locked_until = Some(lockout.at + 30 * 60 * 1000);
        lockout.door = "portal".into();
        let texts: Vec<String> = [
            failed,
            notice(NoticeKind::AccountsUnlocked, "en"),
            lockout,
            notice(NoticeKind::VerificationFailed, "en"),
        ]
        .iter()
        .map(|n| text(&m.message(n, "x").unwrap()))
        .collect();
        assert!(texts[0].contains("did not complete"), "{}", texts[0]);
        assert!(texts[1].contains("Subject: Your account was unlocked"));
        assert!(
            texts[2].contains("in the self-service portal"),
            "{}",
            texts[2]
        );
        assert!(
            texts[2].contains("The lock ends at 2026-12-02 11:12 CET"),
            "{}",
            texts[2]
        );
        assert!(texts[3].contains("and failed."), "{}", texts[3]);
    }

    #[tokio::test]
    async fn a_system_whose_outcome_a_crash_left_unknown_is_named_with_what_to_do() {
        for (language, wanted) in [
            ("en", "- ldap (jsmith): not confirmed: the service stopped"),
            ("de", "- ldap (jsmith): nicht best"),
        ] {
            let mut n = notice(NoticeKind::PasswordReset, language);
            n.accounts[1].unknown = true;
            let t = text(&mailer().message(&n, "x").unwrap());
            assert!(t.contains(wanted), "{t}");
            assert!(t.contains("- ad (jsmith):"), "{t}");
        }
    }

    #[tokio::test]
    async fn an_administrator_is_told_about_the_privileged_person() {
        let mut n = notice(NoticeKind::PasswordReset, "en");
        n.for_admin = true;
        n.to = "security@example.com".into();
        let t = text(&mailer().message(&n, "x").unwrap());
        assert!(t.contains("To: security@example.com"), "{t}");
        assert!(
            t.contains("Subject: Privileged account jsmith: password reset"),
            "{t}"
        );
        assert!(t.contains("Hello,"), "{t}");
        assert!(
            t.contains("a privileged account, was reset by telephone at 2026-12-02 10:42 CET."),
            "{t}"
        );
        assert!(t.contains("- ad (jsmith): done"), "{t}");
        assert!(!t.contains("If this was not you"), "{t}");
        n.language = "de".into();
        let de = text(&mailer().message(&n, "x").unwrap());
        assert!(de.contains("einem privilegierten Konto"), "{de}");
    }
}
