//! The command line: `demo`, `serve`, `init`, and the operator commands
//! (API users, people, questions and answers, lockouts, local accounts,
//! audit). Operator commands open the configured database directly; they
//! may run while the server is up.

mod admin;
mod enrolment;
mod otp;
mod sip_test;

#[cfg(fuzzing)]
pub(crate) use admin::read_people_csv_from;
#[cfg(fuzzing)]
pub(crate) use enrolment::read_answers_csv_from;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "touchtone",
    version,
    about = "Identity verification and self-service over the telephone"
)]
pub struct Cli {
    /// The configuration file (see `touchtone init`).
    #[arg(
        long,
        global = true,
        env = "TOUCHTONE_CONFIG",
        default_value = "touchtone.toml"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything on the embedded store with a demo data set.
    Demo(crate::demo::DemoArgs),
    /// Run the server from the configuration file.
    Serve,
    /// Write a commented example configuration and a new pepper.
    Init {
        /// Where the database, pepper and trial certificate go.
        #[arg(long, default_value = "/var/lib/touchtone")]
        data_dir: PathBuf,
        /// Replace an existing configuration file.
        #[arg(long)]
        force: bool,
    },
    /// API users: the IVR platforms allowed to call the remote API.
    #[command(subcommand, name = "api-user")]
    ApiUser(admin::ApiUserCommand),
    /// People, their keypad IDs and accounts.
    #[command(subcommand)]
    People(admin::PeopleCommand),
    /// Security questions.
    #[command(subcommand)]
    Questions(admin::QuestionsCommand),
    /// Enrol answers to security questions, one or from CSV.
    #[command(subcommand)]
    Answers(enrolment::AnswersCommand),
    /// Who is enrolled.
    #[command(subcommand)]
    Enrolment(enrolment::EnrolmentCommand),
    /// Intruder lockouts of people.
    #[command(subcommand)]
    Lockout(admin::LockoutCommand),
    /// Accounts in the local directory.
    #[command(subcommand)]
    Accounts(admin::AccountsCommand),
    /// The hash-chained audit log.
    #[command(subcommand)]
    Audit(admin::AuditCommand),
    /// Copy the live SQLite database to a new file (consistent, verified,
    /// durable); the server may keep running. PostgreSQL: use pg_dump.
    Backup {
        /// The new file (must not exist).
        dest: PathBuf,
    },
    /// Answer SIP calls with a small test flow (beep, collect digits, play
    /// them back) to try the telephony engine with a softphone.
    #[command(name = "sip-test")]
    SipTest(sip_test::SipTestArgs),
    /// Voice OTP against a running server.
    #[command(subcommand)]
    Otp(otp::OtpCommand),
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(args) => crate::demo::run(args).await,
        Command::SipTest(args) => sip_test::run(args).await,
        Command::Otp(cmd) => otp::run(cmd).await,
        Command::Serve => serve(&cli.config).await,
        Command::Init { data_dir, force } => init(&cli.config, &data_dir, force),
        Command::ApiUser(cmd) => admin::api_user(&cli.config, cmd).await,
        Command::People(cmd) => admin::people(&cli.config, cmd).await,
        Command::Questions(cmd) => admin::questions(&cli.config, cmd).await,
        Command::Answers(cmd) => enrolment::answers(&cli.config, cmd).await,
        Command::Enrolment(cmd) => enrolment::enrolment(&cli.config, cmd).await,
        Command::Lockout(cmd) => admin::lockout(&cli.config, cmd).await,
        Command::Accounts(cmd) => admin::accounts(&cli.config, cmd).await,
        Command::Audit(cmd) => admin::audit(&cli.config, cmd).await,
        Command::Backup { dest } => admin::backup(&cli.config, &dest).await,
    }
}

async fn serve(config_path: &std::path::Path) -> anyhow::Result<()> {
    let config = crate::config::Config::load(config_path)?;
    let running = crate::app::start(&config, crate::app::system_clock(), false).await?;
    println!(
        "touchtone is serving the remote API on https://{}/api/v1/",
        running.addr
    );
    crate::shutdown::wait_for_signal().await;
    running.stop().await
}

fn init(
    config_path: &std::path::Path,
    data_dir: &std::path::Path,
    force: bool,
) -> anyhow::Result<()> {
    if config_path.exists() && !force {
        anyhow::bail!(
            "{} exists; pass --force to replace it",
            config_path.display()
        );
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let text = crate::config::EXAMPLE.replace("{data_dir}", &data_dir.display().to_string());
    crate::config::Config::from_toml(&text)
        .context("the example configuration does not load (a bug)")?;
    std::fs::write(config_path, text)
        .with_context(|| format!("writing {}", config_path.display()))?;
    let pepper = data_dir.join("pepper.hex");
    crate::secret_files::load_or_create_pepper(&pepper, true)?;
    println!(
        "wrote {} and the pepper {}",
        config_path.display(),
        pepper.display()
    );
    println!(
        "next: touchtone --config {} api-user add ivr --allow 10.0.0.0/8",
        config_path.display()
    );
    Ok(())
}
