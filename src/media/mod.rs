//! The photo library: uploads taken by their bytes alone, refused before decoding when too
//! large, stripped of every piece of metadata (GPS included) by re-encoding, cut into
//! renditions and crops around a focal point off the request threads, and served under names
//! nobody can guess with a year's cache lifetime (`serve`).

pub mod body;
pub mod files;
pub mod library;
pub mod process;
pub mod serve;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use actix_web::http::{header, StatusCode};
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::changes::{self, events::EventType, Tx};
use crate::db::schema::{article_media, articles, media, users};
use crate::db::{self, DbConnection};
use crate::domain::{optional_text, Errors, Role};
use crate::error::ApiError;
use crate::openapi::rules::{field, FieldRule, Rule};
use crate::pagination;
use crate::state::AppState;
use files::{Aspect, Focal, Output};
use library::Library;
use process::{Format, Refusal};

/// The longest alt text and credit, in characters.
const MAX_SHORT_TEXT_CHARS: usize = 300;
/// The longest caption, in characters.
const MAX_CAPTION_CHARS: usize = 2000;
/// The most bytes of a text field of an upload.
const MAX_FIELD_BYTES: usize = 16 << 10;

/// The rules on single fields of the request bodies, for the OpenAPI document.
pub const FIELD_RULES: &[FieldRule] = &[
    field("UploadForm", "alt", Rule::Text(MAX_SHORT_TEXT_CHARS)),
    field("UploadForm", "caption", Rule::Text(MAX_CAPTION_CHARS)),
    field("UploadForm", "credit", Rule::Text(MAX_SHORT_TEXT_CHARS)),
    field("UpdateMedia", "alt", Rule::Text(MAX_SHORT_TEXT_CHARS)),
    field("UpdateMedia", "caption", Rule::Text(MAX_CAPTION_CHARS)),
    field("UpdateMedia", "credit", Rule::Text(MAX_SHORT_TEXT_CHARS)),
];

/// The site's public URL, which photo URLs start with: set once at start (the server's
/// `NEWSROOM_PUBLIC_URL`), since cards that show photos are written by every process.
static PUBLIC_URL: OnceLock<String> = OnceLock::new();

/// Sets the URL photo URLs start with; the first call holds.
pub fn set_public_url(url: &str) {
    let _ = PUBLIC_URL.set(url.trim_end_matches('/').to_owned());
}

/// The public URL of a stored file.
pub fn file_url(file: &str) -> String {
    let base = PUBLIC_URL
        .get()
        .map_or("http://localhost:8080", String::as_str);
    format!("{base}/media/{file}")
}

/// A stored photo.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = media)]
pub struct MediaRow {
    pub id: i32,
    pub name: String,
    pub format: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i64,
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub focal_x: f64,
    pub focal_y: f64,
    pub blurhash: String,
    pub ready: bool,
    pub uploaded_by: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl MediaRow {
    fn format(&self) -> Format {
        Format::parse(&self.format).unwrap_or(Format::Jpeg)
    }

    fn focal(&self) -> Focal {
        files::focal(self.focal_x, self.focal_y)
    }

    /// The file of the original.
    pub fn original(&self) -> String {
        format!("{}.{}", self.name, self.format().extension())
    }

    fn size(&self) -> (u32, u32) {
        (
            u32::try_from(self.width).unwrap_or(1),
            u32::try_from(self.height).unwrap_or(1),
        )
    }

    /// Every rendition of its current focal point.
    pub fn renditions(&self) -> Vec<files::Rendition> {
        let (w, h) = self.size();
        files::renditions(w, h, self.focal())
    }

    /// Its renditions as readers see them.
    pub fn rendition_views(&self) -> Vec<RenditionView> {
        self.renditions()
            .into_iter()
            .map(|r| RenditionView {
                width: r.width,
                height: r.height,
                aspect: r.aspect,
                format: r.output,
                url: file_url(&r.file_name(&self.name)),
                ready: self.ready,
            })
            .collect()
    }

    pub fn focal_point(&self) -> FocalPoint {
        FocalPoint {
            x: self.focal_x,
            y: self.focal_y,
        }
    }

    pub fn mime(&self) -> &'static str {
        self.format().mime()
    }
}

