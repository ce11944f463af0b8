//! `newsroom seed-demo`: a realistic demo newsroom. A topic tree, about fifty published
//! articles in English and Russian with bylines and related links, an editor and an author
//! (with random passwords printed once), a Central Asia report with ten related headlines, and
//! the fronts `home` (that report, its headlines, then all news) and `central-asia`.

use chrono::Duration;
use diesel::prelude::*;

use crate::articles::write::{self, CreateArticle};
use crate::articles::Status;
use crate::auth::tokens::random_token;
use crate::auth::Caller;
use crate::changes::events::{ArticleState, EventRef, EventType};
use crate::changes::{self, Tx};
use crate::db::schema::{related_links, topics};
use crate::db::{self, DbConnection};
use crate::domain::{Email, Password, Role, Slug};
use crate::error::ApiError;
use crate::fronts::{self, Fill, FrontItem, PutFront, RefInput, Section};
use crate::users::{self, NewUser, UserRow};

const EDITOR_EMAIL: &str = "editor@newsroom.example";
const AUTHOR_EMAIL: &str = "author@newsroom.example";

/// (slug, name, parent slug, description)
const TOPICS: &[(&str, &str, Option<&str>, &str)] = &[
    ("world", "World", None, "International news"),
    (
        "central-asia",
        "Central Asia",
        Some("world"),
        "Kazakhstan, Kyrgyzstan, Tajikistan, Turkmenistan and Uzbekistan",
    ),
    (
        "tajikistan",
        "Tajikistan",
        Some("central-asia"),
        "News from Tajikistan",
    ),
    (
        "kyrgyzstan",
        "Kyrgyzstan",
        Some("central-asia"),
        "News from Kyrgyzstan",
    ),
    (
        "uzbekistan",
        "Uzbekistan",
        Some("central-asia"),
        "News from Uzbekistan",
    ),
    (
        "kazakhstan",
        "Kazakhstan",
        Some("central-asia"),
        "News from Kazakhstan",
    ),
    ("europe", "Europe", Some("world"), "News from Europe"),
    ("economy", "Economy", None, "Markets, trade and business"),
    (
        "energy",
        "Energy",
        Some("economy"),
        "Power, oil, gas and water",
    ),
    ("politics", "Politics", None, "Governments and elections"),
    (
        "society",
        "Society",
        None,
        "Health, education and everyday life",
    ),
];

