//! The files of a media item and where they are kept. Every name starts with the item's
//! `name` (128 random bits in hex) and says what it holds, so a name always stands for the same
//! bytes (served as immutable) and nobody can guess one:
//!
//! - the original, `<name>.<ext>`;
//! - a rendition of the whole photo, `<name>-<width>w.<webp|jpg>`;
//! - a crop, `<name>-<16x9|4x3|1x1>-<focal x>-<focal y>-<width>w.<webp|jpg>`, the focal point in
//!   ten-thousandths: a new focal point makes new crops under new names.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The widths renditions are made at, never wider than what they are cut from.
pub const WIDTHS: [u32; 6] = [320, 640, 960, 1280, 1920, 2560];
/// Hex digits of an item's name.
pub const NAME_LEN: usize = 32;

/// The shape of a rendition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Aspect {
    /// The whole photo.
    #[serde(rename = "original")]
    Original,
    #[serde(rename = "16:9")]
    Wide,
    #[serde(rename = "4:3")]
    Standard,
    #[serde(rename = "1:1")]
    Square,
}

impl Aspect {
    const CROPS: [Aspect; 3] = [Aspect::Wide, Aspect::Standard, Aspect::Square];

    fn ratio(self) -> Option<(u32, u32)> {
        match self {
            Aspect::Original => None,
            Aspect::Wide => Some((16, 9)),
            Aspect::Standard => Some((4, 3)),
            Aspect::Square => Some((1, 1)),
        }
    }
}

/// How a rendition is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    Webp,
    Jpeg,
}

impl Output {
    const ALL: [Output; 2] = [Output::Webp, Output::Jpeg];

    pub fn extension(self) -> &'static str {
        match self {
            Output::Webp => "webp",
            Output::Jpeg => "jpg",
        }
    }
}

/// The `Content-Type` of a stored file, by its extension (renditions are formats too).
pub fn content_type(file: &str) -> &'static str {
    let extension = file.rsplit_once('.').map(|(_, ext)| ext);
    super::process::Format::ALL
        .into_iter()
        .find(|f| Some(f.extension()) == extension)
        .map_or("application/octet-stream", super::process::Format::mime)
}

/// A focal point in ten-thousandths of the width and height, as crops are cut and named.
pub type Focal = (u32, u32);

/// Rounds a focal point (0..1 each way) to what crops are cut at.
pub fn focal(x: f64, y: f64) -> Focal {
    let part = |v: f64| (v.clamp(0.0, 1.0) * 10_000.0).round() as u32;
    (part(x), part(y))
}

/// One rendition of a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rendition {
    pub aspect: Aspect,
    pub width: u32,
    pub height: u32,
    pub output: Output,
    /// Where crops are centred (unused for the whole photo).
    pub focal: Focal,
}

impl Rendition {
    pub fn file_name(&self, name: &str) -> String {
        let ext = self.output.extension();
        let width = self.width;
        match self.aspect.ratio() {
            None => format!("{name}-{width}w.{ext}"),
            Some((w, h)) => {
                let (x, y) = self.focal;
                format!("{name}-{w}x{h}-{x}-{y}-{width}w.{ext}")
            }
        }
    }

    /// The region of a `width` x `height` photo it shows: (left, top, width, height).
    pub fn region(&self, width: u32, height: u32) -> (u32, u32, u32, u32) {
        let Some(ratio) = self.aspect.ratio() else {
            return (0, 0, width, height);
        };
        let (w, h) = crop_size(width, height, ratio);
        let centre = |size: u32, part: u32, focal: u32| {
            let middle = u64::from(size) * u64::from(focal) / 10_000;
            let start = middle.saturating_sub(u64::from(part) / 2);
            u32::try_from(start.min(u64::from(size - part))).unwrap_or(0)
        };
        (
            centre(width, w, self.focal.0),
            centre(height, h, self.focal.1),
            w,
            h,
        )
    }
}

/// The largest region of `ratio` inside `width` x `height`.
fn crop_size(width: u32, height: u32, (rw, rh): (u32, u32)) -> (u32, u32) {
    let (w, h) = (u64::from(width), u64::from(height));
    let (rw, rh) = (u64::from(rw), u64::from(rh));
    let (cw, ch) = if w * rh >= h * rw {
        (h * rw / rh, h)
    } else {
        (w, w * rh / rw)
    };
    (
        u32::try_from(cw.max(1)).unwrap_or(width),
        u32::try_from(ch.max(1)).unwrap_or(height),
    )
}

