//! Importing enrolled answers in bulk (`touchtone answers import`), from
//! another system's enrolment data: rows of user, question and answer.
//!
//! Each answer is normalised and hashed exactly as operator enrolment does
//! (it fits its question's digits, it can be keyed), never kept or logged
//! in clear. Every row is judged first and every refusal reported with
//! its line; then the accepted answers are written in one transaction,
//! with one audit row and one `ET_ENROLMENT_CHANGED` per person. By
//! default a file with any refused row changes nothing; with
//! `skip_refused` the accepted rows are imported alone. A dry run judges
//! and reports only.

use std::collections::{BTreeMap, HashSet};

use futures::{StreamExt, TryStreamExt};
use serde_json::json;
use touchtone_core::answer::normalise_for_enrolment;
use touchtone_core::event::EventType;
use touchtone_core::keypad::KeypadDigits;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_store::{people, questions};

use crate::events::EventRouter;
use crate::session_gate::{append_audit, commit};
use crate::{Service, ServiceError};

/// One row of an import file.
#[derive(Debug, Clone)]
pub struct AnswerRow {
    /// Where it is in the file (for the report).
    pub line: usize,
    pub user: String,
    pub question: String,
    pub answer: SecretString,
}

/// How an import runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Judge and report; change nothing.
    DryRun,
    /// Import only if every row is accepted.
    AllOrNothing,
    /// Import the accepted rows, report the others.
    SkipRefused,
}

/// What an import found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AnswersImportReport {
    /// Rows that can be (or were) imported.
    pub accepted: usize,
    /// `(line, reason)` of each refused row.
    pub refused: Vec<(usize, String)>,
    /// People whose answers changed.
    pub people: usize,
    /// Whether anything was written.
    pub written: bool,
}

impl Service {
    /// Imports `rows` as `actor` (see the module's doc for the modes).
    pub async fn import_answers(
        &self,
        actor: &str,
        rows: Vec<AnswerRow>,
        mode: ImportMode,
    ) -> Result<AnswersImportReport, ServiceError> {
        let mut report = AnswersImportReport::default();
        let (known_people, pool) = {
            let mut conn = self.store().acquire().await?;
            let known: HashSet<String> = people::list(&mut conn)
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect();
            let pool: BTreeMap<String, i64> = questions::list(&mut conn)
                .await?
                .into_iter()
                .map(|q| (q.id, q.max_digits))
                .collect();
            (known, pool)
        };
        let mut seen = HashSet::new();
        let mut accepted: Vec<(String, String, KeypadDigits)> = Vec::new();
        for row in rows {
            let refuse = |reason: &str| (row.line, reason.to_owned());
            let user = row.user.trim();
            let question = row.question.trim();
            let verdict = if !known_people.contains(user) {
                Err(refuse("no such person"))
            } else if let Some(max) = pool.get(question) {
                if !seen.insert((user.to_owned(), question.to_owned())) {
                    Err(refuse(
                        "this person's answer to this question is in the file twice",
                    ))
                } else {
                    let max = usize::try_from(*max).unwrap_or(0);
                    normalise_for_enrolment(row.answer.expose_secret(), max)
                        .map_err(|e| refuse(&e.to_string()))
                }
            } else {
                Err(refuse("no such question"))
            };
            match verdict {
                Ok(digits) => accepted.push((user.to_owned(), question.to_owned(), digits)),
                Err(refusal) => report.refused.push(refusal),
            }
        }
        report.accepted = accepted.len();
        report.people = accepted
            .iter()
            .map(|(u, _, _)| u)
            .collect::<HashSet<_>>()
            .len();
        let write = match mode {
            ImportMode::DryRun => false,
            ImportMode::AllOrNothing => report.refused.is_empty(),
            ImportMode::SkipRefused => true,
        };
        if !write || accepted.is_empty() {
            return Ok(report);
        }

        // Hash on the hasher's threads, as many at once as it runs.
        let parallel = 8;
        let hashed: Vec<(String, String, String)> = futures::stream::iter(accepted)
            .map(|(user, question, digits)| async move {
                let hash = self.hasher().hash_answer(digits).await?;
                Ok::<_, ServiceError>((user, question, hash))
            })
            .buffered(parallel)
            .try_collect()
            .await?;

        let now = self.now();
        let mut tx = self.admin_tx().await?;
        let mut by_person: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (user, question, hash) in &hashed {
            questions::set_answer(&mut tx, user, question, hash, now).await?;
            by_person.entry(user).or_default().push(question);
        }
        for (person, answered) in &by_person {
            let event = EventRouter::event(
                EventType::EnrolmentChanged,
                Some(person),
                actor,
                json!({"door": "import", "questions": answered.len()}),
                now,
            );
            self.events().emit(&mut tx, &event).await?;
        }
        append_audit(
            &mut tx,
            actor,
            "answers_import",
            "",
            "ok",
            json!({"accepted": hashed.len(), "people": by_person.len(), "refused": report.refused.len()}),
            now,
        )
        .await?;
        commit(tx).await?;
        report.written = true;
        Ok(report)
    }
}