/// (language, title, summary, topic slugs)
const ARTICLES: &[(&str, &str, &str, &[&str])] = &[
    ("en", "Tajikistan and Kyrgyzstan sign treaty ending decades-long border dispute", "The presidents of both countries signed the agreement in Bishkek, settling the last contested sections of a 970-kilometre frontier that saw deadly clashes in 2021 and 2022.", &["tajikistan", "kyrgyzstan", "politics"]),
    ("en", "Rogun dam's second turbine starts generating power", "The hydropower plant on the Vakhsh river now produces 600 megawatts, and Dushanbe says exports to Afghanistan and Uzbekistan will grow next year.", &["tajikistan", "energy"]),
    ("en", "Border villages in Batken reopen schools after two years", "Families who fled the fighting in 2022 are returning as reconstruction funded by the government and donors nears completion.", &["kyrgyzstan", "society"]),
    ("en", "Uzbekistan lifts restrictions on cotton exports", "The government ends a state quota system after international monitors confirmed the harvest is free of forced labour.", &["uzbekistan", "economy"]),
    ("en", "Kazakhstan's central bank holds its key rate at 14.25 percent", "Policymakers cite slowing inflation but warn of risks from food prices and a weaker tenge.", &["kazakhstan", "economy"]),
    ("en", "Dushanbe-Bishkek flights resume after a fourteen-year break", "Somon Air will operate three weekly flights, a symbolic step after the border settlement.", &["tajikistan", "kyrgyzstan"]),
    ("en", "Water-sharing talks on the Syr Darya make progress", "Officials from four countries agreed on summer release volumes from the Toktogul reservoir.", &["central-asia", "energy"]),
    ("en", "Tajik migrants' remittances reach a record high", "Money sent home from Russia made up nearly half of the country's economic output last year, the World Bank says.", &["tajikistan", "economy"]),
    ("en", "Kyrgyz parliament approves new media law after public hearings", "Journalists' unions welcomed changes to the draft but say registration rules remain too broad.", &["kyrgyzstan", "politics"]),
    ("en", "Samarkand hosts Central Asian leaders' summit", "Regional trade, transport corridors and climate adaptation topped the agenda.", &["uzbekistan", "politics", "central-asia"]),
    ("en", "Flash floods hit the Rasht valley; roads cut off", "Emergency services evacuated more than 300 people after heavy rain swelled mountain rivers.", &["tajikistan", "society"]),
    ("en", "Kazakhstan opens its first wind farm in the Caspian region", "The 100-megawatt project near Aktau is part of a plan to reach 15 percent renewable power by 2030.", &["kazakhstan", "energy"]),
    ("en", "New rail link between China, Kyrgyzstan and Uzbekistan breaks ground", "The 523-kilometre line is expected to cut freight times to Europe by a week.", &["kyrgyzstan", "uzbekistan", "economy"]),
    ("en", "EU foreign ministers agree on a new Central Asia strategy", "The plan promises investment in transport and critical raw materials.", &["europe", "central-asia", "politics"]),
    ("en", "European gas prices fall as storage reaches 95 percent", "Mild weather and steady imports of liquefied gas eased pressure on the market.", &["europe", "energy"]),
    ("en", "Tajikistan's parliament passes a law on renewable energy", "The law guarantees grid access for small solar and wind producers.", &["tajikistan", "energy", "politics"]),
    ("en", "Doctors in Khujand trial telemedicine for mountain clinics", "A pilot links twelve rural clinics with specialists in the regional hospital.", &["tajikistan", "society"]),
    ("en", "Kyrgyzstan's gold output rises after the Kumtor mine upgrade", "Production rose 11 percent in the first nine months of the year.", &["kyrgyzstan", "economy"]),
    ("en", "Uzbekistan's capital bans old buses from the city centre", "Tashkent will replace 400 buses with electric ones by the end of next year.", &["uzbekistan", "society"]),
    ("en", "Almaty air pollution prompts emergency measures", "The city will subsidise gas heating for households that stop burning coal.", &["kazakhstan", "society"]),
    ("en", "Analysis: what the border treaty means for Fergana valley trade", "Cross-border markets closed since 2021 could reopen within months, traders say.", &["central-asia", "economy", "tajikistan"]),
    ("en", "Opinion: water, not borders, will define the region's next decade", "Agreements on land are a start; the harder negotiation is over the rivers.", &["central-asia", "politics"]),
    ("en", "Background: a timeline of the Tajik-Kyrgyz border conflict", "From the first clashes over water points to the 2022 fighting and the road to a settlement.", &["tajikistan", "kyrgyzstan", "politics"]),
    ("en", "Correction: Rogun output figure in earlier report", "An earlier version of our report on the Rogun dam misstated the capacity of a single turbine.", &["tajikistan", "energy"]),
    ("en", "Kazakh grain harvest beats forecasts", "Farmers brought in 23 million tonnes, the most in a decade.", &["kazakhstan", "economy"]),
    ("ru", "Таджикистан и Кыргызстан подписали договор о границе", "Президенты двух стран подписали соглашение в Бишкеке, урегулировав последние спорные участки границы протяжённостью 970 километров.", &["tajikistan", "kyrgyzstan", "politics"]),
    ("ru", "Второй агрегат Рогунской ГЭС выработал первую энергию", "Мощность станции на реке Вахш достигла 600 мегаватт, экспорт электроэнергии в следующем году вырастет.", &["tajikistan", "energy"]),
    ("ru", "В селах Баткена после двухлетнего перерыва открылись школы", "Семьи, покинувшие дома в 2022 году, возвращаются по мере завершения восстановительных работ.", &["kyrgyzstan", "society"]),
    ("ru", "Узбекистан отменил ограничения на экспорт хлопка", "Правительство отказалось от государственных квот после того, как наблюдатели подтвердили отсутствие принудительного труда.", &["uzbekistan", "economy"]),
    ("ru", "Нацбанк Казахстана сохранил базовую ставку на уровне 14,25%", "Регулятор отмечает замедление инфляции, но предупреждает о рисках роста цен на продукты.", &["kazakhstan", "economy"]),
    ("ru", "Возобновлено авиасообщение между Душанбе и Бишкеком", "Авиакомпания «Сомон Эйр» будет выполнять три рейса в неделю.", &["tajikistan", "kyrgyzstan"]),
    ("ru", "Переводы мигрантов в Таджикистан достигли рекорда", "Деньги, отправленные из России, составили почти половину ВВП страны, сообщает Всемирный банк.", &["tajikistan", "economy"]),
    ("ru", "Паводки в Раштской долине: дороги отрезаны", "Спасатели эвакуировали более 300 человек после сильных дождей.", &["tajikistan", "society"]),
    ("ru", "В Самарканде прошёл саммит лидеров Центральной Азии", "В повестке — региональная торговля, транспортные коридоры и адаптация к изменению климата.", &["uzbekistan", "politics", "central-asia"]),
    ("ru", "Казахстан открыл первую ветровую электростанцию на Каспии", "Проект мощностью 100 мегаватт возле Актау — часть плана по развитию возобновляемой энергетики.", &["kazakhstan", "energy"]),
    ("ru", "Началось строительство железной дороги Китай — Кыргызстан — Узбекистан", "Магистраль длиной 523 километра сократит сроки доставки грузов в Европу на неделю.", &["kyrgyzstan", "uzbekistan", "economy"]),
    ("ru", "Парламент Кыргызстана принял новый закон о СМИ", "Союзы журналистов приветствовали изменения, но считают правила регистрации слишком широкими.", &["kyrgyzstan", "politics"]),
    ("ru", "Переговоры о распределении воды Сырдарьи продвинулись", "Представители четырёх стран согласовали объёмы летних попусков из Токтогульского водохранилища.", &["central-asia", "energy"]),
    ("ru", "В Худжанде испытывают телемедицину для горных больниц", "Пилотный проект связал двенадцать сельских клиник со специалистами областной больницы.", &["tajikistan", "society"]),
    ("ru", "Ташкент убирает старые автобусы из центра города", "До конца следующего года город заменит 400 автобусов электрическими.", &["uzbekistan", "society"]),
    ("ru", "Алматы вводит экстренные меры против смога", "Город будет субсидировать газовое отопление для домохозяйств, отказавшихся от угля.", &["kazakhstan", "society"]),
    ("ru", "Добыча золота в Кыргызстане выросла после модернизации Кумтора", "Производство за девять месяцев выросло на 11 процентов.", &["kyrgyzstan", "economy"]),
    ("ru", "Цены на газ в Европе снизились: хранилища заполнены на 95%", "Мягкая погода и стабильный импорт СПГ ослабили давление на рынок.", &["europe", "energy"]),
    ("ru", "Таджикистан принял закон о возобновляемой энергетике", "Закон гарантирует доступ к сетям для небольших солнечных и ветровых станций.", &["tajikistan", "energy", "politics"]),
    ("ru", "Казахстан собрал рекордный урожай зерна", "Аграрии собрали 23 миллиона тонн — больше всего за десятилетие.", &["kazakhstan", "economy"]),
    ("ru", "Министры ЕС согласовали новую стратегию для Центральной Азии", "План предусматривает инвестиции в транспорт и критически важное сырьё.", &["europe", "central-asia", "politics"]),
    ("ru", "Анализ: что договор о границе даст торговле в Ферганской долине", "Приграничные рынки, закрытые с 2021 года, могут открыться в ближайшие месяцы.", &["central-asia", "economy", "tajikistan"]),
    ("ru", "Мнение: вода, а не границы, определит следующее десятилетие региона", "Договорённости о земле — лишь начало; сложнее будет договориться о реках.", &["central-asia", "politics"]),
];

