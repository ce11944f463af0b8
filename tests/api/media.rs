//! The photo library: uploads decided by their bytes, refusals that store nothing, metadata
//! (GPS above all) gone from every stored file, renditions and focal crops, permissions, and
//! the public files with their cache headers and ranges.

use std::io::Cursor;
use std::path::Path;
use std::time::Duration;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use newsroom::domain::Role;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{assert_problem, error_fields, spawn_app, spawn_app_with, Backend, TestApp};

backend_tests!(
    each_format_is_taken_by_its_bytes,
    refused_uploads_store_nothing,
    an_upload_too_large_is_413,
    metadata_is_gone_from_every_stored_file,
    focal_crops_move_with_the_focal_point,
    permissions_follow_roles_and_ownership,
    files_are_served_immutable_with_ranges,
    a_rendition_not_made_yet_is_made_on_request,
    the_library_is_searched_and_paged,
    edits_are_validated,
    a_cover_from_the_library_shows_the_photo_everywhere,
    feeds_carry_the_cover_and_bodies_get_responsive_photos,
    colours_of_a_profile_are_converted_to_srgb,
    a_photo_shown_by_a_published_article_is_not_deleted,
);

const ARTIST: &str = "Malika Rahimova";

/// A photo painted by `paint`, encoded as `format`.
fn picture(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 90])
    });
    encode(&DynamicImage::ImageRgb8(image), format)
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    match format {
        // The image crate writes lossless WebP only; a photo arrives lossy.
        ImageFormat::WebP => {
            let rgb = image.to_rgb8();
            return webp::Encoder::from_rgb(&rgb, rgb.width(), rgb.height())
                .encode(80.0)
                .to_vec();
        }
        _ => image.write_to(&mut out, format).unwrap(),
    }
    out.into_inner()
}

/// A two-frame animated GIF.
fn animation(width: u32, height: u32) -> Vec<u8> {
    use image::codecs::gif::GifEncoder;
    use image::Frame;
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        for shade in [40u8, 200] {
            let frame = RgbaImage::from_pixel(width, height, Rgba([shade, 10, 10, 255]));
            encoder.encode_frame(Frame::new(frame)).unwrap();
        }
    }
    out
}

/// `jpeg` with an EXIF block (orientation, GPS position, camera, artist) put after its start.
fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    use exif::experimental::Writer;
    use exif::{Field, In, Rational, Tag, Value};
    let field = |tag, value| Field {
        tag,
        ifd_num: In::PRIMARY,
        value,
    };
    let dms = |d, m, s| Value::Rational(vec![Rational::from((d, 1)), (m, 1).into(), (s, 1).into()]);
    let fields = [
        field(Tag::Orientation, Value::Short(vec![orientation])),
        field(Tag::Artist, Value::Ascii(vec![ARTIST.as_bytes().to_vec()])),
        field(Tag::Make, Value::Ascii(vec![b"SecretCam".to_vec()])),
        field(Tag::GPSLatitudeRef, Value::Ascii(vec![b"N".to_vec()])),
        field(Tag::GPSLatitude, dms(38, 33, 12)),
        field(Tag::GPSLongitudeRef, Value::Ascii(vec![b"E".to_vec()])),
        field(Tag::GPSLongitude, dms(68, 46, 48)),
    ];
    let mut writer = Writer::new();
    for f in &fields {
        writer.push_field(f);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&segment);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A few hundred bytes of PNG declaring 50,000 x 50,000 pixels: 10 GB once decoded.
fn png_bomb() -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
        out
    };
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    // Zeros compress to almost nothing.
    png.extend(chunk(
        b"IDAT",
        &[0x78, 0x9C, 0xED, 0xC1, 0x01, 0x01, 0x00, 0x00],
    ));
    png.extend(chunk(b"IEND", &[]));
    png
}

fn form(file: Vec<u8>, filename: &str, mime: &str) -> Form {
    Form::new().part(
        "file",
        Part::bytes(file)
            .file_name(filename.to_owned())
            .mime_str(mime)
            .unwrap(),
    )
}

impl TestApp {
    async fn upload(&self, token: Option<&str>, form: Form) -> Response {
        self.request(Method::POST, "/api/v1/media", token)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Uploads `form` and returns the 201's item.
    async fn photo(&self, token: &str, form: Form) -> Value {
        let response = self.upload(Some(token), form).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "upload refused: {body}");
        body
    }

    /// The JSON of a 200 at `path`.
    async fn read(&self, path: &str, token: Option<&str>) -> Value {
        let response = self.get(path, token).await;
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.unwrap()
    }

    /// The item once every rendition is made.
    async fn ready(&self, token: &str, id: i64) -> Value {
        for _ in 0..400 {
            let item: Value = self
                .get(&format!("/api/v1/media/{id}"), Some(token))
                .await
                .json()
                .await
                .unwrap();
            if item["renditions"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["ready"] == true)
            {
                return item;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the renditions of media {id} were not made in 20 s");
    }

    /// A public file by its absolute URL (as the item gives it, on news.example).
    async fn file(&self, url: &Value) -> Response {
        self.get(&local(url), None).await
    }
}

/// The path of one of the item's URLs on the test server.
fn local(url: &Value) -> String {
    let url = url.as_str().unwrap();
    url.strip_prefix("https://news.example")
        .unwrap_or_else(|| panic!("{url} is not on the public URL"))
        .to_owned()
}

async fn bytes(response: Response) -> Vec<u8> {
    assert_eq!(response.status(), 200, "{}", response.url());
    response.bytes().await.unwrap().to_vec()
}

/// Every file stored under `root`.
fn stored_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(stored_files(&path));
        } else {
            out.push(path);
        }
    }
    out
}

