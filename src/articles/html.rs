//! Article bodies: the HTML sanitiser and the plain text of sanitised HTML.
//!
//! ammonia keeps ordinary article markup (paragraphs, headings, lists, links, images, figures,
//! tables, quotes) and removes scripts, styles, event handlers and `javascript:` URLs. On top of
//! its rules: every URL of a `srcset` follows the rules of `src`, and an `<iframe>` survives
//! only with an `https:` source on one of the configured embed hosts, sandboxed, lazy and with
//! a strict referrer policy; any other iframe is removed with its content.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

/// URL schemes links and images may use; relative URLs pass too.
const URL_SCHEMES: [&str; 4] = ["http", "https", "mailto", "tel"];
/// Schemes an image candidate of a `srcset` may use.
const IMAGE_SCHEMES: [&str; 2] = ["http", "https"];

/// What an allowed embed gets, whatever it asked for.
const IFRAME_SANDBOX: &str = "allow-scripts allow-same-origin allow-popups";
const IFRAME_REFERRER_POLICY: &str = "strict-origin-when-cross-origin";

/// The default `NEWSROOM_EMBED_HOSTS`.
pub const DEFAULT_EMBED_HOSTS: [&str; 4] = [
    "www.youtube.com",
    "www.youtube-nocookie.com",
    "player.vimeo.com",
    "t.me",
];

/// The sanitiser, built once from the embed hosts.
pub struct Sanitiser {
    cleaner: ammonia::Builder<'static>,
}

impl Sanitiser {
    pub fn new(embed_hosts: &[String]) -> Self {
        let hosts: Arc<HashSet<String>> =
            Arc::new(embed_hosts.iter().map(|h| h.to_ascii_lowercase()).collect());
        let mut cleaner = ammonia::Builder::default();
        cleaner
            .add_tags(["figure", "figcaption", "picture", "source", "iframe"])
            .add_tag_attributes("img", ["loading", "srcset", "sizes"])
            .add_tag_attributes("source", ["srcset", "type", "media"])
            .add_tag_attributes(
                "iframe",
                ["src", "width", "height", "allowfullscreen", "title"],
            )
            .set_tag_attribute_value("iframe", "sandbox", IFRAME_SANDBOX)
            .set_tag_attribute_value("iframe", "loading", "lazy")
            .set_tag_attribute_value("iframe", "referrerpolicy", IFRAME_REFERRER_POLICY)
            .add_tag_attributes("td", ["colspan", "rowspan"])
            .add_tag_attributes("th", ["colspan", "rowspan", "scope"])
            .url_schemes(HashSet::from(URL_SCHEMES))
            .link_rel(Some("noopener noreferrer"))
            .attribute_filter(
                move |element, attribute, value| match (element, attribute) {
                    ("iframe", "src") => is_embed(value, &hosts).then_some(Cow::Borrowed(value)),
                    (_, "srcset") => image_candidates(value),
                    _ => Some(Cow::Borrowed(value)),
                },
            );
        Self { cleaner }
    }

    /// Sanitised HTML.
    pub fn clean(&self, html: &str) -> String {
        let cleaned = self.cleaner.clean(html).to_string();
        if !cleaned.contains("<iframe") {
            return cleaned;
        }
        // An iframe whose source was refused goes altogether, not as an empty frame.
        let settings = lol_html::RewriteStrSettings::new().append_element_content_handler(
            lol_html::element!("iframe", |el| {
                if !el.has_attribute("src") {
                    el.remove();
                }
                Ok(())
            }),
        );
        lol_html::rewrite_str(&cleaned, settings).unwrap_or_else(|err| {
            log::warn!("iframe pass failed ({err}); dropping every iframe");
            strip_iframes(&cleaned)
        })
    }
}

/// Removes every iframe: the fallback should the rewriter fail (it does not on ammonia's
/// well-formed output).
fn strip_iframes(html: &str) -> String {
    ammonia::Builder::default()
        .rm_tags(["iframe"])
        .clean(html)
        .to_string()
}

/// An embed source: `https:` on one of `hosts`, on the default port.
fn is_embed(src: &str, hosts: &HashSet<String>) -> bool {
    url::Url::parse(src).is_ok_and(|url| {
        url.scheme() == "https"
            && url.port().is_none()
            && url.username().is_empty()
            && url.host_str().is_some_and(|host| hosts.contains(host))
    })
}

/// Whether a URL may stand in `src` or `srcset`: relative, or of one of `schemes`.
fn allowed_url(raw: &str, schemes: &[&str]) -> bool {
    match url::Url::parse(raw) {
        Ok(url) => schemes.contains(&url.scheme()),
        Err(url::ParseError::RelativeUrlWithoutBase) => true,
        Err(_) => false,
    }
}

/// The image candidates of a `srcset` whose URLs are allowed, or None when none is.
fn image_candidates(srcset: &str) -> Option<Cow<'_, str>> {
    let kept: Vec<String> = srcset_candidates(srcset)
        .into_iter()
        .filter(|(url, _)| allowed_url(url, &IMAGE_SCHEMES))
        .map(|(url, descriptor)| match descriptor.is_empty() {
            true => url.to_owned(),
            false => format!("{url} {descriptor}"),
        })
        .collect();
    (!kept.is_empty()).then(|| Cow::Owned(kept.join(", ")))
}