/// The Central Asia report and its ten related headlines (indexes into ARTICLES), with the
/// editor's relation for each.
const LEAD: usize = 0;
const LEAD_RELATED: &[(usize, &str)] = &[
    (22, "background"),
    (20, "follow_up"),
    (21, "opinion"),
    (5, "follow_up"),
    (2, "related"),
    (6, "related"),
    (9, "related"),
    (8, "related"),
    (13, "related"),
    (25, "related"),
];

fn body_html(language: &str, title: &str, summary: &str) -> String {
    let (dateline, more) = match language {
        "ru" => (
            "ДУШАНБЕ",
            "Подробности уточняются. Редакция продолжает следить за развитием событий и обновит материал.",
        ),
        _ => (
            "DUSHANBE",
            "Officials said further details would be published in the coming days. This report will be updated.",
        ),
    };
    format!(
        "<p><strong>{dateline}</strong> — {summary}</p>\n<h2>{title}</h2>\n<p>{more}</p>\n\
         <figure><img src=\"https://images.newsroom.example/demo.jpg\" alt=\"\"><figcaption>{title}</figcaption></figure>\n<p>{more}</p>"
    )
}

fn demo_user(
    tx: &mut Tx,
    email: &str,
    name: &str,
    role: Role,
    bio: &str,
) -> Result<(UserRow, String), ApiError> {
    let password = random_token(18);
    let new = NewUser {
        email: Email::parse(email).map_err(|m| ApiError::invalid("email", m))?,
        name: name.into(),
        role,
        password: Password::parse(password.clone())
            .map_err(|m| ApiError::invalid("password", m))?,
        bio: Some(bio.into()),
    };
    let hash = crate::auth::password::hash(&new.password)?;
    Ok((users::create(tx, new, hash)?, password))
}

