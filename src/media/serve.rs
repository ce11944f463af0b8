//! `GET /media/{file}`: the library's files, public to whoever has a name. A name stands for
//! the same bytes for ever, so it is served as immutable with its name as a strong tag, and a
//! rendition asked for before it is made is made there and then.

use std::sync::Arc;

use actix_web::http::header::{self, ByteRangeSpec, HeaderValue, Range};
use actix_web::http::StatusCode;
use actix_web::{get, web, HttpRequest, HttpResponse};

use super::{by_name, files, library::Library};
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A file of the photo library
///
/// Public: an original (`<name>.<ext>`), a rendition (`<name>-<width>w.<webp|jpg>`) or a crop,
/// as the media item's `url` and `renditions[].url` name them. Names carry 128 random bits, so
/// a photo of an unpublished article is reachable only by whoever was given its URL. Served
/// `immutable` for a year with the name as a strong ETag (`If-None-Match` -> 304) and single
/// byte ranges (`Range` -> 206, or 416 beyond the end). A rendition not made yet is made before
/// the answer.
#[utoipa::path(
    tag = "media",
    params(("file" = String, Path, description = "The file's name, as a media item's URLs give it")),
    responses(
        (status = 200, description = "The file", content(
            (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/webp"), (Vec<u8> = "image/png"),
            (Vec<u8> = "image/gif"))),
        (status = 206, description = "The asked byte range"),
        (status = 304, description = "Unchanged (it never changes)"),
        (status = 404, description = "No such file", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range starts beyond the end", body = crate::error::Problem, content_type = "application/problem+json"),
    )
)]
#[get("/media/{file}")]
pub async fn serve_media(
    state: web::Data<AppState>,
    library: web::Data<Arc<Library>>,
    file: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let file = file.into_inner();
    let missing = || ApiError::not_found("media file");
    let name = files::item_name(&file).ok_or_else(missing)?.to_owned();
    let etag = format!("\"{file}\"");
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|held| held.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
        && library.has(&file).await?
    {
        return Ok(headers(&mut HttpResponse::NotModified(), &file, &etag).finish());
    }
    let bytes = match library.get(&file).await? {
        Some(bytes) => bytes,
        None => made(&state, &library, &name, &file)
            .await?
            .ok_or_else(missing)?,
    };
    let length = bytes.len() as u64;
    match range(&req, &etag, length)? {
        None => Ok(headers(&mut HttpResponse::Ok(), &file, &etag).body(bytes)),
        Some((start, end)) => {
            let part = bytes.slice(start as usize..=end as usize);
            let mut res = HttpResponse::build(StatusCode::PARTIAL_CONTENT);
            headers(&mut res, &file, &etag).insert_header((
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{length}"),
            ));
            Ok(res.body(part))
        }
    }
}

fn headers<'a>(
    res: &'a mut actix_web::HttpResponseBuilder,
    file: &str,
    etag: &str,
) -> &'a mut actix_web::HttpResponseBuilder {
    // A CDN purges the files by this key when the photo is deleted.
    let mut keys = crate::keys::Keys::default();
    keys.add(crate::keys::media(files::item_name(file).unwrap_or(file)));
    keys.tag(res);
    res.content_type(files::content_type(file))
        .insert_header((header::CACHE_CONTROL, IMMUTABLE))
        .insert_header((header::ETAG, etag.to_owned()))
        .insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Photos are compressed already.
        .insert_header((
            header::CONTENT_ENCODING,
            HeaderValue::from_static("identity"),
        ))
}

/// The one byte range asked for, first and last byte; `None` for the whole file (no `Range`,
/// several ranges, an `If-Range` naming another file, or a header we cannot read).
fn range(req: &HttpRequest, etag: &str, length: u64) -> Result<Option<(u64, u64)>, ApiError> {
    let Some(raw) = req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let same = req
        .headers()
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    let Ok(Range::Bytes(specs)) = raw.parse::<Range>() else {
        return Ok(None);
    };
    let [spec]: [ByteRangeSpec; 1] = match specs.try_into() {
        Ok(one) if same => one,
        _ => return Ok(None),
    };
    spec.to_satisfiable_range(length)
        .map(Some)
        .ok_or_else(|| ApiError::RangeNotSatisfiable {
            detail: format!("the file has {length} bytes"),
            length,
        })
}

/// A current rendition of an item, made now if it is not stored yet; `None` when the file is
/// not one of the item's current renditions (or there is no such item).
async fn made(
    state: &web::Data<AppState>,
    library: &Arc<Library>,
    name: &str,
    file: &str,
) -> Result<Option<web::Bytes>, ApiError> {
    let owned = name.to_owned();
    let Some(row) = db::run(&state.pool, move |conn| Ok(by_name(conn, &owned)?)).await? else {
        return Ok(None);
    };
    let Some(rendition) = row
        .renditions()
        .into_iter()
        .find(|r| r.file_name(name) == file)
    else {
        return Ok(None);
    };
    let source = library.source(&row.original()).await?;
    library.render(name, source, vec![rendition]).await?;
    library.get(file).await
}