async fn each_format_is_taken_by_its_bytes(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    let cases = [
        (
            picture(1500, 1000, ImageFormat::Jpeg),
            "a.jpg",
            "image/jpeg",
            "image/jpeg",
            "jpg",
        ),
        (
            picture(700, 500, ImageFormat::Png),
            "b.png",
            "image/png",
            "image/png",
            "png",
        ),
        (
            picture(700, 500, ImageFormat::WebP),
            "c.webp",
            "image/webp",
            "image/webp",
            "webp",
        ),
        (
            animation(400, 300),
            "d.gif",
            "image/gif",
            "image/gif",
            "gif",
        ),
        // The name and the declared type lie: the bytes decide.
        (
            picture(600, 400, ImageFormat::Png),
            "lies.jpg",
            "image/jpeg",
            "image/png",
            "png",
        ),
        (
            picture(600, 400, ImageFormat::Jpeg),
            "lies.png",
            "image/png",
            "image/jpeg",
            "jpg",
        ),
        (
            animation(300, 200),
            "lies.webp",
            "application/octet-stream",
            "image/gif",
            "gif",
        ),
    ];
    for (file, filename, declared, mime, extension) in cases {
        let (width, height) = image::load_from_memory(&file)
            .map(|i| (i.width(), i.height()))
            .unwrap();
        let item = app
            .photo(&author.token, form(file, filename, declared))
            .await;
        assert_eq!(item["mime"], mime, "{filename}");
        assert_eq!(item["width"], width);
        assert_eq!(item["height"], height);
        assert_eq!(item["uploaded_by"]["id"], author.id);
        assert!(item["blurhash"].as_str().unwrap().len() >= 6, "{item}");
        assert_eq!(item["focal_point"], json!({"x": 0.5, "y": 0.5}));
        assert_eq!(item["used_by"], json!([]));
        let url = item["url"].as_str().unwrap();
        assert!(url.ends_with(&format!(".{extension}")), "{url}");
        let name = url.rsplit('/').next().unwrap().split('.').next().unwrap();
        assert_eq!(name.len(), 32, "128 random bits in hex: {url}");
        // The original is stored as what its bytes are, at its own size.
        let original = app.file(&item["url"]).await;
        assert_eq!(original.headers()["content-type"], mime);
        let original = bytes(original).await;
        let stored = image::load_from_memory(&original).unwrap();
        assert_eq!((stored.width(), stored.height()), (width, height));
        assert_eq!(item["bytes"], original.len());
        let item = app.ready(&author.token, item["id"].as_i64().unwrap()).await;
        let renditions = item["renditions"].as_array().unwrap();
        // Each shape at every width up to its own, in two encodings.
        let widths = |ratio: Option<(u32, u32)>| {
            let own = ratio.map_or(width, |(rw, rh)| width.min(height * rw / rh));
            let fit: Vec<u32> = [320, 640, 960, 1280, 1920, 2560]
                .into_iter()
                .filter(|w| *w <= own)
                .collect();
            // Narrower than the narrowest: at its own width.
            if fit.is_empty() {
                vec![own]
            } else {
                fit
            }
        };
        let shapes = [None, Some((16, 9)), Some((4, 3)), Some((1, 1))];
        let expected: usize = shapes.iter().map(|s| widths(*s).len() * 2).sum();
        assert_eq!(renditions.len(), expected, "{filename}: {item}");
        for r in renditions {
            assert!(r["width"].as_u64().unwrap() <= u64::from(width), "{r}");
            let response = app.file(&r["url"]).await;
            let expected = match r["format"].as_str().unwrap() {
                "webp" => "image/webp",
                "jpeg" => "image/jpeg",
                other => panic!("format {other}"),
            };
            assert_eq!(response.headers()["content-type"], expected);
            let made = image::load_from_memory(&bytes(response).await).unwrap();
            assert_eq!(made.width(), r["width"].as_u64().unwrap() as u32, "{r}");
            assert_eq!(made.height(), r["height"].as_u64().unwrap() as u32, "{r}");
            let ratio = f64::from(made.width()) / f64::from(made.height());
            let want = match r["aspect"].as_str().unwrap() {
                "original" => f64::from(width) / f64::from(height),
                "16:9" => 16.0 / 9.0,
                "4:3" => 4.0 / 3.0,
                "1:1" => 1.0,
                other => panic!("aspect {other}"),
            };
            assert!((ratio - want).abs() < 0.02, "{r}: {ratio} against {want}");
        }
    }
}

async fn refused_uploads_store_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    let jpeg = picture(800, 600, ImageFormat::Jpeg);
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
    let refused: Vec<(Vec<u8>, &str, &str, u16)> = vec![
        (png_bomb(), "bomb.png", "image/png", 422),
        (
            jpeg[..jpeg.len() / 2].to_vec(),
            "cut.jpg",
            "image/jpeg",
            422,
        ),
        (
            b"\xFF\xD8\xFF\xE0garbage that is no JPEG at all".to_vec(),
            "bad.jpg",
            "image/jpeg",
            422,
        ),
        (svg.to_vec(), "x.svg", "image/svg+xml", 415),
        (svg.to_vec(), "x.png", "image/png", 415),
        (
            b"<!doctype html><script>alert(1)</script>".to_vec(),
            "x.jpg",
            "image/jpeg",
            415,
        ),
        (
            b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj".to_vec(),
            "x.pdf",
            "application/pdf",
            415,
        ),
    ];
    for (file, filename, mime, status) in refused {
        let problem = assert_problem(
            app.upload(Some(&author.token), form(file, filename, mime))
                .await,
            status,
        )
        .await;
        if status == 422 {
            assert_eq!(error_fields(&problem), ["file"], "{filename}: {problem}");
        }
    }
    // The bomb is refused by its declared size.
    let problem = assert_problem(
        app.upload(
            Some(&author.token),
            form(png_bomb(), "bomb.png", "image/png"),
        )
        .await,
        422,
    )
    .await;
    assert!(
        problem["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("50000"),
        "{problem}"
    );
    // Not multipart, no file, an unknown field, a focal point out of range.
    let response = app
        .request(Method::POST, "/api/v1/media", Some(&author.token))
        .header("content-type", "image/jpeg")
        .body(jpeg.clone())
        .send()
        .await
        .unwrap();
    assert_problem(response, 415).await;
    let problem = assert_problem(
        app.upload(Some(&author.token), Form::new().text("alt", "x"))
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["file"]);
    let with = |name: &str, value: &str| {
        form(jpeg.clone(), "a.jpg", "image/jpeg").text(name.to_owned(), value.to_owned())
    };
    let problem = assert_problem(
        app.upload(Some(&author.token), with("owner", "me")).await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["owner"]);
    for bad in ["1.5", "-0.1", "left", "NaN"] {
        let problem = assert_problem(
            app.upload(Some(&author.token), with("focal_x", bad)).await,
            422,
        )
        .await;
        assert_eq!(error_fields(&problem), ["focal_x"], "{bad}");
    }
    let problem = assert_problem(
        app.upload(Some(&author.token), with("alt", &"a".repeat(301)))
            .await,
        422,
    )
    .await;
    assert_eq!(error_fields(&problem), ["alt"]);
    let twice = form(jpeg.clone(), "a.jpg", "image/jpeg").part("file", Part::bytes(jpeg.clone()));
    assert_problem(app.upload(Some(&author.token), twice).await, 422).await;
    // Nothing of any of them is kept.
    let page: Value = app.read("/api/v1/media", Some(&author.token)).await;
    assert_eq!(page["data"], json!([]));
    assert!(
        stored_files(app.media.path()).is_empty(),
        "{:?}",
        stored_files(app.media.path())
    );
}

