//! Announcements: what a vault publishes about one intent on `icast.v1.<cat>.<subcat>.<region>`,
//! signed by a key made for that intent alone.
//!
//! The vault side (`IntentKeys::announce`) builds and signs one; the vendor side
//! (`verify_announcement`) checks one message on its own: envelope, signature by the key it
//! carries, subject and headers against the payload, the window's shape. What needs memory —
//! the first key seen for an `intent_ref`, duplicates, terminal events, a window that ended — is
//! `sdk::intake`'s job. Nothing here ever announces a field the caller did not put in
//! `PublicFields`.
//!
//! Three levels (`Level`): `announce` carries the public fields and the reply address in the
//! clear; `sealed` and `notify` carry them in a box (`SealedBox`) age-encrypted to the granted
//! vendors the vault chose — the whole intent as a vendor sees it (`sealed`), or only where to
//! pull it (`notify`). Anyone else sees the envelope: ref, revision, event, category, region,
//! window, the intent's public key and how many recipients the box has.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{
    Amount, Bucket, Category, Currency, EVENT_HEADER, Event, Host, IntentRef, MAX_PAYLOAD,
    MSG_ID_HEADER, Region, Signed, SignedKind, WireError, announce_subject,
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
    /// Who may read what (`announce` when absent, as part 1 wrote it).
    #[serde(default)]
    pub level: Level,
    /// The fields the owner chose to make public (`--public`); nothing else of the intent.
    /// Always empty at `sealed` and `notify`.
    #[serde(default)]
    pub public: PublicFields,
    /// The intent's own Ed25519 public key (base64url, no padding): it signs every revision and
    /// the answers to offers.
    pub intent_key: String,
    /// Where offers go, and whom they are encrypted to: at `announce` only (at `sealed` and
    /// `notify` it is inside the box).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply: Option<Reply>,
    /// At `sealed` and `notify`, but for a terminal event: the box for the granted vendors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<SealedBox>,
}

/// How much of an intent an announcement shows, and to whom (the owner's `--relay`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Public fields in the clear, for every subscriber of the category.
    #[default]
    Announce,
    /// The intent as a vendor sees it, encrypted to the vendors whose grant covers it.
    Sealed,
    /// Only where to pull the intent, encrypted to the same vendors.
    Notify,
}

/// The encrypted part of a `sealed` or `notify` announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedBox {
    /// How many vendors it is encrypted to (age's header shows as much).
    pub recipients: u32,
    /// The `BoxContent`'s JSON, age-encrypted (binary) to each recipient's X25519 key,
    /// base64url without padding.
    pub ciphertext: String,
}

/// What a box holds, for its recipients alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BoxContent {
    /// Where offers go, and whom they are encrypted to.
    pub reply: Reply,
    /// `sealed`: the intent as the vault's vendor API shows it to a granted vendor (the fields
    /// its terms withhold left out; without the per-vendor `customer_ref`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<serde_json::Value>,
    /// `notify`: where to pull it with the vendor's OAuth token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<Pointer>,
}

/// Where a `notify` intent is read: the vault's vendor API (checked, and logged, at read time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pointer {
    pub intent_ref: IntentRef,
    /// The vault's address as its vendors know it (its OAuth issuer).
    pub vendor_api: String,
    /// The intent itself: `<vendor_api>/v1/vendor/intents/<id>`.
    pub intent_url: String,
}

/// What an announcement carries besides its envelope, by level.
#[derive(Debug, Clone)]
pub enum Body {
    /// `announce`: the fields named public (empty for a terminal event).
    Public(PublicFields),
    /// `sealed`: the intent as a granted vendor sees it, for `recipients`.
    Sealed {
        intent: serde_json::Value,
        recipients: Vec<Recipient>,
    },
    /// `notify`: where to pull it, for `recipients`.
    Notify {
        vendor_api: String,
        intent_url: String,
        recipients: Vec<Recipient>,
    },
    /// A terminal event of an intent at `sealed` or `notify`: the envelope alone.
    Ended(Level),
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