/// Splits a `srcset` into (URL, descriptors) as the HTML standard's parser does: a URL runs
/// to the next whitespace (commas inside it, as in `data:` URLs, belong to it; trailing ones
/// end the candidate), then descriptors run to the next comma outside parentheses.
fn srcset_candidates(srcset: &str) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    let mut rest = srcset;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == ',');
        if rest.is_empty() {
            return found;
        }
        let url_end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let (url, after) = rest.split_at(url_end);
        if url.ends_with(',') {
            found.push((url.trim_end_matches(','), ""));
            rest = after;
            continue;
        }
        let mut depth = 0usize;
        let descriptor_end = after
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '(' => depth += 1,
                    ')' => depth = depth.saturating_sub(1),
                    ',' if depth == 0 => return true,
                    _ => {}
                }
                false
            })
            .map_or(after.len(), |(i, _)| i);
        found.push((url, after[..descriptor_end].trim()));
        rest = &after[descriptor_end..];
    }
}

/// Plain text as HTML text.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    escape_into(&mut escaped, text);
    escaped
}

/// Appends plain text as HTML text.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// The text of sanitised HTML: tags become spaces, the entities a sanitiser writes
/// (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#39;`, `&nbsp;` and numeric ones) their characters,
/// and any other entity a space.
pub fn plain_text(html: &str) -> String {
    let mut text = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find(['<', '&']) {
        text.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('<') {
            rest = rest.find('>').map_or("", |end| &rest[end + 1..]);
            text.push(' ');
            continue;
        }
        let name_len = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .unwrap_or(rest.len() - 1);
        let name = &rest[1..1 + name_len];
        let closed = rest[1 + name_len..].starts_with(';');
        let decoded = closed.then(|| entity(name)).flatten();
        match decoded {
            Some(c) => text.push(c),
            None if closed => text.push(' '),
            None => text.push('&'),
        }
        rest = if closed {
            &rest[2 + name_len..]
        } else {
            &rest[1..]
        };
    }
    text.push_str(rest);
    text
}

/// The character of an entity's name (what is between `&` and `;`).
fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some('\u{a0}'),
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sanitiser() -> Sanitiser {
        Sanitiser::new(&DEFAULT_EMBED_HOSTS.map(String::from))
    }

    #[test]
    fn sanitising_keeps_markup_and_removes_scripts() {
        let dirty = r#"<p onclick="steal()">Hello <a href="javascript:alert(1)">x</a> <a href="https://example.com">ok</a></p><script>alert(1)</script><figure><img src="https://i.example/a.jpg" alt="A" onerror="x()"><figcaption>Cap</figcaption></figure><table><tr><td>1</td></tr></table>"#;
        let clean = sanitiser().clean(dirty);
        for gone in ["onclick", "javascript:", "<script", "onerror", "alert(1)"] {
            assert!(!clean.contains(gone), "{gone} survived: {clean}");
        }
        for kept in [
            "<p>",
            "href=\"https://example.com\"",
            "<figure>",
            "<img",
            "<figcaption>",
            "<table>",
        ] {
            assert!(clean.contains(kept), "{kept} lost: {clean}");
        }
    }

    #[test]
    fn only_embeds_from_the_allowed_hosts_survive_sandboxed() {
        let clean = sanitiser().clean(
            r#"<p>a</p><iframe src="https://www.youtube.com/embed/xyz" sandbox="allow-top-navigation" width="560"></iframe><iframe src="https://evil.example/x"><p>inside</p></iframe><iframe src="//www.youtube.com/embed/y"></iframe><iframe src="http://player.vimeo.com/video/1"></iframe><iframe srcdoc="<script>x</script>"></iframe><iframe src="https://www.youtube.com:8443/embed/z"></iframe><p>b</p>"#,
        );
        assert_eq!(clean.matches("<iframe").count(), 1, "{clean}");
        assert!(clean.contains(r#"src="https://www.youtube.com/embed/xyz""#));
        assert!(clean.contains(r#"sandbox="allow-scripts allow-same-origin allow-popups""#));
        assert!(!clean.contains("allow-top-navigation"));
        assert!(clean.contains(r#"loading="lazy""#));
        assert!(clean.contains(r#"referrerpolicy="strict-origin-when-cross-origin""#));
        assert!(!clean.contains("evil") && !clean.contains("inside") && !clean.contains("srcdoc"));
        assert!(
            clean.starts_with("<p>a</p>") && clean.ends_with("<p>b</p>"),
            "{clean}"
        );
        let none =
            Sanitiser::new(&[]).clean(r#"<iframe src="https://www.youtube.com/embed/x"></iframe>"#);
        assert_eq!(none, "");
    }

    #[test]
    fn every_srcset_url_follows_the_rules_of_src() {
        let clean = sanitiser().clean(
            r#"<img src="/a.jpg" srcset="data:image/png;base64,AAA,BBB 1x, /b.jpg 2x, javascript:alert(1) 3x, https://i.example/c.jpg 640w"><picture><source srcset="javascript:x"><img src="/d.jpg"></picture>"#,
        );
        assert!(
            !clean.contains("data:") && !clean.contains("javascript"),
            "{clean}"
        );
        assert!(
            clean.contains(r#"srcset="/b.jpg 2x, https://i.example/c.jpg 640w""#),
            "{clean}"
        );
        assert!(clean.contains("<source>"), "{clean}");
    }

    #[test]
    fn srcset_candidates_parse_as_the_standard_says() {
        assert_eq!(
            srcset_candidates(" a.jpg 1x,b.jpg, c.jpg 100w (x,y), d.jpg,,"),
            [
                ("a.jpg", "1x"),
                ("b.jpg", ""),
                ("c.jpg", "100w (x,y)"),
                ("d.jpg", "")
            ]
        );
    }

    #[test]
    fn plain_text_drops_tags_and_entities() {
        assert_eq!(
            plain_text("<p>Tom&amp;Jerry&nbsp;run</p><p>fast</p>")
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["Tom&Jerry", "run", "fast"]
        );
        assert_eq!(
            plain_text("a&#39;b &#x41; &lt;i&gt; &unknown; & x &amp <b>y"),
            "a'b A <i>   & x &amp  y"
        );
    }
}
