//! The benchmark dataset: `cargo run --release --example bench_seed -- --articles 100000`.
//!
//! Writes, into an empty database (`DATABASE_URL`), a topic tree, authors and editors, and
//! articles published over ten years in English and Russian with bylines and related links.
//! Rows go in by batched inserts in one transaction, with the invariants the API's write path
//! keeps: each article filed under its topics and their ancestors, topic and byline rows
//! carrying the feed time of published articles, a search document per article (written by the
//! application's own `search::index`), each article's card (built as the server builds missing
//! cards at start-up), `sync_seq` and the site generation (the event log,
//! empty, goes on after it). Deterministic for a
//! given `--seed`.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{Duration, NaiveDateTime};
use clap::Parser;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

use newsroom::articles::html::plain_text;
use newsroom::articles::search;
use newsroom::auth::password;
use newsroom::config::DatabaseUrl;
use newsroom::db::schema::{
    article_authors, article_topics, articles, related_links, site_state, topics, users,
};
use newsroom::db::{self, DbConnection};
use newsroom::domain::{Password, Slug};
use newsroom::topics::tree;

#[derive(Parser)]
struct Args {
    /// SQLite file or postgres:// URL; the database must hold no articles yet.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    #[arg(long, default_value_t = 100_000)]
    articles: usize,
    #[arg(long, default_value_t = 200)]
    topics: usize,
    #[arg(long, default_value_t = 500)]
    authors: usize,
    /// The share of drafts, in percent.
    #[arg(long, default_value_t = 15)]
    drafts: u32,
    /// Password of every generated user; `bench@newsroom.example` is an editor.
    #[arg(long, env = "BENCH_PASSWORD")]
    password: String,
    #[arg(long, default_value_t = 2026)]
    seed: u64,
}

type Outcome<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Multi-row inserts, which diesel builds per backend rather than for `MultiConnection`.
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {
        match $conn {
            DbConnection::Postgresql(c) => diesel::insert_into($table).values($rows).execute(c),
            DbConnection::Sqlite(c) => diesel::insert_into($table).values($rows).execute(c),
        }
    };
}

const BATCH: usize = 500;
const EPOCH_DAYS: i64 = 3653;

const EN_WORDS: &[&str] = &[
    "government",
    "minister",
    "border",
    "treaty",
    "election",
    "parliament",
    "market",
    "energy",
    "water",
    "river",
    "mountain",
    "city",
    "village",
    "school",
    "hospital",
    "doctor",
    "price",
    "bread",
    "cotton",
    "railway",
    "road",
    "bridge",
    "airport",
    "flight",
    "festival",
    "music",
    "football",
    "team",
    "coach",
    "season",
    "record",
    "report",
    "budget",
    "tax",
    "bank",
    "loan",
    "currency",
    "inflation",
    "export",
    "import",
    "trade",
    "company",
    "factory",
    "worker",
    "salary",
    "pension",
    "reform",
    "court",
    "judge",
    "lawyer",
    "police",
    "officer",
    "protest",
    "president",
    "summit",
    "delegation",
    "agreement",
    "dispute",
    "security",
    "army",
    "drought",
    "harvest",
    "wheat",
    "farmers",
    "climate",
    "glacier",
    "earthquake",
    "flood",
    "rescue",
    "volunteers",
    "museum",
    "library",
    "university",
    "students",
    "teachers",
    "science",
    "research",
    "internet",
    "mobile",
    "network",
    "startup",
    "investment",
    "tourism",
    "hotel",
    "visitors",
    "history",
    "ancient",
    "capital",
    "region",
    "province",
    "district",
    "mayor",
    "council",
    "housing",
    "rent",
    "transport",
    "bus",
    "tram",
    "metro",
    "traffic",
    "weather",
    "winter",
    "summer",
    "spring",
    "autumn",
    "morning",
    "evening",
    "yesterday",
    "announced",
    "signed",
    "opened",
    "closed",
    "rose",
    "fell",
    "warned",
    "promised",
    "rejected",
    "approved",
    "launched",
    "completed",
    "delayed",
    "new",
    "old",
    "major",
    "local",
    "national",
    "foreign",
    "public",
    "private",
    "first",
    "last",
    "largest",
    "smallest",
    "annual",
    "historic",
    "the",
    "a",
    "of",
    "in",
    "on",
    "for",
    "with",
    "after",
    "before",
    "and",
    "to",
    "from",
    "by",
    "at",
];

