//! The relay's wire format, meant to be implemented from `schemas/relay/README.md` alone, in any
//! language: the subjects, the headers, the signed envelope every payload travels in, and the
//! payloads themselves (`announcement`, `offer`, `answer`).
//!
//! One signing rule for everything: an Ed25519 signature of the bytes
//! `carnet-relay/1 <kind>\n<payload>`, where `<payload>` is the exact JSON bytes carried
//! base64url-encoded in the envelope. Nothing is ever re-serialised before it is verified, so no
//! canonical JSON is needed. A subject never carries a vault id or an intent id.

pub mod announcement;
pub mod answer;
pub mod offer;
pub mod values;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::keys::{SigningKey, VerifyingKey, b64, unb64};
pub use values::{
    Amount, BadValue, Bucket, Category, Currency, Event, Host, IntentRef, OfferId, Region, VendorId,
};

/// The subjects' common prefix for announcements: `icast.v1.<cat>.<subcat>.<region>`.
pub const ANNOUNCE_PREFIX: &str = "icast.v1";
/// The prefix of offers: `offer.v1.<bucket>`.
pub const OFFER_PREFIX: &str = "offer.v1";
/// The prefix of the answers to offers: `answer.v1.<vendor_id>`.
pub const ANSWER_PREFIX: &str = "answer.v1";
/// JetStream's de-duplication header.
pub const MSG_ID_HEADER: &str = "Nats-Msg-Id";
/// The intent event an announcement carries (`intent.activated`, …).
pub const EVENT_HEADER: &str = "Carnet-Event";
/// The largest payload a receiver reads; anything longer is refused unread.
pub const MAX_PAYLOAD: usize = 64 * 1024;

/// The subject an announcement of `category` in `region` goes on.
pub fn announce_subject(category: &Category, region: &Region) -> String {
    format!("{ANNOUNCE_PREFIX}.{category}.{region}")
}

/// The subject offers to the intent whose bucket is `bucket` go on.
pub fn offer_subject(bucket: &Bucket) -> String {
    format!("{OFFER_PREFIX}.{bucket}")
}

/// The subject answers to `vendor`'s offers go on.
pub fn answer_subject(vendor: &VendorId) -> String {
    format!("{ANSWER_PREFIX}.{vendor}")
}

/// What a vendor listens to: a first-level category (`home`) or a two-level one
/// (`home.appliances`), in one region or all of them.
pub fn listen_subject(category: &str, region: Option<&Region>) -> Result<String, BadValue> {
    let two = match category.split_once('.') {
        Some(_) => category.parse::<Category>()?.to_string(),
        None => format!("{category}.x")
            .parse::<Category>()
            .map(|c| format!("{}.*", c.top()))?,
    };
    let region = region.map_or("*", Region::as_str);
    Ok(format!("{ANNOUNCE_PREFIX}.{two}.{region}"))
}

/// What a payload is; it is part of the signed bytes, so a signature made for one kind never
/// verifies as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedKind {
    /// An intent's announcement, signed by the intent's own key.
    Announcement,
    /// An offer's terms, signed by the vendor's directory key (inside the encryption).
    Offer,
    /// The encrypted offer as published, signed by the vendor's directory key.
    SealedOffer,
    /// The vault's answer to an offer, signed by the intent's key.
    Answer,
    /// The market directory, signed by the operator's key.
    Directory,
}

impl SignedKind {
    /// The word in the signed bytes.
    pub fn as_str(self) -> &'static str {
        match self {
            SignedKind::Announcement => "announcement",
            SignedKind::Offer => "offer",
            SignedKind::SealedOffer => "sealed-offer",
            SignedKind::Answer => "answer",
            SignedKind::Directory => "directory",
        }
    }

    /// The exact bytes signed: `carnet-relay/1 <kind>\n` followed by the payload.
    pub fn signing_input(self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(payload.len() + 32);
        out.extend_from_slice(b"carnet-relay/1 ");
        out.extend_from_slice(self.as_str().as_bytes());
        out.push(b'\n');
        out.extend_from_slice(payload);
        out
    }
}

