//! Offers through the relay: a vendor's terms, signed with its directory Ed25519 key, encrypted
//! to the intent's X25519 key, and the ciphertext signed again, published on `offer.v1.<bucket>`.
//!
//! Two signatures, on purpose: the outer one (kind `sealed-offer`) lets the vault refuse a forged
//! or altered message *before* it decrypts anything; the inner one (kind `offer`) covers
//! `intent_ref`, revision, vendor id, offer id, price, currency and `valid_through` in clear, so
//! the vault can keep the vendor's signed terms as proof. The relay and other vendors see who
//! offered to which bucket, never the terms. Whether the intent is still active, `max_offers`,
//! the currency and the per-vendor rate are the vault's checks, after `open_offer`.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::announcement::{IntentKeys, Publication};
use super::{
    Amount, Bucket, Currency, IntentRef, MSG_ID_HEADER, OfferId, Signed, SignedKind, VendorId,
    WireError, offer_subject,
};
use crate::keys::{Recipient, SigningKey, VerifyingKey, b64, unb64};

/// Longest offer description, in characters.
pub const MAX_OFFER_DESCRIPTION: usize = 2000;

/// An offer's terms (the payload of the inner envelope, of kind `offer`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferTerms {
    /// The intent offered to.
    pub intent_ref: IntentRef,
    /// The revision of the announcement the vendor answered.
    pub revision: u64,
    /// The vendor, by its directory id.
    pub vendor_id: VendorId,
    /// The vendor's id for this offer; the vault drops a second offer with the same id.
    pub offer_id: OfferId,
    /// schema.org `price`, a decimal string.
    pub price: Amount,
    /// ISO 4217.
    pub currency: Currency,
    /// Until when the offer holds.
    pub valid_through: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// When the vendor made it.
    pub made_at: DateTime<Utc>,
}

/// The published offer (the payload of the outer envelope, of kind `sealed-offer`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedOffer {
    pub intent_ref: IntentRef,
    pub revision: u64,
    pub vendor_id: VendorId,
    pub offer_id: OfferId,
    /// The inner envelope's JSON (a `Signed` of kind `offer`), age-encrypted (binary format) to
    /// the intent's `reply.recipient`, base64url without padding.
    pub ciphertext: String,
}

/// What a vendor needs of an intent to offer to it, all from its verified announcement.
#[derive(Debug, Clone)]
pub struct OfferTarget {
    pub intent_ref: IntentRef,
    pub revision: u64,
    pub bucket: Bucket,
    pub recipient: Recipient,
}

/// Signs `terms` with the vendor's directory key, encrypts them to `target`'s key, signs the
/// result, and builds the message for `offer.v1.<bucket>` (`Nats-Msg-Id: <vendor_id>:<offer_id>`).
pub fn make_offer(target: &OfferTarget, terms: &OfferTerms, key: &SigningKey) -> Publication {
    let inner = Signed::seal(SignedKind::Offer, terms, key);
    let sealed = SealedOffer {
        intent_ref: terms.intent_ref.clone(),
        revision: terms.revision,
        vendor_id: terms.vendor_id.clone(),
        offer_id: terms.offer_id.clone(),
        ciphertext: b64(&target.recipient.encrypt(&inner.to_bytes())),
    };
    let outer = Signed::seal(SignedKind::SealedOffer, &sealed, key);
    Publication {
        subject: offer_subject(&target.bucket),
        headers: vec![(MSG_ID_HEADER, offer_msg_id(&sealed))],
        body: outer.to_bytes(),
    }
}

fn offer_msg_id(sealed: &SealedOffer) -> String {
    format!("{}:{}", sealed.vendor_id, sealed.offer_id)
}

/// An offer whose both signatures verified, decrypted.
#[derive(Debug, Clone)]
pub struct VerifiedOffer {
    pub terms: OfferTerms,
    /// The vendor's signed terms, as received (proof the vault may keep).
    pub signed_terms: Signed,
}

