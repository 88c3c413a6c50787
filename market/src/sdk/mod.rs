//! The vendor SDK: listens to the market's announcements in its categories and region with
//! durable JetStream consumers, verifies each, drops duplicates, stale revisions and replays after
//! a terminal event, remembers what it accepted (`state`), and makes signed, encrypted offers.
//!
//! One durable consumer per directory category (nats-server 2.9 takes one filter subject per
//! consumer), named after the vendor and the category (`access::vendor_consumer`, the name its
//! credentials allow), so a restarted listener continues where it stopped. It never asks for a
//! stream's info, which a vendor's credentials do not allow.
//! A message is acknowledged only after its judgement was saved. It never offers to an intent
//! it has not verified, nor to one that ended. A `sealed` or `notify` announcement is opened
//! with the vendor's X25519 key (`Listener::opening_with`); one it cannot open was not meant
//! for this vendor (no grant) and is dropped unseen. The relay restarting never stops a listener:
//! its pull requests last 5 s (async-nats renews a lost one only when it expires), and it reads
//! past the stream's failures meanwhile (`Listener::interruptions` counts them).

pub mod answers;
pub mod intake;
pub mod state;

use std::pin::Pin;
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};

use crate::access;
use crate::keys::{Identity, VendorKeys};
use crate::relay::{self, INTENTS_STREAM, RelayError};
use crate::wire::announcement::{Announcement, BoxContent, Publication, verify_announcement};
use crate::wire::offer::{OfferTarget, OfferTerms, make_offer};
use crate::wire::{
    Amount, BadValue, Category, Currency, IntentRef, OfferId, Region, VendorId, listen_subject,
};
pub use intake::{Drop, Judgement};
pub use state::{IntentRecord, State, StateError};

/// Why the SDK stopped (a refused message never stops it: it is reported as `Heard::Dropped`).
#[derive(Debug, thiserror::Error)]
pub enum SdkError {
    #[error(transparent)]
    Relay(#[from] RelayError),
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    BadValue(#[from] BadValue),
    #[error("the relay's JetStream refused a consumer: {0}")]
    Consumer(String),
    #[error("the relay's stream of announcements failed: {0}")]
    Messages(String),
    #[error("no intent {0} in the state directory")]
    UnknownIntent(IntentRef),
    #[error("intent {0} has ended ({1}): it takes no more offers")]
    IntentEnded(IntentRef, &'static str),
    #[error("intent {0}'s window ended at {1}")]
    IntentExpired(IntentRef, DateTime<Utc>),
    #[error("valid-through {0} is past the intent's window ({1})")]
    PastWindow(DateTime<Utc>, DateTime<Utc>),
    #[error("the state's record of intent {0} is damaged")]
    BadRecord(IntentRef),
    #[error("intent {0} gave this vendor no reply address (a sealed intent it only saw end)")]
    NoReply(IntentRef),
}

/// What to listen to.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    pub vendor: VendorId,
    /// First-level (`home`) or two-level (`home.appliances`) categories.
    pub categories: Vec<String>,
    /// One region, or every region.
    pub region: Option<Region>,
    /// Read again from this time on (the durable consumers are recreated to start there);
    /// without it, a new consumer starts at the oldest announcement the relay keeps.
    pub since: Option<DateTime<Utc>>,
    /// How long the relay waits for an acknowledgement before it delivers a message again.
    pub ack_wait: Duration,
}

/// A verified, new announcement, and its box's content when it had one this vendor opened.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HeardIntent {
    #[serde(flatten)]
    pub announcement: Announcement,
    /// `sealed`: the intent as the vault's vendor API shows it; `notify`: where to pull it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened: Option<BoxContent>,
}

/// One announcement the listener handled.
#[derive(Debug, Clone)]
pub enum Heard {
    /// Verified and new: for the vendor.
    Intent(Box<HeardIntent>),
    /// Refused: the subject, the `Nats-Msg-Id` if any, and why.
    Dropped {
        subject: String,
        msg_id: Option<String>,
        reason: String,
    },
}

/// A durable consumer's messages, each to be acknowledged explicitly.
pub type Messages = Pin<Box<dyn Stream<Item = Result<jetstream::Message, String>> + Send>>;

/// Announcements from the relay, judged against the vendor's state.
pub struct Listener {
    messages: Messages,
    state: State,
    /// Opens sealed and notify announcements; without it they are dropped.
    identity: Option<Identity>,
    /// Failures of the relay's stream read past (see `next`).
    interruptions: u64,
}

/// The consumer a vendor reads `category` with, and its filter: a directory category (two
/// levels) gets `access::vendor_consumer`, its region in the filter only; a first level
/// (`home`) gets `<vendor>_<home>` on `icast.v1.home.*.<region>`, which only a relay without
/// consent at the transport allows (give a vendor's two-level categories there).
pub fn listen_consumer(
    vendor: &VendorId,
    category: &str,
    region: Option<&Region>,
) -> Result<(String, String), BadValue> {
    let filter = listen_subject(category, region)?;
    let name = match category.parse::<Category>() {
        Ok(c) => access::vendor_consumer(vendor, &c),
        Err(_) => format!("{vendor}_{category}"),
    };
    Ok((name, filter))
}

impl Listener {
    /// Creates (or reuses) the vendor's durable consumers on the `INTENTS` stream, waiting for
    /// the stream if it does not exist yet (`on_wait` is told why it waits).
    pub async fn start(
        js: &jetstream::Context,
        options: &ListenOptions,
        state: State,
        on_wait: impl FnMut(&str),
    ) -> Result<Listener, SdkError> {
        let mut consumers = Vec::new();
        for c in &options.categories {
            let pair = listen_consumer(&options.vendor, c, options.region.as_ref())?;
            if !consumers.contains(&pair) {
                consumers.push(pair);
            }
        }
        let mut on_wait = on_wait;
        let stream = stream_handle(js, INTENTS_STREAM).await?;
        let mut all = Vec::new();
        for (name, subject) in consumers {
            let deliver_policy = match options.since {
                Some(since) => {
                    // A durable consumer keeps its start: to read again from `since`, it is made anew.
                    let _ = stream.delete_consumer(&name).await;
                    consumer::DeliverPolicy::ByStartTime {
                        start_time: to_time(since),
                    }
                }
                None => consumer::DeliverPolicy::All,
            };
            let pull = PullOptions {
                name: &name,
                subject: &subject,
                deliver_policy,
                ack_wait: options.ack_wait,
            };
            all.push(consume_when_ready(&stream, INTENTS_STREAM, &pull, &mut on_wait).await?);
        }
        Ok(Listener {
            messages: Box::pin(futures_util::stream::select_all(all)),
            state,
            identity: None,
            interruptions: 0,
        })
    }

