//! `touchtone demo`: the whole server on the embedded store, with a demo
//! data set a tester can drive with curl without reading code.
//!
//! The data directory gets the SQLite database, a pepper, a self-signed
//! certificate, the configuration used (`touchtone.toml`, so the operator
//! commands work against the demo), `demo.json` (addresses, credentials,
//! every person's keypad ID and answers) and `events.jsonl` (every event,
//! one JSON object a line). The data set is seeded once; later starts
//! reuse the database.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::json;
use touchtone_core::answer_strength::AnswerKind;
use touchtone_core::keypad::map_to_keypad;
use touchtone_core::secret::SecretString;
use touchtone_service::Service;
use touchtone_service::admin::PersonRecord;
use touchtone_service::enrolment::Question;
use touchtone_service::people::{Account, Person};

use crate::config::Config;

#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Where the demo keeps its database, certificate and files.
    #[arg(long, default_value = "touchtone-demo")]
    pub data_dir: PathBuf,
    /// Address of the HTTPS API.
    #[arg(long, default_value = "127.0.0.1:8443")]
    pub http: SocketAddr,
    /// Answer the reset call on this SIP (UDP and TCP) address, e.g.
    /// 127.0.0.1:5060; any number dialled reaches it.
    #[arg(long)]
    pub sip: Option<SocketAddr>,
    /// Send voice-OTP calls to this SIP address (`sip:HOST:PORT`), the
    /// number in the request URI's user part, so any softphone there can
    /// answer them.
    #[arg(long)]
    pub trunk: Option<String>,
}

/// The person who is not enrolled yet: they sign in to the portal,
/// enrol, then reset by phone. login, name, department, employee number.
pub const NEWHIRE: (&str, &str, &str, &str) = ("newhire", "Noah Newhire", "Operations", "E1099");

/// A demo person's portal password (their local account's): `Welcome!`,
/// the login, `1`.
pub fn portal_password(login: &str) -> String {
    format!("Welcome!{login}1")
}

pub const DEMO_API_USER: &str = "demo";
pub const DEMO_API_PASSWORD: &str = "demo-password";

/// The questions: id, text, most digits.
/// id, text, the fewest and most digits, and the kind of answer.
const QUESTIONS: [(&str, &str, i64, i64, AnswerKind); 4] = [
    (
        "mother_birth_year",
        "In what year was your mother born?",
        4,
        4,
        AnswerKind::Year,
    ),
    (
        "childhood_house_number",
        "What was the house number of your childhood home?",
        3,
        6,
        AnswerKind::Number,
    ),
    (
        "first_pet",
        "What was the name of your first pet? Spell it on the keypad.",
        3,
        12,
        AnswerKind::Text,
    ),
    (
        "birth_city",
        "In which city were you born? Spell it on the keypad.",
        3,
        16,
        AnswerKind::Text,
    ),
];

/// login, name, department, employee number, answers (in QUESTIONS order),
/// local account locked at start.
type DemoPerson = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    [&'static str; 4],
    bool,
);

