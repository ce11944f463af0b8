//! What is done to an uploaded photo's bytes: what they are (by the bytes alone), whether they
//! may be decoded (from the header, before any pixel is), the decoding with EXIF orientation
//! applied, the credit EXIF carries, and encoding: the original again at its own size and the
//! renditions, none with any metadata (our encoders write none: no EXIF, XMP, IPTC or ICC).

use std::io::Cursor;

use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::codecs::jpeg::JpegEncoder;
use image::{AnimationDecoder, DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use super::files::{Output, Rendition};

/// The most pixels an upload may have.
pub const MAX_PIXELS: u64 = 60_000_000;
/// The longest side an upload may have.
pub const MAX_SIDE: u32 = 12_000;
/// The most frames an animated GIF may have.
const MAX_FRAMES: usize = 500;
/// JPEG and WebP quality of renditions; the original is kept at a higher one.
const QUALITY: u8 = 82;
const ORIGINAL_QUALITY: u8 = 92;

/// What the bytes of an accepted upload are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl Format {
    pub const ALL: [Format; 4] = [Format::Jpeg, Format::Png, Format::Webp, Format::Gif];

    /// As stored in `media.format`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Gif => "gif",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == raw)
    }

    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Gif => "gif",
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Format::Jpeg => ImageFormat::Jpeg,
            Format::Png => ImageFormat::Png,
            Format::Webp => ImageFormat::WebP,
            Format::Gif => ImageFormat::Gif,
        }
    }

    /// What `bytes` are, from their signature alone; None for anything we do not take.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match image::guess_format(bytes).ok()? {
            ImageFormat::Jpeg => Some(Format::Jpeg),
            ImageFormat::Png => Some(Format::Png),
            ImageFormat::WebP => Some(Format::Webp),
            ImageFormat::Gif => Some(Format::Gif),
            _ => None,
        }
    }
}

/// Why an upload was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not an image we take (415).
    Unsupported,
    /// Too many pixels or too long a side, as its header says (422).
    TooLarge { width: u32, height: u32 },
    /// Truncated or corrupt (422).
    Unreadable(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Unsupported => write!(f, "not a JPEG, PNG, WebP or GIF image"),
            Refusal::TooLarge { width, height } => write!(
                f,
                "the image is {width} x {height} pixels; at most {MAX_PIXELS} pixels and \
                 {MAX_SIDE} pixels a side are taken"
            ),
            Refusal::Unreadable(why) => write!(f, "the image cannot be read: {why}"),
        }
    }
}

/// A decoded upload, ready to be stored.
pub struct Decoded {
    pub format: Format,
    /// Upright (EXIF orientation applied).
    pub image: DynamicImage,
    /// EXIF `Artist` and `Copyright`, joined, if it had them.
    pub exif_credit: Option<String>,
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // 60 megapixels of RGBA and the decoder's own buffers.
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    limits
}

fn reader(bytes: &[u8], format: Format) -> ImageReader<Cursor<&[u8]>> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(limits());
    reader
}

fn unreadable(e: impl std::fmt::Display) -> Refusal {
    Refusal::Unreadable(e.to_string())
}

/// Checks the header's dimensions and decodes; nothing is decoded for an image over the limits.
pub fn decode(bytes: &[u8]) -> Result<Decoded, Refusal> {
    let format = Format::sniff(bytes).ok_or(Refusal::Unsupported)?;
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format.image_format())
        .into_dimensions()
        .map_err(unreadable)?;
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refusal::TooLarge { width, height });
    }
    if width == 0 || height == 0 {
        return Err(Refusal::Unreadable("it has no pixels".into()));
    }
    if format == Format::Jpeg && !complete_jpeg(bytes) {
        return Err(Refusal::Unreadable("the JPEG data ends early".into()));
    }
    let mut decoder = reader(bytes, format).into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().map_err(unreadable)?;
    let exif_credit = decoder.exif_metadata().ok().flatten().and_then(credit);
    let icc = decoder.icc_profile().ok().flatten();
    let mut image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    image.apply_orientation(orientation);
    if let Some(icc) = icc {
        image = in_srgb(image, &icc);
    }
    Ok(Decoded {
        format,
        image,
        exif_credit,
    })
}