    /// Opens `sealed` and `notify` announcements with the vendor's directory X25519 key.
    pub fn opening_with(mut self, identity: Identity) -> Self {
        self.identity = Some(identity);
        self
    }

    /// The next announcement handled, accepted or dropped; `None` if the relay ended the streams.
    /// A failure of the relay's stream (a missed heartbeat, a pull request lost while the relay
    /// restarts) never stops it: it is counted (`interruptions`) and reading goes on, async-nats
    /// pulling again once the relay answers. A failed acknowledgement loses nothing either: what
    /// was heard is returned, and the message, delivered again, is dropped as a duplicate.
    pub async fn next(&mut self) -> Result<Option<Heard>, SdkError> {
        let message = loop {
            match self.messages.next().await {
                None => return Ok(None),
                Some(Ok(message)) => break message,
                Some(Err(_)) => self.interruptions += 1,
            }
        };
        let heard = self.handle(&message, Utc::now())?;
        if message.ack().await.is_err() {
            self.interruptions += 1;
        }
        Ok(Some(heard))
    }

    /// How many failures of the relay's stream (or acknowledgements) `next` read past.
    pub fn interruptions(&self) -> u64 {
        self.interruptions
    }

    fn handle(
        &mut self,
        message: &jetstream::Message,
        now: DateTime<Utc>,
    ) -> Result<Heard, SdkError> {
        let header = |name: &str| {
            message
                .headers
                .as_ref()
                .and_then(|h| h.get(name))
                .map(|v| v.as_str().to_owned())
        };
        let dropped = |reason: String| Heard::Dropped {
            subject: message.subject.to_string(),
            msg_id: header(crate::wire::MSG_ID_HEADER),
            reason,
        };
        let mut verified = match verify_announcement(&message.subject, header, &message.payload) {
            Ok(v) => v,
            Err(e) => return Ok(dropped(e.to_string())),
        };
        if verified.announcement.sealed.is_some() {
            let opened = match &self.identity {
                Some(identity) => verified.open(identity),
                None => Err(crate::wire::WireError::Undecryptable),
            };
            if let Err(e) = opened {
                return Ok(dropped(format!("sealed for other vendors: {e}")));
            }
        }
        let known = self.state.intent(&verified.announcement.intent_ref)?;
        Ok(match intake::judge(known.as_ref(), &verified, now) {
            Judgement::Accept(record) => {
                self.state.save_intent(&record)?;
                Heard::Intent(Box::new(HeardIntent {
                    announcement: verified.announcement,
                    opened: verified.opened,
                }))
            }
            Judgement::Remember(record, why) => {
                self.state.save_intent(&record)?;
                dropped(why.to_string())
            }
            Judgement::Refuse(why) => dropped(why.to_string()),
        })
    }
}

/// The messages of the durable pull consumer `name` on `stream` (created if missing, made anew
/// if its filter is not `subject`), filtered on `subject`, each to be acknowledged explicitly.
/// Vendors read `INTENTS` and `ANSWERS` with it; carnetd reads its offers on `OFFERS` with it.
pub async fn consume<I>(
    stream: &jetstream::stream::Stream<I>,
    name: &str,
    subject: &str,
    deliver_policy: consumer::DeliverPolicy,
    ack_wait: Duration,
) -> Result<Messages, SdkError> {
    let pull = PullOptions {
        name,
        subject,
        deliver_policy,
        ack_wait,
    };
    let consumer = open_consumer(stream, &pull).await.map_err(consumer_error)?;
    messages(consumer).await
}

/// One durable pull consumer to read.
pub struct PullOptions<'a> {
    pub name: &'a str,
    pub subject: &'a str,
    pub deliver_policy: consumer::DeliverPolicy,
    pub ack_wait: Duration,
}

