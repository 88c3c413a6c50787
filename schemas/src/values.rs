//! Validated value types. Each parses at the edge (deserialisation), so a value of one of these
//! types is always well formed inside carnetd and the CLI; each carries its own JSON Schema
//! (schemars) and OpenAPI schema (utoipa).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};
use utoipa::openapi::{ObjectBuilder, RefOr, Type, schema::Schema as OaSchema};

mod money;

pub use money::{Amount, Currency};

/// Why a value was refused; the text is meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue(pub String);

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidValue {}

pub(crate) fn string_schema(
    pattern: Option<&str>,
    description: &str,
    example: &str,
) -> RefOr<OaSchema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(pattern)
        .description(Some(description))
        .examples([example])
        .into()
}

/// Implements `JsonSchema` and `ToSchema` for a string newtype from one pattern and description,
/// so the two generated schemas cannot disagree.
macro_rules! string_value_schema {
    ($ty:ident, $pattern:expr, $description:expr, $example:expr) => {
        impl ::schemars::JsonSchema for $ty {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                let mut schema = ::schemars::json_schema!({
                    "type": "string",
                    "description": $description,
                    "examples": [$example],
                });
                if let Some(pattern) = $pattern {
                    schema.insert("pattern".into(), pattern.into());
                }
                schema
            }
        }
        impl ::utoipa::PartialSchema for $ty {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                $crate::values::string_schema($pattern, $description, $example)
            }
        }
        impl ::utoipa::ToSchema for $ty {}
    };
}
pub(crate) use string_value_schema;

// ---------------------------------------------------------------------------------------------
// Categories

/// A dotted, lower-case, free-form category (`home.appliances.washing-machine`). A category
/// covers itself and everything below it: `home.appliances` covers
/// `home.appliances.washing-machine`, not `home.appliancesx`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Category(String);

const CATEGORY_PATTERN: &str = r"^[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]+(-[a-z0-9]+)*)*$";

impl Category {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `self` is `other` or one of its ancestors.
    pub fn covers(&self, other: &Category) -> bool {
        other.0 == self.0
            || (other.0.starts_with(&self.0) && other.0.as_bytes().get(self.0.len()) == Some(&b'.'))
    }
}

impl TryFrom<String> for Category {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        let word_ok = |w: &str| {
            !w.is_empty()
                && !w.starts_with('-')
                && !w.ends_with('-')
                && !w.contains("--")
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if s.len() <= 120 && s.split('.').all(word_ok) {
            Ok(Category(s))
        } else {
            Err(InvalidValue(format!(
                "category {s:?} must be lower-case words of letters, digits and single hyphens, joined by dots, e.g. \"home.appliances.washing-machine\""
            )))
        }
    }
}

impl FromStr for Category {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Self::try_from(s.to_owned())
    }
}

