//! How carnetd's log writes fields, for `tracing_subscriber::fmt` (`fmt_fields`): the same text
//! as its own formatters, written directly. Every request opens a span whose three fields
//! (method, route template, request id) the subscriber formats at once, whether anything is
//! logged in the request or not; with the subscriber's own formatters that was a seventh of
//! what `/healthz` costs in text and a quarter in JSON (README, Performance), because they
//! style each name, escape every character of every value through `Debug`, and (in JSON) build
//! a map before writing it.
//!
//! - [`Plain`]: `name=value` separated by spaces, the message without its name, strings quoted
//!   and escaped as `Debug` writes them (a string of plain printable ASCII is copied as is).
//! - [`Json`]: a JSON object of the fields (what the JSON event formatter reads back for each
//!   span), numbers and booleans as such, anything else as its `Debug` text.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::FormattedFields;
use tracing_subscriber::fmt::format::Writer;

/// Text fields: `route="/healthz" request_id="1a2b3c4d-0"`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Plain;

/// JSON fields: `{"route":"/healthz","request_id":"1a2b3c4d-0"}`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Json;

impl<'w> FormatFields<'w> for Plain {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut v = Visitor::new(writer, Style::Plain);
        fields.record(&mut v);
        v.result
    }
}

impl<'w> FormatFields<'w> for Json {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        writer.write_char('{')?;
        let mut v = Visitor::new(writer, Style::Json);
        fields.record(&mut v);
        v.result?;
        v.w.write_char('}')
    }

    /// Fields recorded after the span opened join its object.
    fn add_fields(
        &self,
        current: &'w mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let mut more = String::new();
        self.format_fields(Writer::new(&mut more), fields)?;
        if more.len() <= 2 {
            return Ok(());
        }
        if current.fields.len() <= 2 {
            current.fields = more;
        } else {
            current.fields.pop();
            current.fields.push(',');
            current.fields.push_str(&more[1..]);
        }
        Ok(())
    }
}

/// How a field is written: `name=value`, space-separated, or `"name":value`, comma-separated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    Json,
}

/// Writes fields one after another in a [`Style`], stopping at the first error.
struct Visitor<'w> {
    w: Writer<'w>,
    style: Style,
    first: bool,
    result: fmt::Result,
}

impl<'w> Visitor<'w> {
    fn new(w: Writer<'w>, style: Style) -> Self {
        Visitor {
            w,
            style,
            first: true,
            result: Ok(()),
        }
    }

    /// One field: the separator unless first, its name as the style writes it, then `value`.
    fn field(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'w>) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        let style = self.style;
        let w = &mut self.w;
        let first = std::mem::take(&mut self.first);
        self.result = (|| {
            match style {
                Style::Plain => {
                    if !first {
                        w.write_char(' ')?;
                    }
                    if field.name() != "message" {
                        w.write_str(field.name())?;
                        w.write_char('=')?;
                    }
                }
                Style::Json => {
                    if !first {
                        w.write_char(',')?;
                    }
                    json_string(w, field.name())?;
                    w.write_char(':')?;
                }
            }
            value(w)
        })();
    }
}

/// Printable ASCII without a quote or a backslash: what `Debug` writes unchanged.
fn plain(s: &str) -> bool {
    s.bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\')
}

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        match self.style {
            Style::Json => self.field(field, |w| json_string(w, value)),
            Style::Plain if field.name() == "message" => {
                self.record_debug(field, &format_args!("{value}"));
            }
            Style::Plain => self.field(field, |w| {
                if plain(value) {
                    w.write_char('"')?;
                    w.write_str(value)?;
                    w.write_char('"')
                } else {
                    write!(w, "{value:?}")
                }
            }),
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |w| write!(w, "{value}"));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, |w| write!(w, "{value}"));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |w| write!(w, "{value}"));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.style == Style::Json && value.is_finite() {
            self.field(field, |w| write!(w, "{value}"));
        } else {
            self.record_debug(field, &value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match self.style {
            Style::Plain => self.field(field, |w| write!(w, "{value:?}")),
            Style::Json => {
                let text = format!("{value:?}");
                self.field(field, |w| json_string(w, &text));
            }
        }
    }
}