/// The pixels of `image`, described by the ICC profile `icc`, converted to sRGB (the colour
/// space every stored file is in, since no profile is kept). A profile that cannot be read, or
/// is not of RGB, leaves the pixels as they are.
fn in_srgb(image: DynamicImage, icc: &[u8]) -> DynamicImage {
    use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};
    let Ok(profile) = ColorProfile::new_from_slice(icc) else {
        return image;
    };
    if profile.color_space != DataColorSpace::Rgb {
        return image;
    }
    let alpha = image.color().has_alpha();
    let layout = if alpha { Layout::Rgba } else { Layout::Rgb };
    let Ok(transform) = profile.create_transform_8bit(
        layout,
        &ColorProfile::new_srgb(),
        layout,
        TransformOptions::default(),
    ) else {
        return image;
    };
    let (width, height) = (image.width(), image.height());
    let source = if alpha {
        image.to_rgba8().into_raw()
    } else {
        image.to_rgb8().into_raw()
    };
    let mut converted = vec![0u8; source.len()];
    if transform.transform(&source, &mut converted).is_err() {
        return image;
    }
    let rebuilt = if alpha {
        image::RgbaImage::from_raw(width, height, converted).map(DynamicImage::ImageRgba8)
    } else {
        image::RgbImage::from_raw(width, height, converted).map(DynamicImage::ImageRgb8)
    };
    rebuilt.unwrap_or(image)
}

/// Whether a JPEG's data reaches its end-of-image marker (decoders fill a truncated scan with
/// grey rather than fail). Trailing bytes after the marker are allowed.
fn complete_jpeg(bytes: &[u8]) -> bool {
    bytes
        .windows(2)
        .rev()
        .take(1 << 16)
        .any(|w| w == [0xFF, 0xD9])
}

/// EXIF `Artist` and `Copyright` of raw EXIF data, as one credit line.
fn credit(raw: Vec<u8>) -> Option<String> {
    let exif = exif::Reader::new().read_raw(raw).ok()?;
    let text = |tag| {
        let field = exif.get_field(tag, exif::In::PRIMARY)?;
        let exif::Value::Ascii(parts) = &field.value else {
            return None;
        };
        let joined: Vec<String> = parts
            .iter()
            .map(|p| String::from_utf8_lossy(p).trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        (!joined.is_empty()).then(|| joined.join(", "))
    };
    let parts: Vec<String> = [text(exif::Tag::Artist), text(exif::Tag::Copyright)]
        .into_iter()
        .flatten()
        .collect();
    let line: String = parts.join(" / ").chars().take(300).collect();
    (!line.is_empty()).then_some(line)
}

/// The original again, in its own format at its own size, with no metadata. An animated GIF
/// keeps its frames.
pub fn encode_original(bytes: &[u8], decoded: &Decoded) -> Result<Vec<u8>, Refusal> {
    match decoded.format {
        Format::Jpeg => jpeg(&decoded.image, ORIGINAL_QUALITY).map_err(unreadable),
        Format::Webp => Ok(webp(&decoded.image, ORIGINAL_QUALITY)),
        Format::Png => {
            let mut out = Cursor::new(Vec::new());
            decoded
                .image
                .write_to(&mut out, ImageFormat::Png)
                .map_err(unreadable)?;
            Ok(out.into_inner())
        }
        Format::Gif => gif(bytes),
    }
}

fn gif(bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    let mut decoder = GifDecoder::new(Cursor::new(bytes)).map_err(unreadable)?;
    decoder.set_limits(limits()).map_err(unreadable)?;
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new_with_speed(&mut out, 10);
        encoder.set_repeat(Repeat::Infinite).map_err(unreadable)?;
        for (n, frame) in decoder.into_frames().enumerate() {
            if n == MAX_FRAMES {
                return Err(Refusal::Unreadable(format!(
                    "an animation may have at most {MAX_FRAMES} frames"
                )));
            }
            encoder
                .encode_frame(frame.map_err(unreadable)?)
                .map_err(unreadable)?;
        }
    }
    Ok(out)
}