impl From<Category> for String {
    fn from(c: Category) -> String {
        c.0
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_value_schema!(
    Category,
    Some(CATEGORY_PATTERN),
    "Dotted lower-case category; a category covers the ones below it.",
    "home.appliances.washing-machine"
);

// ---------------------------------------------------------------------------------------------
// Web addresses

/// An absolute `http` or `https` URL without credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WebUrl(String);

impl WebUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WebUrl {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        let parsed = url::Url::parse(&s).map_err(|e| {
            InvalidValue(format!(
                "{s:?} is not a web address ({e}); write it in full, e.g. \"https://example.com\""
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(InvalidValue(format!(
                "{s:?} is not an http(s) address; write it in full, e.g. \"https://example.com\""
            )));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(InvalidValue(format!(
                "{s:?} carries credentials; remove the user:password@ part"
            )));
        }
        if s.len() > 2048 {
            return Err(InvalidValue(
                "web address longer than 2048 characters".into(),
            ));
        }
        Ok(WebUrl(s))
    }
}

impl FromStr for WebUrl {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Self::try_from(s.to_owned())
    }
}

impl From<WebUrl> for String {
    fn from(u: WebUrl) -> String {
        u.0
    }
}

impl fmt::Display for WebUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_value_schema!(
    WebUrl,
    None::<&str>,
    "Absolute http or https URL, without credentials.",
    "https://example.com"
);

// ---------------------------------------------------------------------------------------------
// Locale

/// A BCP 47 language tag such as `fr-FR` (checked for shape, not against the registry).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Locale(String);

const LOCALE_PATTERN: &str = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$";

impl TryFrom<String> for Locale {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        let mut parts = s.split('-');
        let lang_ok = parts.next().is_some_and(|p| {
            (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic())
        });
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if lang_ok && rest_ok && s.len() <= 35 {
            Ok(Locale(s))
        } else {
            Err(InvalidValue(format!(
                "locale {s:?} is not a language tag like \"fr-FR\" or \"en\""
            )))
        }
    }
}

impl FromStr for Locale {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Self::try_from(s.to_owned())
    }
}

impl From<Locale> for String {
    fn from(l: Locale) -> String {
        l.0
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_value_schema!(
    Locale,
    Some(LOCALE_PATTERN),
    "BCP 47 language tag.",
    "fr-FR"
);

// ---------------------------------------------------------------------------------------------
// Time zone

/// An IANA time zone name such as `Europe/Paris` (checked here for shape; carnetd checks it
/// names a zone it knows).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZoneName(String);

const TIME_ZONE_PATTERN: &str = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$";

impl TimeZoneName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for TimeZoneName {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        let part = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-'))
        };
        let starts = s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
        if starts && s.len() <= 64 && s.split('/').all(part) {
            Ok(TimeZoneName(s))
        } else {
            Err(InvalidValue(format!(
                "time zone {s:?} is not an IANA name like \"Europe/Paris\" or \"UTC\""
            )))
        }
    }
}

impl FromStr for TimeZoneName {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Self::try_from(s.to_owned())
    }
}

impl From<TimeZoneName> for String {
    fn from(t: TimeZoneName) -> String {
        t.0
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

string_value_schema!(
    TimeZoneName,
    Some(TIME_ZONE_PATTERN),
    "IANA time zone name.",
    "Europe/Paris"
);

// ---------------------------------------------------------------------------------------------
// Text the owner writes

/// Declares a non-empty text newtype with a length limit; `multiline` allows newlines and tabs.
/// Other control characters are refused so that nothing written can repaint a terminal.
macro_rules! text_value {
    ($(#[$doc:meta])* $ty:ident, $max:expr, $multiline:expr, $example:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $ty(String);

        impl $ty {
            pub const MAX_CHARS: usize = $max;
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $ty {
            type Error = InvalidValue;
            fn try_from(s: String) -> Result<Self, InvalidValue> {
                check_text(&s, $max, $multiline)?;
                Ok($ty(s))
            }
        }

        impl FromStr for $ty {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, InvalidValue> {
                Self::try_from(s.to_owned())
            }
        }

        impl From<$ty> for String {
            fn from(t: $ty) -> String {
                t.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "minLength": 1,
                    "maxLength": $max,
                    "examples": [$example],
                })
            }
        }

        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<OaSchema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some($max))
                    .examples([$example])
                    .into()
            }
        }
        impl utoipa::ToSchema for $ty {}
    };
}

fn check_text(s: &str, max: usize, multiline: bool) -> Result<(), InvalidValue> {
    if s.trim().is_empty() {
        return Err(InvalidValue(
            "text is empty; leave the field out instead".into(),
        ));
    }
    let chars = s.chars().count();
    if chars > max {
        return Err(InvalidValue(format!(
            "text is {chars} characters long; the limit is {max}"
        )));
    }
    // Bidirectional embedding/override/isolate marks can make text display as something else
    // than it is ("Trojan Source"); nothing a person writes here needs them.
    let bidi = |c: char| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
    let allowed =
        |c: char| !bidi(c) && (!c.is_control() || (multiline && matches!(c, '\n' | '\t' | '\r')));
    if let Some(c) = s.chars().find(|c| !allowed(*c)) {
        let what = if multiline {
            ""
        } else {
            " (this field is one line)"
        };
        return Err(InvalidValue(format!(
            "text contains the control character U+{:04X}{what}",
            u32::from(c)
        )));
    }
    Ok(())
}

text_value!(
    /// One line of text: a name, a title, a reference (at most 200 characters).
    Line,
    200,
    false,
    "Acme Appliances"
);

text_value!(
    /// Free text that may span lines: a note, what was said (at most 10,000 characters).
    Text,
    10_000,
    true,
    "They promised a replacement within a week."
);

