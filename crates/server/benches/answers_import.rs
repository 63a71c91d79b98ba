//! Benchmark of `touchtone answers import`: the binary, as an operator
//! runs it, importing a CSV of enrolled answers (another system's export)
//! into a SQLite store with the production argon2id cost (m = 19 MiB,
//! t = 2, p = 1, two hashes at once). Every answer is hashed once, so the
//! import's time is almost all argon2; the bench also prints the
//! judging-only time of a `--dry-run` over the same file.
//!
//! Run: `cargo bench -p touchtone-server --bench answers_import`.
//! Environment: `IMPORT_BENCH_ROWS` (default 10,000; three answers a
//! person), plus 3 bad rows that `--skip-refused` leaves out.

use std::io::Write;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Instant;

use touchtone_service::admin::PersonRecord;
use touchtone_service::people::{Account, Person};
use touchtone_testkit::bench::env_or;

#[tokio::main]
async fn main() {
    let rows = env_or("IMPORT_BENCH_ROWS", 10_000) as usize;
    let people = rows.div_ceil(3);
    let dir = tempfile::tempdir().unwrap();
    let config = touchtone_server::demo::demo_config(
        dir.path(),
        SocketAddr::from(([127, 0, 0, 1], 0)),
        None,
    )
    .unwrap();
    let config_path = dir.path().join("touchtone.toml");
    std::fs::write(
        &config_path,
        touchtone_server::config::EXAMPLE.replace("{data_dir}", &dir.path().display().to_string()),
    )
    .unwrap();
    // The people and the questions, through the library as `people import`
    // would.
    let service =
        touchtone_server::app::build_service(&config, touchtone_server::app::system_clock(), true)
            .await
            .unwrap();
    let records: Vec<PersonRecord> = (0..people)
        .map(|i| PersonRecord {
            person: Person {
                id: format!("user{i:05}"),
                display_name: format!("User {i}"),
                department: format!("Dept {}", i % 12),
                employee_number: None,
                mail: None,
                phone_numbers: vec![],
                disabled: false,
                groups: Vec::new(),
                privileged: false,
            },
            accounts: vec![Account {
                target: "local".into(),
                account: format!("user{i:05}"),
            }],
        })
        .collect();
    service.import_people("bench", &records).await.unwrap();
    for (id, max) in [("year", 4), ("pet", 12), ("city", 16)] {
        service
            .add_question(
                "bench",
                &touchtone_service::enrolment::Question::text(id, &format!("{id}?"), max),
            )
            .await
            .unwrap();
    }
    service.close().await;

    let csv = dir.path().join("answers.csv");
    let mut file = std::fs::File::create(&csv).unwrap();
    writeln!(file, "user,question,answer").unwrap();
    let mut written = 0;
    'people: for i in 0..people {
        for (q, answer) in [
            ("year", format!("{}", 1930 + i % 70)),
            ("pet", format!("Pet{i}")),
            ("city", format!("Town{}", i % 997)),
        ] {
            if written == rows {
                break 'people;
            }
            writeln!(file, "user{i:05},{q},{answer}").unwrap();
            written += 1;
        }
    }
    writeln!(file, "nobody,year,1950\nuser00000,shoe,44\nuser00001,pet,x").unwrap();
    drop(file);

    let run = |args: &[&str]| {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_touchtone"))
            .arg("--config")
            .arg(&config_path)
            .args(["answers", "import"])
            .arg(&csv)
            .args(args)
            .output()
            .unwrap();
        let seconds = started.elapsed().as_secs_f64();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        (
            seconds,
            text.lines().last().unwrap_or("").to_owned(),
            out.status.success(),
        )
    };
    let (dry, dry_summary, _) = run(&["--dry-run"]);
    println!("dry run over {written} rows + 3 bad: {dry:.2} s ({dry_summary})");
    let (seconds, summary, ok) = run(&["--skip-refused"]);
    assert!(ok, "the import failed: {summary}");
    println!(
        "import of {written} rows for {people} people: {seconds:.1} s = {:.0} rows/s ({summary})",
        written as f64 / seconds
    );
}