/// The fronts of the demo: `home` as the page we model shows it (the Central Asia report, its
/// ten related headlines, then all news), and the `central-asia` section front.
fn demo_fronts(tx: &mut Tx, article_ids: &[i32]) -> Result<(), ApiError> {
    let section = |key: &str, title: &str, max_items: i64, items: Vec<i32>, fill| Section {
        key: key.to_owned(),
        title: title.to_owned(),
        max_items,
        items: items
            .into_iter()
            .map(|article_id| FrontItem {
                article_id,
                headline: None,
                summary: None,
                image: None,
                kicker: None,
                pinned_until: None,
            })
            .collect(),
        fill,
    };
    let related: Vec<i32> = LEAD_RELATED.iter().map(|(i, _)| article_ids[*i]).collect();
    let home = PutFront {
        title: "Home".into(),
        sections: vec![
            section("lead", "Top story", 1, vec![article_ids[LEAD]], None),
            section("related", "Related", 10, related, None),
            section(
                "all-news",
                "All news",
                20,
                Vec::new(),
                Some(Fill::default()),
            ),
        ],
        version: None,
    };
    fronts::seed(tx, "home", home)?;
    let central_asia = PutFront {
        title: "Central Asia".into(),
        sections: vec![section(
            "central-asia",
            "Central Asia",
            20,
            Vec::new(),
            Some(Fill {
                topic: Some(RefInput::Slug("central-asia".into())),
                ..Fill::default()
            }),
        )],
        version: None,
    };
    fronts::seed(tx, "central-asia", central_asia)?;
    Ok(())
}

