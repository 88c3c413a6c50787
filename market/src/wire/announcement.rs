//! Announcements: what a vault publishes about one intent on `icast.v1.<cat>.<subcat>.<region>`,
//! signed by a key made for that intent alone.
//!
//! The vault side (`IntentKeys::announce`) builds and signs one; the vendor side
//! (`verify_announcement`) checks one message on its own: envelope, signature by the key it
//! carries, subject and headers against the payload, the window's shape. What needs memory —
//! the first key seen for an `intent_ref`, duplicates, terminal events, a window that ended — is
//! `sdk::intake`'s job. Nothing here ever announces a field the caller did not put in
//! `PublicFields`.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{
    Amount, Bucket, Category, Currency, EVENT_HEADER, Event, Host, IntentRef, MSG_ID_HEADER,
    Region, Signed, SignedKind, WireError, announce_subject,
};
use crate::keys::{Identity, Recipient, SigningKey, VerifyingKey, b64, unb64};

/// Longest `title` announced, in characters.
pub const MAX_TITLE: usize = 200;
/// Longest `description` announced, in characters.
pub const MAX_DESCRIPTION: usize = 2000;

/// The payload of an announcement (inside a `Signed` envelope of kind `announcement`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Announcement {
    /// The intent's random name on the relay; the same in every revision.
    pub intent_ref: IntentRef,
    /// 1 for the first announcement, one more for each later event of the intent.
    pub revision: u64,
    /// What happened: `intent.activated`, `intent.updated`, or a terminal `intent.withdrawn`,
    /// `intent.fulfilled`, `intent.expired`.
    pub event: Event,
    /// The two first levels of the intent's category.
    pub category: Category,
    /// The coarse region the vault announces in (its `relay_region`).
    pub region: Region,
    /// When the intent holds.
    pub window: Window,
    /// When the vault built this revision.
    pub published_at: DateTime<Utc>,
    /// The fields the owner chose to make public (`--public`); nothing else of the intent.
    #[serde(default)]
    pub public: PublicFields,
    /// The intent's own Ed25519 public key (base64url, no padding): it signs every revision and
    /// the answers to offers.
    pub intent_key: String,
    /// Where offers go, and whom they are encrypted to.
    pub reply: Reply,
}

/// When an intent holds (schema.org `validFrom` / `validThrough`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub valid_from: DateTime<Utc>,
    pub valid_through: DateTime<Utc>,
}

/// Where to send offers to an intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// Offers go on `offer.v1.<bucket>`.
    pub bucket: Bucket,
    /// The intent's X25519 key, as an age recipient (`age1…`): offers are encrypted to it.
    pub recipient: String,
}

/// The intent's fields an owner may make public, each only when named with `--public`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PublicFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The price range the owner has in mind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_band: Option<PriceBand>,
    /// How many items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// schema.org `itemCondition` (e.g. `new`, `used`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_condition: Option<String>,
    /// schema.org `availableDeliveryMethod` values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delivery_methods: Vec<String>,
}

/// A price range: either bound may be left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceBand {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Amount>,
    pub currency: Currency,
}

/// One message ready to publish: subject, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publication {
    pub subject: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

/// The vault's keys for one intent on the relay: its ref, its offers' bucket, the Ed25519 key
/// that signs its announcements and answers, and the X25519 key offers are encrypted to.
#[derive(Debug)]
pub struct IntentKeys {
    pub intent_ref: IntentRef,
    pub bucket: Bucket,
    pub signing: SigningKey,
    pub identity: Identity,
}

/// `IntentKeys` as text, for the vault to seal (`IntentKeys::export` / `import`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IntentSecret {
    intent_ref: IntentRef,
    bucket: Bucket,
    ed25519_pkcs8: String,
    x25519: String,
}

impl IntentKeys {
    /// Fresh keys, ref and bucket for a new intent: nothing in them is derived from anything else.
    pub fn generate() -> Self {
        IntentKeys {
            intent_ref: IntentRef::generate(),
            bucket: Bucket::generate(),
            signing: SigningKey::generate(),
            identity: Identity::generate(),
        }
    }