const RU_WORDS: &[&str] = &[
    "правительство",
    "министр",
    "граница",
    "договор",
    "выборы",
    "парламент",
    "рынок",
    "энергия",
    "вода",
    "река",
    "горы",
    "город",
    "село",
    "школа",
    "больница",
    "врач",
    "цена",
    "хлеб",
    "хлопок",
    "железная",
    "дорога",
    "мост",
    "аэропорт",
    "рейс",
    "фестиваль",
    "музыка",
    "футбол",
    "команда",
    "тренер",
    "сезон",
    "рекорд",
    "доклад",
    "бюджет",
    "налог",
    "банк",
    "кредит",
    "валюта",
    "инфляция",
    "экспорт",
    "импорт",
    "торговля",
    "компания",
    "завод",
    "рабочие",
    "зарплата",
    "пенсия",
    "реформа",
    "суд",
    "судья",
    "адвокат",
    "полиция",
    "президент",
    "саммит",
    "делегация",
    "соглашение",
    "спор",
    "безопасность",
    "засуха",
    "урожай",
    "пшеница",
    "фермеры",
    "климат",
    "ледник",
    "землетрясение",
    "наводнение",
    "спасатели",
    "музей",
    "библиотека",
    "университет",
    "студенты",
    "учителя",
    "наука",
    "интернет",
    "сеть",
    "инвестиции",
    "туризм",
    "гостиница",
    "история",
    "столица",
    "регион",
    "район",
    "мэр",
    "жильё",
    "транспорт",
    "автобус",
    "погода",
    "зима",
    "лето",
    "весна",
    "осень",
    "утром",
    "вечером",
    "вчера",
    "объявил",
    "подписали",
    "открыли",
    "закрыли",
    "выросли",
    "упали",
    "предупредил",
    "обещал",
    "отклонил",
    "одобрил",
    "новый",
    "старый",
    "местный",
    "национальный",
    "первый",
    "последний",
    "крупнейший",
    "исторический",
    "в",
    "на",
    "для",
    "с",
    "после",
    "до",
    "и",
    "из",
    "по",
];

const FIRST_NAMES: &[&str] = &[
    "Aziz", "Dilnoza", "Farrukh", "Gulnora", "Jamshid", "Madina", "Nodir", "Parvina", "Rustam",
    "Sitora", "Timur", "Zarina", "Anna", "Ivan", "Olga", "Sergei", "Maria", "Daniyar", "Aigerim",
    "Bakyt", "Elena", "Michael", "Sarah", "David",
];
const LAST_NAMES: &[&str] = &[
    "Karimov",
    "Rahimova",
    "Saidov",
    "Nazarova",
    "Abdulloev",
    "Ismoilova",
    "Petrov",
    "Ivanova",
    "Sultanov",
    "Akhmedova",
    "Usmonov",
    "Tursunova",
    "Brown",
    "Miller",
    "Wilson",
    "Kuznetsov",
];

const RELATIONS: &[&str] = &[
    "related",
    "related",
    "related",
    "follow_up",
    "background",
    "opinion",
];

/// Syllables of the generated proper names, in Latin and Cyrillic script.
const SYLLABLES: [&[&str]; 2] = [
    &[
        "ka", "ra", "vsh", "on", "du", "be", "mir", "zo", "ta", "li", "na", "gor", "vak", "sha",
        "ul", "te",
    ],
    &[
        "ка", "ра", "вш", "он", "ду", "бе", "мир", "зо", "та", "ли", "на", "гор", "вак", "ша",
        "ул", "те",
    ],
];

/// How many distinct proper names (places, people, companies) the text draws from.
pub const NAMES: usize = 4096;