/// The photos of `ids`, in one statement.
pub fn rows(conn: &mut DbConnection, ids: &[i32]) -> QueryResult<HashMap<i32, MediaRow>> {
    Ok(media::table
        .filter(media::id.eq_any(ids))
        .select(MediaRow::as_select())
        .load::<MediaRow>(conn)?
        .into_iter()
        .map(|row| (row.id, row))
        .collect())
}

/// Where a crop is centred, 0..1 from the left and from the top.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"x": 0.5, "y": 0.35}))]
pub struct FocalPoint {
    #[schema(minimum = 0, maximum = 1)]
    pub x: f64,
    #[schema(minimum = 0, maximum = 1)]
    pub y: f64,
}

/// One size and shape of a photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RenditionView {
    pub width: u32,
    pub height: u32,
    pub aspect: Aspect,
    pub format: Output,
    pub url: String,
    /// Whether it is made already; a request for one that is not waits while it is made.
    pub ready: bool,
}

/// Who uploaded a photo.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Uploader {
    pub id: i32,
    pub name: String,
}

/// A photo of the library.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 7, "url": "https://news.example/media/5f0c3a9e2b7d4c1a8e6f0b9d3c2a1e4f.jpg",
    "mime": "image/jpeg", "width": 4000, "height": 3000, "bytes": 2481733,
    "alt": "Delegates sign the treaty in Dushanbe", "caption": "The signing, on Tuesday.",
    "credit": "Malika Rahimova", "focal_point": {"x": 0.5, "y": 0.4},
    "renditions": [{"width": 320, "height": 240, "aspect": "original", "format": "webp",
        "url": "https://news.example/media/5f0c3a9e2b7d4c1a8e6f0b9d3c2a1e4f-320w.webp", "ready": true}],
    "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj", "uploaded_by": {"id": 2, "name": "Malika Rahimova"},
    "used_by": [12],
    "created_at": "2026-12-03T09:00:00Z", "updated_at": "2026-12-03T09:00:00Z"
}))]
pub struct MediaItem {
    pub id: i32,
    /// The original, re-encoded at its own size with no metadata.
    pub url: String,
    pub mime: &'static str,
    pub width: i32,
    pub height: i32,
    /// The size of the original as stored.
    pub bytes: i64,
    pub alt: Option<String>,
    pub caption: Option<String>,
    pub credit: Option<String>,
    pub focal_point: FocalPoint,
    /// The whole photo at widths 320 to 2560 (never wider than the original) and crops at
    /// 16:9, 4:3 and 1:1 around the focal point, each in WebP and JPEG.
    pub renditions: Vec<RenditionView>,
    /// A BlurHash (4 x 3) to paint while the photo loads.
    pub blurhash: String,
    pub uploaded_by: Uploader,
    /// The articles (in the trash or not) that show it, as their cover or in their body.
    pub used_by: Vec<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MediaItem {
    fn new(row: MediaRow, uploader: String, used_by: Vec<i32>) -> Self {
        Self {
            id: row.id,
            url: file_url(&row.original()),
            mime: row.mime(),
            width: row.width,
            height: row.height,
            bytes: row.bytes,
            focal_point: row.focal_point(),
            renditions: row.rendition_views(),
            uploaded_by: Uploader {
                id: row.uploaded_by,
                name: uploader,
            },
            used_by,
            created_at: db::utc(row.created_at),
            updated_at: db::utc(row.updated_at),
            blurhash: row.blurhash,
            alt: row.alt,
            caption: row.caption,
            credit: row.credit,
        }
    }
}

/// A page of the library.
#[derive(Debug, Serialize, ToSchema)]
pub struct MediaPage {
    pub data: Vec<MediaItem>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// The form of an upload (`multipart/form-data`); any other field is refused (422), and each
/// field may be given once.
// The handler reads the parts as they stream in; the derived `Deserialize` only lets the
// schema say that no other field is taken.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UploadForm {
    /// The photo: JPEG, PNG, WebP or GIF, decided by its bytes alone.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    #[schema(value_type = String, required = false)]
    pub alt: Option<String>,
    #[schema(value_type = String, required = false)]
    pub caption: Option<String>,
    /// From EXIF `Artist` / `Copyright` when not given.
    #[schema(value_type = String, required = false)]
    pub credit: Option<String>,
    /// 0..1 from the left (default 0.5).
    #[schema(value_type = f64, required = false, minimum = 0, maximum = 1)]
    pub focal_x: Option<f64>,
    /// 0..1 from the top (default 0.5).
    #[schema(value_type = f64, required = false, minimum = 0, maximum = 1)]
    pub focal_y: Option<f64>,
}

fn load(conn: &mut DbConnection, id: i32) -> Result<(MediaRow, String), ApiError> {
    media::table
        .inner_join(users::table)
        .filter(media::id.eq(id))
        .select((MediaRow::as_select(), users::name))
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("media item"))
}