/// Every rendition of a `width` x `height` photo with this focal point: the whole photo and each
/// crop at every width up to its own (or at its own width when narrower than the narrowest), each
/// in WebP and JPEG.
pub fn renditions(width: u32, height: u32, focal: Focal) -> Vec<Rendition> {
    let mut out = Vec::new();
    for aspect in [Aspect::Original].into_iter().chain(Aspect::CROPS) {
        let (w, h) = aspect
            .ratio()
            .map_or((width, height), |r| crop_size(width, height, r));
        let mut widths: Vec<u32> = WIDTHS.into_iter().filter(|x| *x <= w).collect();
        if widths.is_empty() {
            widths.push(w);
        }
        for wd in widths {
            // Crops keep their ratio exactly; the whole photo its own.
            let (rw, rh) = aspect
                .ratio()
                .map_or((u64::from(w), u64::from(h)), |(a, b)| {
                    (u64::from(a), u64::from(b))
                });
            let ht = (rh * u64::from(wd) + rw / 2) / rw;
            for output in Output::ALL {
                out.push(Rendition {
                    aspect,
                    width: wd,
                    height: u32::try_from(ht.max(1)).unwrap_or(1),
                    output,
                    focal,
                });
            }
        }
    }
    out
}

/// The item name a file name starts with, if the file name is one we could have made.
pub fn item_name(file: &str) -> Option<&str> {
    let well_formed = file.len() > NAME_LEN
        && file.len() <= 96
        && file
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'-' || b == b'.')
        && file.bytes().filter(|b| *b == b'.').count() == 1;
    let name = file.get(..NAME_LEN)?;
    (well_formed && name.bytes().all(|b| b.is_ascii_hexdigit())).then_some(name)
}

/// Where a file is kept in the store: `<first two digits>/<item name>/<file>`, so an item's
/// files are listed (and removed) by their prefix, and no folder holds too many.
pub fn location(file: &str) -> object_store::path::Path {
    let name = file.get(..NAME_LEN).unwrap_or(file);
    let spread = file.get(..2).unwrap_or("00");
    object_store::path::Path::from(format!("{spread}/{name}/{file}"))
}

/// Where the files of the item `name` are kept.
pub fn item_location(name: &str) -> object_store::path::Path {
    let spread = name.get(..2).unwrap_or("00");
    object_store::path::Path::from(format!("{spread}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renditions_are_never_wider_than_their_source() {
        let all = renditions(1000, 800, (5000, 5000));
        assert!(all.iter().all(|r| r.width <= 1000));
        let whole: Vec<u32> = all
            .iter()
            .filter(|r| r.aspect == Aspect::Original && r.output == Output::Jpeg)
            .map(|r| r.width)
            .collect();
        assert_eq!(whole, [320, 640, 960]);
        let square = all
            .iter()
            .find(|r| r.aspect == Aspect::Square && r.width == 640)
            .map(|r| r.height);
        assert_eq!(square, Some(640));
        // A photo narrower than the narrowest width gets one rendition at its own width.
        let small = renditions(200, 100, (5000, 5000));
        assert!(small.iter().all(|r| r.width <= 200));
        assert_eq!(small.len(), 8);
    }

    #[test]
    fn crops_follow_the_focal_point_and_stay_inside() {
        let crop = |focal| Rendition {
            aspect: Aspect::Square,
            width: 320,
            height: 320,
            output: Output::Webp,
            focal,
        };
        assert_eq!(crop((5000, 5000)).region(1600, 900), (350, 0, 900, 900));
        assert_eq!(crop((0, 0)).region(1600, 900), (0, 0, 900, 900));
        assert_eq!(crop((10_000, 5000)).region(1600, 900), (700, 0, 900, 900));
        assert_eq!(crop((2500, 5000)).region(1600, 900), (0, 0, 900, 900));
        assert_eq!(crop((7500, 5000)).region(1600, 900), (700, 0, 900, 900));
        assert_ne!(
            crop((2500, 5000)).file_name("a"),
            crop((7500, 5000)).file_name("a")
        );
    }

    #[test]
    fn only_names_we_make_are_taken() {
        let name = "0123456789abcdef0123456789abcdef";
        assert_eq!(item_name(&format!("{name}.jpg")), Some(name));
        assert_eq!(
            item_name(&format!("{name}-1x1-5000-5000-320w.webp")),
            Some(name)
        );
        assert_eq!(item_name(&format!("{name}/../x.jpg")), None);
        assert_eq!(item_name("../../etc/passwd"), None);
        assert_eq!(item_name(&format!("{name}.tar.gz")), None);
        assert_eq!(item_name(name), None);
    }
}