/// Proper name number `n` (0..NAMES) in a script: three syllables, capitalised.
pub fn name(n: usize, cyrillic: bool) -> String {
    let syllables = SYLLABLES[usize::from(cyrillic)];
    let word: String = [n % 16, (n / 16) % 16, (n / 256) % 16]
        .iter()
        .map(|i| syllables[*i])
        .collect();
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A name rank drawn log-uniformly, as word frequencies fall (Zipf): rank 1 is in most texts,
/// rank 1000 in few.
fn zipf(rng: &mut StdRng) -> usize {
    let max = (NAMES as f64).ln();
    (rng.random_range(0.0..max).exp() as usize).min(NAMES - 1)
}

fn sentence(rng: &mut StdRng, words: &[&str], min: usize, max: usize) -> String {
    let n = rng.random_range(min..=max);
    let cyrillic = words[0] != EN_WORDS[0];
    let mut text = String::new();
    for i in 0..n {
        let named;
        let word = if i > 0 && rng.random_range(0..8) == 0 {
            named = name(zipf(rng), cyrillic);
            named.as_str()
        } else {
            words.choose(rng).copied().unwrap_or("news")
        };
        if i == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                text.extend(first.to_uppercase());
                text.push_str(chars.as_str());
            }
        } else {
            text.push(' ');
            text.push_str(word);
        }
    }
    text
}

/// Sanitised-looking HTML of about `bytes` bytes: paragraphs, some emphasis and links.
fn body(rng: &mut StdRng, words: &[&str], bytes: usize) -> String {
    let mut html = String::with_capacity(bytes + 512);
    while html.len() < bytes {
        html.push_str("<p>");
        for s in 0..rng.random_range(2..6) {
            if s > 0 {
                html.push(' ');
            }
            match rng.random_range(0..10) {
                0 => {
                    html.push_str("<strong>");
                    html.push_str(&sentence(rng, words, 2, 4));
                    html.push_str("</strong>");
                }
                1 => {
                    html.push_str(
                        "<a href=\"https://example.org/source\" rel=\"noopener noreferrer\">",
                    );
                    html.push_str(&sentence(rng, words, 2, 4));
                    html.push_str("</a>");
                }
                _ => html.push_str(&sentence(rng, words, 6, 18)),
            }
            html.push('.');
        }
        html.push_str("</p>\n");
    }
    html
}

struct Seeder {
    rng: StdRng,
    conn: DbConnection,
}

impl Seeder {
    fn users(&mut self, count: usize, hash: &str) -> Outcome<Vec<i32>> {
        let now = db::now();
        let mut ids = Vec::with_capacity(count);
        for i in 0..=count {
            let (email, name, role) = if i == 0 {
                (
                    "bench@newsroom.example".to_owned(),
                    "Bench Editor".to_owned(),
                    "editor",
                )
            } else {
                let first = FIRST_NAMES.choose(&mut self.rng).copied().unwrap_or("Ann");
                let last = LAST_NAMES.choose(&mut self.rng).copied().unwrap_or("Lee");
                let role = if i % 25 == 0 { "editor" } else { "author" };
                (
                    format!("author{i}@bench.newsroom.example"),
                    format!("{first} {last}"),
                    role,
                )
            };
            let slug = Slug::derive(&name, "author").with_suffix(u32::try_from(i)?);
            let id: i32 = diesel::insert_into(users::table)
                .values((
                    users::email.eq(email),
                    users::name.eq(&name),
                    users::slug.eq(slug.as_str()),
                    users::bio.eq(Some(format!("{name} reports for the newsroom."))),
                    users::role.eq(role),
                    users::password_hash.eq(hash),
                    users::created_at.eq(now),
                    users::updated_at.eq(now),
                ))
                .returning(users::id)
                .get_result(&mut self.conn)?;
            if i > 0 {
                ids.push(id);
            }
        }
        Ok(ids)
    }

    /// A tree: a dozen sections, the rest under them or under their children.
    fn topics(&mut self, count: usize) -> Outcome<Vec<i32>> {
        let now = db::now();
        let mut ids: Vec<i32> = Vec::with_capacity(count);
        let mut depth: HashMap<i32, u32> = HashMap::new();
        for i in 0..count {
            let parent = if i < 12 {
                None
            } else {
                let candidates: Vec<i32> = ids.iter().copied().filter(|id| depth[id] < 2).collect();
                candidates.choose(&mut self.rng).copied()
            };
            let name = sentence(&mut self.rng, EN_WORDS, 1, 2);
            let slug = Slug::derive(&name, "topic").with_suffix(u32::try_from(i)?);
            let id: i32 = diesel::insert_into(topics::table)
                .values((
                    topics::slug.eq(slug.as_str()),
                    topics::name.eq(&name),
                    topics::description.eq(Some(format!("News about {name}"))),
                    topics::parent_id.eq(parent),
                    topics::position.eq(i32::try_from(i)?),
                    topics::created_at.eq(now),
                    topics::updated_at.eq(now),
                ))
                .returning(topics::id)
                .get_result(&mut self.conn)?;
            depth.insert(id, parent.map_or(0, |p| depth[&p] + 1));
            ids.push(id);
        }
        Ok(ids)
    }
}