async fn an_upload_too_large_is_413(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.media_max_bytes = 1 << 20).await;
    let author = app.user(Role::Author).await;
    // Noise does not compress: well over 1 MiB.
    let noise = RgbImage::from_fn(1200, 1200, |x, y| {
        let n = x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503);
        Rgb([n as u8, (n >> 8) as u8, (n >> 16) as u8])
    });
    let big = encode(&DynamicImage::ImageRgb8(noise), ImageFormat::Png);
    assert!(big.len() > 1 << 20);
    assert_problem(
        app.upload(Some(&author.token), form(big, "big.png", "image/png"))
            .await,
        413,
    )
    .await;
    let small = picture(400, 300, ImageFormat::Jpeg);
    app.photo(&author.token, form(small, "small.jpg", "image/jpeg"))
        .await;
}

async fn metadata_is_gone_from_every_stored_file(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    // 1200 x 800 stored sideways (orientation 6: turn 90 degrees clockwise to show), with HTML
    // after the image's end: a polyglot a browser might take for a page.
    let mut upload = with_exif(&picture(1200, 800, ImageFormat::Jpeg), 6);
    upload.extend_from_slice(b"<html><script>alert(document.cookie)</script></html>");
    let read = exif::Reader::new()
        .read_from_container(&mut Cursor::new(&upload))
        .unwrap();
    assert!(
        read.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
            .is_some(),
        "the fixture has a position"
    );
    let item = app
        .photo(&author.token, form(upload.clone(), "p.jpg", "image/jpeg"))
        .await;
    assert_eq!(
        (item["width"].as_i64(), item["height"].as_i64()),
        (Some(800), Some(1200)),
        "orientation applied"
    );
    assert_eq!(item["credit"], ARTIST, "EXIF Artist prefills the credit");
    // A given credit wins over the EXIF one.
    let given = form(
        with_exif(&picture(640, 480, ImageFormat::Jpeg), 1),
        "q.jpg",
        "image/jpeg",
    )
    .text("credit", "Agency");
    let other = app.photo(&author.token, given).await;
    assert_eq!(other["credit"], "Agency");
    let original = bytes(app.file(&item["url"]).await).await;
    assert_ne!(original, upload, "the original comes back re-encoded");
    app.ready(&author.token, item["id"].as_i64().unwrap()).await;
    app.ready(&author.token, other["id"].as_i64().unwrap())
        .await;
    let files = stored_files(app.media.path());
    assert!(files.len() > 30, "{} files", files.len());
    for path in files {
        let stored = std::fs::read(&path).unwrap();
        let shown = path.display();
        assert!(
            exif::Reader::new()
                .read_from_container(&mut Cursor::new(&stored))
                .is_err(),
            "EXIF left in {shown}"
        );
        for needle in [
            &b"Exif"[..],
            b"SecretCam",
            ARTIST.as_bytes(),
            b"<script",
            b"<html",
            b"http://ns.adobe.com",
        ] {
            assert!(
                !stored.windows(needle.len()).any(|w| w == needle),
                "{} left in {shown}",
                String::from_utf8_lossy(needle)
            );
        }
        // Every file decodes: the JPEGs end at their end marker.
        image::load_from_memory(&stored).unwrap_or_else(|e| panic!("{shown}: {e}"));
    }
}

/// The colour at the centre of an image.
fn centre(bytes: &[u8]) -> [u8; 3] {
    let image = image::load_from_memory(bytes).unwrap().to_rgb8();
    image.get_pixel(image.width() / 2, image.height() / 2).0
}

