//! The relay's small values, each checked when parsed so the inside never holds a bad one:
//! intent refs and reply buckets (random, unlinkable), vault hosts, vendor ids, two-level
//! categories, regions, money, and the intent events.
//!
//! Every value that becomes a NATS subject token is restricted to characters that can never
//! spell a wildcard (`*`, `>`), a separator (`.`) or white space. A bucket is the one value of
//! two tokens, `<host>.<random>`, each of them so restricted.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::keys::{b64, random_bytes};

/// A value that did not have its required shape; the message says which shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} '{value}' is not valid: {rule}")]
pub struct BadValue {
    pub what: &'static str,
    pub value: String,
    pub rule: &'static str,
}

macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $what:literal, $pattern:literal, $rule:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The text as it goes on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = BadValue;
            fn from_str(s: &str) -> Result<Self, BadValue> {
                let check: fn(&str) -> bool = $check;
                if check(s) {
                    Ok($name(s.to_owned()))
                } else {
                    Err(BadValue { what: $what, value: s.chars().take(80).collect(), rule: $rule })
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "pattern": $pattern, "description": $rule })
            }
        }
    };
}

fn is_b64url(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn is_host(s: &str) -> bool {
    (1..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn is_token(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

text_value!(
    /// An intent's name on the relay: 16 random bytes, chosen per intent, linked to nothing else
    /// (not the vault's intent id, not a `customer_ref`).
    IntentRef, "intent_ref", "^[A-Za-z0-9_-]{22}$",
    "22 base64url characters (16 random bytes)",
    |s| s.len() == 22 && is_b64url(s)
);

text_value!(
    /// Where offers to one intent go (`offer.v1.<bucket>`): `<host>.<random>`, the vault host's
    /// token and 16 random bytes chosen per intent, so a relay can let a vault host read
    /// `offer.v1.<host>.>` and nothing else. A bucket of the random part alone (22 characters)
    /// was made by a vault before hosts existed and is still read.
    Bucket, "bucket", "^([a-z0-9-]{1,32}\\.)?[A-Za-z0-9_-]{22}$",
    "the vault host (1 to 32 lower-case letters, digits and '-') and '.', then 22 base64url characters (16 random bytes); without the host for a bucket made before hosts",
    |s| {
        let (host, random) = s.split_once('.').map_or((None, s), |(h, r)| (Some(h), r));
        random.len() == 22 && is_b64url(random) && host.is_none_or(is_host)
    }
);

text_value!(
    /// A vault host: the first token of every bucket its vault makes, so one NATS permission
    /// (`offer.v1.<host>.>`) and one consumer cover all its offers. Chosen by the vault's
    /// operator or at random; it names no person (lower-case letters, digits and `-`, 1 to 32).
    Host, "vault host", "^[a-z0-9-]{1,32}$",
    "1 to 32 lower-case letters, digits and '-'",
    is_host
);

text_value!(
    /// A vendor's id in the market directory: lower-case letters, digits and `-`, at most 64.
    VendorId, "vendor id", "^[a-z0-9][a-z0-9-]{0,63}$",
    "lower-case letters, digits and '-', starting with a letter or digit, at most 64",
    |s| is_token(s, 64)
);

text_value!(
    /// An offer's id, chosen by the vendor (random by default): base64url, 8 to 64 characters.
    OfferId, "offer id", "^[A-Za-z0-9_-]{8,64}$",
    "8 to 64 base64url characters",
    |s| (8..=64).contains(&s.len()) && is_b64url(s)
);

text_value!(
    /// The two first levels of an intent's category, `cat.subcat` (e.g. `home.appliances`): each
    /// level lower-case letters, digits and `-`, at most 32.
    Category, "category", "^[a-z0-9][a-z0-9-]{0,31}\\.[a-z0-9][a-z0-9-]{0,31}$",
    "two levels 'cat.subcat', each lower-case letters, digits and '-' (at most 32)",
    |s| matches!(s.split_once('.'), Some((a, b)) if is_token(a, 32) && is_token(b, 32))
);

text_value!(
    /// A coarse region: an ISO 3166-1 alpha-2 country (`FR`) or an ISO 3166-2 subdivision
    /// (`FR-75`), upper case.
    Region, "region", "^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
    "an ISO 3166 code such as 'FR' or 'FR-75' (upper case)",
    |s| {
        let b = s.as_bytes();
        b.len() >= 2
            && b[..2].iter().all(u8::is_ascii_uppercase)
            && (b.len() == 2
                || (b[2] == b'-'
                    && (4..=6).contains(&b.len())
                    && b[3..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())))
    }
);

text_value!(
    /// An amount of money as a decimal string (`"699.90"`), never a float: digits, at most one
    /// `.` followed by at most 4 digits, at most 18 characters.
    Amount, "price", "^[0-9]{1,13}(\\.[0-9]{1,4})?$",
    "a decimal number such as 699.90 (no sign, no exponent, at most 4 decimals)",
    |s| {
        let (int, frac) = s.split_once('.').unwrap_or((s, "1"));
        (1..=13).contains(&int.len())
            && (1..=4).contains(&frac.len())
            && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    }
);

text_value!(
    /// An ISO 4217 currency code, three upper-case letters (`EUR`).
    Currency, "currency", "^[A-Z]{3}$",
    "three upper-case letters (ISO 4217, e.g. EUR)",
    |s| s.len() == 3 && s.bytes().all(|b| b.is_ascii_uppercase())
);

/// 16 random bytes in base64url, drawn again when the text would start with `-` (a value a
/// command line would take for a flag): about 0.02 bits of the 128 are lost.
fn random_token() -> String {
    loop {
        let text = b64(&random_bytes::<16>());
        if !text.starts_with('-') {
            return text;
        }
    }
}

impl IntentRef {
    /// A fresh random ref.
    pub fn generate() -> Self {
        IntentRef(random_token())
    }
}

impl Bucket {
    /// A fresh random bucket of no host (the layout before vault hosts; tests and tools that
    /// need no host use it).
    pub fn generate() -> Self {
        Bucket(random_token())
    }

    /// A fresh random bucket under vault host `host`: `<host>.<22 random>`.
    pub fn generate_for(host: &Host) -> Self {
        Bucket(format!("{host}.{}", random_token()))
    }

    /// The vault host the bucket is under; `None` for a bucket made before hosts.
    pub fn host(&self) -> Option<&str> {
        self.0.split_once('.').map(|(h, _)| h)
    }
}

impl Host {
    /// A fresh random host token (20 lower-case hex digits), for a vault whose operator named
    /// none.
    pub fn generate() -> Self {
        let text: String = random_bytes::<10>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Host(text)
    }
}

impl OfferId {
    /// A fresh random offer id.
    pub fn generate() -> Self {
        OfferId(random_token())
    }
}

impl Category {
    /// The first level (`home` of `home.appliances`).
    pub fn top(&self) -> &str {
        self.0.split_once('.').map_or(&self.0, |(a, _)| a)
    }

    /// The second level (`appliances`).
    pub fn sub(&self) -> &str {
        self.0.split_once('.').map_or("", |(_, b)| b)
    }

    /// The two first levels of a longer dotted category (`home.appliances.washing-machine` →
    /// `home.appliances`), as the vault announces it.
    pub fn from_dotted(full: &str) -> Result<Self, BadValue> {
        let mut levels = full.splitn(3, '.');
        match (levels.next(), levels.next()) {
            (Some(a), Some(b)) => format!("{a}.{b}").parse(),
            _ => full.parse(),
        }
    }
}

/// What happened to an intent; the webhook event names, used as `Carnet-Event`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Event {
    #[serde(rename = "intent.activated")]
    Activated,
    #[serde(rename = "intent.updated")]
    Updated,
    #[serde(rename = "intent.withdrawn")]
    Withdrawn,
    #[serde(rename = "intent.fulfilled")]
    Fulfilled,
    #[serde(rename = "intent.expired")]
    Expired,
}

impl Event {
    /// Every event, in the order of the spec.
    pub const ALL: [Event; 5] = [
        Event::Activated,
        Event::Updated,
        Event::Withdrawn,
        Event::Fulfilled,
        Event::Expired,
    ];

    /// The name on the wire (`intent.activated`).
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Activated => "intent.activated",
            Event::Updated => "intent.updated",
            Event::Withdrawn => "intent.withdrawn",
            Event::Fulfilled => "intent.fulfilled",
            Event::Expired => "intent.expired",
        }
    }

    /// Whether nothing may follow it: withdrawn, fulfilled and expired end an `intent_ref`.
    pub fn is_terminal(self) -> bool {
        match self {
            Event::Activated | Event::Updated => false,
            Event::Withdrawn | Event::Fulfilled | Event::Expired => true,
        }
    }

    /// The event named `name`, if it is one.
    pub fn parse(name: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_tokens_cannot_spell_wildcards_or_separators() {
        for bad in ["a*", ">", "a.b", "a b", "", "-a"] {
            assert!(bad.parse::<VendorId>().is_err(), "{bad}");
        }
        for bad in ["home", "home.*", "home.>", "Home.x", "a.b.c", "home."] {
            assert!(bad.parse::<Category>().is_err(), "{bad}");
        }
        for bad in ["fr", "F", "FR-", "FR-7500", "FR.75", "*"] {
            assert!(bad.parse::<Region>().is_err(), "{bad}");
        }
        assert!("FR-75".parse::<Region>().is_ok() && "DE".parse::<Region>().is_ok());
        assert!(IntentRef::generate().as_str().parse::<IntentRef>().is_ok());
        assert!("abc.def*ghijklmnopqrstu".parse::<Bucket>().is_err());
    }

    #[test]
    fn a_bucket_is_its_host_then_22_random_characters() {
        let host: Host = "vault-7".parse().unwrap();
        let bucket = Bucket::generate_for(&host);
        assert_eq!(bucket.host(), Some("vault-7"));
        assert_eq!(bucket.as_str().len(), "vault-7.".len() + 22);
        assert_eq!(bucket.as_str().parse::<Bucket>().unwrap(), bucket);
        assert_eq!(
            crate::access::vault_offers_filter(&host),
            "offer.v1.vault-7.>"
        );
        // The layout before hosts is still read.
        let old = Bucket::generate();
        assert_eq!(old.as_str().parse::<Bucket>().unwrap().host(), None);
        let random = "AAAAAAAAAAAAAAAAAAAAAA";
        for bad in [
            format!("Vault.{random}"),
            format!("a*.{random}"),
            format!(">.{random}"),
            format!(".{random}"),
            format!("{}.{random}", "a".repeat(33)),
            format!("a.b.{random}"),
            "vault-7.short".to_owned(),
        ] {
            assert!(bad.parse::<Bucket>().is_err(), "{bad}");
        }
        for bad in ["", "A", "a.b", "a*", ">", &"a".repeat(33)] {
            assert!(bad.parse::<Host>().is_err(), "{bad}");
        }
        let made = Host::generate();
        assert_eq!(made.as_str().parse::<Host>().unwrap(), made);
    }

    #[test]
    fn money_is_a_decimal_string() {
        for good in ["0", "699.90", "12.5", "1.0001"] {
            assert!(good.parse::<Amount>().is_ok(), "{good}");
        }
        for bad in ["", "-1", "1e3", "1.", ".5", "1.23456", "1,5", "NaN"] {
            assert!(bad.parse::<Amount>().is_err(), "{bad}");
        }
        assert!("eur".parse::<Currency>().is_err() && "EUR".parse::<Currency>().is_ok());
    }

    #[test]
    fn a_long_category_is_announced_by_its_two_first_levels() {
        let c = Category::from_dotted("home.appliances.washing-machine").unwrap();
        assert_eq!(
            (c.as_str(), c.top(), c.sub()),
            ("home.appliances", "home", "appliances")
        );
        assert!(Category::from_dotted("home").is_err());
    }
}
