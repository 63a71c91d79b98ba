//! Enrolment commands: an operator enrolling one answer, importing answers
//! in bulk from CSV, and the enrolment report. Answers are read from
//! stdin or the file, never from the command line.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use touchtone_core::secret::{ExposeSecret, SecretString};
use touchtone_service::enrolment::import::{AnswerRow, ImportMode};

use super::admin::{ACTOR, read_secret, service};

#[derive(Debug, Subcommand)]
pub enum AnswersCommand {
    /// Enrol a person's answer to a question; the answer is read from stdin.
    Enroll {
        user_id: String,
        question_id: String,
    },
    /// Import answers from CSV with the header `user,question,answer`
    /// (another system's enrolment data). Every row is judged first; by
    /// default a file with a refused row imports nothing.
    Import {
        file: PathBuf,
        /// Report what would be imported and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import the accepted rows even when others are refused.
        #[arg(long, conflicts_with = "dry_run")]
        skip_refused: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum EnrolmentCommand {
    /// Issue a one-time PIN with which USER enrols by phone (replacing any
    /// earlier one). The PIN is printed once; only its hash is kept.
    Pin { user_id: String },
    /// Queue reminder e-mails now to the people who are not enrolled or
    /// are due to reconfirm (at most one per person per
    /// `enrolment.reminder_interval_days`); the running server sends them.
    Remind,
    /// Enrolled and not enrolled people by department.
    Report {
        /// As CSV (department,people,enrolled,not_enrolled,reconfirm_due).
        #[arg(long)]
        csv: bool,
    },
}

pub async fn answers(config: &Path, cmd: AnswersCommand) -> anyhow::Result<()> {
    let (service, _) = service(config).await?;
    match cmd {
        AnswersCommand::Enroll {
            user_id,
            question_id,
        } => {
            let answer = read_secret("answer")?;
            service
                .enroll_answer(ACTOR, &user_id, &question_id, &answer)
                .await?;
            println!("answer of {user_id} to {question_id} enrolled");
        }
        AnswersCommand::Import {
            file,
            dry_run,
            skip_refused,
        } => {
            let rows = read_answers_csv(&file)?;
            let mode = match (dry_run, skip_refused) {
                (true, _) => ImportMode::DryRun,
                (false, true) => ImportMode::SkipRefused,
                (false, false) => ImportMode::AllOrNothing,
            };
            let report = service.import_answers(ACTOR, rows, mode).await?;
            for (line, reason) in &report.refused {
                println!("line {line}: refused: {reason}");
            }
            println!(
                "{} rows accepted for {} people, {} refused; {}",
                report.accepted,
                report.people,
                report.refused.len(),
                if report.written {
                    "imported"
                } else if mode == ImportMode::DryRun {
                    "dry run: nothing changed"
                } else {
                    "nothing imported (fix the refused rows, or use --skip-refused)"
                }
            );
            if !report.refused.is_empty() && !report.written && mode != ImportMode::DryRun {
                std::process::exit(1);
            }
        }
    }
    Ok(())
}

pub async fn enrolment(config: &Path, cmd: EnrolmentCommand) -> anyhow::Result<()> {
    let (service, _) = service(config).await?;
    match cmd {
        EnrolmentCommand::Pin { user_id } => {
            let pin = service.issue_enrolment_pin(ACTOR, &user_id).await?;
            let hours = service.settings().enrolment.pin_valid_ms / 3_600_000;
            // The one place the PIN is shown: to the operator who gives it
            // to the person.
            println!(
                "enrolment PIN for {user_id}: {} (single use, valid for {hours} hours)",
                pin.expose_secret()
            );
        }
        EnrolmentCommand::Remind => {
            let queued = service.queue_reminders().await?;
            if service.settings().enrolment.reminder_interval_ms <= 0 {
                println!("reminders are off (enrolment.reminder_interval_days = 0)");
            } else {
                println!("{queued} reminder e-mails queued");
            }
        }
        EnrolmentCommand::Report { csv } => {
            let rows = service.enrolment_report().await?;
            if csv {
                let mut out = csv::Writer::from_writer(std::io::stdout());
                out.write_record([
                    "department",
                    "people",
                    "enrolled",
                    "not_enrolled",
                    "reconfirm_due",
                ])?;
                for r in &rows {
                    out.write_record([
                        r.department.clone(),
                        r.people.to_string(),
                        r.enrolled.to_string(),
                        r.not_enrolled.to_string(),
                        r.reconfirm_due.to_string(),
                    ])?;
                }
                out.flush()?;
            } else {
                println!(
                    "{:<24} {:>7} {:>9} {:>13} {:>14}",
                    "department", "people", "enrolled", "not enrolled", "reconfirm due"
                );
                for r in &rows {
                    let name = if r.department.is_empty() {
                        "(none)"
                    } else {
                        &r.department
                    };
                    println!(
                        "{name:<24} {:>7} {:>9} {:>13} {:>14}",
                        r.people, r.enrolled, r.not_enrolled, r.reconfirm_due
                    );
                }
            }
        }
    }
    Ok(())
}

/// Reads `user,question,answer` rows. A malformed line is an error (with
/// its number) before anything is judged.
pub fn read_answers_csv(path: &Path) -> anyhow::Result<Vec<AnswerRow>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    read_answers_csv_from(file, &path.display().to_string())
}

/// Reads `user,question,answer` rows from `input`, named `name` in errors.
pub fn read_answers_csv_from(
    input: impl std::io::Read,
    name: &str,
) -> anyhow::Result<Vec<AnswerRow>> {
    #[derive(serde::Deserialize)]
    struct Row {
        user: String,
        question: String,
        answer: String,
    }
    let mut reader = csv::Reader::from_reader(input);
    let mut rows = Vec::new();
    for (index, row) in reader.deserialize::<Row>().enumerate() {
        let line = index + 2;
        // The error names the line, never the row's content (an answer).
        let row = row.map_err(|e| {
            anyhow::anyhow!(
                "{} line {line}: not a user,question,answer row ({})",
                name,
                csv_error_kind(&e)
            )
        })?;
        rows.push(AnswerRow {
            line,
            user: row.user,
            question: row.question,
            answer: SecretString::from(row.answer),
        });
    }
    Ok(rows)
}

/// What is wrong with a CSV row, without its content.
fn csv_error_kind(e: &csv::Error) -> &'static str {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8",
        csv::ErrorKind::UnequalLengths { .. } => "wrong number of fields",
        csv::ErrorKind::Deserialize { .. } => "a field is missing or malformed",
        csv::ErrorKind::Io(_) => "cannot be read",
        _ => "malformed",
    }
}
