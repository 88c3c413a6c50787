//! The vault's answer to an offer (accepted or declined), on `answer.v1.<vendor_id>`: encrypted to
//! the vendor's directory X25519 key, signed by the intent's own Ed25519 key (the key that signed
//! its announcements, so the vendor knows the answer comes from the vault that announced).
//!
//! The relay sees that an intent answered a vendor, never whether it accepted.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::announcement::{IntentKeys, Publication};
use super::{
    IntentRef, MSG_ID_HEADER, OfferId, Signed, SignedKind, VendorId, WireError, answer_subject,
};
use crate::keys::{Identity, Recipient, VerifyingKey, b64, unb64};

/// The vault's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Accepted,
    Declined,
}

/// The answer itself (the plaintext inside `SealedAnswer.ciphertext`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Answer {
    pub intent_ref: IntentRef,
    pub vendor_id: VendorId,
    pub offer_id: OfferId,
    pub decision: Decision,
    pub answered_at: DateTime<Utc>,
}

/// The published answer (the payload of an envelope of kind `answer`, signed by the intent key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedAnswer {
    pub intent_ref: IntentRef,
    pub vendor_id: VendorId,
    /// The `Answer`'s JSON, age-encrypted (binary) to the vendor's directory X25519 key,
    /// base64url without padding.
    pub ciphertext: String,
}

impl IntentKeys {
    /// Builds the vault's answer to `offer_id` from `vendor`, encrypted to `vendor_recipient`
    /// (its directory X25519 key) and signed by this intent's key.
    pub fn answer(
        &self,
        vendor: &VendorId,
        vendor_recipient: &Recipient,
        offer_id: &OfferId,
        decision: Decision,
        now: DateTime<Utc>,
    ) -> Publication {
        let answer = Answer {
            intent_ref: self.intent_ref.clone(),
            vendor_id: vendor.clone(),
            offer_id: offer_id.clone(),
            decision,
            answered_at: now,
        };
        // A struct of strings always serialises.
        let plain = serde_json::to_vec(&answer).expect("answer JSON");
        let sealed = SealedAnswer {
            intent_ref: self.intent_ref.clone(),
            vendor_id: vendor.clone(),
            ciphertext: b64(&vendor_recipient.encrypt(&plain)),
        };
        let body = Signed::seal(SignedKind::Answer, &sealed, &self.signing).to_bytes();
        // The offer id is readable on the relay: an id made of it alone would let anyone publish
        // first under it and have JetStream drop the real answer as a duplicate. Bound to the
        // body, a retry of these bytes keeps its id and anything else gets another.
        let digest = ring::digest::digest(&ring::digest::SHA256, &body);
        Publication {
            subject: answer_subject(vendor),
            headers: vec![(
                MSG_ID_HEADER,
                format!("answer:{offer_id}:{}", &b64(digest.as_ref())[..22]),
            )],
            body,
        }
    }
}

/// The vendor's side: checks an answer on its own subject, signed by the key of an intent it
/// recorded (`intent_key` looks it up), and decrypts it with its directory X25519 key.
pub fn open_answer(
    subject: &str,
    body: &[u8],
    me: &VendorId,
    identity: &Identity,
    intent_key: impl FnOnce(&IntentRef) -> Option<VerifyingKey>,
) -> Result<Answer, WireError> {
    if subject != answer_subject(me) {
        return Err(WireError::SubjectMismatch);
    }
    let signed = Signed::from_bytes(body)?;
    let (payload, _) = signed.decode()?;
    let claimed: SealedAnswer =
        serde_json::from_slice(&payload).map_err(|_| WireError::BadPayload("sealed answer"))?;
    let key = intent_key(&claimed.intent_ref)
        .ok_or_else(|| WireError::UnknownSender(claimed.intent_ref.to_string()))?;
    signed.verified(SignedKind::Answer, &key)?;
    let ciphertext = unb64(&claimed.ciphertext).ok_or(WireError::BadPayload("sealed answer"))?;
    let plain = identity
        .decrypt(&ciphertext)
        .ok_or(WireError::Undecryptable)?;
    let answer: Answer =
        serde_json::from_slice(&plain).map_err(|_| WireError::BadPayload("answer"))?;
    if answer.intent_ref != claimed.intent_ref
        || answer.vendor_id != *me
        || claimed.vendor_id != *me
    {
        return Err(WireError::Refused(
            "the answer names another intent or vendor".into(),
        ));
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::VendorKeys;

    #[test]
    fn only_the_intent_key_answers_and_only_the_vendor_reads_it() {
        let intent = IntentKeys::generate();
        let vendor = VendorKeys::generate();
        let me: VendorId = "acme".parse().unwrap();
        let offer = OfferId::generate();
        let p = intent.answer(
            &me,
            &vendor.identity.recipient(),
            &offer,
            Decision::Accepted,
            Utc::now(),
        );
        let key = intent.signing.verifying_key();
        let got = open_answer(&p.subject, &p.body, &me, &vendor.identity, |_| Some(key)).unwrap();
        assert_eq!((got.decision, got.offer_id), (Decision::Accepted, offer));
        let forger = IntentKeys::generate().signing.verifying_key();
        assert!(matches!(
            open_answer(&p.subject, &p.body, &me, &vendor.identity, |_| Some(forger)),
            Err(WireError::BadSignature)
        ));
        let other = VendorKeys::generate();
        assert!(matches!(
            open_answer(&p.subject, &p.body, &me, &other.identity, |_| Some(key)),
            Err(WireError::Undecryptable)
        ));
    }
}