/// The item a file belongs to, by its name.
pub fn by_name(conn: &mut DbConnection, name: &str) -> QueryResult<Option<MediaRow>> {
    media::table
        .filter(media::name.eq(name))
        .select(MediaRow::as_select())
        .first(conn)
        .optional()
}

/// Text of the searched fields, as `q` matches it.
fn search_text(alt: &Option<String>, caption: &Option<String>, credit: &Option<String>) -> String {
    [alt.as_deref(), caption.as_deref(), credit.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n")
        .to_lowercase()
}

fn unit(errors: &mut Errors, field: &str, value: f64) -> Option<f64> {
    errors.check(
        field,
        if (0.0..=1.0).contains(&value) {
            Ok(value)
        } else {
            Err("must be from 0 to 1".into())
        },
    )
}

/// What an upload's form held, read and bounded.
#[derive(Default)]
struct Form {
    file: Option<Vec<u8>>,
    alt: Option<String>,
    caption: Option<String>,
    credit: Option<String>,
    focal_x: Option<String>,
    focal_y: Option<String>,
}

fn malformed(e: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest(format!("the multipart body cannot be read: {e}"))
}

async fn read_form(req: &HttpRequest, payload: web::Payload, max: usize) -> Result<Form, ApiError> {
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        return Err(ApiError::UnsupportedMediaType(
            "an upload is multipart/form-data with the photo in the field `file`".into(),
        ));
    }
    let too_large =
        || ApiError::PayloadTooLarge(format!("an upload may be at most {} MiB", max >> 20));
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max + (1 << 20)) {
        return Err(too_large());
    }
    let mut form = Form::default();
    let mut parts = actix_multipart::Multipart::new(req.headers(), payload);
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(malformed)?;
        let name = field.name().unwrap_or_default().to_owned();
        let limit = if name == "file" { max } else { MAX_FIELD_BYTES };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(malformed)?;
            if bytes.len() + chunk.len() > limit {
                return Err(if name == "file" {
                    too_large()
                } else {
                    ApiError::invalid(&name, "is too long")
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        let value = |bytes: Vec<u8>| {
            String::from_utf8(bytes).map_err(|_| ApiError::invalid(&name, "must be UTF-8 text"))
        };
        let slot = match name.as_str() {
            "file" => {
                if form.file.replace(bytes).is_some() {
                    return Err(ApiError::invalid("file", "must be given once"));
                }
                continue;
            }
            "alt" => &mut form.alt,
            "caption" => &mut form.caption,
            "credit" => &mut form.credit,
            "focal_x" => &mut form.focal_x,
            "focal_y" => &mut form.focal_y,
            _ => return Err(ApiError::invalid(&name, "is not a field of an upload")),
        };
        if slot.replace(value(bytes)?).is_some() {
            return Err(ApiError::invalid(&name, "must be given once"));
        }
    }
    Ok(form)
}

/// The form's metadata, checked; every invalid field named at once.
struct Metadata {
    alt: Option<String>,
    caption: Option<String>,
    credit: Option<String>,
    focal: (f64, f64),
}

fn metadata(form: &mut Form) -> Result<Metadata, ApiError> {
    let mut errors = Errors::default();
    if form.file.as_ref().is_none_or(Vec::is_empty) {
        errors.check::<()>("file", Err("is required: the photo's bytes".into()));
    }
    let mut number = |field: &str, raw: Option<String>| match raw {
        None => Some(0.5),
        Some(raw) => match raw.trim().parse::<f64>() {
            Ok(v) => unit(&mut errors, field, v),
            Err(_) => errors.check(field, Err("must be a number from 0 to 1".into())),
        },
    };
    let x = number("focal_x", form.focal_x.take());
    let y = number("focal_y", form.focal_y.take());
    let meta = Metadata {
        alt: optional_text(&mut errors, "alt", form.alt.take(), MAX_SHORT_TEXT_CHARS),
        caption: optional_text(
            &mut errors,
            "caption",
            form.caption.take(),
            MAX_CAPTION_CHARS,
        ),
        credit: optional_text(
            &mut errors,
            "credit",
            form.credit.take(),
            MAX_SHORT_TEXT_CHARS,
        ),
        focal: (x.unwrap_or(0.5), y.unwrap_or(0.5)),
    };
    errors.finish()?;
    Ok(meta)
}

/// An upload made ready to store: the original re-encoded, its size and placeholder.
struct Prepared {
    format: Format,
    original: Vec<u8>,
    width: u32,
    height: u32,
    blurhash: String,
    exif_credit: Option<String>,
    source: process::Source,
}

fn prepare(bytes: &[u8]) -> Result<Prepared, Refusal> {
    let decoded = process::decode(bytes)?;
    let original = process::encode_original(bytes, &decoded)?;
    let (width, height) = (decoded.image.width(), decoded.image.height());
    let source = process::Source::new(decoded.image);
    Ok(Prepared {
        format: decoded.format,
        width,
        height,
        blurhash: source.blurhash(),
        exif_credit: decoded.exif_credit,
        original,
        source,
    })
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Unsupported => ApiError::UnsupportedMediaType(
                "the file is not a JPEG, PNG, WebP or GIF image (decided by its bytes)".into(),
            ),
            other => ApiError::invalid("file", other.to_string()),
        }
    }
}