/// The vault's side: checks an offer message for the intent `keys` and opens it. `vendor_key`
/// gives a directory vendor's Ed25519 key. The outer signature is verified before anything is
/// decrypted; then the inner one, and that both say the same intent, revision, vendor and offer.
pub fn open_offer(
    subject: &str,
    header: impl Fn(&str) -> Option<String>,
    body: &[u8],
    keys: &IntentKeys,
    vendor_key: impl FnOnce(&VendorId) -> Option<VerifyingKey>,
) -> Result<VerifiedOffer, WireError> {
    let outer = Signed::from_bytes(body)?;
    let (payload, _) = outer.decode()?;
    let claimed: SealedOffer =
        serde_json::from_slice(&payload).map_err(|_| WireError::BadPayload("sealed offer"))?;
    let key = vendor_key(&claimed.vendor_id)
        .ok_or_else(|| WireError::UnknownSender(claimed.vendor_id.to_string()))?;
    outer.verified(SignedKind::SealedOffer, &key)?;
    let sealed = claimed;
    if subject != offer_subject(&keys.bucket) || sealed.intent_ref != keys.intent_ref {
        return Err(WireError::SubjectMismatch);
    }
    if header(MSG_ID_HEADER).is_some_and(|id| id != offer_msg_id(&sealed)) {
        return Err(WireError::HeaderMismatch(MSG_ID_HEADER));
    }
    let ciphertext = unb64(&sealed.ciphertext).ok_or(WireError::BadPayload("sealed offer"))?;
    let plain = keys
        .identity
        .decrypt(&ciphertext)
        .ok_or(WireError::Undecryptable)?;
    let inner = Signed::from_bytes(&plain)?;
    let terms: OfferTerms = serde_json::from_slice(&inner.verified(SignedKind::Offer, &key)?)
        .map_err(|_| WireError::BadPayload("offer"))?;
    let same = terms.intent_ref == sealed.intent_ref
        && terms.revision == sealed.revision
        && terms.vendor_id == sealed.vendor_id
        && terms.offer_id == sealed.offer_id;
    if !same {
        return Err(WireError::Refused(
            "the offer's terms name another intent, revision, vendor or offer than its envelope"
                .into(),
        ));
    }
    if terms
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_OFFER_DESCRIPTION)
    {
        return Err(WireError::Refused(
            "the offer's description is too long".into(),
        ));
    }
    Ok(VerifiedOffer {
        terms,
        signed_terms: inner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::VendorKeys;

    fn setup() -> (IntentKeys, VendorKeys, OfferTerms, Publication) {
        let intent = IntentKeys::generate();
        let vendor = VendorKeys::generate();
        let target = OfferTarget {
            intent_ref: intent.intent_ref.clone(),
            revision: 1,
            bucket: intent.bucket.clone(),
            recipient: intent.identity.recipient(),
        };
        let terms = OfferTerms {
            intent_ref: intent.intent_ref.clone(),
            revision: 1,
            vendor_id: "acme".parse().unwrap(),
            offer_id: OfferId::generate(),
            price: "649.00".parse().unwrap(),
            currency: "EUR".parse().unwrap(),
            valid_through: Utc::now(),
            description: Some("delivered Tuesday".into()),
            made_at: Utc::now(),
        };
        let p = make_offer(&target, &terms, &vendor.signing);
        (intent, vendor, terms, p)
    }

    #[test]
    fn the_vault_opens_an_offer_from_a_directory_vendor() {
        let (intent, vendor, terms, p) = setup();
        let key = vendor.signing.verifying_key();
        let got = open_offer(&p.subject, |_| None, &p.body, &intent, |_| Some(key)).unwrap();
        assert_eq!(got.terms, terms);
    }

    #[test]
    fn an_offer_signed_by_another_key_is_refused_before_decryption() {
        let (intent, _vendor, _terms, p) = setup();
        let other = SigningKey::generate().verifying_key();
        assert!(matches!(
            open_offer(&p.subject, |_| None, &p.body, &intent, |_| Some(other)),
            Err(WireError::BadSignature)
        ));
        assert!(matches!(
            open_offer(&p.subject, |_| None, &p.body, &intent, |_| None),
            Err(WireError::UnknownSender(_))
        ));
    }

    #[test]
    fn an_offer_for_another_intent_cannot_be_opened() {
        let (_intent, vendor, _terms, p) = setup();
        let key = vendor.signing.verifying_key();
        let other = IntentKeys::generate();
        let subject = offer_subject(&other.bucket);
        assert!(matches!(
            open_offer(&subject, |_| None, &p.body, &other, |_| Some(key)),
            Err(WireError::SubjectMismatch)
        ));
    }
}