    /// `generate`, with the bucket under vault host `host` (`Bucket::generate_for`).
    pub fn generate_for(host: &Host) -> Self {
        IntentKeys {
            bucket: Bucket::generate_for(host),
            ..IntentKeys::generate()
        }
    }

    /// The keys as JSON text (secret: seal it before it is stored).
    pub fn export(&self) -> Zeroizing<String> {
        let secret = IntentSecret {
            intent_ref: self.intent_ref.clone(),
            bucket: self.bucket.clone(),
            ed25519_pkcs8: b64(self.signing.pkcs8()),
            x25519: self.identity.secret_text().to_string(),
        };
        // A struct of strings always serialises.
        Zeroizing::new(serde_json::to_string(&secret).expect("intent keys JSON"))
    }

    /// The keys from `export`'s text.
    pub fn import(text: &str) -> Option<Self> {
        let secret: IntentSecret = serde_json::from_str(text).ok()?;
        let der = Zeroizing::new(unb64(&secret.ed25519_pkcs8)?);
        Some(IntentKeys {
            intent_ref: secret.intent_ref,
            bucket: secret.bucket,
            signing: SigningKey::from_pkcs8(&der)?,
            identity: Identity::from_secret_text(&secret.x25519)?,
        })
    }

    /// Builds and signs revision `revision` of this intent's announcement.
    #[allow(clippy::too_many_arguments)]
    pub fn announce(
        &self,
        revision: u64,
        event: Event,
        category: Category,
        region: Region,
        window: Window,
        public: PublicFields,
        now: DateTime<Utc>,
    ) -> Publication {
        let announcement = Announcement {
            intent_ref: self.intent_ref.clone(),
            revision,
            event,
            category,
            region,
            window,
            published_at: now,
            public,
            intent_key: self.signing.verifying_key().to_string(),
            reply: Reply {
                bucket: self.bucket.clone(),
                recipient: self.identity.recipient().to_string(),
            },
        };
        publication(&announcement, &self.signing)
    }
}

/// Signs `announcement` with `key` and builds its message. `IntentKeys::announce` is the way the
/// vault does it; this lower step lets a test forge or alter what a vault never would.
pub fn publication(announcement: &Announcement, key: &SigningKey) -> Publication {
    let signed = Signed::seal(SignedKind::Announcement, announcement, key);
    Publication {
        subject: announce_subject(&announcement.category, &announcement.region),
        headers: vec![
            (MSG_ID_HEADER, msg_id(announcement)),
            (EVENT_HEADER, announcement.event.as_str().to_owned()),
        ],
        body: signed.to_bytes(),
    }
}

/// The `Nats-Msg-Id` of an announcement: `<intent_ref>:<revision>`.
pub fn msg_id(announcement: &Announcement) -> String {
    format!("{}:{}", announcement.intent_ref, announcement.revision)
}

/// An announcement whose signature, subject, headers and shape were checked.
#[derive(Debug, Clone)]
pub struct Verified {
    pub announcement: Announcement,
    /// The intent's key, which signed it.
    pub intent_key: VerifyingKey,
    /// The intent's X25519 key, for offers.
    pub recipient: Recipient,
}