/// Photos as the library shows them, with the articles that show each (as their cover or in
/// their body): two statements more, whatever their number.
fn items(conn: &mut DbConnection, rows: Vec<(MediaRow, String)>) -> QueryResult<Vec<MediaItem>> {
    let ids: Vec<i32> = rows.iter().map(|(row, _)| row.id).collect();
    let mut used: HashMap<i32, std::collections::BTreeSet<i32>> = HashMap::new();
    let covers: Vec<(i32, Option<i32>)> = articles::table
        .filter(articles::cover_media_id.eq_any(&ids))
        .select((articles::id, articles::cover_media_id))
        .load(conn)?;
    let bodies: Vec<(i32, i32)> = article_media::table
        .filter(article_media::media_id.eq_any(&ids))
        .select((article_media::article_id, article_media::media_id))
        .load(conn)?;
    let shown = covers
        .into_iter()
        .filter_map(|(article, photo)| Some((article, photo?)))
        .chain(bodies);
    for (article, photo) in shown {
        used.entry(photo).or_default().insert(article);
    }
    Ok(rows
        .into_iter()
        .map(|(row, uploader)| {
            let used_by = used.remove(&row.id).unwrap_or_default();
            MediaItem::new(row, uploader, used_by.into_iter().collect())
        })
        .collect())
}

