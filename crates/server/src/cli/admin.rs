//! Operator commands. Secrets (passwords, answers) are read from stdin,
//! never taken as arguments, so they stay out of shell history and `ps`.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use touchtone_core::answer_strength::AnswerKind;
use touchtone_core::secret::SecretString;
use touchtone_service::Service;
use touchtone_service::admin::{AuditAnchor, PersonRecord};
use touchtone_service::directory_sync::{SyncMode, SyncReport};
use touchtone_service::enrolment::Question;
use touchtone_service::enrolment::report::Standing;
use touchtone_service::people::{Account, Person};

pub(super) const ACTOR: &str = "cli";

#[derive(Debug, Subcommand)]
pub enum ApiUserCommand {
    /// Add (or replace) an API user. The password is read from stdin with
    /// --password-stdin, else generated and printed once.
    Add {
        name: String,
        /// A network the user may call from (CIDR); repeat for several.
        #[arg(long = "allow", required = true)]
        allow: Vec<String>,
        /// May reset and unlock people it has not verified (a helpdesk).
        #[arg(long)]
        privileged: bool,
        #[arg(long)]
        password_stdin: bool,
    },
    List,
    Remove {
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PeopleCommand {
    /// Import people from CSV with the header
    /// `id,display_name,department,employee_number,mail,phone_numbers,accounts,disabled`
    /// (`phone_numbers` and `accounts` separated by `;`, accounts as
    /// `target:account`).
    Import {
        file: PathBuf,
    },
    /// Import and re-sync people from the configured directory imports
    /// (`[[directory_imports]]`): adds, updates and disables, keeping
    /// enrolled answers.
    Sync {
        /// Only this import (default: every one).
        #[arg(long)]
        source: Option<String>,
        /// Print what would change and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Apply even when more people would be disabled than
        /// max_disable_percent allows.
        #[arg(long, conflicts_with = "dry_run")]
        force: bool,
    },
    List {
        /// Only people not enrolled as the policy asks (or due to confirm
        /// their answers again).
        #[arg(long)]
        not_enrolled: bool,
    },
    Show {
        user_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum QuestionsCommand {
    Add {
        id: String,
        #[arg(long)]
        text: String,
        /// The fewest keypad digits an answer may have.
        #[arg(long, default_value_t = 3)]
        min_digits: i64,
        /// The most keypad digits an answer may have.
        #[arg(long, default_value_t = 12)]
        max_digits: i64,
        /// How answers are judged in the portal: text, year or number.
        #[arg(long, default_value = "text", value_parser = ["text", "year", "number"])]
        kind: String,
    },
    List,
}

#[derive(Debug, Subcommand)]
pub enum LockoutCommand {
    /// Clear a person's intruder lockout and forget earlier failures.
    Clear { user_id: String },
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Check a local account's password (read from stdin); exits 1 when it
    /// does not match.
    CheckPassword {
        account: String,
        #[arg(long, default_value = "local")]
        target: String,
    },
    /// Set an account's password (read from stdin), e.g. a local
    /// account's first one.
    SetPassword {
        account: String,
        #[arg(long, default_value = "local")]
        target: String,
    },
    /// Mark a local account locked (as after failed logins), to try unlock.
    Lock { account: String },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain; exits 1 if any row was edited or removed.
    Verify {
        /// A head recorded earlier with `audit head` (`SEQ:HASH`): detects
        /// rows cut from the end too.
        #[arg(long)]
        anchor: Option<String>,
    },
    /// Print the newest row's sequence number and hash, to keep elsewhere.
    Head,
}

pub(super) async fn service(
    config_path: &Path,
) -> anyhow::Result<(Service, crate::config::Config)> {
    let config = crate::config::Config::load(config_path)?;
    let service = crate::app::build_service(&config, crate::app::system_clock(), false).await?;
    Ok((service, config))
}

pub(super) fn read_secret(prompt: &str) -> anyhow::Result<SecretString> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        eprint!("{prompt}: ");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading stdin")?;
    let value = line.trim_end_matches(['\n', '\r']).to_owned();
    if value.is_empty() {
        anyhow::bail!("nothing was given on stdin");
    }
    Ok(SecretString::from(value))
}

pub async fn api_user(config: &Path, cmd: ApiUserCommand) -> anyhow::Result<()> {
    let (service, _) = service(config).await?;
    match cmd {
        ApiUserCommand::Add {
            name,
            allow,
            privileged,
            password_stdin,
        } => {
            let (password, generated) = if password_stdin {
                (read_secret("password")?, None)
            } else {
                let text = random_api_password();
                (SecretString::from(text.clone()), Some(text))
            };
            service
                .add_api_user(ACTOR, &name, password, allow, privileged)
                .await?;
            println!(
                "API user {name} saved{}",
                if privileged { " (privileged)" } else { "" }
            );
            if let Some(text) = generated {
                println!("password (shown once): {text}");
            }
        }
        ApiUserCommand::List => {
            for user in service.list_api_users().await? {
                println!(
                    "{}\t{}\t{}",
                    user.name,
                    user.allowed_networks.join(","),
                    if user.privileged { "privileged" } else { "" }
                );
            }
        }
        ApiUserCommand::Remove { name } => {
            if !service.remove_api_user(ACTOR, &name).await? {
                anyhow::bail!("no API user {name}");
            }
            println!("API user {name} removed; its sessions are ended");
        }
    }
    Ok(())
}

fn random_api_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

pub async fn people(config: &Path, cmd: PeopleCommand) -> anyhow::Result<()> {
    let (service, _) = service(config).await?;
    match cmd {
        PeopleCommand::Import { file } => {
            let records = read_people_csv(&file)?;
            let report = service.import_people(ACTOR, &records).await?;
            println!(
                "imported {} people: {} added, {} updated",
                records.len(),
                report.added,
                report.updated
            );
        }
        PeopleCommand::Sync {
            source,
            dry_run,
            force,
        } => {
            let mode = match (dry_run, force) {
                (true, _) => SyncMode::DryRun,
                (false, true) => SyncMode::Force,
                (false, false) => SyncMode::Apply,
            };
            let names: Vec<String> = match source {
                Some(name) => vec![name],
                None => service
                    .directory_sources()
                    .map(|s| s.name.clone())
                    .collect(),
            };
            if names.is_empty() {
                anyhow::bail!("no [[directory_imports]] are configured");
            }
            for name in names {
                let report = service.sync_directory(ACTOR, &name, mode).await?;
                print_sync_report(&report);
            }
        }
        PeopleCommand::List { not_enrolled: true } => {
            for (p, standing) in service.enrolment_standings().await? {
                let what = match standing {
                    Standing::Enrolled => continue,
                    Standing::NotEnrolled => "not enrolled",
                    Standing::ReconfirmDue => "due to confirm answers",
                };
                println!(
                    "{}\t{}\t{}\t{}\t{what}",
                    p.id,
                    p.display_name,
                    p.department,
                    p.mail.as_deref().unwrap_or("")
                );
            }
        }
        PeopleCommand::List {
            not_enrolled: false,
        } => {
            for p in service.list_people().await? {
                let ids: Vec<String> = service
                    .keypad_ids_of(&p)
                    .into_iter()
                    .map(|(_, d)| d)
                    .collect();
                println!(
                    "{}\t{}\t{}\t{}{}",
                    p.id,
                    p.display_name,
                    p.department,
                    ids.join(","),
                    if p.disabled { "\tdisabled" } else { "" }
                );
            }
        }
        PeopleCommand::Show { user_id } => {
            let r = service.person_report(&user_id).await?;
            println!("user_id:      {}", r.person.id);
            println!("name:         {}", r.person.display_name);
            println!("department:   {}", r.person.department);
            println!("disabled:     {}", r.person.disabled);
            println!("privileged:   {}", r.person.privileged);
            for group in &r.person.groups {
                println!("group:        {group}");
            }
            for (attribute, digits) in &r.keypad_ids {
                println!("keypad id:    {digits} ({attribute})");
            }
            let questions: Vec<&str> = r.enrolled.iter().map(|q| q.id.as_str()).collect();
            println!("enrolled:     {}", questions.join(", "));
            println!(
                "lockout:      {}",
                if r.locked_now {
                    format!(
                        "LOCKED (until {})",
                        r.lock
                            .and_then(|l| l.locked_until)
                            .map_or("cleared".into(), |t| t.to_string())
                    )
                } else {
                    "none".into()
                }
            );
            for (account, local) in &r.accounts {
                let state = match local {
                    Some(l) => format!(
                        "locked={} password_set={} changed_at={}",
                        l.locked,
                        l.password_set,
                        l.password_changed_at
                            .map_or("never".into(), |t| t.to_string())
                    ),
                    None => String::new(),
                };
                println!(
                    "account:      {}:{} {state}",
                    account.target, account.account
                );
            }
        }
    }
    Ok(())
}

/// Reads people from CSV (see `PeopleCommand::Import`).
pub fn read_people_csv(path: &Path) -> anyhow::Result<Vec<PersonRecord>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    read_people_csv_from(file, &path.display().to_string())
}

/// Reads people from CSV in `input`, named `name` in errors.
pub fn read_people_csv_from(
    input: impl std::io::Read,
    name: &str,
) -> anyhow::Result<Vec<PersonRecord>> {
    #[derive(serde::Deserialize)]
    struct Row {
        id: String,
        display_name: String,
        #[serde(default)]
        department: String,
        #[serde(default)]
        employee_number: String,
        #[serde(default)]
        mail: String,
        #[serde(default)]
        phone_numbers: String,
        #[serde(default)]
        accounts: String,
        #[serde(default)]
        disabled: String,
        /// Directory groups, `;`-separated, for verification policies.
        #[serde(default)]
        groups: String,
        #[serde(default)]
        privileged: String,
    }
    let mut reader = csv::Reader::from_reader(input);
    let mut records = Vec::new();
    for (index, row) in reader.deserialize::<Row>().enumerate() {
        let line = index + 2;
        let row = row.with_context(|| format!("{} line {line}", name))?;
        let split = |s: &str| {
            s.split(';')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        let accounts = split(&row.accounts)
            .into_iter()
            .map(|a| match a.split_once(':') {
                Some((target, account)) if !target.is_empty() && !account.is_empty() => {
                    Ok(Account {
                        target: target.to_owned(),
                        account: account.to_owned(),
                    })
                }
                _ => Err(anyhow::anyhow!(
                    "{} line {line}: account {a} is not target:account",
                    name
                )),
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let optional = |s: String| {
            if s.trim().is_empty() {
                None
            } else {
                Some(s.trim().to_owned())
            }
        };
        records.push(PersonRecord {
            person: Person {
                id: row.id.trim().to_owned(),
                display_name: row.display_name.trim().to_owned(),
                department: row.department.trim().to_owned(),
                employee_number: optional(row.employee_number),
                mail: optional(row.mail),
                phone_numbers: split(&row.phone_numbers),
                disabled: matches!(row.disabled.trim(), "1" | "true" | "yes"),
                groups: split(&row.groups),
                privileged: match row.privileged.trim().to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" => true,
                    "" | "0" | "false" | "no" => false,
                    other => anyhow::bail!(
                        "{} line {line}: privileged is {other:?}; use true or false",
                        name
                    ),
                },
            },
            accounts,
        });
    }
    Ok(records)
}

pub async fn questions(config: &Path, cmd: QuestionsCommand) -> anyhow::Result<()> {
    let (service, _) = service(config).await?;
    match cmd {
        QuestionsCommand::Add {
            id,
            text,
            min_digits,
            max_digits,
            kind,
        } => {
            let question = Question {
                id: id.clone(),
                text,
                min_digits,
                max_digits,
                kind: AnswerKind::parse(&kind),
                own: false,
            };
            service.add_question(ACTOR, &question).await?;
            println!("question {id} saved");
        }
        QuestionsCommand::List => {
            for q in service.list_questions().await? {
                println!(
                    "{}\t{}\t({} to {} digits, {})",
                    q.id,
                    q.text,
                    q.min_digits,
                    q.max_digits,
                    q.kind.as_str()
                );
            }
        }
    }
    Ok(())
}

pub async fn lockout(config: &Path, cmd: LockoutCommand) -> anyhow::Result<()> {
    let (service, _) = service(config).await?;
    let LockoutCommand::Clear { user_id } = cmd;
    let had = service.clear_lockout(ACTOR, &user_id).await?;
    println!(
        "{user_id}: {}",
        if had {
            "lockout cleared"
        } else {
            "was not locked; earlier failures forgotten"
        }
    );
    Ok(())
}

pub async fn accounts(config: &Path, cmd: AccountsCommand) -> anyhow::Result<()> {
    let (service, _) = service(config).await?;
    match cmd {
        AccountsCommand::CheckPassword { account, target } => {
            let password = read_secret("password")?;
            if service
                .check_account_password(&target, &account, &password)
                .await?
            {
                println!("{account}: the password matches");
            } else {
                println!("{account}: the password does NOT match");
                std::process::exit(1);
            }
        }
        AccountsCommand::SetPassword { account, target } => {
            let password = read_secret("new password")?;
            service
                .set_account_password(ACTOR, &target, &account, &password)
                .await?;
            println!("{account}: the password is set on {target}");
        }
        AccountsCommand::Lock { account } => {
            if !service.set_local_lock(ACTOR, &account, true).await? {
                anyhow::bail!("no local account {account}");
            }
            println!("{account} is locked");
        }
    }
    Ok(())
}

pub async fn audit(config: &Path, cmd: AuditCommand) -> anyhow::Result<()> {
    let (service, _) = service(config).await?;
    let anchor = match &cmd {
        AuditCommand::Verify {
            anchor: Some(anchor),
        } => Some(
            anchor
                .parse::<AuditAnchor>()
                .map_err(|e| anyhow::anyhow!("--anchor: {e}"))?,
        ),
        _ => None,
    };
    let report = service.verify_audit(anchor.as_ref()).await?;
    match cmd {
        AuditCommand::Head => println!("{}:{}", report.head_seq, report.head_hash),
        AuditCommand::Verify { .. } => {
            if let Some((seq, reason)) = &report.broken {
                println!("audit log BROKEN at row {seq}: {reason}");
                std::process::exit(1);
            }
            if let (Some(anchor), Some(false)) = (&anchor, report.anchor_holds) {
                println!(
                    "audit log BROKEN: row {} no longer has the recorded hash",
                    anchor.seq
                );
                std::process::exit(1);
            }
            println!(
                "audit log intact: {} rows, head {}:{}",
                report.rows, report.head_seq, report.head_hash
            );
        }
    }
    Ok(())
}

pub async fn backup(config: &Path, dest: &Path) -> anyhow::Result<()> {
    let (service, _) = service(config).await?;
    let report = service.backup(ACTOR, dest).await?;
    println!(
        "backed up to {}: audit log intact, {} rows, head {}:{}",
        dest.display(),
        report.rows,
        report.head_seq,
        report.head_hash
    );
    println!(
        "to restore: stop touchtone, put the file where database.url points (remove any -wal and -shm beside it), start it, and run: touchtone audit verify --anchor {}:{}",
        report.head_seq, report.head_hash
    );
    Ok(())
}

fn print_sync_report(report: &SyncReport) {
    let verb = if report.dry_run { "would be " } else { "" };
    for id in &report.added {
        println!("{}: {id} {verb}added", report.source);
    }
    for (id, fields) in &report.updated {
        println!(
            "{}: {id} {verb}updated ({})",
            report.source,
            fields.join(", ")
        );
    }
    for id in &report.disabled {
        println!(
            "{}: {id} {verb}disabled (gone from the directory)",
            report.source
        );
    }
    for (dn, reason) in &report.skipped {
        println!("{}: skipped {dn}: {reason}", report.source);
    }
    println!(
        "{}: {} added, {} updated, {} disabled, {} unchanged, {} skipped{}",
        report.source,
        report.added.len(),
        report.updated.len(),
        report.disabled.len(),
        report.unchanged,
        report.skipped.len(),
        if report.dry_run {
            " (dry run: nothing changed)"
        } else {
            ""
        }
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> anyhow::Result<Vec<PersonRecord>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.csv");
        std::fs::write(&path, text).unwrap();
        read_people_csv(&path)
    }

    #[test]
    fn people_csv_carries_groups_and_the_privileged_flag() {
        let records = read(
            "id,display_name,accounts,groups,privileged\n\
             ada,Ada Admin,local:ada,Domain Admins; Helpdesk ,true\n\
             bo,Bo,local:bo,,\n",
        )
        .unwrap();
        assert_eq!(records[0].person.groups, ["Domain Admins", "Helpdesk"]);
        assert!(records[0].person.privileged);
        assert!(records[1].person.groups.is_empty() && !records[1].person.privileged);
        // Without the columns, nobody is privileged.
        let old = read("id,display_name,accounts\nbo,Bo,local:bo\n").unwrap();
        assert!(!old[0].person.privileged);
        let err = read("id,display_name,privileged\nada,Ada,sometimes\n").unwrap_err();
        assert!(err.to_string().contains("line 2: privileged"), "{err}");
    }
}