/// Checks one announcement message on its own. `header` returns a header's value, if present:
/// `Nats-Msg-Id` and `Carnet-Event` may be absent (they only help JetStream and routing), but
/// when present they must match the payload.
pub fn verify_announcement(
    subject: &str,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
) -> Result<Verified, WireError> {
    let signed = Signed::from_bytes(body)?;
    let (payload, _) = signed.decode()?;
    let announcement: Announcement =
        serde_json::from_slice(&payload).map_err(|_| WireError::BadPayload("announcement"))?;
    let intent_key: VerifyingKey = announcement
        .intent_key
        .parse()
        .map_err(|_| WireError::BadPayload("announcement (intent_key)"))?;
    signed.verified(SignedKind::Announcement, &intent_key)?;
    let recipient: Recipient = announcement
        .reply
        .recipient
        .parse()
        .map_err(|_| WireError::BadPayload("announcement (reply.recipient)"))?;
    if subject != announce_subject(&announcement.category, &announcement.region) {
        return Err(WireError::SubjectMismatch);
    }
    if header(MSG_ID_HEADER).is_some_and(|id| id != msg_id(&announcement)) {
        return Err(WireError::HeaderMismatch(MSG_ID_HEADER));
    }
    if header(EVENT_HEADER).is_some_and(|e| e != announcement.event.as_str()) {
        return Err(WireError::HeaderMismatch(EVENT_HEADER));
    }
    check_shape(&announcement)?;
    Ok(Verified {
        announcement,
        intent_key,
        recipient,
    })
}

fn check_shape(a: &Announcement) -> Result<(), WireError> {
    let refuse = |why: &str| Err(WireError::Refused(why.to_owned()));
    if a.revision == 0 {
        return refuse("revision 0 (revisions start at 1)");
    }
    if a.window.valid_through < a.window.valid_from {
        return refuse("the window ends before it starts");
    }
    let too_long =
        |t: &Option<String>, max: usize| t.as_ref().is_some_and(|t| t.chars().count() > max);
    if too_long(&a.public.title, MAX_TITLE) || too_long(&a.public.description, MAX_DESCRIPTION) {
        return refuse("a public text field is too long");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(keys: &IntentKeys, revision: u64, event: Event) -> Publication {
        let now = Utc::now();
        keys.announce(
            revision,
            event,
            "home.appliances".parse().unwrap(),
            "FR-75".parse().unwrap(),
            Window {
                valid_from: now,
                valid_through: now + chrono::Duration::days(7),
            },
            PublicFields {
                title: Some("washing machine".into()),
                ..PublicFields::default()
            },
            now,
        )
    }

    fn headers(p: &Publication) -> impl Fn(&str) -> Option<String> + '_ {
        |name| {
            p.headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn an_announcement_verifies_as_published_and_not_once_altered() {
        let keys = IntentKeys::generate();
        let p = sample(&keys, 1, Event::Activated);
        assert_eq!(p.subject, "icast.v1.home.appliances.FR-75");
        let v = verify_announcement(&p.subject, headers(&p), &p.body).unwrap();
        assert_eq!(v.intent_key, keys.signing.verifying_key());
        assert_eq!(
            v.announcement.public.title.as_deref(),
            Some("washing machine")
        );
        // Moved to another category's subject, or with another event in its header.
        assert!(matches!(
            verify_announcement("icast.v1.home.garden.FR-75", headers(&p), &p.body),
            Err(WireError::SubjectMismatch)
        ));
        let lying = |name: &str| (name == EVENT_HEADER).then(|| "intent.withdrawn".to_owned());
        assert!(matches!(
            verify_announcement(&p.subject, lying, &p.body),
            Err(WireError::HeaderMismatch(_))
        ));
    }

    #[test]
    fn a_payload_changed_after_signing_is_refused() {
        let keys = IntentKeys::generate();
        let p = sample(&keys, 1, Event::Activated);
        let mut signed = Signed::from_bytes(&p.body).unwrap();
        let (payload, _) = signed.decode().unwrap();
        let text = String::from_utf8(payload).unwrap();
        signed.payload = b64(text
            .replace("washing machine", "cheap machine!!")
            .as_bytes());
        assert!(matches!(
            verify_announcement(&p.subject, |_| None, &signed.to_bytes()),
            Err(WireError::BadSignature)
        ));
    }

    #[test]
    fn exported_keys_come_back_whole() {
        let keys = IntentKeys::generate();
        let back = IntentKeys::import(&keys.export()).unwrap();
        assert_eq!(back.intent_ref, keys.intent_ref);
        assert_eq!(back.signing.verifying_key(), keys.signing.verifying_key());
        assert_eq!(back.identity.recipient(), keys.identity.recipient());
    }
}
