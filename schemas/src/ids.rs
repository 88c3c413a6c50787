//! Record identifiers. Ids are chosen by carnetd at random (never SQLite's rowid), carry a prefix
//! that says what they name (`ven_…`, `int_…`), and are 80 random bits in lower-case base32hex,
//! short enough to type from a terminal.

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::{ObjectBuilder, RefOr, Type, schema::Schema as OaSchema};

use crate::values::InvalidValue;

/// Number of random bytes in an id.
pub const ID_RANDOM_BYTES: usize = 10;
/// Length of the random part once encoded (10 bytes → 16 base32 characters).
const ID_RANDOM_CHARS: usize = 16;

/// What an id names: its prefix and the name used in messages and schemas.
pub trait IdKind {
    const PREFIX: &'static str;
    /// How a person calls it in an error message ("vendor").
    const NOUN: &'static str;
    const SCHEMA_NAME: &'static str;
}

/// An id of a record of kind `K`, always well formed.
pub struct Id<K> {
    value: String,
    kind: PhantomData<fn() -> K>,
}

impl<K: IdKind> Id<K> {
    /// Builds an id from fresh random bytes (the caller supplies them from a CSPRNG).
    pub fn from_random(bytes: &[u8; ID_RANDOM_BYTES]) -> Self {
        const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
        let mut bits: u128 = 0;
        for b in bytes {
            bits = (bits << 8) | u128::from(*b);
        }
        let mut value = String::with_capacity(K::PREFIX.len() + 1 + ID_RANDOM_CHARS);
        value.push_str(K::PREFIX);
        value.push('_');
        for i in (0..ID_RANDOM_CHARS).rev() {
            value.push(char::from(ALPHABET[((bits >> (i * 5)) & 31) as usize]));
        }
        Id {
            value,
            kind: PhantomData,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// Whether `s` has the shape of an id of this kind (used to tell ids from names).
    pub fn looks_like(s: &str) -> bool {
        s.parse::<Self>().is_ok()
    }
}

impl<K: IdKind> FromStr for Id<K> {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        let random = s
            .strip_prefix(K::PREFIX)
            .and_then(|rest| rest.strip_prefix('_'));
        match random {
            Some(r)
                if r.len() == ID_RANDOM_CHARS
                    && r.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'v')) =>
            {
                Ok(Id {
                    value: s.to_owned(),
                    kind: PhantomData,
                })
            }
            _ => Err(InvalidValue(format!(
                "{s:?} is not a {} id (they look like \"{}_0123456789abcdef\")",
                K::NOUN,
                K::PREFIX
            ))),
        }
    }
}

impl<K> Clone for Id<K> {
    fn clone(&self) -> Self {
        Id {
            value: self.value.clone(),
            kind: PhantomData,
        }
    }
}

impl<K> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<K> Eq for Id<K> {}

impl<K> PartialOrd for Id<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<K> Ord for Id<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value.cmp(&other.value)
    }
}

impl<K> Hash for Id<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state)
    }
}

impl<K> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.value, f)
    }
}

impl<K> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl<K> Serialize for Id<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.value)
    }
}

impl<'de, K: IdKind> Deserialize<'de> for Id<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn id_pattern(prefix: &str) -> String {
    format!("^{prefix}_[0-9a-v]{{{ID_RANDOM_CHARS}}}$")
}

impl<K: IdKind> JsonSchema for Id<K> {
    fn schema_name() -> Cow<'static, str> {
        K::SCHEMA_NAME.into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": id_pattern(K::PREFIX),
            "description": format!("Id of a {}.", K::NOUN),
        })
    }
}

impl<K: IdKind> utoipa::PartialSchema for Id<K> {
    fn schema() -> RefOr<OaSchema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some(id_pattern(K::PREFIX)))
            .description(Some(format!("Id of a {}.", K::NOUN)))
            .into()
    }
}

impl<K: IdKind> utoipa::ToSchema for Id<K> {
    fn name() -> Cow<'static, str> {
        K::SCHEMA_NAME.into()
    }
}

/// Declares an id kind marker and its `Id` alias.
macro_rules! id_kind {
    ($marker:ident, $alias:ident, $prefix:literal, $noun:literal) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $marker {}
        impl IdKind for $marker {
            const PREFIX: &'static str = $prefix;
            const NOUN: &'static str = $noun;
            const SCHEMA_NAME: &'static str = stringify!($alias);
        }
        pub type $alias = Id<$marker>;
    };
}

id_kind!(VendorKind, VendorId, "ven", "vendor");
id_kind!(InteractionKind, InteractionId, "int", "interaction");
id_kind!(PurchaseKind, PurchaseId, "pur", "purchase");
id_kind!(IncidentKind, IncidentId, "inc", "incident");
id_kind!(PromiseKind, PromiseId, "prm", "promise");
id_kind!(SubscriptionKind, SubscriptionId, "sub", "subscription");
id_kind!(DocumentKind, DocumentId, "doc", "document");
id_kind!(ClientKind, ClientId, "cli", "client");
id_kind!(GrantKind, GrantId, "grt", "grant");
id_kind!(ReceiptKind, ReceiptId, "rcp", "receipt");
id_kind!(IntentKind, IntentId, "itt", "intent");
id_kind!(OfferKind, OfferId, "ofr", "offer");
id_kind!(MarketOfferKind, MarketOfferId, "mof", "market offer");
id_kind!(
    NotifyChannelKind,
    NotifyChannelId,
    "nch",
    "reminder channel"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_check_their_kind() {
        let id = VendorId::from_random(&[0xff; ID_RANDOM_BYTES]);
        assert_eq!(id.as_str(), "ven_vvvvvvvvvvvvvvvv");
        let id = VendorId::from_random(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        let again: VendorId = id.as_str().parse().unwrap();
        assert_eq!(id, again);
        assert!(id.as_str().parse::<InteractionId>().is_err());
        assert!("ven_short".parse::<VendorId>().is_err());
        assert!("ven_0123456789ABCDEF".parse::<VendorId>().is_err());
        assert!(!VendorId::looks_like("Acme Corp"));
    }
}