/// Why a message was refused. Receivers drop it; none of these is ever fatal to a listener.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("the message is not a signed relay envelope")]
    NotEnvelope,
    #[error("the message is larger than {MAX_PAYLOAD} bytes")]
    TooLarge,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the payload is not a valid {0}")]
    BadPayload(&'static str),
    #[error("{0}")]
    BadValue(#[from] BadValue),
    #[error("the headers do not match the payload ({0})")]
    HeaderMismatch(&'static str),
    #[error("the subject does not match the payload")]
    SubjectMismatch,
    #[error("the payload cannot be decrypted with this key")]
    Undecryptable,
    #[error("the sender is not in the directory: {0}")]
    UnknownSender(String),
    #[error("{0}")]
    Refused(String),
}

/// The envelope every payload travels in: the payload's exact JSON bytes, base64url-encoded, and
/// the Ed25519 signature of `carnet-relay/1 <kind>\n<payload bytes>`, base64url-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    /// The payload's JSON bytes, base64url without padding.
    pub payload: String,
    /// The Ed25519 signature (64 bytes), base64url without padding.
    pub signature: String,
}

impl Signed {
    /// Serialises `value`, and signs those exact bytes as `kind` with `key`.
    pub fn seal<T: Serialize>(kind: SignedKind, value: &T, key: &SigningKey) -> Signed {
        // Serialising the wire's own structs (strings, numbers, maps of strings) cannot fail.
        let bytes = serde_json::to_vec(value).expect("wire payload JSON");
        Signed {
            signature: b64(&key.sign(&kind.signing_input(&bytes))),
            payload: b64(&bytes),
        }
    }

    /// The envelope's JSON bytes, as published.
    pub fn to_bytes(&self) -> Vec<u8> {
        // A struct of two strings always serialises.
        serde_json::to_vec(self).expect("envelope JSON")
    }

    /// Reads an envelope from a message body (at most `MAX_PAYLOAD` bytes).
    pub fn from_bytes(body: &[u8]) -> Result<Signed, WireError> {
        if body.len() > MAX_PAYLOAD {
            return Err(WireError::TooLarge);
        }
        serde_json::from_slice(body).map_err(|_| WireError::NotEnvelope)
    }

    /// The payload's bytes and the signature's, decoded but not verified.
    pub fn decode(&self) -> Result<(Vec<u8>, Vec<u8>), WireError> {
        let payload = unb64(&self.payload).ok_or(WireError::NotEnvelope)?;
        let signature = unb64(&self.signature).ok_or(WireError::NotEnvelope)?;
        Ok((payload, signature))
    }

    /// The payload's bytes once `key`'s signature as `kind` verifies over them.
    pub fn verified(&self, kind: SignedKind, key: &VerifyingKey) -> Result<Vec<u8>, WireError> {
        let (payload, signature) = self.decode()?;
        if key.verify(&kind.signing_input(&payload), &signature) {
            Ok(payload)
        } else {
            Err(WireError::BadSignature)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_for_one_kind_does_not_verify_as_another() {
        let key = SigningKey::generate();
        let signed = Signed::seal(SignedKind::Offer, &serde_json::json!({"a": 1}), &key);
        let public = key.verifying_key();
        assert!(signed.verified(SignedKind::Offer, &public).is_ok());
        assert!(matches!(
            signed.verified(SignedKind::SealedOffer, &public),
            Err(WireError::BadSignature)
        ));
    }

    #[test]
    fn an_oversized_or_non_envelope_body_is_refused_unread() {
        let huge = vec![b' '; MAX_PAYLOAD + 1];
        assert!(matches!(
            Signed::from_bytes(&huge),
            Err(WireError::TooLarge)
        ));
        assert!(matches!(
            Signed::from_bytes(b"[1]"),
            Err(WireError::NotEnvelope)
        ));
        let padded = Signed {
            payload: "e30=".into(),
            signature: String::new(),
        };
        assert!(matches!(padded.decode(), Err(WireError::NotEnvelope)));
    }

    #[test]
    fn listen_subjects_cover_one_or_two_levels() {
        let fr: Region = "FR".parse().unwrap();
        assert_eq!(listen_subject("home", None).unwrap(), "icast.v1.home.*.*");
        assert_eq!(
            listen_subject("home.appliances", Some(&fr)).unwrap(),
            "icast.v1.home.appliances.FR"
        );
        assert!(listen_subject("home.*", None).is_err());
        assert!(listen_subject(">", None).is_err());
    }
}