const PEOPLE: [DemoPerson; 22] = [
    (
        "jsmith",
        "John Smith",
        "Finance",
        "E1001",
        ["1956", "420", "Rex", "Boston"],
        false,
    ),
    (
        "ksmith",
        "Karen Smith",
        "Engineering",
        "E1002",
        ["1961", "777", "Bella", "Denver"],
        true,
    ),
    (
        "lsmith",
        "Lee Smith",
        "Sales",
        "E1003",
        ["1949", "118", "Milo", "Austin"],
        false,
    ),
    (
        "amiller",
        "Anna Miller",
        "Human Resources",
        "E1004",
        ["1958", "230", "Luna", "Seattle"],
        false,
    ),
    (
        "cmiller",
        "Carlos Miller",
        "Finance",
        "E1005",
        ["1965", "999", "Rocky", "Madrid"],
        false,
    ),
    (
        "ivrtest",
        "IVR Test Caller",
        "Quality Assurance",
        "E1006",
        ["2468", "2468", "2468", "2468"],
        false,
    ),
    (
        "mgarcia",
        "María García",
        "Legal",
        "E1007",
        ["1960", "310", "Coco", "Sevilla"],
        false,
    ),
    (
        "pnguyen",
        "Phuong Nguyen",
        "Engineering",
        "E1008",
        ["1963", "555", "Mochi", "Hanoi"],
        false,
    ),
    (
        "ojohnson",
        "Olivia Johnson",
        "Marketing",
        "E1009",
        ["1957", "640", "Daisy", "Chicago"],
        true,
    ),
    (
        "rpatel",
        "Raj Patel",
        "IT",
        "E1010",
        ["1959", "120", "Tiger", "Mumbai"],
        false,
    ),
    (
        "tbrown",
        "Tom Brown",
        "Facilities",
        "E1011",
        ["1952", "300", "Buster", "Leeds"],
        false,
    ),
    (
        "ewilson",
        "Emma Wilson",
        "Finance",
        "E1012",
        ["1966", "180", "Poppy", "Perth"],
        false,
    ),
    (
        "dlee",
        "David Lee",
        "Engineering",
        "E1013",
        ["1954", "770", "Max", "Busan"],
        false,
    ),
    (
        "schen",
        "Sofia Chen",
        "Research",
        "E1014",
        ["1962", "333", "Dumpling", "Taipei"],
        false,
    ),
    (
        "bmartin",
        "Ben Martin",
        "Sales",
        "E1015",
        ["1955", "560", "Oscar", "Lyon"],
        false,
    ),
    (
        "hkim",
        "Hana Kim",
        "IT",
        "E1016",
        ["1964", "210", "Kimchi", "Seoul"],
        false,
    ),
    (
        "jmuller",
        "Jürgen Müller",
        "Logistics",
        "E1017",
        ["1950", "140", "Bello", "München"],
        false,
    ),
    (
        "fdubois",
        "François Dubois",
        "Legal",
        "E1018",
        ["1953", "880", "Filou", "Nantes"],
        false,
    ),
    (
        "nokafor",
        "Ngozi Okafor",
        "Engineering",
        "E1019",
        ["1967", "100", "Simba", "Lagos"],
        false,
    ),
    (
        "lrossi",
        "Luca Rossi",
        "Marketing",
        "E1020",
        ["1951", "450", "Briciola", "Torino"],
        false,
    ),
    (
        "awong",
        "Alice Wong",
        "Customer Service",
        "E1021",
        ["1968", "666", "Lucky", "Macau"],
        false,
    ),
    (
        "gsilva",
        "Gabriel Silva",
        "IT",
        "E1022",
        ["1958", "250", "Thor", "Recife"],
        false,
    ),
];

/// The configuration the demo runs with.
pub fn demo_config(
    data_dir: &Path,
    http: SocketAddr,
    sip: Option<SocketAddr>,
) -> anyhow::Result<Config> {
    let text = crate::config::EXAMPLE.replace("{data_dir}", &data_dir.display().to_string());
    let mut config = Config::from_toml(&text).context("the demo configuration")?;
    config.http.listen = http;
    if let Some(addr) = sip {
        // `[sip]` keys from TOUCHTONE_SIP__… (e.g. the limit) are kept.
        let sip = config
            .sip
            .get_or_insert_with(touchtone_sip::SipConfig::default);
        sip.udp = Some(addr);
        sip.tcp = Some(addr);
        config.ivr.tts_cache_dir = Some(data_dir.join("tts-cache"));
    }
    // Voice OTP: national numbers as in Pakistan (the reference's
    // `033XXXXXXXX`), any destination (the demo's trunk is a softphone),
    // callbacks signed with a key kept in the data directory and allowed to
    // reach a receiver on this machine.
    config.otp.default_region = Some("PK".into());
    config.otp.allowed_prefixes = vec!["+".into()];
    config.otp.per_number_max = 20;
    config.otp.callback_allow_http = true;
    config.otp.callback_allow_private_addresses = true;
    let secret = data_dir.join("otp-callback-secret");
    if !secret.exists() {
        std::fs::create_dir_all(data_dir)?;
        std::fs::write(&secret, hex::encode(rand::random::<[u8; 32]>()))
            .with_context(|| format!("writing {}", secret.display()))?;
    }
    config.otp.callback_secret_file = Some(secret);
    Ok(config)
}

