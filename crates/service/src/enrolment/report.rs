//! Who is enrolled: the people not enrolled yet (or due to confirm their
//! answers again), and the counts by department, for operators' reports.
//! A person is enrolled when they have the answers the policy asks for
//! (`enrolment.questions_required`), none older than `reconfirm_days`.

use std::collections::BTreeMap;

use touchtone_store::{people, questions};

use crate::people::Person;
use crate::{Service, ServiceError};

/// Where one person stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Enrolled,
    /// Fewer answers than the policy asks (maybe none).
    NotEnrolled,
    /// Enough answers, but some older than `reconfirm_days`.
    ReconfirmDue,
}

/// One department's counts (disabled people are not counted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepartmentCounts {
    pub department: String,
    pub people: usize,
    pub enrolled: usize,
    pub not_enrolled: usize,
    pub reconfirm_due: usize,
}

impl Service {
    /// Every active person with where they stand.
    pub async fn enrolment_standings(&self) -> Result<Vec<(Person, Standing)>, ServiceError> {
        let now = self.now();
        let settings = &self.settings().enrolment;
        let mut conn = self.store().acquire().await?;
        let summary: std::collections::HashMap<String, (i64, i64)> =
            questions::answer_summary(&mut conn)
                .await?
                .into_iter()
                .map(|(person, n, oldest)| (person, (n, oldest)))
                .collect();
        let required = i64::try_from(settings.questions_required).unwrap_or(i64::MAX);
        Ok(people::list(&mut conn)
            .await?
            .into_iter()
            .filter(|p| !p.disabled)
            .map(|person| {
                let standing = match summary.get(&person.id) {
                    Some((n, _)) if *n < required => Standing::NotEnrolled,
                    None => Standing::NotEnrolled,
                    Some((_, oldest))
                        if settings.reconfirm_ms > 0 && now - oldest > settings.reconfirm_ms =>
                    {
                        Standing::ReconfirmDue
                    }
                    Some(_) => Standing::Enrolled,
                };
                (Person::from(person), standing)
            })
            .collect())
    }

    /// The counts by department, departments in name order.
    pub async fn enrolment_report(&self) -> Result<Vec<DepartmentCounts>, ServiceError> {
        let mut by_department: BTreeMap<String, DepartmentCounts> = BTreeMap::new();
        for (person, standing) in self.enrolment_standings().await? {
            let row = by_department
                .entry(person.department.clone())
                .or_insert_with(|| DepartmentCounts {
                    department: person.department.clone(),
                    ..DepartmentCounts::default()
                });
            row.people += 1;
            match standing {
                Standing::Enrolled => row.enrolled += 1,
                Standing::NotEnrolled => row.not_enrolled += 1,
                Standing::ReconfirmDue => row.reconfirm_due += 1,
            }
        }
        Ok(by_department.into_values().collect())
    }
}