async fn focal_crops_move_with_the_focal_point(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    // Left third red, middle green, right third blue: a square crop shows one of them.
    let image = RgbImage::from_fn(1500, 500, |x, _| match x {
        0..500 => Rgb([230, 20, 20]),
        500..1000 => Rgb([20, 230, 20]),
        _ => Rgb([20, 20, 230]),
    });
    let file = encode(&DynamicImage::ImageRgb8(image), ImageFormat::Png);
    let upload = form(file, "flag.png", "image/png")
        .text("focal_x", "0.1")
        .text("focal_y", "0.5");
    let item = app.photo(&author.token, upload).await;
    assert_eq!(item["focal_point"], json!({"x": 0.1, "y": 0.5}));
    let square = |item: &Value| {
        item["renditions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["aspect"] == "1:1" && r["format"] == "jpeg" && r["width"] == 320)
            .cloned()
            .unwrap()
    };
    let first = square(&item);
    let [r, g, b] = centre(&bytes(app.file(&first["url"]).await).await);
    assert!(
        r > 180 && g < 80 && b < 80,
        "focal 0.1: red, got {r},{g},{b}"
    );
    let whole = item["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["aspect"] == "original")
        .cloned()
        .unwrap();
    let id = item["id"].as_i64().unwrap();
    let moved: Value = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/media/{id}"),
            Some(&author.token),
            &json!({"focal_point": {"x": 0.9, "y": 0.5}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(moved["focal_point"], json!({"x": 0.9, "y": 0.5}));
    let second = square(&moved);
    assert_ne!(
        first["url"], second["url"],
        "a new focal point names new crops"
    );
    let [r, g, b] = centre(&bytes(app.file(&second["url"]).await).await);
    assert!(
        b > 180 && r < 80 && g < 80,
        "focal 0.9: blue, got {r},{g},{b}"
    );
    // The whole photo does not move, and keeps its URL.
    assert!(
        moved["renditions"].as_array().unwrap().contains(&whole),
        "{whole}"
    );
    let centred: Value = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/media/{id}"),
            Some(&author.token),
            &json!({"focal_point": {"x": 0.5, "y": 0.5}}),
        )
        .await
        .json()
        .await
        .unwrap();
    let [r, g, b] = centre(&bytes(app.file(&square(&centred)["url"]).await).await);
    assert!(
        g > 180 && r < 80 && b < 80,
        "focal 0.5: green, got {r},{g},{b}"
    );
    app.ready(&author.token, id).await;
}

async fn permissions_follow_roles_and_ownership(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, other, editor) = (
        app.user(Role::Author).await,
        app.user(Role::Author).await,
        app.user(Role::Editor).await,
    );
    let jpeg = || form(picture(500, 400, ImageFormat::Jpeg), "a.jpg", "image/jpeg");
    assert_problem(app.upload(None, jpeg()).await, 401).await;
    assert_problem(app.upload(Some("not-a-token"), jpeg()).await, 401).await;
    assert_problem(app.get("/api/v1/media", None).await, 401).await;
    let item = app.photo(&owner.token, jpeg()).await;
    let id = item["id"].as_i64().unwrap();
    let path = format!("/api/v1/media/{id}");
    assert_problem(app.get(&path, None).await, 401).await;
    assert_problem(
        app.send_json(Method::PATCH, &path, None, &json!({"alt": "x"}))
            .await,
        401,
    )
    .await;
    assert_problem(app.delete(&path, None).await, 401).await;
    // Photos are shared within the newsroom: any author sees them...
    assert_eq!(app.get(&path, Some(&other.token)).await.status(), 200);
    let page: Value = app.read("/api/v1/media", Some(&other.token)).await;
    assert_eq!(page["data"][0]["id"], id);
    // ...but only edits and deletes their own.
    assert_problem(
        app.send_json(
            Method::PATCH,
            &path,
            Some(&other.token),
            &json!({"alt": "mine now"}),
        )
        .await,
        403,
    )
    .await;
    assert_problem(app.delete(&path, Some(&other.token)).await, 403).await;
    let edited: Value = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&owner.token),
            &json!({"alt": "Her own"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(edited["alt"], "Her own");
    let edited: Value = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&editor.token),
            &json!({"caption": "By the desk", "alt": null}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (edited["caption"].as_str(), edited["alt"].as_str()),
        (Some("By the desk"), None)
    );
    // An editor deletes anyone's; the files go with it, from CDNs too: they carry the
    // photo's key, which the deletion purges although no public article showed the photo.
    let files = item["url"].clone();
    let name = &local(&files)["/media/".len()..][..32];
    let served = app.file(&files).await;
    assert_eq!(
        served.headers()["surrogate-key"].to_str().unwrap(),
        format!("media-{name}")
    );
    assert_eq!(app.delete(&path, Some(&editor.token)).await.status(), 204);
    let purged: Vec<(String, bool, Option<String>)> = {
        use diesel::prelude::*;
        use newsroom::db::schema::events;
        events::table
            .filter(events::media_id.eq(item["id"].as_i64().unwrap() as i32))
            .select((events::type_, events::public, events::purge_keys))
            .load(&mut app.conn())
            .unwrap()
    };
    let deleted = purged
        .iter()
        .find(|(kind, _, _)| kind == "media.deleted")
        .unwrap();
    assert_eq!(
        (deleted.1, deleted.2.clone()),
        (false, Some(format!("media-{name}"))),
        "{purged:?}"
    );
    assert!(
        purged
            .iter()
            .filter(|(kind, _, _)| kind != "media.deleted")
            .all(|(_, public, keys)| !public && keys.is_none()),
        "{purged:?}"
    );
    assert_problem(app.get(&path, Some(&owner.token)).await, 404).await;
    assert_problem(app.file(&files).await, 404).await;
    assert_problem(app.delete(&path, Some(&editor.token)).await, 404).await;
    // An author deletes their own.
    let mine = app.photo(&other.token, jpeg()).await;
    assert_eq!(
        app.delete(&format!("/api/v1/media/{}", mine["id"]), Some(&other.token))
            .await
            .status(),
        204
    );
    // Every change is in the event log, for staff.
    let events: Value = app
        .read("/api/v1/events?limit=1000", Some(&editor.token))
        .await;
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["media"]["id"] == id)
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.starts_with(&["media.created"]) && kinds.ends_with(&["media.deleted"]),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"media.updated"), "{kinds:?}");
}

async fn files_are_served_immutable_with_ranges(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    let item = app
        .photo(
            &author.token,
            form(picture(900, 600, ImageFormat::Jpeg), "a.jpg", "image/jpeg"),
        )
        .await;
    let path = local(&item["url"]);
    let whole = app.get(&path, None).await;
    let headers = whole.headers().clone();
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["accept-ranges"], "bytes");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"'), "a strong tag: {etag}");
    let whole = bytes(whole).await;
    // Even a client asking for gzip gets the photo as it is.
    let plain = app
        .request(Method::GET, &path, None)
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert!(plain
        .headers()
        .get("content-encoding")
        .is_none_or(|v| v == "identity"));
    assert_eq!(bytes(plain).await, whole);
    let again = app
        .request(Method::GET, &path, None)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    let part = app
        .request(Method::GET, &path, None)
        .header("range", "bytes=10-19")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"].to_str().unwrap(),
        format!("bytes 10-19/{}", whole.len())
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &whole[10..20]);
    let tail = app
        .request(Method::GET, &path, None)
        .header("range", "bytes=-5")
        .send()
        .await
        .unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(
        tail.bytes().await.unwrap().as_ref(),
        &whole[whole.len() - 5..]
    );
    let beyond = app
        .request(Method::GET, &path, None)
        .header("range", format!("bytes={}-", whole.len() + 10))
        .send()
        .await
        .unwrap();
    assert_eq!(
        beyond.headers()["content-range"].to_str().unwrap(),
        format!("bytes */{}", whole.len())
    );
    assert_problem(beyond, 416).await;
    // A range for another version (If-Range) gets the whole file.
    let stale = app
        .request(Method::GET, &path, None)
        .header("range", "bytes=0-9")
        .header("if-range", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
    // Names we never made, and attempts to leave the folder.
    let name = &path["/media/".len()..32 + "/media/".len()];
    for missing in [
        format!("/media/{name}-321w.webp"),
        format!("/media/{name}-16x9-5000-5000-4000w.jpg"),
        format!("/media/{}.jpg", "0".repeat(32)),
        "/media/..%2F..%2Fetc%2Fpasswd".to_owned(),
        format!("/media/{name}.jpg.."),
        "/media/x".to_owned(),
    ] {
        assert_problem(app.get(&missing, None).await, 404).await;
    }
}