/// One photo as the library shows it.
fn item(conn: &mut DbConnection, loaded: (MediaRow, String)) -> Result<MediaItem, ApiError> {
    items(conn, vec![loaded])?
        .pop()
        .ok_or_else(|| ApiError::not_found("media item"))
}

/// Upload a photo
///
/// Authors and up. The type is decided by the bytes alone (JPEG, PNG, WebP, GIF; anything else
/// is 415); more than `NEWSROOM_MEDIA_MAX_MB` (default 25 MiB) is 413; more than 60 megapixels
/// or a side over 12,000 px is 422, decided from the header before decoding; a truncated or
/// corrupt image is 422. EXIF orientation is applied and every piece of metadata removed (EXIF
/// with GPS, XMP, IPTC, ICC): the original is kept re-encoded at its own size. Renditions are
/// made after the answer (`ready` false until then); asking for one before waits while it is
/// made. Nothing is stored for a refused upload.
#[utoipa::path(
    tag = "media",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "Stored", body = MediaItem),
        (status = 413, description = "Larger than NEWSROOM_MEDIA_MAX_MB", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not an image we take", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too many pixels, unreadable, or invalid fields", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/media")]
pub async fn upload_media(
    state: web::Data<AppState>,
    library: web::Data<Arc<Library>>,
    caller: Caller,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Author)?;
    let mut form = read_form(&req, payload, library.max_bytes).await?;
    let meta = metadata(&mut form)?;
    let bytes = form.file.unwrap_or_default();
    let prepared = library.in_turn(move || prepare(&bytes)).await??;
    let name = library::new_name();
    let original = format!("{name}.{}", prepared.format.extension());
    let stored = i64::try_from(prepared.original.len()).unwrap_or(i64::MAX);
    library
        .put(original.clone(), prepared.original.into())
        .await?;
    let credit = meta.credit.or(prepared.exif_credit);
    let search = search_text(&meta.alt, &meta.caption, &credit);
    let uploader = caller.id();
    let row_name = name.clone();
    let inserted = changes::write(&state, Some(uploader), move |tx| {
        let now = tx.now();
        let id: i32 = diesel::insert_into(media::table)
            .values((
                (
                    media::name.eq(&row_name),
                    media::format.eq(prepared.format.as_str()),
                    media::width.eq(i32::try_from(prepared.width).unwrap_or(i32::MAX)),
                    media::height.eq(i32::try_from(prepared.height).unwrap_or(i32::MAX)),
                    media::bytes.eq(stored),
                ),
                (
                    media::alt.eq(meta.alt),
                    media::caption.eq(meta.caption),
                    media::credit.eq(credit),
                    media::focal_x.eq(meta.focal.0),
                    media::focal_y.eq(meta.focal.1),
                ),
                (
                    media::blurhash.eq(prepared.blurhash),
                    media::ready.eq(false),
                    media::search_text.eq(search),
                    media::uploaded_by.eq(uploader),
                    media::created_at.eq(now),
                    media::updated_at.eq(now),
                ),
            ))
            .returning(media::id)
            .get_result(tx.conn())?;
        tx.media(EventType::MediaCreated, (id, &row_name), &[])?;
        let loaded = load(tx.conn(), id)?;
        Ok((loaded.0.clone(), item(tx.conn(), loaded)?))
    })
    .await;
    let inserted = match inserted {
        Ok(inserted) => inserted,
        Err(e) => {
            // Nothing is kept of an upload that was not recorded.
            let _ = library.remove_item(name).await;
            return Err(e);
        }
    };
    let source = Arc::new(prepared.source);
    spawn_renditions(&state, &library, &inserted.0, source);
    Ok(HttpResponse::Created().json(inserted.1))
}

