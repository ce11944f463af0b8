//! Writes a photo-like 12-megapixel JPEG (4000 x 3000, quality 90) to standard output for
//! `bench/media.py`: smooth gradients with fine grain, so it compresses like a real photo
//! (a few MB) rather than like a flat fill.

use std::io::Write;

use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};

fn main() -> std::io::Result<()> {
    let (width, height) = (4000u32, 3000u32);
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let image = RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let grain = (seed % 24) as u32;
        let base = |a: u32, b: u32| ((a * 180 / width + b * 60 / height + grain) % 256) as u8;
        Rgb([base(x, y), base(y * 4 / 3, x * 3 / 4), base(width - x, y)])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&image)
        .map_err(std::io::Error::other)?;
    std::io::stdout().write_all(&out)
}