async fn a_rendition_not_made_yet_is_made_on_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    let item = app
        .photo(
            &author.token,
            form(
                picture(3000, 2000, ImageFormat::Jpeg),
                "big.jpg",
                "image/jpeg",
            ),
        )
        .await;
    // Straight after the 201, every rendition answers (made then if it is not made yet).
    let renditions = item["renditions"].as_array().unwrap().clone();
    let mut asked = Vec::new();
    for r in renditions.iter().rev().take(6) {
        let url = local(&r["url"]);
        let client = app.client.clone();
        let full = app.url(&url);
        asked.push(tokio::spawn(async move {
            client.get(full).send().await.unwrap()
        }));
    }
    for (task, r) in asked.into_iter().zip(renditions.iter().rev()) {
        let made = image::load_from_memory(&bytes(task.await.unwrap()).await).unwrap();
        assert_eq!(made.width(), r["width"].as_u64().unwrap() as u32);
    }
    let ready = app.ready(&author.token, item["id"].as_i64().unwrap()).await;
    assert_eq!(
        ready["renditions"].as_array().unwrap().len(),
        renditions.len()
    );
}

async fn the_library_is_searched_and_paged(backend: Backend) {
    let app = spawn_app(backend).await;
    let (first, second) = (app.user(Role::Author).await, app.user(Role::Author).await);
    let jpeg = |alt: &str| {
        form(picture(400, 300, ImageFormat::Jpeg), "a.jpg", "image/jpeg")
            .text("alt", alt.to_owned())
    };
    let mut ids = Vec::new();
    for n in 0..5 {
        let who = if n % 2 == 0 { &first } else { &second };
        let item = app
            .photo(&who.token, jpeg(&format!("Flood in Khujand, photo {n}")))
            .await;
        ids.push(item["id"].as_i64().unwrap());
    }
    app.photo(&first.token, jpeg("100% turnout_day")).await;
    let list = |query: &str| {
        let query = query.to_owned();
        let app = &app;
        let token = first.token.clone();
        async move {
            let response = app
                .get(&format!("/api/v1/media?{query}"), Some(&token))
                .await;
            assert_eq!(response.status(), 200, "{query}");
            response.json::<Value>().await.unwrap()
        }
    };
    let page = list("q=KHUJAND%20flood").await;
    let found: Vec<i64> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    let newest_first: Vec<i64> = ids.iter().rev().copied().collect();
    assert_eq!(found, newest_first);
    // LIKE's wildcards are taken literally.
    assert_eq!(list("q=100%25").await["data"].as_array().unwrap().len(), 1);
    assert_eq!(list("q=%25").await["data"].as_array().unwrap().len(), 1);
    assert_eq!(list("q=n_d").await["data"].as_array().unwrap().len(), 0);
    let by_second = list(&format!("uploaded_by={}", second.id)).await;
    assert_eq!(by_second["data"].as_array().unwrap().len(), 2);
    // Pages of two, in order, without overlap.
    let mut seen = Vec::new();
    let mut query = "q=khujand&limit=2".to_owned();
    loop {
        let page = list(&query).await;
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_i64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("q=khujand&limit=2&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, newest_first);
    for bad in [
        "limit=0",
        "limit=101",
        "cursor=nonsense",
        "uploaded_by=x",
        &format!("q={}", "a".repeat(201)),
    ] {
        assert_problem(
            app.get(&format!("/api/v1/media?{bad}"), Some(&first.token))
                .await,
            if bad.starts_with("uploaded_by") {
                400
            } else {
                422
            },
        )
        .await;
    }
}

async fn edits_are_validated(backend: Backend) {
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    let item = app
        .photo(
            &author.token,
            form(picture(400, 300, ImageFormat::Jpeg), "a.jpg", "image/jpeg"),
        )
        .await;
    let path = format!("/api/v1/media/{}", item["id"]);
    for (body, field) in [
        (
            json!({"focal_point": {"x": 1.2, "y": 0.5}}),
            "focal_point.x",
        ),
        (json!({"focal_point": {"x": 0.2, "y": -1}}), "focal_point.y"),
        (json!({"alt": "a".repeat(301)}), "alt"),
        (json!({"caption": "c".repeat(2001)}), "caption"),
    ] {
        let problem = assert_problem(
            app.send_json(Method::PATCH, &path, Some(&author.token), &body)
                .await,
            422,
        )
        .await;
        assert_eq!(error_fields(&problem), [field], "{body}");
    }
    for body in [
        json!({"width": 10}),
        json!({"focal_point": {"x": 0.5}}),
        json!({"alt": 5}),
        json!([]),
    ] {
        let response = app
            .send_json(Method::PATCH, &path, Some(&author.token), &body)
            .await;
        assert!(matches!(response.status().as_u16(), 400 | 422), "{body}");
        assert_problem(response, 422).await;
    }
    assert_problem(
        app.send_json(
            Method::PATCH,
            "/api/v1/media/999999",
            Some(&author.token),
            &json!({"alt": "x"}),
        )
        .await,
        404,
    )
    .await;
    assert_problem(
        app.get("/api/v1/media/nope", Some(&author.token)).await,
        400,
    )
    .await;
    // Nothing changed.
    let now: Value = app.read(&path, Some(&author.token)).await;
    assert_eq!(now["alt"], Value::Null);
    assert_eq!(now["updated_at"], item["updated_at"]);
}

/// The cover of every item of a public list.
async fn covers_listed(app: &TestApp, path: &str) -> Vec<(i64, Value)> {
    let page: Value = app.read(path, None).await;
    page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_i64().unwrap(), a["cover_image"].clone()))
        .collect()
}