/// Seeds the demo; refuses (409) when it has been seeded before.
pub fn demo(conn: &mut DbConnection) -> Result<String, ApiError> {
    if UserRow::find_by_email(conn, EDITOR_EMAIL)?.is_some() {
        return Err(ApiError::Conflict("the demo data is already there".into()));
    }
    changes::write_on(conn, None, |tx| {
        let (editor, editor_password) = demo_user(
            tx,
            EDITOR_EMAIL,
            "Farrukh Nazarov",
            Role::Editor,
            "Managing editor of the Central Asia desk.",
        )?;
        let (author, author_password) = demo_user(
            tx,
            AUTHOR_EMAIL,
            "Malika Rahimova",
            Role::Author,
            "Correspondent in Dushanbe covering energy and migration.",
        )?;
        let now = db::now();
        let mut topic_ids = std::collections::HashMap::new();
        for (position, (slug, name, parent, description)) in TOPICS.iter().enumerate() {
            let parent_id = parent.and_then(|p| topic_ids.get(p).copied());
            let id: i32 = diesel::insert_into(topics::table)
                .values((
                    topics::slug.eq(slug),
                    topics::name.eq(name),
                    topics::description.eq(description),
                    topics::parent_id.eq(parent_id),
                    topics::position.eq(position as i32),
                    topics::created_at.eq(now),
                    topics::updated_at.eq(now),
                ))
                .returning(topics::id)
                .get_result(tx.conn())?;
            topic_ids.insert(*slug, id);
            let topic = EventRef {
                id,
                slug: (*slug).to_owned(),
            };
            tx.topic(EventType::TopicCreated, topic, &[], &[], &[]);
        }
        let mut made = Vec::with_capacity(ARTICLES.len());
        let html = crate::articles::html::Sanitiser::new(
            &crate::articles::html::DEFAULT_EMBED_HOSTS.map(String::from),
        );
        let as_editor = Caller {
            role: Role::Editor,
            user: editor.clone(),
        };
        for (i, (language, title, summary, topic_slugs)) in ARTICLES.iter().enumerate() {
            let published_at = now - Duration::hours(3 + 7 * i as i64);
            let byline = if i % 3 == 0 { editor.id } else { author.id };
            let topic_ids: Vec<i32> = topic_slugs
                .iter()
                .filter_map(|s| topic_ids.get(s).copied())
                .collect();
            let request = CreateArticle {
                title: (*title).to_owned(),
                slug: None,
                subtitle: None,
                summary: Some((*summary).to_owned()),
                body: body_html(language, title, summary),
                language: Some((*language).to_owned()),
                primary_topic_id: topic_ids.first().copied(),
                topic_ids: Some(topic_ids),
                author_ids: Some(vec![byline]),
                cover_image: None,
                source: (i % 5 == 0).then(|| "Asia-Plus".to_owned()),
                seo: None,
                status: Some(Status::Published),
                published_at: Some(db::utc(published_at)),
                translation_of: None,
                format: None,
                breaking: None,
                breaking_until: None,
            };
            made.push(write::create(tx, &as_editor, request, &html)?);
        }
        let article_ids: Vec<i32> = made.iter().map(|row| row.id).collect();
        let mut links = 0;
        let mut link = |conn: &mut DbConnection,
                        from: usize,
                        to: usize,
                        relation: &str,
                        position: i32|
         -> Result<(), ApiError> {
            diesel::insert_into(related_links::table)
                .values((
                    related_links::article_id.eq(article_ids[from]),
                    related_links::target_id.eq(article_ids[to]),
                    related_links::relation.eq(relation),
                    related_links::position.eq(position),
                    related_links::created_at.eq(now),
                ))
                .execute(conn)?;
            links += 1;
            Ok(())
        };
        let conn = tx.conn();
        for (position, (target, relation)) in LEAD_RELATED.iter().enumerate() {
            link(conn, LEAD, *target, relation, position as i32)?;
        }
        // Every other article links to its translation or neighbours: three links each.
        let count = ARTICLES.len();
        for from in 1..count {
            for (position, step) in [1, 2, 3].iter().enumerate() {
                let to = (from + step) % count;
                if to != from && to != LEAD {
                    link(conn, from, to, "related", position as i32)?;
                }
            }
        }
        let now = tx.now();
        for row in &made {
            tx.links_changed(&ArticleState::of(row, now));
        }
        demo_fronts(tx, &article_ids)?;
        Ok(format!(
            "seeded {} topics, {} articles, {links} related links and the fronts home and \
             central-asia\n\
             editor: {EDITOR_EMAIL} password: {editor_password}\n\
             author: {AUTHOR_EMAIL} password: {author_password}\n\
             the Central Asia report: /api/v1/articles/{}",
            TOPICS.len(),
            ARTICLES.len(),
            Slug::derive(ARTICLES[LEAD].1, "article")
        ))
    })
}