/// A handle on the stream `name` that reads nothing from the relay: a vendor's or vault host's
/// permissions allow no stream info (it would show every subject in the stream).
pub async fn stream_handle(
    js: &jetstream::Context,
    name: &str,
) -> Result<jetstream::stream::Stream<()>, SdkError> {
    js.get_stream_no_info(name)
        .await
        .map_err(|e| SdkError::Consumer(e.to_string()))
}

/// Like `consume`, but while `stream` (named `stream_name`) does not exist yet (a relay whose
/// operator has not made the streams), asks again every second, telling `on_wait`.
pub async fn consume_when_ready<I>(
    stream: &jetstream::stream::Stream<I>,
    stream_name: &str,
    pull: &PullOptions<'_>,
    on_wait: &mut impl FnMut(&str),
) -> Result<Messages, SdkError> {
    loop {
        match open_consumer(stream, pull).await {
            Ok(consumer) => return messages(consumer).await,
            Err(e) if is_stream_missing(&e) => {
                on_wait(&format!("stream {stream_name} does not exist yet"));
            }
            Err(e) => return Err(consumer_error(e)),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn open_consumer<I>(
    stream: &jetstream::stream::Stream<I>,
    pull: &PullOptions<'_>,
) -> Result<consumer::PullConsumer, jetstream::stream::ConsumerError> {
    let config = consumer::pull::Config {
        durable_name: Some(pull.name.to_owned()),
        filter_subject: pull.subject.to_owned(),
        deliver_policy: pull.deliver_policy,
        ack_policy: consumer::AckPolicy::Explicit,
        ack_wait: pull.ack_wait,
        ..Default::default()
    };
    let existing: consumer::PullConsumer = stream
        .get_or_create_consumer(pull.name, config.clone())
        .await?;
    if existing.cached_info().config.filter_subject == pull.subject {
        return Ok(existing);
    }
    // Made for another filter (another region): nats-server 2.9 cannot change a consumer's
    // filter, so it is made anew, from the start policy asked for.
    stream.delete_consumer(pull.name).await?;
    stream.create_consumer(config).await
}

async fn messages(consumer: consumer::PullConsumer) -> Result<Messages, SdkError> {
    let messages = consumer
        .stream()
        .expires(Duration::from_secs(5))
        .heartbeat(Duration::from_secs(2))
        .messages()
        .await
        .map_err(|e| SdkError::Consumer(e.to_string()))?
        .map(|m| m.map_err(|e| e.to_string()));
    Ok(Box::pin(messages))
}

fn is_stream_missing(e: &jetstream::stream::ConsumerError) -> bool {
    matches!(
        e.kind(),
        jetstream::stream::ConsumerErrorKind::JetStream(js)
            if js.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
    )
}

/// A refused request is never answered by the relay (NATS drops it as a permissions
/// violation), so a timeout most often means the credentials do not allow this consumer.
fn consumer_error(e: jetstream::stream::ConsumerError) -> SdkError {
    match e.kind() {
        jetstream::stream::ConsumerErrorKind::TimedOut => SdkError::Consumer(format!(
            "{e} (a relay with consent at the transport does not answer a request the \
             credentials do not allow: check the categories are in the vendor's directory entry)"
        )),
        _ => SdkError::Consumer(e.to_string()),
    }
}

fn to_time(t: DateTime<Utc>) -> time::OffsetDateTime {
    let nanos = i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos());
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

/// What a vendor offers.
#[derive(Debug, Clone)]
pub struct NewOffer {
    pub intent_ref: IntentRef,
    pub price: Amount,
    pub currency: Currency,
    pub description: Option<String>,
    /// Until when it holds; the intent's window end when `None`, never past it.
    pub valid_through: Option<DateTime<Utc>>,
    /// The vendor's id for it; random when `None`.
    pub offer_id: Option<OfferId>,
}

/// An offer published and acknowledged by the relay.
#[derive(Debug, Clone)]
pub struct OfferMade {
    pub terms: OfferTerms,
    pub subject: String,
    pub stream_sequence: u64,
}

/// An offer signed and encrypted, ready to publish.
#[derive(Debug, Clone)]
pub struct PreparedOffer {
    pub terms: OfferTerms,
    pub message: Publication,
}

/// Prepares an offer to an intent the vendor recorded, without the relay: checks the intent is
/// known, has not ended, and that `valid_through` stays inside its window; signs the terms with
/// the vendor's directory key and encrypts them to the intent's key.
pub fn prepare_offer(
    state: &mut State,
    vendor: &VendorId,
    keys: &VendorKeys,
    new: NewOffer,
    now: DateTime<Utc>,
) -> Result<PreparedOffer, SdkError> {
    let record = state
        .intent(&new.intent_ref)?
        .ok_or_else(|| SdkError::UnknownIntent(new.intent_ref.clone()))?;
    if record.terminal {
        return Err(SdkError::IntentEnded(
            record.intent_ref,
            record.event.as_str(),
        ));
    }
    if record.window.valid_through <= now {
        return Err(SdkError::IntentExpired(
            record.intent_ref,
            record.window.valid_through,
        ));
    }
    let valid_through = new.valid_through.unwrap_or(record.window.valid_through);
    if valid_through > record.window.valid_through {
        return Err(SdkError::PastWindow(
            valid_through,
            record.window.valid_through,
        ));
    }
    let (Some(bucket), Some(recipient)) = (&record.bucket, &record.recipient) else {
        return Err(SdkError::NoReply(record.intent_ref));
    };
    let target = OfferTarget {
        intent_ref: record.intent_ref.clone(),
        revision: record.revision,
        bucket: bucket.clone(),
        recipient: recipient
            .parse()
            .map_err(|_| SdkError::BadRecord(record.intent_ref.clone()))?,
    };
    let terms = OfferTerms {
        intent_ref: record.intent_ref.clone(),
        revision: record.revision,
        vendor_id: vendor.clone(),
        offer_id: new.offer_id.unwrap_or_else(OfferId::generate),
        price: new.price,
        currency: new.currency,
        valid_through,
        description: new.description,
        made_at: now,
    };
    let message = make_offer(&target, &terms, &keys.signing);
    Ok(PreparedOffer { terms, message })
}

/// Publishes a prepared offer on the intent's bucket, waits for the relay's acknowledgement,
/// then records it in the state.
pub async fn publish_offer(
    js: &jetstream::Context,
    state: &State,
    prepared: PreparedOffer,
) -> Result<OfferMade, SdkError> {
    let ack = relay::publish_new(js, &prepared.message, Duration::from_secs(10)).await?;
    state.save_offer(&prepared.terms)?;
    Ok(OfferMade {
        terms: prepared.terms,
        subject: prepared.message.subject,
        stream_sequence: ack.sequence,
    })
}