async fn a_cover_from_the_library_shows_the_photo_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let upload = form(picture(1600, 900, ImageFormat::Jpeg), "a.jpg", "image/jpeg")
        .text("alt", "Delegates at the table")
        .text("credit", ARTIST);
    let photo = app.photo(&editor.token, upload).await;
    let photo = app
        .ready(&editor.token, photo["id"].as_i64().unwrap())
        .await;
    let media_id = photo["id"].as_i64().unwrap();
    let cover = json!({"cover_image": {"media_id": media_id, "caption": "Signed on Monday"}});
    let lead = app
        .published(&editor.token, "The treaty", cover.clone())
        .await;
    let lead_id = lead["id"].as_i64().unwrap();
    let other = app
        .published(
            &editor.token,
            "The reaction",
            json!({"cover_image": {"url": "https://images.example/x.jpg", "alt": "Crowd"}}),
        )
        .await;
    let other_id = other["id"].as_i64().unwrap();
    let link = format!("/api/v1/articles/{other_id}/related");
    assert_eq!(
        app.send_json(
            Method::POST,
            &link,
            Some(&editor.token),
            &json!({"target_id": lead_id})
        )
        .await
        .status(),
        201
    );
    // The article: the photo's size, focal point, renditions and placeholder; the article's
    // caption over the photo's, the photo's alt and credit where the article gives none.
    let expected = json!({
        "url": photo["url"], "alt": "Delegates at the table", "caption": "Signed on Monday",
        "credit": ARTIST, "media_id": media_id, "width": 1600, "height": 900,
        "focal_point": {"x": 0.5, "y": 0.5}, "renditions": photo["renditions"],
        "blurhash": photo["blurhash"],
    });
    assert_eq!(lead["cover_image"], expected, "the write's answer");
    let read: Value = app.read(&format!("/api/v1/articles/{lead_id}"), None).await;
    assert_eq!(read["cover_image"], expected, "the public read");
    // The feed's cards and the related items of another article show the same.
    let listed = covers_listed(&app, "/api/v1/articles").await;
    assert!(listed.contains(&(lead_id, expected.clone())), "{listed:?}");
    let page: Value = app
        .read(
            &format!("/api/v1/articles/{other_id}?include=related"),
            None,
        )
        .await;
    let related = page["related"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["article"]["id"] == lead_id)
        .cloned()
        .unwrap();
    assert_eq!(related["article"]["cover_image"], expected, "{page}");
    // An image elsewhere keeps the shape, with nothing of the library.
    assert_eq!(
        page["cover_image"],
        json!({
            "url": "https://images.example/x.jpg", "alt": "Crowd", "caption": null, "credit": null,
            "media_id": null, "width": null, "height": null, "focal_point": null, "renditions": [],
            "blurhash": null,
        })
    );
    let item: Value = app
        .read(&format!("/api/v1/media/{media_id}"), Some(&editor.token))
        .await;
    assert_eq!(item["used_by"], json!([lead_id]));
    // The desk edits the photo: every public read shows the change at once (cached or not).
    let path = format!("/api/v1/media/{media_id}");
    let edited = app
        .send_json(
            Method::PATCH,
            &path,
            Some(&editor.token),
            &json!({"alt": "Two presidents sign", "focal_point": {"x": 0.2, "y": 0.5}}),
        )
        .await;
    assert_eq!(edited.status(), 200);
    let edited: Value = edited.json().await.unwrap();
    let read: Value = app.read(&format!("/api/v1/articles/{lead_id}"), None).await;
    assert_eq!(read["cover_image"]["alt"], "Two presidents sign");
    assert_eq!(
        read["cover_image"]["focal_point"],
        json!({"x": 0.2, "y": 0.5})
    );
    assert_eq!(read["cover_image"]["renditions"], edited["renditions"]);
    let listed = covers_listed(&app, "/api/v1/articles").await;
    let shown = listed.iter().find(|(id, _)| *id == lead_id).unwrap();
    assert_eq!(shown.1["alt"], "Two presidents sign");
    // The article's own alt wins over the photo's.
    let update = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/articles/{lead_id}"),
            Some(&editor.token),
            &json!({"cover_image": {"media_id": media_id, "alt": "Signing"}}),
        )
        .await;
    assert_eq!(update.status(), 200);
    let read: Value = app.read(&format!("/api/v1/articles/{lead_id}"), None).await;
    assert_eq!(
        (
            read["cover_image"]["alt"].as_str(),
            read["cover_image"]["caption"].as_str()
        ),
        (Some("Signing"), None)
    );
    // What a cover may be.
    for (cover, field) in [
        (json!({"media_id": 999_999}), "cover_image.media_id"),
        (
            json!({"media_id": media_id, "url": "https://images.example/x.jpg"}),
            "cover_image",
        ),
        (json!({"alt": "nothing"}), "cover_image"),
        (
            json!({"media_id": media_id, "alt": "a".repeat(301)}),
            "cover_image.alt",
        ),
    ] {
        let body = json!({"title": "Refused", "body": "<p>x</p>", "cover_image": cover});
        let problem = assert_problem(
            app.send_json(Method::POST, "/api/v1/articles", Some(&editor.token), &body)
                .await,
            422,
        )
        .await;
        assert_eq!(error_fields(&problem), [field], "{cover}");
    }
    // An empty URL beside a photo is no URL; an empty URL alone is no cover, as before.
    let path = format!("/api/v1/articles/{lead_id}");
    for (cover, shown) in [
        (json!({"url": " ", "media_id": media_id}), json!(media_id)),
        (json!({"url": ""}), Value::Null),
    ] {
        let body = json!({"cover_image": cover});
        let response = app
            .send_json(Method::PATCH, &path, Some(&editor.token), &body)
            .await;
        assert_eq!(response.status(), 200, "{cover}");
        let read: Value = response.json().await.unwrap();
        assert_eq!(read["cover_image"]["media_id"], shown, "{cover}");
    }
}

