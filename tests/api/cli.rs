//! The `newsroom` binary: help, configuration errors, user creation from standard input,
//! demo seeding, and a graceful stop on SIGTERM.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use crate::helpers::{Backend, TestDb};

fn newsroom(db: Option<&TestDb>, args: &[&str], stdin: &str) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_newsroom"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("NEWSROOM_JWT_SECRET")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(db) = db {
        command.env("DATABASE_URL", url_of(db));
    }
    let mut child = command.spawn().unwrap();
    // A command that refuses early exits without reading its input.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
    }
    child.wait_with_output().unwrap()
}

fn url_of(db: &TestDb) -> String {
    match db.url() {
        newsroom::config::DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        newsroom::config::DatabaseUrl::Postgres(url) => url,
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_command_explains_itself() {
    let top = newsroom(None, &["--help"], "");
    assert!(top.status.success());
    let help = text(&top.stdout);
    for command in [
        "serve",
        "migrate",
        "create-user",
        "seed-demo",
        "openapi",
        "purge-trash",
    ] {
        assert!(help.contains(command), "{command} missing from --help");
        let sub = newsroom(None, &[command, "--help"], "");
        assert!(sub.status.success(), "{command} --help");
        assert!(
            text(&sub.stdout)
                .lines()
                .next()
                .is_some_and(|l| l.len() > 20),
            "{command} --help says nothing"
        );
    }
}

#[test]
fn invalid_configuration_exits_with_one_line_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("{}/n.db", dir.path().display());
    for (var, value, extra) in [
        ("NEWSROOM_BIND", "not-an-address", None),
        ("NEWSROOM_DB_POOL_SIZE", "zero", None),
        ("DATABASE_URL", "mysql://localhost/db", None),
        ("NEWSROOM_JWT_SECRET", "too-short", None),
        // Hardening point 9: this panicked at start-up.
        ("NEWSROOM_CORS_ORIGINS", "https://новости.example", None),
        ("NEWSROOM_EMBED_HOSTS", "https://www.youtube.com", None),
        (
            "NEWSROOM_JWT_SECRET",
            "",
            Some(("DATABASE_URL", "postgres://127.0.0.1/x")),
        ),
    ] {
        let mut command = Command::new(env!("CARGO_BIN_EXE_newsroom"));
        command
            .arg("serve")
            .env("DATABASE_URL", &db)
            .env_remove("NEWSROOM_JWT_SECRET")
            .env(var, value);
        if let Some((k, v)) = extra {
            command.env(k, v);
        }
        let output = command.output().unwrap();
        assert!(!output.status.success(), "{var}={value} was accepted");
        let stderr = text(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(lines[0].contains(var), "{stderr}");
    }
}

async fn create_user_reads_the_password_from_stdin(backend: Backend) {
    let db = TestDb::create(backend);
    let args = [
        "create-user",
        "--email",
        "chief@newsroom.example",
        "--name",
        "Chief Editor",
        "--role",
        "admin",
    ];
    let refused = newsroom(Some(&db), &args, "a long enough passphrase\n");
    assert!(
        !refused.status.success(),
        "without --password-stdin the command must refuse"
    );

    let mut with_stdin = args.to_vec();
    with_stdin.push("--password-stdin");
    let short = newsroom(Some(&db), &with_stdin, "short\n");
    assert!(!short.status.success());
    assert!(text(&short.stderr).contains("password"));

    let created = newsroom(Some(&db), &with_stdin, "a long enough passphrase\n");
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(text(&created.stdout).contains("created user"));
    let again = newsroom(Some(&db), &with_stdin, "a long enough passphrase\n");
    assert!(!again.status.success());
    assert!(text(&again.stderr).contains("already exists"));

    let mut conn = newsroom::db::connect(&db.url()).unwrap();
    let user = newsroom::users::UserRow::find_by_email(&mut conn, "chief@newsroom.example")
        .unwrap()
        .unwrap();
    assert_eq!(user.role, "admin");
    assert!(newsroom::auth::password::verify(
        "a long enough passphrase",
        &user.password_hash
    ));
}

async fn seed_demo_fills_an_empty_database_once(backend: Backend) {
    let db = TestDb::create(backend);
    let first = newsroom(Some(&db), &["seed-demo"], "");
    assert!(first.status.success(), "{}", text(&first.stderr));
    let summary = text(&first.stdout);
    assert!(
        summary.contains("editor@newsroom.example") && summary.contains("author@newsroom.example")
    );
    let second = newsroom(Some(&db), &["seed-demo"], "");
    assert!(!second.status.success(), "seeding twice must refuse");
}

backend_tests!(
    create_user_reads_the_password_from_stdin,
    seed_demo_fills_an_empty_database_once
);

/// Starts `newsroom serve` on a new SQLite database in `dir`, logging at `info`: the process,
/// the rest of its standard error, and its port.
fn serve(
    dir: &tempfile::TempDir,
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStderr>>,
    u16,
) {
    let mut server = Command::new(env!("CARGO_BIN_EXE_newsroom"))
        .env("DATABASE_URL", dir.path().join("n.db"))
        .env("NEWSROOM_BIND", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("server exited early").unwrap();
        if let Some(rest) = line.split("serving on port ").nth(1) {
            break rest
                .split(';')
                .next()
                .unwrap()
                .trim()
                .parse::<u16>()
                .unwrap();
        }
    };
    (server, lines, port)
}

fn terminate(server: &std::process::Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

/// SIGTERM stops accepting and lets the request in flight finish before the process exits.
#[test]
fn sigterm_drains_in_flight_requests() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, lines, port) = serve(&dir);
    std::thread::spawn(move || lines.for_each(drop));

    // A request the server has accepted and is still reading when the signal comes.
    let body = r#"{"email": "someone@newsroom.example", "password": "a wrong password"}"#;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        &body[..10]
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    terminate(&server);
    std::thread::sleep(Duration::from_millis(200));
    stream.write_all(&body.as_bytes()[10..]).unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 401"),
        "the in-flight request was not answered: {response:?}"
    );
    let exit = server.wait().unwrap();
    assert!(exit.success(), "exit status {exit:?}");
}

/// The access log writes a line per request, carrying its request id, within moments (it is
/// buffered off the request's thread), and nothing logged is lost when the process stops.
#[test]
fn every_request_is_logged_promptly_and_nothing_is_lost_at_exit() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, mut lines, port) = serve(&dir);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    let id = response
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .expect("a request id")
        .trim()
        .to_owned();
    let (seen, logged) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut rest = Vec::new();
        for line in lines.by_ref().map_while(Result::ok) {
            if line.contains(&format!("request_id={id}")) {
                seen.send(line.clone()).unwrap();
            }
            rest.push(line);
        }
        rest
    });
    let line = logged
        .recv_timeout(Duration::from_secs(2))
        .expect("no access log line within 2 s");
    assert!(line.contains("\"GET /health/live HTTP/1.1\" 200"), "{line}");
    terminate(&server);
    assert!(server.wait().unwrap().success());
    let rest = reader.join().unwrap();
    // The last line, logged just before the exit, still reaches standard error.
    assert!(
        rest.last().is_some_and(|l| l.ends_with("stopped")),
        "{rest:#?}"
    );
}
