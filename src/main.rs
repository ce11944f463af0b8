//! The `newsroom` command line: serve the API (the default), migrate, create users, seed demo
//! data, print the OpenAPI document.

use std::io::BufRead;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use newsroom::domain::Role;
use newsroom::startup::{self, Application};
use newsroom::{config, db, logging, users};

#[derive(Parser)]
#[command(name = "newsroom", version, about = "Headless news backend: a JSON REST API for articles, topics and related-news links.", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API on NEWSROOM_BIND (the default command); applies pending migrations first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create a user; the password is read from standard input, never from the command line.
    CreateUser {
        /// The sign-in email address.
        #[arg(long)]
        email: String,
        /// The display name, used for the byline.
        #[arg(long)]
        name: String,
        /// admin, editor or author.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password (12 to 1024 characters) from the first line of standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Fill the database with a realistic demo: topics, articles in English and Russian,
    /// related links, an editor and an author.
    SeedDemo,
    /// Print the OpenAPI document (JSON) to standard output.
    Openapi,
    /// Remove for good the articles in the trash for more than NEWSROOM_TRASH_DAYS days
    /// (default 30), with their links and revisions.
    PurgeTrash,
    /// Remove the events older than NEWSROOM_EVENTS_DAYS days (default 30) from the event
    /// log (the server also does this once a day).
    PurgeEvents,
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| "must be admin, editor or author".into())
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// At most two malloc arenas. glibc gives each thread that allocates its own arena, and the
/// server's dozen threads (workers, database threads) each kept freed memory of their own: a
/// quarter of the peak RSS under load. The price is contention on the arenas' locks, which
/// costs uncached reads about a third of their throughput (bench/RESULTS.md, issue #16).
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

fn main() -> ExitCode {
    limit_malloc_arenas();
    logging::init();
    let code = run(Cli::parse());
    logging::flush();
    code
}

fn run(cli: Cli) -> ExitCode {
    let env = config::from_env();
    // Cards written by any command show photos under the site's URL.
    if let Ok(url) = env.public_url() {
        newsroom::media::set_public_url(&url);
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let config = match env.config() {
                Ok(config) => config,
                Err(e) => return fail(e),
            };
            log::info!("database {:?}", config.database);
            let app = match Application::build(config) {
                Ok(app) => app,
                Err(e) => return fail(e),
            };
            log::info!("serving on port {}; Swagger UI at /docs/", app.port());
            match actix_web::rt::System::new().block_on(app.run()) {
                Ok(()) => {
                    log::info!("stopped");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Migrate => {
            let result = env
                .database()
                .map_err(|e| e.to_string())
                .and_then(|url| startup::migrate(&url).map_err(|e| e.to_string()));
            match result {
                Ok(applied) => {
                    println!("applied {} migration(s)", applied.len());
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::CreateUser {
            email,
            name,
            role,
            password_stdin: _,
        } => match create_user(&env, &email, &name, role) {
            Ok(id) => {
                println!("created user {id} ({role})");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::SeedDemo => match seed_demo(&env) {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::PurgeTrash => match purge_trash(&env) {
            Ok(count) => {
                println!("removed {count} article(s) from the trash");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::PurgeEvents => match purge_events(&env) {
            Ok(count) => {
                println!("removed {count} event(s) from the log");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
        Command::Openapi => match serde_json::to_string_pretty(&startup::openapi_document()) {
            Ok(json) => {
                println!("{json}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
    }
}

fn migrated_connection<F: Fn(&str) -> Option<String>>(
    env: &config::Env<F>,
) -> Result<db::DbConnection, String> {
    let url = env.database().map_err(|e| e.to_string())?;
    startup::migrate(&url).map_err(|e| e.to_string())?;
    db::connect(&url).map_err(|e| format!("database: {e}"))
}

fn create_user<F: Fn(&str) -> Option<String>>(
    env: &config::Env<F>,
    email: &str,
    name: &str,
    role: Role,
) -> Result<i32, String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("reading the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    let request = users::CreateUser {
        email: email.to_owned(),
        name: name.to_owned(),
        role,
        password,
        bio: None,
    };
    let new = request.parse().map_err(|e| describe(&e))?;
    let mut conn = migrated_connection(env)?;
    users::create_on(&mut conn, new)
        .map(|user| user.id)
        .map_err(|e| describe(&e))
}

fn describe(err: &newsroom::error::ApiError) -> String {
    let problem = err.problem();
    let fields: Vec<String> = problem
        .errors
        .iter()
        .map(|f| format!("--{} {}", f.field, f.message))
        .collect();
    if fields.is_empty() {
        problem.detail
    } else {
        fields.join("; ")
    }
}

fn purge_trash<F: Fn(&str) -> Option<String>>(env: &config::Env<F>) -> Result<usize, String> {
    let days = env.trash_days().map_err(|e| e.to_string())?;
    let mut conn = migrated_connection(env)?;
    newsroom::articles::safety::purge_trash(&mut conn, days).map_err(|e| describe(&e))
}

fn purge_events<F: Fn(&str) -> Option<String>>(env: &config::Env<F>) -> Result<usize, String> {
    let days = env.events_days().map_err(|e| e.to_string())?;
    let mut conn = migrated_connection(env)?;
    let cutoff = db::now() - chrono::Duration::days(days);
    newsroom::changes::write_on(&mut conn, None, |tx| {
        newsroom::changes::retention::purge(tx, cutoff)
    })
    .map_err(|e| describe(&e))
}

fn seed_demo<F: Fn(&str) -> Option<String>>(env: &config::Env<F>) -> Result<String, String> {
    let mut conn = migrated_connection(env)?;
    newsroom::seed::demo(&mut conn).map_err(|e| describe(&e))
}