async fn a_photo_shown_by_a_published_article_is_not_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let (author, editor) = (app.user(Role::Author).await, app.user(Role::Editor).await);
    let jpeg = || form(picture(500, 400, ImageFormat::Jpeg), "a.jpg", "image/jpeg");
    let shown = app.photo(&author.token, jpeg()).await;
    let drafted = app.photo(&author.token, jpeg()).await;
    let cover = |photo: &Value| json!({"cover_image": {"media_id": photo["id"]}});
    let published = app
        .published(&editor.token, "Published story", cover(&shown))
        .await;
    let scheduled_at = (chrono::Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let later = json!({
        "title": "Later", "body": "<p>x</p>", "status": "scheduled",
        "published_at": scheduled_at, "cover_image": {"media_id": shown["id"]},
    });
    let scheduled = app.create("/api/v1/articles", &editor.token, later).await;
    let draft = app.create("/api/v1/articles", &author.token, json!({"title": "A draft", "body": "<p>x</p>", "cover_image": {"media_id": drafted["id"], "caption": "Mine"}})).await;
    let path = |photo: &Value| format!("/api/v1/media/{}", photo["id"]);
    // Refused while a published or scheduled article shows it, naming them; nothing changes.
    let problem = assert_problem(app.delete(&path(&shown), Some(&author.token)).await, 409).await;
    let detail = problem["detail"].as_str().unwrap();
    for article in [&published, &scheduled] {
        assert!(
            detail.contains(&format!(
                "{} ({})",
                article["id"],
                article["slug"].as_str().unwrap()
            )),
            "{detail}"
        );
    }
    assert!(!bytes(app.file(&shown["url"]).await).await.is_empty());
    let item: Value = app.read(&path(&shown), Some(&author.token)).await;
    assert_eq!(item["used_by"], json!([published["id"], scheduled["id"]]));
    // Once neither shows it, it goes.
    for article in [&published, &scheduled] {
        let response = app
            .send_json(
                Method::PATCH,
                &format!("/api/v1/articles/{}", article["id"]),
                Some(&editor.token),
                &json!({"cover_image": null}),
            )
            .await;
        assert_eq!(response.status(), 200);
    }
    assert_eq!(
        app.delete(&path(&shown), Some(&author.token))
            .await
            .status(),
        204
    );
    // A draft's cover does not keep a photo: the draft loses its cover.
    assert_eq!(
        app.delete(&path(&drafted), Some(&author.token))
            .await
            .status(),
        204
    );
    let read: Value = app
        .read(
            &format!("/api/v1/articles/{}", draft["id"]),
            Some(&author.token),
        )
        .await;
    assert_eq!(read["cover_image"], Value::Null, "{read}");
    assert_problem(app.file(&drafted["url"]).await, 404).await;
    // A photo in a published body counts as shown, too; once the body lets it go, it goes.
    let inline = app.photo(&author.token, jpeg()).await;
    let body = format!(
        "<p>Text.</p><img src=\"{}\">",
        inline["url"].as_str().unwrap()
    );
    let story = app
        .published(&editor.token, "Inline", json!({"body": body}))
        .await;
    let item = app.read(&path(&inline), Some(&author.token)).await;
    assert_eq!(item["used_by"], json!([story["id"]]));
    let problem = assert_problem(app.delete(&path(&inline), Some(&author.token)).await, 409).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("{} (", story["id"])),
        "{problem}"
    );
    let story_path = format!("/api/v1/articles/{}", story["id"]);
    let edited = app
        .send_json(
            Method::PATCH,
            &story_path,
            Some(&editor.token),
            &json!({"body": "<p>Text.</p>"}),
        )
        .await;
    assert_eq!(edited.status(), 200);
    assert_eq!(
        app.read(&path(&inline), Some(&author.token)).await["used_by"],
        json!([])
    );
    assert_eq!(
        app.delete(&path(&inline), Some(&author.token))
            .await
            .status(),
        204
    );
}