/// Sends the demo's voice-OTP calls to `trunk` (`sip:HOST:PORT`); starts a
/// SIP engine on a free loopback port if `--sip` did not.
pub fn use_trunk(config: &mut Config, trunk: &str) -> anyhow::Result<()> {
    if !trunk.starts_with("sip:") || trunk.contains('@') {
        anyhow::bail!("--trunk must be sip:HOST:PORT (the number becomes the user part)");
    }
    let sip = config.sip.get_or_insert_with(|| touchtone_sip::SipConfig {
        udp: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        ..touchtone_sip::SipConfig::default()
    });
    sip.trunk = Some(touchtone_sip::TrunkConfig {
        uri: trunk.to_owned(),
        username: None,
        password: None,
        caller_id: Some("touchtone".into()),
        register: false,
        register_expires_secs: 300,
    });
    config.otp.ring_timeout_secs = 45;
    Ok(())
}

/// Seeds the demo data set unless the database already has it.
pub async fn seed(service: &Service) -> anyhow::Result<bool> {
    if service
        .list_api_users()
        .await?
        .iter()
        .any(|u| u.name == DEMO_API_USER)
    {
        return Ok(false);
    }
    let everyone = PEOPLE
        .iter()
        .map(|(login, name, department, employee, _, _)| (*login, *name, *department, *employee))
        .chain(std::iter::once(NEWHIRE));
    let records: Vec<PersonRecord> = everyone
        .map(|(login, name, department, employee)| PersonRecord {
            person: Person {
                id: (*login).to_owned(),
                display_name: (*name).to_owned(),
                department: (*department).to_owned(),
                employee_number: Some((*employee).to_owned()),
                mail: Some(format!("{login}@example.com")),
                phone_numbers: Vec::new(),
                disabled: false,
                groups: Vec::new(),
                privileged: false,
            },
            accounts: vec![Account {
                target: "local".into(),
                account: (*login).to_owned(),
            }],
        })
        .collect();
    service.import_people("demo", &records).await?;
    for (id, text, min_digits, max_digits, kind) in QUESTIONS {
        let question = Question {
            id: id.into(),
            text: text.into(),
            min_digits,
            max_digits,
            kind,
            own: false,
        };
        service.add_question("demo", &question).await?;
    }
    for (login, _, _, _, answers, locked) in PEOPLE {
        for ((question, ..), answer) in QUESTIONS.iter().zip(answers) {
            service
                .enroll_answer(
                    "demo",
                    login,
                    question,
                    &SecretString::from(answer.to_owned()),
                )
                .await?;
        }
        if locked {
            service.set_local_lock("demo", login, true).await?;
        }
    }
    for login in PEOPLE.iter().map(|p| p.0).chain([NEWHIRE.0]) {
        let password = SecretString::from(portal_password(login));
        service
            .set_account_password("demo", "local", login, &password)
            .await?;
    }
    service
        .add_api_user(
            "demo",
            DEMO_API_USER,
            SecretString::from(DEMO_API_PASSWORD.to_owned()),
            vec!["127.0.0.0/8".into(), "::1/128".into()],
            false,
        )
        .await?;
    Ok(true)
}