/// Makes the renditions of `row`'s current focal point after the answer, then marks it ready.
fn spawn_renditions(
    state: &web::Data<AppState>,
    library: &web::Data<Arc<Library>>,
    row: &MediaRow,
    source: Arc<process::Source>,
) {
    let (state, library) = (state.clone(), library.get_ref().clone());
    let (id, name, focal, renditions) = (row.id, row.name.clone(), row.focal(), row.renditions());
    actix_web::rt::spawn(async move {
        if let Err(e) = library.render(&name, source, renditions).await {
            log::error!("renditions of media {id}: {e}");
            return;
        }
        match changes::write(&state, None, move |tx| mark_ready(tx, id, focal)).await {
            Ok(true) => {}
            // Deleted meanwhile: what was just made goes too.
            Ok(false) => {
                if let Err(e) = library.remove_item(name).await {
                    log::error!("removing the files of deleted media {id}: {e}");
                }
            }
            Err(e) => log::error!("marking media {id} ready: {e}"),
        }
    });
}

/// Marks an item ready if its focal point is still the one renditions were made for; false
/// if the item is gone.
fn mark_ready(tx: &mut Tx, id: i32, focal: Focal) -> Result<bool, ApiError> {
    let Some(row) = media::table
        .find(id)
        .select(MediaRow::as_select())
        .first(tx.conn())
        .optional()?
    else {
        return Ok(false);
    };
    if row.ready || row.focal() != focal {
        return Ok(true);
    }
    diesel::update(media::table.find(id))
        .set(media::ready.eq(true))
        .execute(tx.conn())?;
    tx.media(EventType::MediaUpdated, (id, &row.name), &["renditions"])?;
    Ok(true)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListMediaQuery {
    /// Words of the alt text, caption or credit (all must match, anywhere in a word).
    pub q: Option<String>,
    /// Only photos this user uploaded.
    pub uploaded_by: Option<i32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1 to 100 (default 30).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// The most articles a refused deletion names.
const MAX_NAMED: i64 = 20;

/// The longest `q`, in characters.
const MAX_QUERY_CHARS: usize = 200;

/// `term` as a LIKE pattern matching it anywhere, its wildcards taken literally.
fn contains(term: &str) -> String {
    let mut pattern = String::from("%");
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// List the library
///
/// Staff (authors see every photo: photos are shared within a newsroom), newest first.
#[utoipa::path(
    tag = "media",
    params(ListMediaQuery),
    responses(
        (status = 200, description = "One page of photos", body = MediaPage),
    ),
    security(("bearer" = []))
)]
#[get("/media")]
pub async fn list_media(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ListMediaQuery>,
) -> Result<web::Json<MediaPage>, ApiError> {
    caller.require(Role::Author)?;
    let limit = pagination::limit(query.limit, 30, 100)?;
    let after: Option<(i64, i32)> = pagination::cursor(query.cursor.as_deref())?;
    let words: Vec<String> = match query.q.as_deref().map(str::trim) {
        None | Some("") => Vec::new(),
        Some(q) if q.chars().count() > MAX_QUERY_CHARS => {
            return Err(ApiError::invalid(
                "q",
                format!("must be at most {MAX_QUERY_CHARS} characters"),
            ))
        }
        Some(q) => q
            .to_lowercase()
            .split_whitespace()
            .take(10)
            .map(contains)
            .collect(),
    };
    let uploaded_by = query.uploaded_by;
    let page = db::run(&state.pool, move |conn| {
        let mut q = media::table
            .inner_join(users::table)
            .select((MediaRow::as_select(), users::name))
            .order((media::created_at.desc(), media::id.desc()))
            .limit(limit + 1)
            .into_boxed();
        if let Some(user) = uploaded_by {
            q = q.filter(media::uploaded_by.eq(user));
        }
        for word in words {
            q = q.filter(media::search_text.like(word).escape('\\'));
        }
        if let Some((micros, id)) = after {
            let at = pagination::from_micros(micros)?;
            q = q.filter(
                media::created_at
                    .lt(at)
                    .or(media::created_at.eq(at).and(media::id.lt(id))),
            );
        }
        let (rows, more) = pagination::split_page(q.load::<(MediaRow, String)>(conn)?, limit);
        let next_cursor = more
            .then(|| {
                rows.last().map(|(row, _)| {
                    pagination::encode_cursor(&(pagination::micros(row.created_at), row.id))
                })
            })
            .flatten();
        Ok(MediaPage {
            data: items(conn, rows)?,
            next_cursor,
        })
    })
    .await?;
    Ok(web::Json(page))
}

/// Get a photo of the library
///
/// Staff.
#[utoipa::path(
    tag = "media",
    params(("id" = i32, Path, description = "The photo's id")),
    responses(
        (status = 200, description = "The photo", body = MediaItem),
    ),
    security(("bearer" = []))
)]
#[get("/media/{id}")]
pub async fn get_media(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i32>,
) -> Result<web::Json<MediaItem>, ApiError> {
    caller.require(Role::Author)?;
    let id = id.into_inner();
    let found = db::run(&state.pool, move |conn| {
        let loaded = load(conn, id)?;
        item(conn, loaded)
    })
    .await?;
    Ok(web::Json(found))
}