async fn feeds_carry_the_cover_and_bodies_get_responsive_photos(backend: Backend) {
    let app = spawn_app(backend).await;
    let editor = app.user(Role::Editor).await;
    let upload = form(
        picture(2000, 1000, ImageFormat::Jpeg),
        "a.jpg",
        "image/jpeg",
    )
    .text("alt", "The dam at dawn")
    .text("credit", ARTIST);
    let photo = app.photo(&editor.token, upload).await;
    let original = photo["url"].as_str().unwrap().to_owned();
    let relative = local(&photo["url"]);
    let name = &relative["/media/".len()..][..32];
    let body = format!(
        "<p>Before.</p><img src=\"{original}\"><p>After.</p><img src=\"{relative}\" alt=\"Ours\" sizes=\"50vw\"><img src=\"https://elsewhere.example/x.jpg\">"
    );
    let article = app
        .published(
            &editor.token,
            "The dam",
            json!({"body": body, "cover_image": {"media_id": photo["id"]}}),
        )
        .await;
    let stored = article["body"].as_str().unwrap();
    let jpeg = |w: u32| format!("https://news.example/media/{name}-{w}w.jpg");
    let srcset = [320, 640, 960, 1280, 1920]
        .map(|w| format!("{} {w}w", jpeg(w)))
        .join(", ");
    let first = format!(
        "<img src=\"{}\" srcset=\"{srcset}\" sizes=\"(max-width: 1280px) 100vw, 1280px\" width=\"1280\" height=\"640\" alt=\"The dam at dawn\">",
        jpeg(1280)
    );
    assert!(stored.contains(&first), "{stored}");
    let second = format!("<img src=\"{}\" alt=\"Ours\" sizes=\"50vw\" srcset=\"{srcset}\" width=\"1280\" height=\"640\">", jpeg(1280));
    assert!(stored.contains(&second), "{stored}");
    assert!(
        stored.contains("<img src=\"https://elsewhere.example/x.jpg\">"),
        "{stored}"
    );
    // Saving the same body again changes nothing.
    let id = article["id"].as_i64().unwrap();
    let again: Value = app
        .send_json(
            Method::PATCH,
            &format!("/api/v1/articles/{id}"),
            Some(&editor.token),
            &json!({"body": body}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["version"], article["version"], "{again}");
    // RSS: an enclosure and media:content; Atom: an enclosure link; JSON Feed: image.
    let feed = |file: &str| {
        let path = format!("/feeds/{file}");
        let app = &app;
        async move { app.get(&path, None).await }
    };
    let rss = feed("rss.xml").await.text().await.unwrap();
    assert!(
        rss.contains("xmlns:media=\"http://search.yahoo.com/mrss/\""),
        "{rss}"
    );
    assert!(
        rss.contains(&format!(
            "<enclosure url=\"{}\" length=\"0\" type=\"image/jpeg\"/>",
            jpeg(1280)
        )),
        "{rss}"
    );
    assert!(rss.contains(&format!("<media:content height=\"640\" medium=\"image\" type=\"image/jpeg\" url=\"{}\" width=\"1280\">", jpeg(1280))), "{rss}");
    assert!(
        rss.contains(&format!("<media:credit>{ARTIST}</media:credit>")),
        "{rss}"
    );
    let atom = feed("atom.xml").await.text().await.unwrap();
    assert!(
        atom.contains(&format!(
            "<link href=\"{}\" rel=\"enclosure\" type=\"image/jpeg\"/>",
            jpeg(1280)
        )),
        "{atom}"
    );
    let json_feed: Value = feed("feed.json").await.json().await.unwrap();
    assert_eq!(json_feed["items"][0]["image"], jpeg(1280));
}

async fn colours_of_a_profile_are_converted_to_srgb(backend: Backend) {
    use image::ImageEncoder;
    use moxcms::{ColorProfile, Layout, TransformOptions};
    let app = spawn_app(backend).await;
    let author = app.user(Role::Author).await;
    // An orange in Display P3, which sRGB shows more saturated in numbers.
    let p3 = ColorProfile::new_display_p3();
    let colour = [200u8, 120, 60];
    let pixels: Vec<u8> = colour.repeat(64 * 64);
    let mut png = Vec::new();
    let mut encoder = image::codecs::png::PngEncoder::new(&mut png);
    encoder.set_icc_profile(p3.encode().unwrap()).unwrap();
    encoder
        .write_image(&pixels, 64, 64, image::ExtendedColorType::Rgb8)
        .unwrap();
    assert!(
        png.windows(4).any(|w| w == b"iCCP"),
        "the fixture carries its profile"
    );
    let mut expected = [0u8; 3];
    p3.create_transform_8bit(
        Layout::Rgb,
        &ColorProfile::new_srgb(),
        Layout::Rgb,
        TransformOptions::default(),
    )
    .unwrap()
    .transform(&colour, &mut expected)
    .unwrap();
    assert!(expected[0] > colour[0] + 10, "{expected:?}");
    let item = app
        .photo(&author.token, form(png, "p3.png", "image/png"))
        .await;
    let stored = bytes(app.file(&item["url"]).await).await;
    assert!(
        !stored.windows(4).any(|w| w == b"iCCP"),
        "no profile is kept"
    );
    let shown = image::load_from_memory(&stored)
        .unwrap()
        .to_rgb8()
        .get_pixel(10, 10)
        .0;
    for (got, want) in shown.iter().zip(expected) {
        assert!(
            got.abs_diff(want) <= 2,
            "stored {shown:?}, sRGB of the P3 colour {expected:?}"
        );
    }
}

#[cfg_attr(
    not(s3_tests),
    ignore = "set NEWSROOM_TEST_S3_ENDPOINT (an S3-compatible server) to run it"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_a_library_in_s3_sqlite() {
    two_processes_share_a_library_in_s3(Backend::Sqlite).await
}

#[cfg_attr(
    not(all(s3_tests, pg_tests)),
    ignore = "set NEWSROOM_TEST_S3_ENDPOINT and NEWSROOM_TEST_POSTGRES_URL to run it"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_a_library_in_s3_postgres() {
    two_processes_share_a_library_in_s3(Backend::Postgres).await
}

/// The bucket's listing (ListObjectsV2 XML) under the prefix the tests use.
async fn list_bucket(endpoint: &str, bucket: &str) -> String {
    let url = format!("{endpoint}/{bucket}?list-type=2&prefix=photos/");
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

/// Two server processes on one database and one bucket: what one stores the other serves,
/// and what one deletes the other stops serving.
async fn two_processes_share_a_library_in_s3(backend: Backend) {
    let endpoint = std::env::var("NEWSROOM_TEST_S3_ENDPOINT").expect("an S3 endpoint");
    assert!(
        std::env::var_os("AWS_ACCESS_KEY_ID").is_some(),
        "the S3 tests take credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    );
    let bucket = format!("newsroom-{:016x}", rand::random::<u64>());
    let client = reqwest::Client::new();
    let made = client
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(
        made.status().is_success(),
        "create the bucket: {}",
        made.status()
    );
    let store = format!("s3://{bucket}/photos");
    let app = spawn_app_with(backend, |c| {
        c.media_store = newsroom::config::MediaStore::S3 {
            bucket: bucket.clone(),
            prefix: "photos".into(),
            endpoint: Some(endpoint.clone()),
            region: "us-east-1".into(),
        }
    })
    .await;
    let other = app.process_with(&[
        ("NEWSROOM_MEDIA_STORE", &store),
        ("NEWSROOM_S3_ENDPOINT", &endpoint),
    ]);
    let editor = app.user(Role::Editor).await;
    let mut upload = with_exif(&picture(1000, 700, ImageFormat::Jpeg), 1);
    upload.extend_from_slice(b"<script>x</script>");
    let item = app
        .photo(&editor.token, form(upload, "a.jpg", "image/jpeg"))
        .await;
    let item = app.ready(&editor.token, item["id"].as_i64().unwrap()).await;
    // Every file this process stored, the other serves, byte for byte.
    let from_other = |url: &Value| {
        let url = other.url(&local(url));
        async move { reqwest::get(url).await.unwrap() }
    };
    for url in std::iter::once(&item["url"]).chain(
        item["renditions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["url"]),
    ) {
        let here = bytes(app.file(url).await).await;
        let there = bytes(from_other(url).await).await;
        assert_eq!(here, there, "{url}");
        assert!(
            !there.windows(4).any(|w| w == b"Exif") && !there.windows(7).any(|w| w == b"<script")
        );
    }
    // The objects are in the bucket, under the prefix, and not in the local folder.
    let listing = list_bucket(&endpoint, &bucket).await;
    let keys = listing.matches("<Key>photos/").count();
    assert_eq!(
        keys,
        1 + item["renditions"].as_array().unwrap().len(),
        "{listing}"
    );
    assert!(stored_files(app.media.path()).is_empty());
    // What the other process stores (a new focal point's crops, made on request there), this
    // one serves.
    let token = editor.token.clone();
    let moved: Value = reqwest::Client::new()
        .patch(other.url(&format!("/api/v1/media/{}", item["id"])))
        .bearer_auth(&token)
        .json(&json!({"focal_point": {"x": 0.2, "y": 0.5}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let crop = moved["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["aspect"] == "1:1")
        .cloned()
        .unwrap();
    let there = bytes(from_other(&crop["url"]).await).await;
    assert_eq!(bytes(app.file(&crop["url"]).await).await, there);
    // Deleted through the other process: gone here too, at once from the store and within
    // seconds from this process's memory of served files.
    let gone = reqwest::Client::new()
        .delete(other.url(&format!("/api/v1/media/{}", item["id"])))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 204);
    assert_eq!(from_other(&item["url"]).await.status(), 404);
    let mut status = 200;
    for _ in 0..150 {
        status = app.file(&item["url"]).await.status().as_u16();
        if status == 404 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        status, 404,
        "a deleted photo is still served by the other process"
    );
    let listing = list_bucket(&endpoint, &bucket).await;
    assert_eq!(listing.matches("<Key>").count(), 0, "{listing}");
}
