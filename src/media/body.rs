//! Photos of the library in article bodies: an `<img>` whose `src` is one of our files gets a
//! `srcset` of the photo's whole JPEG renditions, `sizes`, and `width`/`height` (so the page
//! does not shift as it loads). Rewritten when the body is written, so reads copy it as it is;
//! the result is the same however often it is applied. Which photos a body shows is recorded
//! with it (`article_media`), so that a photo a published article shows is not deleted.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::files::{self, Aspect, Output};
use super::MediaRow;
use crate::db::schema::{article_media, media};
use crate::db::DbConnection;
use crate::error::ApiError;

/// Widths browsers choose from, up to what a column of text shows.
const BODY_MAX_WIDTH: u32 = 1280;
const SIZES: &str = "(max-width: 1280px) 100vw, 1280px";

/// The item name of a URL that points at our media files, absolute (on the site's URL) or
/// site-relative.
fn item_of(src: &str) -> Option<&str> {
    let path = src
        .strip_prefix(super::file_url("").as_str())
        .or_else(|| src.strip_prefix("/media/"))?;
    files::item_name(path)
}

/// The photos of the library whose files a body's `<img>` tags show, in one statement (none
/// when the body names none).
fn photos_in(conn: &mut DbConnection, html: &str) -> Result<HashMap<String, MediaRow>, ApiError> {
    if !html.contains("/media/") {
        return Ok(HashMap::new());
    }
    let mut names: HashSet<String> = HashSet::new();
    let collect = lol_html::RewriteStrSettings::new().append_element_content_handler(
        lol_html::element!("img[src]", |el| {
            if let Some(name) = el.get_attribute("src").as_deref().and_then(item_of) {
                names.insert(name.to_owned());
            }
            Ok(())
        }),
    );
    lol_html::rewrite_str(html, collect)
        .map_err(|e| ApiError::internal(format!("reading a body's images: {e}")))?;
    if names.is_empty() {
        return Ok(HashMap::new());
    }
    let names: Vec<String> = names.into_iter().collect();
    Ok(media::table
        .filter(media::name.eq_any(&names))
        .select(MediaRow::as_select())
        .load::<MediaRow>(conn)?
        .into_iter()
        .map(|row| (row.name.clone(), row))
        .collect())
}

/// Records which photos of the library article `article`'s body shows (`article_media`).
pub fn record_use(conn: &mut DbConnection, article: i32, html: &str) -> Result<(), ApiError> {
    let mut shown: Vec<i32> = photos_in(conn, html)?.values().map(|p| p.id).collect();
    shown.sort_unstable();
    diesel::delete(article_media::table.filter(article_media::article_id.eq(article)))
        .execute(conn)?;
    for photo in shown {
        diesel::insert_into(article_media::table)
            .values((
                article_media::article_id.eq(article),
                article_media::media_id.eq(photo),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The body with its photos of the library made responsive.
pub fn responsive_images(conn: &mut DbConnection, html: &str) -> Result<String, ApiError> {
    let photos = photos_in(conn, html)?;
    if photos.is_empty() {
        return Ok(html.to_owned());
    }
    let rewrite = lol_html::RewriteStrSettings::new().append_element_content_handler(
        lol_html::element!("img[src]", |el| {
            let src = el.get_attribute("src").unwrap_or_default();
            let Some(photo) = item_of(&src).and_then(|name| photos.get(name)) else {
                return Ok(());
            };
            let widths: Vec<files::Rendition> = photo
                .renditions()
                .into_iter()
                .filter(|r| r.aspect == Aspect::Original && r.output == Output::Jpeg)
                .collect();
            let candidates: Vec<String> = widths
                .iter()
                .map(|r| {
                    format!(
                        "{} {}w",
                        super::file_url(&r.file_name(&photo.name)),
                        r.width
                    )
                })
                .collect();
            let Some(shown) = widths
                .iter()
                .filter(|r| r.width <= BODY_MAX_WIDTH)
                .max_by_key(|r| r.width)
                .or(widths.first())
            else {
                return Ok(());
            };
            el.set_attribute("src", &super::file_url(&shown.file_name(&photo.name)))?;
            el.set_attribute("srcset", &candidates.join(", "))?;
            if !el.has_attribute("sizes") {
                el.set_attribute("sizes", SIZES)?;
            }
            if !(el.has_attribute("width") && el.has_attribute("height")) {
                el.set_attribute("width", &shown.width.to_string())?;
                el.set_attribute("height", &shown.height.to_string())?;
            }
            if !el.has_attribute("alt") {
                if let Some(alt) = &photo.alt {
                    el.set_attribute("alt", alt)?;
                }
            }
            Ok(())
        }),
    );
    lol_html::rewrite_str(html, rewrite)
        .map_err(|e| ApiError::internal(format!("rewriting a body's images: {e}")))
}