/// A change of a photo's metadata; absent fields stay, null clears.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"alt": "Delegates sign the treaty", "focal_point": {"x": 0.3, "y": 0.4}}))]
pub struct UpdateMedia {
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>)]
    pub alt: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>)]
    pub caption: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>)]
    pub credit: Option<Option<String>>,
    /// A new focal point remakes the crops, under new URLs.
    pub focal_point: Option<FocalPoint>,
}

/// Update a photo's metadata
///
/// Authors their own uploads (403 for another's), editors and admins every photo. A new focal
/// point remakes the crops under new URLs (`ready` false until they are made).
#[utoipa::path(
    tag = "media",
    params(("id" = i32, Path, description = "The photo's id")),
    request_body = UpdateMedia,
    responses(
        (status = 200, description = "Updated", body = MediaItem),
        (status = 403, description = "Another's upload, for an author", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/media/{id}")]
pub async fn update_media(
    state: web::Data<AppState>,
    library: web::Data<Arc<Library>>,
    caller: Caller,
    id: web::Path<i32>,
    body: crate::extract::Json<UpdateMedia>,
) -> Result<web::Json<MediaItem>, ApiError> {
    caller.require(Role::Author)?;
    let id = id.into_inner();
    let change = body.0;
    let mut errors = Errors::default();
    let mut field = |name: &str, value: Option<Option<String>>, max| {
        value.map(|v| optional_text(&mut errors, name, v, max))
    };
    let alt = field("alt", change.alt, MAX_SHORT_TEXT_CHARS);
    let caption = field("caption", change.caption, MAX_CAPTION_CHARS);
    let credit = field("credit", change.credit, MAX_SHORT_TEXT_CHARS);
    let focal = change.focal_point.map(|p| {
        (
            unit(&mut errors, "focal_point.x", p.x),
            unit(&mut errors, "focal_point.y", p.y),
        )
    });
    errors.finish()?;
    let focal = focal.and_then(|(x, y)| x.zip(y));
    let editor = caller.role >= Role::Editor;
    let who = caller.id();
    let (updated, shown, moved) = changes::write(&state, Some(who), move |tx| {
        let (mut row, _) = load(tx.conn(), id)?;
        if !editor && row.uploaded_by != who {
            return Err(ApiError::Forbidden(
                "authors may change only the photos they uploaded".into(),
            ));
        }
        let mut changed = Vec::new();
        let mut set =
            |name: &'static str, slot: &mut Option<String>, value: Option<Option<String>>| {
                if let Some(value) = value.filter(|v| v != slot) {
                    *slot = value;
                    changed.push(name);
                }
            };
        set("alt", &mut row.alt, alt);
        set("caption", &mut row.caption, caption);
        set("credit", &mut row.credit, credit);
        let before = row.focal();
        if let Some((x, y)) = focal.filter(|f| *f != (row.focal_x, row.focal_y)) {
            (row.focal_x, row.focal_y) = (x, y);
            changed.push("focal_point");
        }
        let moved = row.focal() != before;
        if changed.is_empty() {
            let loaded = load(tx.conn(), id)?;
            return Ok((loaded.0.clone(), item(tx.conn(), loaded)?, false));
        }
        diesel::update(media::table.find(id))
            .set((
                media::alt.eq(&row.alt),
                media::caption.eq(&row.caption),
                media::credit.eq(&row.credit),
                media::focal_x.eq(row.focal_x),
                media::focal_y.eq(row.focal_y),
                media::ready.eq(row.ready && !moved),
                media::search_text.eq(search_text(&row.alt, &row.caption, &row.credit)),
                media::updated_at.eq(tx.now()),
            ))
            .execute(tx.conn())?;
        tx.media(EventType::MediaUpdated, (id, &row.name), &changed)?;
        let loaded = load(tx.conn(), id)?;
        Ok((loaded.0.clone(), item(tx.conn(), loaded)?, moved))
    })
    .await?;
    if moved {
        let source = library.source(&updated.original()).await?;
        spawn_renditions(&state, &library, &updated, source);
    }
    Ok(web::Json(shown))
}

/// Delete a photo
///
/// Authors their own uploads, editors and admins every photo. Refused (409, naming them) while
/// a published or scheduled article shows it (as its cover or in its body); drafts and trashed
/// articles whose cover it is lose their cover. Its files are removed.
#[utoipa::path(
    tag = "media",
    params(("id" = i32, Path, description = "The photo's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "Published or scheduled articles show it, named in the detail", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Another's upload, for an author", body = crate::error::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/media/{id}")]
pub async fn delete_media(
    state: web::Data<AppState>,
    library: web::Data<Arc<Library>>,
    caller: Caller,
    id: web::Path<i32>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Role::Author)?;
    let id = id.into_inner();
    let editor = caller.role >= Role::Editor;
    let who = caller.id();
    let name = changes::write(&state, Some(who), move |tx| {
        let (row, _) = load(tx.conn(), id)?;
        if !editor && row.uploaded_by != who {
            return Err(ApiError::Forbidden(
                "authors may delete only the photos they uploaded".into(),
            ));
        }
        let in_bodies = article_media::table
            .filter(article_media::media_id.eq(id))
            .select(article_media::article_id);
        let published: Vec<(i32, String)> = articles::table
            .filter(
                articles::cover_media_id
                    .eq(id)
                    .or(articles::id.eq_any(in_bodies)),
            )
            .filter(articles::status.eq(crate::articles::stored::PUBLISHED))
            .filter(articles::deleted_at.is_null())
            .select((articles::id, articles::slug))
            .order(articles::id)
            .limit(MAX_NAMED)
            .load(tx.conn())?;
        if !published.is_empty() {
            let named: Vec<String> = published
                .iter()
                .map(|(id, slug)| format!("{id} ({slug})"))
                .collect();
            return Err(ApiError::Conflict(format!(
                "published or scheduled articles show the photo: {}",
                named.join(", ")
            )));
        }
        tx.media(EventType::MediaDeleted, (id, &row.name), &[])?;
        // Drafts and trashed articles lose the cover.
        diesel::update(articles::table.filter(articles::cover_media_id.eq(id)))
            .set((
                articles::cover_media_id.eq(None::<i32>),
                articles::cover_image_alt.eq(None::<String>),
                articles::cover_image_caption.eq(None::<String>),
                articles::cover_image_credit.eq(None::<String>),
            ))
            .execute(tx.conn())?;
        diesel::delete(media::table.find(id)).execute(tx.conn())?;
        Ok(row.name)
    })
    .await?;
    library.remove_item(name).await?;
    Ok(HttpResponse::build(StatusCode::NO_CONTENT).finish())
}