/// What `demo.json` holds.
pub fn demo_document(
    data_dir: &Path,
    addr: SocketAddr,
    sip: Option<SocketAddr>,
) -> serde_json::Value {
    let base = format!("https://{addr}/api/v1");
    let people: Vec<serde_json::Value> = PEOPLE
        .iter()
        .map(|(login, name, department, employee, answers, locked)| {
            let answers: serde_json::Map<String, serde_json::Value> = QUESTIONS
                .iter()
                .zip(answers)
                .map(|((q, ..), a)| {
                    (
                        (*q).to_owned(),
                        json!({"text": a, "keypad": map_to_keypad(a)}),
                    )
                })
                .collect();
            json!({
                "user_id": login,
                "display_name": name,
                "department": department,
                "keypad_id": map_to_keypad(login),
                "employee_number": employee,
                "employee_keypad_id": map_to_keypad(employee),
                "accounts": [{"target": "local", "account": login, "locked_at_start": locked}],
                "portal_password": portal_password(login),
                "answers": answers,
            })
        })
        .chain(std::iter::once({
            let (login, name, department, employee) = NEWHIRE;
            json!({
                "user_id": login,
                "display_name": name,
                "department": department,
                "keypad_id": map_to_keypad(login),
                "employee_number": employee,
                "employee_keypad_id": map_to_keypad(employee),
                "accounts": [{"target": "local", "account": login, "locked_at_start": false}],
                "portal_password": portal_password(login),
                "answers": {},
                "enrolled": false,
            })
        }))
        .collect();
    json!({
        "portal": format!("https://{addr}/"),
        "api": base,
        "sip": sip.map(|a| format!("sip:reset@{a}")),
        "otp": {
            "outbound": format!("https://{addr}/outbound.cgi"),
            "calls": format!("{base}/calls"),
            "default_region": "PK",
            "callback_secret_file": data_dir.join("otp-callback-secret"),
        },
        "openapi": format!("{base}/openapi.json"),
        "ca_certificate": data_dir.join("tls/cert.pem"),
        "api_user": DEMO_API_USER,
        "api_password": DEMO_API_PASSWORD,
        "allowed_from": ["127.0.0.0/8", "::1/128"],
        "events_file": data_dir.join("events.jsonl"),
        "config_file": data_dir.join("touchtone.toml"),
        "questions": QUESTIONS.iter().map(|(id, text, _, max, _)| json!({"question_id": id, "text": text, "max_digits": max})).collect::<Vec<_>>(),
        "people": people,
    })
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let data_dir = std::fs::canonicalize(&args.data_dir)?;
    let mut config = demo_config(&data_dir, args.http, args.sip)?;
    if let Some(trunk) = &args.trunk {
        use_trunk(&mut config, trunk)?;
    }
    let config_text = crate::config::EXAMPLE
        .replace("{data_dir}", &data_dir.display().to_string())
        .replace(
            "listen = \"127.0.0.1:8443\"",
            &format!("listen = \"{}\"", args.http),
        );
    std::fs::write(data_dir.join("touchtone.toml"), config_text)?;

    let running = crate::app::start(&config, crate::app::system_clock(), true).await?;
    let seeded = seed(&running.service).await?;
    let sip = running.sip.as_ref().map(touchtone_sip::Engine::sip_addr);
    let document = demo_document(&data_dir, running.addr, sip);
    std::fs::write(
        data_dir.join("demo.json"),
        serde_json::to_string_pretty(&document)?,
    )?;

    let dir = data_dir.display();
    let base = format!("https://{}/api/v1", running.addr);
    println!(
        "touchtone demo is running{}",
        if seeded { " (demo data seeded)" } else { "" }
    );
    println!(
        "  portal       https://{}/   (sign in as any person with their portal_password; {} is not enrolled yet)",
        running.addr, NEWHIRE.0
    );
    println!("  API          {base}/<Function>   (OpenAPI: {base}/openapi.json)");
    println!("  certificate  {dir}/tls/cert.pem   (curl --cacert it)");
    println!("  API user     {DEMO_API_USER} / {DEMO_API_PASSWORD}   (from this machine only)");
    println!(
        "  people       {dir}/demo.json   (keypad IDs, answers and portal passwords of all {} people)",
        PEOPLE.len() + 1
    );
    println!("  events       {dir}/events.jsonl");
    println!("  operator     touchtone --config {dir}/touchtone.toml people show jsmith");
    if let Some(engine) = &running.sip {
        let sip = engine.sip_addr();
        println!("  reset call   sip:reset@{sip}   (UDP or TCP; any number reaches it)");
        println!(
            "               baresip: /dial sip:reset@{sip}, then key 4878378# and 2468# to each question"
        );
    }
    if let Some(trunk) = &args.trunk {
        println!(
            "  voice OTP    calls go to {trunk} (the number as the user part); place one with"
        );
        println!(
            "               touchtone otp call --server https://{} --ca {dir}/tls/cert.pem 03001234567 482913",
            running.addr
        );
        println!(
            "               or: curl --cacert {dir}/tls/cert.pem 'https://{}/outbound.cgi?number=03001234567&code=482913&username={DEMO_API_USER}&password={DEMO_API_PASSWORD}'",
            running.addr
        );
    }
    println!();
    println!(
        "  Keypad 576484 matches jsmith, ksmith and lsmith; ivrtest (4878378) answers 2468 to everything."
    );
    println!("  Start with:");
    println!(
        "  curl --cacert {dir}/tls/cert.pem -H 'content-type: application/json' \\\n    -d '{{\"user\":\"{DEMO_API_USER}\",\"password\":\"{DEMO_API_PASSWORD}\"}}' {base}/Login"
    );
    println!();
    println!("Press Ctrl-C to stop.");
    crate::shutdown::wait_for_signal().await;
    running.stop().await
}