    /// Builds and signs revision `revision` of this intent's announcement; `body` says what
    /// it carries. Refused (`WireError::Refused`) when a box would have no recipient or would
    /// not fit in a message.
    #[allow(clippy::too_many_arguments)]
    pub fn announce(
        &self,
        revision: u64,
        event: Event,
        category: Category,
        region: Region,
        window: Window,
        body: Body,
        now: DateTime<Utc>,
    ) -> Result<Publication, WireError> {
        let reply = Reply {
            bucket: self.bucket.clone(),
            recipient: self.identity.recipient().to_string(),
        };
        let sealed = |content: BoxContent, recipients: &[Recipient]| {
            // A `BoxContent` (strings and a JSON value) always serialises.
            let plain = serde_json::to_vec(&content).expect("box JSON");
            let ciphertext = Recipient::encrypt_to_all(recipients, &plain)
                .ok_or_else(|| WireError::Refused("a box needs at least one recipient".into()))?;
            Ok::<_, WireError>(Some(SealedBox {
                recipients: u32::try_from(recipients.len()).unwrap_or(u32::MAX),
                ciphertext: b64(&ciphertext),
            }))
        };
        let (level, public, reply, sealed) = match body {
            Body::Public(public) => (Level::Announce, public, Some(reply), None),
            Body::Sealed { intent, recipients } => {
                let content = BoxContent {
                    reply,
                    intent: Some(intent),
                    pointer: None,
                };
                let sealed = sealed(content, &recipients)?;
                (Level::Sealed, PublicFields::default(), None, sealed)
            }
            Body::Notify {
                vendor_api,
                intent_url,
                recipients,
            } => {
                let pointer = Pointer {
                    intent_ref: self.intent_ref.clone(),
                    vendor_api,
                    intent_url,
                };
                let content = BoxContent {
                    reply,
                    intent: None,
                    pointer: Some(pointer),
                };
                let sealed = sealed(content, &recipients)?;
                (Level::Notify, PublicFields::default(), None, sealed)
            }
            Body::Ended(Level::Announce) => {
                (Level::Announce, PublicFields::default(), Some(reply), None)
            }
            Body::Ended(level) => (level, PublicFields::default(), None, None),
        };
        let announcement = Announcement {
            intent_ref: self.intent_ref.clone(),
            revision,
            event,
            category,
            region,
            window,
            published_at: now,
            level,
            public,
            intent_key: self.signing.verifying_key().to_string(),
            reply,
            sealed,
        };
        let publication = publication(&announcement, &self.signing);
        if publication.body.len() > MAX_PAYLOAD {
            return Err(WireError::TooLarge);
        }
        Ok(publication)
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
    /// Where offers go and the intent's X25519 key they are encrypted to: from the clear
    /// `reply` at `announce`, from the box once `open`ed at `sealed`/`notify`; `None` before
    /// that, and for the terminal event of a sealed or notify intent.
    pub reply: Option<(Bucket, Recipient)>,
    /// The box's content, once `open`ed.
    pub opened: Option<BoxContent>,
}

impl Verified {
    /// Opens the box of a `sealed` or `notify` announcement with a vendor's X25519 key (a
    /// message without a box is left as it is). `WireError::Undecryptable` when the key is not
    /// one of its recipients: the vault did not grant this vendor the intent.
    pub fn open(&mut self, identity: &Identity) -> Result<(), WireError> {
        let Some(sealed) = &self.announcement.sealed else {
            return Ok(());
        };
        let ciphertext = unb64(&sealed.ciphertext).ok_or(WireError::BadPayload("sealed box"))?;
        let plain = identity
            .decrypt(&ciphertext)
            .ok_or(WireError::Undecryptable)?;
        let content: BoxContent =
            serde_json::from_slice(&plain).map_err(|_| WireError::BadPayload("sealed box"))?;
        let level = self.announcement.level;
        if (level == Level::Sealed) != content.intent.is_some()
            || (level == Level::Notify) != content.pointer.is_some()
            || content
                .pointer
                .as_ref()
                .is_some_and(|p| p.intent_ref != self.announcement.intent_ref)
        {
            return Err(WireError::BadPayload(
                "sealed box (its content is not its level's)",
            ));
        }
        self.reply = Some(reply_of(&content.reply)?);
        self.opened = Some(content);
        Ok(())
    }
}

fn reply_of(reply: &Reply) -> Result<(Bucket, Recipient), WireError> {
    let recipient = reply
        .recipient
        .parse()
        .map_err(|_| WireError::BadPayload("announcement (reply.recipient)"))?;
    Ok((reply.bucket.clone(), recipient))
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
    let reply = announcement.reply.as_ref().map(reply_of).transpose()?;
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
        reply,
        opened: None,
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
    let ended = a.event.is_terminal();
    match a.level {
        Level::Announce if a.reply.is_none() || a.sealed.is_some() => {
            refuse("an announce-level message has a clear reply and no box")
        }
        Level::Sealed | Level::Notify
            if a.public != PublicFields::default() || a.reply.is_some() =>
        {
            refuse("a sealed or notify message shows no public field and no reply")
        }
        Level::Sealed | Level::Notify if a.sealed.is_some() == ended => {
            refuse("a sealed or notify message has a box, but for its terminal event")
        }
        _ if a.sealed.as_ref().is_some_and(|b| b.recipients == 0) => {
            refuse("a box with no recipient")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
#[path = "announcement_tests.rs"]
mod tests;