// ---------------------------------------------------------------------------------------------
// Small bounded integers

/// Generates an integer newtype limited to `min..=max`, with its schemas.
macro_rules! bounded_int {
    ($(#[$doc:meta])* $ty:ident($inner:ty), $min:expr, $max:expr, $what:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "i64", into = "i64")]
        pub struct $ty($inner);

        impl $ty {
            pub const MIN: $inner = $min;
            pub const MAX: $inner = $max;
            pub fn get(self) -> $inner {
                self.0
            }
        }

        impl TryFrom<i64> for $ty {
            type Error = InvalidValue;
            fn try_from(n: i64) -> Result<Self, InvalidValue> {
                if (i64::from($min)..=i64::from($max)).contains(&n) {
                    Ok($ty(n as $inner))
                } else {
                    Err(InvalidValue(format!(
                        "{} {} is out of range: use a whole number from {} to {}",
                        $what, n, $min, $max
                    )))
                }
            }
        }

        impl FromStr for $ty {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, InvalidValue> {
                let n: i64 = s.trim().parse().map_err(|_| {
                    InvalidValue(format!(
                        "{} {:?} is not a whole number from {} to {}",
                        $what, s, $min, $max
                    ))
                })?;
                Self::try_from(n)
            }
        }

        impl From<$ty> for i64 {
            fn from(v: $ty) -> i64 {
                i64::from(v.0)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                stringify!($ty).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "integer",
                    "minimum": $min,
                    "maximum": $max,
                    "description": $what,
                })
            }
        }

        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<OaSchema> {
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .minimum(Some($min))
                    .maximum(Some($max))
                    .description(Some($what))
                    .into()
            }
        }
        impl utoipa::ToSchema for $ty {}
    };
}

bounded_int!(
    /// How an exchange felt, from −2 (very bad) to +2 (very good).
    Sentiment(i8),
    -2i8,
    2i8,
    "sentiment"
);

bounded_int!(
    /// Satisfaction with how an incident was resolved, 0 to 10.
    Satisfaction(u8),
    0u8,
    10u8,
    "satisfaction"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_cover_their_descendants_only() {
        let parent: Category = "home.appliances".parse().unwrap();
        let child: Category = "home.appliances.washing-machine".parse().unwrap();
        let sibling: Category = "home.appliancesx".parse().unwrap();
        assert!(parent.covers(&child));
        assert!(parent.covers(&parent));
        assert!(!parent.covers(&sibling));
        assert!(!child.covers(&parent));
        for bad in [
            "Home", "home..x", ".home", "home.", "a b", "home.-x", "x--y", "",
        ] {
            assert!(bad.parse::<Category>().is_err(), "{bad}");
        }
    }

    #[test]
    fn web_urls_are_http_without_credentials() {
        assert!("https://example.com/a?b".parse::<WebUrl>().is_ok());
        assert!("ftp://example.com".parse::<WebUrl>().is_err());
        assert!("example.com".parse::<WebUrl>().is_err());
        assert!("https://u:p@example.com".parse::<WebUrl>().is_err());
    }

    #[test]
    fn text_is_non_empty_bounded_and_free_of_control_characters() {
        assert!("Acme".parse::<Line>().is_ok());
        assert!("".parse::<Line>().is_err());
        assert!("   ".parse::<Text>().is_err());
        assert!("a\nb".parse::<Line>().is_err());
        assert!("a\nb".parse::<Text>().is_ok());
        assert!("a\u{1b}[2Jb".parse::<Text>().is_err());
        assert!("invoice\u{202E}fdp.exe".parse::<Line>().is_err());
        assert!("x".repeat(201).parse::<Line>().is_err());
        assert!("é".repeat(200).parse::<Line>().is_ok());
    }

    #[test]
    fn bounded_integers_refuse_out_of_range() {
        assert_eq!("-2".parse::<Sentiment>().unwrap().get(), -2);
        assert!("3".parse::<Sentiment>().is_err());
        assert!(serde_json::from_str::<Sentiment>("-3").is_err());
        assert!(serde_json::from_str::<Satisfaction>("11").is_err());
        assert!("x".parse::<Satisfaction>().is_err());
    }
}
