//! Enrolment by import and the enrolment report: every row judged and
//! every refusal reported by line; a file with a refused row imports
//! nothing unless told to skip them; a dry run changes nothing; imported
//! answers verify on the phone; the report counts by department.

use touchtone_service::enrolment::import::{AnswerRow, ImportMode};
use touchtone_service::enrolment::report::Standing;
use touchtone_testkit::both_databases;

use crate::harness::*;

fn row(line: usize, user: &str, question: &str, answer: &str) -> AnswerRow {
    AnswerRow {
        line,
        user: user.into(),
        question: question.into(),
        answer: secret(answer),
    }
}

/// A file: bob's three new answers, and four bad rows.
fn file() -> Vec<AnswerRow> {
    vec![
        row(2, "bob", "year", "1957"),
        row(3, "bob", "pet", "Fido"),
        row(4, "bob", "city", "Lyon"),
        row(5, "nobody", "year", "1957"),
        row(6, "alice", "shoe", "44"),
        row(7, "alice", "pet", "ab"),
        row(8, "bob", "pet", "Rex"),
    ]
}

both_databases! {
    async fn a_file_with_a_refused_row_imports_nothing_and_says_why(db: Db) {
        let h = Harness::start(db).await;
        let report = h.service.import_answers("test", file(), ImportMode::AllOrNothing).await.unwrap();
        assert!(!report.written);
        assert_eq!(report.accepted, 3);
        let lines: Vec<usize> = report.refused.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [5, 6, 7, 8]);
        assert!(report.refused[0].1.contains("no such person"), "{:?}", report.refused);
        assert!(report.refused[1].1.contains("no such question"));
        assert!(report.refused[2].1.contains("at least"));
        assert!(report.refused[3].1.contains("twice"));
        // Nothing changed: bob's old answers still verify.
        h.verified(&api(), "bob").await;
        assert_eq!(h.count_events("bob", "ET_ENROLMENT_CHANGED").await, 0);

        let dry = h.service.import_answers("test", file(), ImportMode::DryRun).await.unwrap();
        assert!(!dry.written);
        h.verified(&api(), "bob").await;
    }

    async fn the_accepted_rows_are_imported_when_told_and_verify_on_the_phone(db: Db) {
        let h = Harness::start(db).await;
        let report = h.service.import_answers("test", file(), ImportMode::SkipRefused).await.unwrap();
        assert!(report.written);
        assert_eq!((report.accepted, report.people, report.refused.len()), (3, 1, 4));
        assert_eq!(h.count_events("bob", "ET_ENROLMENT_CHANGED").await, 1);
        let call = h.session(&ivr()).await;
        let challenge = h.service.questions_get(&ivr(), &call, "bob").await.unwrap();
        let keyed = |q: &str| match q { "year" => "1957", "pet" => "3436", _ => "5966" };
        let answers = challenge.value.questions.iter().map(|q| touchtone_service::api::Answer {
            question_id: q.question_id.clone(),
            answer: secret(keyed(&q.question_id)),
        }).collect();
        let v = h.service.answers_validate(&ivr(), challenge.session.reveal(), &challenge.value.challenge_id, answers).await.unwrap();
        assert!(v.value.valid, "the imported answers verify");
        // No answer is kept in clear anywhere the test can read.
        let mut conn = h.store.acquire().await.unwrap();
        let (audit,): (String,) = sqlx::query_as("SELECT detail FROM audit_log WHERE action = 'answers_import'")
            .fetch_one(&mut *conn).await.unwrap();
        assert!(!audit.contains("Fido") && !audit.contains("3436"), "{audit}");
    }

    async fn the_report_counts_people_by_where_they_stand(db: Db) {
        let h = Harness::start(db).await;
        let newcomer = touchtone_service::admin::PersonRecord {
            person: touchtone_service::people::Person {
                id: "dave".into(), display_name: "Dave".into(), department: "Sales".into(),
                employee_number: None, mail: Some("dave@example.test".into()), phone_numbers: vec![], disabled: false, groups: vec![], privileged: false,
            },
            accounts: vec![],
        };
        h.service.import_people("test", &[newcomer]).await.unwrap();
        let standings = h.service.enrolment_standings().await.unwrap();
        let dave = standings.iter().find(|(p, _)| p.id == "dave").unwrap();
        assert_eq!(dave.1, Standing::NotEnrolled);
        assert!(standings.iter().filter(|(p, _)| p.id != "dave").all(|(_, s)| *s == Standing::Enrolled));
        let report = h.service.enrolment_report().await.unwrap();
        let depts: Vec<(String, usize, usize, usize)> = report.iter()
            .map(|r| (r.department.clone(), r.people, r.enrolled, r.not_enrolled)).collect();
        assert_eq!(depts, vec![("QA".to_owned(), 3, 3, 0), ("Sales".to_owned(), 1, 0, 1)]);
    }

    async fn reminders_go_once_per_interval_even_from_passes_at_once(db: Db) {
        let h = Harness::start_with(db, |s| s.enrolment.reminder_interval_ms = 7 * 24 * 3600 * 1000).await;
        let people: Vec<_> = (0..30).map(|i| touchtone_service::admin::PersonRecord {
            person: touchtone_service::people::Person {
                id: format!("p{i}"), display_name: format!("P {i}"), department: "Sales".into(),
                employee_number: None,
                // Every third has no address (and gets no reminder).
                mail: (i % 3 != 0).then(|| format!("p{i}@example.test")),
                phone_numbers: vec![], disabled: false, groups: vec![], privileged: false,
            },
            accounts: vec![],
        }).collect();
        h.service.import_people("test", &people).await.unwrap();
        // Two passes at once (two nodes, say) queue each reminder once.
        let (a, b) = tokio::join!(h.service.queue_reminders(), h.service.queue_reminders());
        assert_eq!(a.unwrap() + b.unwrap(), 20);
        let mut conn = h.store.acquire().await.unwrap();
        let (queued,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE action = '@reminder-mail'")
            .fetch_one(&mut *conn).await.unwrap();
        assert_eq!(queued, 20);
        let (payload,): (String,) = sqlx::query_as("SELECT payload FROM outbox WHERE action = '@reminder-mail' LIMIT 1")
            .fetch_one(&mut *conn).await.unwrap();
        let reminder: serde_json::Value = serde_json::from_str(&payload).unwrap();
        assert_eq!(reminder["reason"], "not_enrolled");
        assert_eq!(reminder["questions_required"], 3);
        drop(conn);
        assert_eq!(h.service.queue_reminders().await.unwrap(), 0, "within the interval");
        h.clock.advance(7 * 24 * 3600 * 1000 + 1);
        assert_eq!(h.service.queue_reminders().await.unwrap(), 20, "after it");
    }
}