/// `s` as a JSON string: quotes, backslashes and control characters escaped, the rest as is.
fn json_string(w: &mut Writer<'_>, s: &str) -> fmt::Result {
    w.write_char('"')?;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if c < ' ' || c == '\u{7f}' => "",
            _ => continue,
        };
        w.write_str(&s[start..i])?;
        if escaped.is_empty() {
            write!(w, "\\u{:04x}", u32::from(c))?;
        } else {
            w.write_str(escaped)?;
        }
        start = i + c.len_utf8();
    }
    w.write_str(&s[start..])?;
    w.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::fmt::MakeWriter;

    /// What a subscriber with these fields writes for one event inside a request's span.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    fn in_a_request(id: &str) {
        let span =
            tracing::info_span!("request", method = %"GET", route = "/v1/{id}", request_id = id);
        let _in = span.enter();
        tracing::warn!(count = 3u64, ok = true, why = ?Some("a\"b"), "went \"wrong\"\n");
    }

    #[test]
    fn text_fields_read_as_the_default_formatter_writes_them() {
        let write = |plain: bool, id: &str| {
            let out = Captured::default();
            let builder = tracing_subscriber::fmt()
                .with_ansi(false)
                .without_time()
                .with_writer(out.clone());
            if plain {
                let s = builder.fmt_fields(Plain).finish();
                tracing::subscriber::with_default(s, || in_a_request(id));
            } else {
                let s = builder.finish();
                tracing::subscriber::with_default(s, || in_a_request(id));
            }
            String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
        };
        for id in ["ab-1", "ab-1 \"x\"", "\u{1b}[31mred\n", "é"] {
            assert_eq!(write(true, id), write(false, id), "{id:?}");
        }
        assert!(
            write(true, "ab-1").contains(
                "request{method=GET route=\"/v1/{id}\" request_id=\"ab-1\"}: \
                 carnet_server::log_fields::tests: went \"wrong\"\n count=3 ok=true \
                 why=Some(\"a\\\"b\")"
            ),
            "{}",
            write(true, "ab-1")
        );
    }

    /// The one line a JSON subscriber writes while `f` runs, with carnetd's field writer
    /// (`ours`) or the subscriber's own.
    fn json_line(ours: bool, f: impl FnOnce()) -> serde_json::Value {
        let out = Captured::default();
        let builder = tracing_subscriber::fmt()
            .json()
            .without_time()
            .with_writer(out.clone());
        if ours {
            tracing::subscriber::with_default(builder.fmt_fields(Json).finish(), f);
        } else {
            tracing::subscriber::with_default(builder.finish(), f);
        }
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        serde_json::from_str(text.trim_end()).unwrap()
    }

    #[test]
    fn json_fields_are_an_object_the_json_formatter_reads_back() {
        let hostile = "a\"b\\c\nd\u{1}e";
        let line = json_line(true, || in_a_request(hostile));
        assert_eq!(line["span"]["name"], "request");
        assert_eq!(line["span"]["method"], "GET");
        assert_eq!(line["span"]["route"], "/v1/{id}");
        assert_eq!(line["span"]["request_id"], hostile);
        assert_eq!(line["fields"]["message"], "went \"wrong\"\n");
        assert_eq!(line["fields"]["count"], 3);
        assert_eq!(line["fields"]["why"], "Some(\"a\\\"b\")");
        // The same line as with the subscriber's own JSON fields.
        assert_eq!(line, json_line(false, || in_a_request(hostile)));
    }

    #[test]
    fn json_fields_recorded_later_join_the_object() {
        let line = json_line(true, || {
            let span = tracing::info_span!("s", a = 1u64, b = tracing::field::Empty);
            span.record("b", "x");
            let _in = span.enter();
            tracing::info!("inside");
        });
        assert_eq!(
            line["span"],
            serde_json::json!({"name": "s", "a": 1, "b": "x"})
        );
    }
}