/// One article's rows, ready for the batched inserts.
struct Generated {
    id: i32,
    language: &'static str,
    title: String,
    slug: String,
    summary: String,
    body: String,
    text: String,
    published: bool,
    at: NaiveDateTime,
    topics: Vec<i32>,
    authors: Vec<i32>,
    related: Vec<i32>,
}

fn main() -> Outcome<()> {
    let args = Args::parse();
    let url = DatabaseUrl::parse(&args.database_url)?;
    url.prepare()?;
    let mut conn = db::connect(&url)?;
    db::run_migrations(&mut conn)?;
    let existing: i64 = articles::table.count().get_result(&mut conn)?;
    if existing > 0 {
        return Err(format!("the database already holds {existing} articles").into());
    }
    let started = Instant::now();
    let hash = password::hash(&Password::parse(args.password.clone())?)?;
    let mut seeder = Seeder {
        rng: StdRng::seed_from_u64(args.seed),
        conn,
    };
    seeder.conn.batch_execute("BEGIN")?;
    let authors = seeder.users(args.authors, &hash)?;
    let topic_ids = seeder.topics(args.topics)?;
    let parents = tree::parents(&mut seeder.conn)?;
    let now = db::now();
    let start = now - Duration::days(EPOCH_DAYS);
    let span = (now - start).num_seconds() - 3600;
    // Recent published articles per primary topic, the pool related links are drawn from.
    let mut recent: HashMap<i32, Vec<i32>> = HashMap::new();
    let total = args.articles;
    let mut batch = Vec::with_capacity(BATCH);
    for n in 1..=total {
        let rng = &mut seeder.rng;
        let id = i32::try_from(n)?;
        let russian = rng.random_range(0..10) < 3;
        let (language, words) = if russian {
            ("ru", RU_WORDS)
        } else {
            ("en", EN_WORDS)
        };
        let title = sentence(rng, words, 6, 12);
        let slug = Slug::derive(&title, "article").with_suffix(u32::try_from(n)?);
        let size = rng.random_range(2048..8192);
        let body = body(rng, words, size);
        let text = plain_text(&body);
        let offset = span * i64::try_from(n)? / i64::try_from(total)?;
        let at = start + Duration::seconds(offset) - Duration::seconds(rng.random_range(0..600));
        let published = rng.random_range(0..100) >= args.drafts;
        let filed = rng.random_range(1..=3);
        let mut direct: Vec<i32> = topic_ids.choose_multiple(rng, filed).copied().collect();
        direct.dedup();
        let bylines = match rng.random_range(0..100) {
            0..80 => 1,
            80..97 => 2,
            _ => 3,
        };
        let authors: Vec<i32> = authors.choose_multiple(rng, bylines).copied().collect();
        let pool = recent.entry(direct[0]).or_default();
        let want = rng.random_range(3..=10).min(pool.len());
        let related: Vec<i32> = pool.choose_multiple(rng, want).copied().collect();
        if published {
            pool.push(id);
            if pool.len() > 200 {
                pool.remove(0);
            }
        }
        batch.push(Generated {
            id,
            language,
            summary: sentence(rng, words, 12, 24),
            title,
            slug: slug.into_inner(),
            body,
            text,
            published,
            at,
            topics: direct,
            authors,
            related,
        });
        if batch.len() == BATCH || n == total {
            write_batch(&mut seeder.conn, &parents, &batch, now)?;
            batch.clear();
        }
        if n % 10_000 == 0 {
            eprintln!("{n} articles, {:.1} s", started.elapsed().as_secs_f64());
        }
    }
    diesel::update(site_state::table.find(1))
        .set(site_state::generation.eq(i64::try_from(total)?))
        .execute(&mut seeder.conn)?;
    if let DbConnection::Postgresql(_) = seeder.conn {
        // Ids were given explicitly: the sequences must continue after them.
        seeder.conn.batch_execute(
            "SELECT setval(pg_get_serial_sequence('articles', 'id'), \
             (SELECT COALESCE(MAX(id), 1) FROM articles))",
        )?;
    }
    seeder.conn.batch_execute("COMMIT")?;
    // The articles' cards, as a server builds them at start-up for articles that have none.
    newsroom::startup::migrate(&url)?;
    // What the servers' own upkeep would do soon: autovacuum on PostgreSQL (statistics, and
    // the GIN index's pending list merged); on SQLite the server gathers statistics itself
    // when it connects (`db::connect`).
    let upkeep = match seeder.conn {
        DbConnection::Postgresql(_) => "VACUUM ANALYZE",
        DbConnection::Sqlite(_) => "PRAGMA wal_checkpoint(TRUNCATE);",
    };
    seeder.conn.batch_execute(upkeep)?;
    eprintln!(
        "seeded {total} articles, {} topics, {} authors in {:.1} s",
        topic_ids.len(),
        authors.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn write_batch(
    conn: &mut DbConnection,
    parents: &HashMap<i32, Option<i32>>,
    batch: &[Generated],
    now: NaiveDateTime,
) -> Outcome<()> {
    let mut rows = Vec::with_capacity(batch.len());
    let mut filed = Vec::new();
    let mut bylines = Vec::new();
    let mut links = Vec::new();
    for a in batch {
        let words = i32::try_from(a.text.split_whitespace().count())?;
        let feed_at = a.published.then_some(a.at);
        rows.push((
            (
                articles::id.eq(a.id),
                articles::slug.eq(&a.slug),
                articles::title.eq(&a.title),
                articles::summary.eq(Some(&a.summary)),
                articles::body.eq(&a.body),
                articles::status.eq(if a.published { "published" } else { "draft" }),
                articles::published_at.eq(feed_at),
                articles::language.eq(a.language),
                articles::primary_topic_id.eq(a.topics.first().copied()),
            ),
            (
                articles::word_count.eq(words),
                articles::reading_time_minutes.eq((words + 199) / 200),
                articles::version.eq(1),
                articles::created_by.eq(a.authors.first().copied()),
                articles::created_at.eq(a.at - Duration::minutes(30)),
                articles::updated_at.eq(a.at),
                articles::sync_seq.eq(i64::from(a.id)),
                articles::pending_live.eq(false),
                articles::was_public.eq(a.published),
            ),
        ));
        let mut seen = Vec::new();
        for (position, topic) in a.topics.iter().enumerate() {
            seen.push(*topic);
            filed.push((a.id, *topic, i32::try_from(position)?, true, feed_at));
        }
        for topic in a.topics.iter().flat_map(|t| tree::ancestors(parents, *t)) {
            if !seen.contains(&topic) {
                seen.push(topic);
                filed.push((a.id, topic, i32::MAX, false, feed_at));
            }
        }
        for (position, user) in a.authors.iter().enumerate() {
            bylines.push((
                article_authors::article_id.eq(a.id),
                article_authors::user_id.eq(*user),
                article_authors::position.eq(i32::try_from(position)?),
                article_authors::feed_published_at.eq(feed_at),
            ));
        }
        for (position, target) in a.related.iter().enumerate() {
            links.push((
                related_links::article_id.eq(a.id),
                related_links::target_id.eq(*target),
                related_links::relation.eq(RELATIONS[(a.id as usize + position) % RELATIONS.len()]),
                related_links::position.eq(i32::try_from(position)?),
                related_links::created_at.eq(now),
            ));
        }
    }
    insert_rows!(conn, articles::table, &rows)?;
    let filed: Vec<_> = filed
        .into_iter()
        .map(|(article, topic, position, direct, at)| {
            (
                article_topics::article_id.eq(article),
                article_topics::topic_id.eq(topic),
                article_topics::position.eq(position),
                article_topics::direct.eq(direct),
                article_topics::feed_published_at.eq(at),
            )
        })
        .collect();
    for chunk in filed.chunks(2000) {
        insert_rows!(conn, article_topics::table, chunk)?;
    }
    for chunk in bylines.chunks(2000) {
        insert_rows!(conn, article_authors::table, chunk)?;
    }
    for chunk in links.chunks(2000) {
        insert_rows!(conn, related_links::table, chunk)?;
    }
    for a in batch {
        search::index(
            conn,
            &search::Document {
                id: a.id,
                language: a.language,
                title: &a.title,
                summary: &a.summary,
                body_text: &a.text,
                visible_at: a.published.then_some(a.at),
            },
        )?;
    }
    Ok(())
}
