//! The vault's answers to the vendor's offers, read from `answer.v1.<vendor_id>` with one durable
//! consumer (`access::vendor_answers_consumer`): each is verified with the key of the intent it names (recorded when the vendor heard
//! it), decrypted with the vendor's X25519 key, and kept only if it answers an offer this vendor
//! made and was not answered before. Nothing else is ever reported as an answer.

use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use futures_util::StreamExt;

use super::{Messages, PullOptions, SdkError, State, consume_when_ready, stream_handle};
use crate::access;
use crate::keys::{Identity, VerifyingKey};
use crate::relay::ANSWERS_STREAM;
use crate::wire::answer::{Answer, open_answer};
use crate::wire::{VendorId, answer_subject};

/// One answer message handled.
#[derive(Debug, Clone)]
pub enum HeardAnswer {
    /// Verified, decrypted, for an offer of this vendor, and new.
    Answer(Answer),
    /// Refused, and why.
    Dropped(String),
}

/// The vendor's answers from the relay.
pub struct AnswerListener {
    messages: Messages,
    state: State,
    vendor: VendorId,
    identity: Identity,
    /// Failures of the relay's stream (or acknowledgements) `next` read past.
    interruptions: u64,
}

impl AnswerListener {
    /// Creates (or reuses) the vendor's durable consumer on `ANSWERS`, waiting for the stream.
    pub async fn start(
        js: &jetstream::Context,
        vendor: &VendorId,
        identity: Identity,
        state: State,
        on_wait: impl FnMut(&str),
    ) -> Result<AnswerListener, SdkError> {
        let stream = stream_handle(js, ANSWERS_STREAM).await?;
        let name = access::vendor_answers_consumer(vendor);
        let subject = answer_subject(vendor);
        let pull = PullOptions {
            name: &name,
            subject: &subject,
            deliver_policy: consumer::DeliverPolicy::All,
            ack_wait: Duration::from_secs(30),
        };
        let mut on_wait = on_wait;
        let messages = consume_when_ready(&stream, ANSWERS_STREAM, &pull, &mut on_wait).await?;
        Ok(AnswerListener {
            messages,
            state,
            vendor: vendor.clone(),
            identity,
            interruptions: 0,
        })
    }

    /// The next answer handled; `None` if the relay ended the stream.
    /// The next answer handled; reads past failures of the relay's stream (a relay restarting),
    /// as `Listener::next` does, so `carnet-vendor answers` keeps running through them.
    pub async fn next(&mut self) -> Result<Option<HeardAnswer>, SdkError> {
        let message = loop {
            match self.messages.next().await {
                None => return Ok(None),
                Some(Ok(message)) => break message,
                Some(Err(_)) => self.interruptions += 1,
            }
        };
        let heard = self.handle(&message.subject, &message.payload)?;
        // Not acknowledged: it comes back, and is then dropped as already answered.
        if message.ack().await.is_err() {
            self.interruptions += 1;
        }
        Ok(Some(heard))
    }

    /// How many failures of the relay's stream (or acknowledgements) `next` read past.
    pub fn interruptions(&self) -> u64 {
        self.interruptions
    }

    fn handle(&mut self, subject: &str, body: &[u8]) -> Result<HeardAnswer, SdkError> {
        let state = &mut self.state;
        let key_of = |r: &_| -> Option<VerifyingKey> {
            let record = state.intent(r).ok().flatten()?;
            record.intent_key.parse().ok()
        };
        let answer = match open_answer(subject, body, &self.vendor, &self.identity, key_of) {
            Ok(a) => a,
            Err(e) => return Ok(HeardAnswer::Dropped(e.to_string())),
        };
        if !self.state.made_offer(&answer.offer_id) {
            return Ok(HeardAnswer::Dropped(format!(
                "answers offer {}, which this vendor did not make",
                answer.offer_id
            )));
        }
        if self.state.answer(&answer.offer_id).is_some() {
            return Ok(HeardAnswer::Dropped(format!(
                "offer {} was answered before",
                answer.offer_id
            )));
        }
        self.state.save_answer(&answer)?;
        Ok(HeardAnswer::Answer(answer))
    }
}