fn jpeg(image: &DynamicImage, quality: u8) -> image::ImageResult<Vec<u8>> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality).encode_image(&image.to_rgb8())?;
    Ok(out)
}

fn webp(image: &DynamicImage, quality: u8) -> Vec<u8> {
    let quality = f32::from(quality);
    if image.color().has_alpha() {
        let rgba = image.to_rgba8();
        webp::Encoder::from_rgba(&rgba, rgba.width(), rgba.height())
            .encode(quality)
            .to_vec()
    } else {
        let rgb = image.to_rgb8();
        webp::Encoder::from_rgb(&rgb, rgb.width(), rgb.height())
            .encode(quality)
            .to_vec()
    }
}

/// The pixels renditions are cut from: RGB, or RGBA when the photo has transparency.
pub struct Source {
    width: u32,
    height: u32,
    alpha: bool,
    pixels: Vec<u8>,
}

impl Source {
    /// Takes the decoded pixels (copied only when they are not 8-bit RGB or RGBA already).
    pub fn new(image: DynamicImage) -> Self {
        let (width, height) = (image.width(), image.height());
        let alpha = image.color().has_alpha();
        let pixels = if alpha {
            image.into_rgba8().into_raw()
        } else {
            image.into_rgb8().into_raw()
        };
        Self {
            width,
            height,
            alpha,
            pixels,
        }
    }

    fn pixel_type(&self) -> fast_image_resize::PixelType {
        if self.alpha {
            fast_image_resize::PixelType::U8x4
        } else {
            fast_image_resize::PixelType::U8x3
        }
    }

    /// One rendition's bytes: the region it shows, scaled to its size, encoded.
    pub fn render(&self, rendition: &Rendition) -> Result<Vec<u8>, String> {
        let region = rendition.region(self.width, self.height);
        let image = self.scaled(Some(region), rendition.width, rendition.height)?;
        match rendition.output {
            Output::Webp => Ok(webp(&image, QUALITY)),
            Output::Jpeg => jpeg(&image, QUALITY).map_err(|e| e.to_string()),
        }
    }

    /// A BlurHash of the whole photo (4 x 3 components), from a thumbnail.
    pub fn blurhash(&self) -> String {
        let width = 32.min(self.width);
        let height =
            (u64::from(self.height) * u64::from(width) / u64::from(self.width)).clamp(1, 64);
        let Ok(small) = self.scaled(None, width, u32::try_from(height).unwrap_or(1)) else {
            return String::new();
        };
        blurhash::encode(4, 3, small.width(), small.height(), &small.to_rgba8()).unwrap_or_default()
    }

    /// `region` (left, top, width, height; all of it if None) scaled to `width` x `height`.
    fn scaled(
        &self,
        region: Option<(u32, u32, u32, u32)>,
        width: u32,
        height: u32,
    ) -> Result<DynamicImage, String> {
        use fast_image_resize::{images::Image, images::ImageRef, ResizeOptions, Resizer};
        let src = ImageRef::new(self.width, self.height, &self.pixels, self.pixel_type())
            .map_err(|e| e.to_string())?;
        let mut dst = Image::new(width, height, self.pixel_type());
        let mut options = ResizeOptions::new();
        if let Some((left, top, w, h)) = region {
            options = options.crop(f64::from(left), f64::from(top), f64::from(w), f64::from(h));
        }
        Resizer::new()
            .resize(&src, &mut dst, &options)
            .map_err(|e| e.to_string())?;
        let raw = dst.into_vec();
        if self.alpha {
            image::RgbaImage::from_raw(width, height, raw).map(DynamicImage::ImageRgba8)
        } else {
            image::RgbImage::from_raw(width, height, raw).map(DynamicImage::ImageRgb8)
        }
        .ok_or_else(|| "the resized buffer has the wrong size".to_owned())
    }
}
