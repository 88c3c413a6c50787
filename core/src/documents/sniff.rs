//! What a document is, from its first bytes (magic numbers), never from its name: PDF, PNG,
//! JPEG, GIF, WebP, HEIC, ZIP (and the office formats built on it), HTML, SVG, plain text,
//! else `application/octet-stream`. A dozen rules of our own rather than a crate: the list is
//! short and what matters is that HTML and SVG are recognised, so they are never served as
//! something a browser runs (`served_as`). Never reads more than the first chunk.

/// `application/octet-stream`: what is not recognised, and what must not run.
pub const OCTET_STREAM: &str = "application/octet-stream";
pub const HTML: &str = "text/html";
pub const SVG: &str = "image/svg+xml";
pub const TEXT: &str = "text/plain";

/// The content type of a document that starts with `head` (its first chunk).
pub fn content_type(head: &[u8]) -> &'static str {
    let starts = |magic: &[u8]| head.starts_with(magic);
    if starts(b"%PDF-") {
        return "application/pdf";
    }
    if starts(b"\x89PNG\r\n\x1a\n") {
        return "image/png";
    }
    if starts(b"\xFF\xD8\xFF") {
        return "image/jpeg";
    }
    if starts(b"GIF87a") || starts(b"GIF89a") {
        return "image/gif";
    }
    if starts(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        return "image/webp";
    }
    if head.get(4..8) == Some(b"ftyp")
        && head.get(8..12).is_some_and(|brand| {
            [
                &b"heic"[..],
                b"heix",
                b"heim",
                b"heis",
                b"hevc",
                b"hevx",
                b"mif1",
                b"msf1",
            ]
            .contains(&brand)
        })
    {
        return "image/heic";
    }
    if starts(b"PK\x03\x04") || starts(b"PK\x05\x06") {
        return "application/zip";
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // A chunk may end inside a character: what comes before it counts.
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return OCTET_STREAM,
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
    {
        return OCTET_STREAM;
    }
    let lower = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(1024)
        .collect::<String>()
        .to_ascii_lowercase();
    if lower.starts_with("<svg") || (lower.starts_with("<?xml") && lower.contains("<svg")) {
        return SVG;
    }
    let html_tags = [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<script",
        "<iframe",
        "<!--",
    ];
    if html_tags.iter().any(|t| lower.starts_with(t)) || lower.contains("<script") {
        return HTML;
    }
    if lower.starts_with('<') {
        // Other markup (XML of some kind): a browser may still treat it as a document.
        return OCTET_STREAM;
    }
    TEXT
}

/// The `Content-Type` a document is served with: its own when a browser only displays it,
/// `application/octet-stream` for HTML, SVG and anything unknown (they could run).
pub fn served_as(content_type: &str) -> &'static str {
    match content_type {
        "application/pdf" => "application/pdf",
        "image/png" => "image/png",
        "image/jpeg" => "image/jpeg",
        "image/gif" => "image/gif",
        "image/webp" => "image/webp",
        "image/heic" => "image/heic",
        "application/zip" => "application/zip",
        TEXT => "text/plain; charset=utf-8",
        _ => OCTET_STREAM,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_decide_not_the_name() {
        assert_eq!(content_type(b"%PDF-1.7\n..."), "application/pdf");
        assert_eq!(content_type(b"\x89PNG\r\n\x1a\n\0\0"), "image/png");
        assert_eq!(content_type(b"\xFF\xD8\xFF\xE0\0\x10JFIF"), "image/jpeg");
        assert_eq!(content_type(b"GIF89a\x01\0"), "image/gif");
        assert_eq!(content_type(b"RIFF\x10\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(content_type(b"\0\0\0\x18ftypheic\0\0\0\0"), "image/heic");
        assert_eq!(content_type(b"PK\x03\x04\x14\0"), "application/zip");
        assert_eq!(content_type(b"Dear Sir,\nplease refund."), TEXT);
        assert_eq!(content_type("Crème brûlée".as_bytes()), TEXT);
        assert_eq!(content_type(b""), TEXT);
        assert_eq!(content_type(b"\0\x01\x02binary"), OCTET_STREAM);
        assert_eq!(content_type(b"\xC3\x28 not utf-8"), OCTET_STREAM);
    }

    #[test]
    fn html_and_svg_are_recognised_however_they_start() {
        for html in [
            &b"<!DOCTYPE html><p>hi"[..],
            b"\xEF\xBB\xBF  <HTML><script>alert(1)</script>",
            b"<head><title>x</title>",
            b"<script>fetch('/v1/vendors')</script>",
            b"<!-- c --><p>",
            b"hello <script>alert(1)</script>",
        ] {
            assert_eq!(
                content_type(html),
                HTML,
                "{}",
                String::from_utf8_lossy(html)
            );
        }
        assert_eq!(
            content_type(b"<svg xmlns='http://www.w3.org/2000/svg'>"),
            SVG
        );
        assert_eq!(
            content_type(b"<?xml version=\"1.0\"?>\n<svg onload=\"alert(1)\">"),
            SVG
        );
        assert_eq!(
            content_type(b"<?xml version=\"1.0\"?><note/>"),
            OCTET_STREAM
        );
    }

    #[test]
    fn what_could_run_is_served_as_bytes() {
        assert_eq!(served_as(HTML), OCTET_STREAM);
        assert_eq!(served_as(SVG), OCTET_STREAM);
        assert_eq!(served_as("application/x-whatever"), OCTET_STREAM);
        assert_eq!(served_as(OCTET_STREAM), OCTET_STREAM);
        assert_eq!(served_as("image/png"), "image/png");
        assert_eq!(served_as(TEXT), "text/plain; charset=utf-8");
    }

    #[test]
    fn a_character_cut_at_the_chunk_end_is_still_text() {
        let mut head = "é".repeat(10).into_bytes();
        head.push(0xC3);
        assert_eq!(content_type(&head), TEXT);
    }
}
