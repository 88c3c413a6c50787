//! Talking to the relay (a NATS server with JetStream): connecting, with a credentials file or
//! none; creating or checking the streams (`INTENTS` on `icast.v1.>`, `OFFERS` on `offer.v1.>`,
//! `ANSWERS` on `answer.v1.>`); publishing a `wire` message and waiting for JetStream's PubAck.
//!
//! Both sides use it: the vault (next: carnetd at start and in its outbox) and vendors (the SDK).
//! It never changes a stream's subjects or storage: a stream that differs there is an error for
//! the operator to resolve, not something to overwrite.

use std::path::PathBuf;
use std::time::Duration;

use async_nats::jetstream::{self, publish::PublishAck, stream};
use async_nats::{HeaderMap, ServerAddr};
use bytes::Bytes;

use crate::wire::announcement::Publication;
use crate::wire::{ANNOUNCE_PREFIX, ANSWER_PREFIX, OFFER_PREFIX};

pub use crate::access::{ANSWERS_STREAM, INTENTS_STREAM, OFFERS_STREAM};
/// JetStream's de-duplication window on the relay's streams: long enough for a publisher's
/// retries after a lost PubAck, short so the server keeps few ids.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Why talking to the relay failed.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("'{0}' is not a relay URL (e.g. nats://127.0.0.1:4222)")]
    BadUrl(String),
    #[error("cannot read the credentials file {path}: {source}")]
    Creds {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to the relay: {0}")]
    Connect(String),
    #[error("stream {stream}: {problem}")]
    StreamMismatch {
        stream: &'static str,
        problem: String,
    },
    #[error("the relay's JetStream refused a request: {0}")]
    JetStream(String),
    #[error("the relay did not acknowledge the message: {0}")]
    Publish(String),
    #[error("the relay already had a message with id {0}: another publisher used it first")]
    Suppressed(String),
}

/// How to reach the relay.
#[derive(Debug, Clone)]
pub struct RelayOptions {
    /// `nats://host:port` (or `tls://…`).
    pub url: String,
    /// A NATS credentials file (`relay_creds_file`); none for a relay without authentication.
    pub creds: Option<PathBuf>,
    /// The connection's name, shown to the relay's operator.
    pub name: String,
    /// Wait, retrying, until the relay answers the first time (a listener does); otherwise
    /// the first failure is returned.
    pub wait_for_relay: bool,
    /// The prefix of the connection's reply subjects. `None`: the one the credentials were
    /// issued for (`creds::Identity::inbox_prefix`: a vendor's or vault host's permissions allow
    /// it no other), or NATS's `_INBOX` without Carnet credentials.
    pub inbox_prefix: Option<String>,
}

/// Connects to the relay. With `wait_for_relay`, the first connection is retried until it
/// succeeds; later disconnections are always retried by the client.
pub async fn connect(options: &RelayOptions) -> Result<async_nats::Client, RelayError> {
    let addr: ServerAddr = options
        .url
        .parse()
        .map_err(|_| RelayError::BadUrl(options.url.clone()))?;
    let mut connect = async_nats::ConnectOptions::new()
        .name(&options.name)
        .connection_timeout(Duration::from_secs(5));
    if options.wait_for_relay {
        connect = connect.retry_on_initial_connect();
    }
    let inbox = match (&options.inbox_prefix, &options.creds) {
        (Some(prefix), _) => Some(prefix.clone()),
        (None, Some(path)) => crate::creds::identity_of(path)
            .map_err(|e| RelayError::Creds {
                path: path.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
            })?
            .and_then(|identity| identity.inbox_prefix()),
        (None, None) => None,
    };
    if let Some(prefix) = inbox {
        connect = connect.custom_inbox_prefix(prefix);
    }
    if let Some(path) = &options.creds {
        connect = connect
            .credentials_file(path)
            .await
            .map_err(|source| RelayError::Creds {
                path: path.display().to_string(),
                source,
            })?;
    }
    connect
        .connect(addr)
        .await
        .map_err(|e| RelayError::Connect(e.to_string()))
}

/// The relay's streams' age and de-duplication window.
#[derive(Debug, Clone, Copy)]
pub struct StreamSettings {
    /// How long a message stays: the longest intent window the vault announces.
    pub max_age: Duration,
    /// JetStream's de-duplication window (at most `max_age`).
    pub duplicate_window: Duration,
}

impl StreamSettings {
    /// Settings for intents whose windows are at most `longest_window` long.
    pub fn for_longest_window(longest_window: Duration) -> Self {
        StreamSettings {
            max_age: longest_window,
            duplicate_window: DUPLICATE_WINDOW.min(longest_window),
        }
    }
}

/// The three streams a relay needs, with their subjects.
pub fn stream_configs(settings: StreamSettings) -> [stream::Config; 3] {
    let one = |name: &str, prefix: &str| stream::Config {
        name: name.to_owned(),
        subjects: vec![format!("{prefix}.>")],
        storage: stream::StorageType::File,
        max_age: settings.max_age,
        duplicate_window: settings.duplicate_window,
        ..stream::Config::default()
    };
    [
        one(INTENTS_STREAM, ANNOUNCE_PREFIX),
        one(OFFERS_STREAM, OFFER_PREFIX),
        one(ANSWERS_STREAM, ANSWER_PREFIX),
    ]
}

/// Creates the relay's streams, or checks those that exist: same subjects and file storage, else
/// an error; a different `max_age` or `duplicate_window` is updated to `settings`.
pub async fn ensure_streams(
    js: &jetstream::Context,
    settings: StreamSettings,
) -> Result<(), RelayError> {
    for want in stream_configs(settings) {
        let name: &'static str = match want.name.as_str() {
            INTENTS_STREAM => INTENTS_STREAM,
            OFFERS_STREAM => OFFERS_STREAM,
            _ => ANSWERS_STREAM,
        };
        match js.get_stream(&want.name).await {
            Ok(mut existing) => {
                let have = existing
                    .info()
                    .await
                    .map_err(|e| RelayError::JetStream(e.to_string()))?
                    .config
                    .clone();
                check_stream(name, &have, &want)?;
                if have.max_age != want.max_age || have.duplicate_window != want.duplicate_window {
                    let update = stream::Config {
                        max_age: want.max_age,
                        duplicate_window: want.duplicate_window,
                        ..have
                    };
                    js.update_stream(update)
                        .await
                        .map_err(|e| RelayError::JetStream(e.to_string()))?;
                }
            }
            Err(e) if is_not_found(&e) => {
                js.create_stream(want)
                    .await
                    .map_err(|e| RelayError::JetStream(e.to_string()))?;
            }
            Err(e) => return Err(RelayError::JetStream(e.to_string())),
        }
    }
    Ok(())
}

fn is_not_found(e: &jetstream::context::GetStreamError) -> bool {
    matches!(
        e.kind(),
        jetstream::context::GetStreamErrorKind::JetStream(js)
            if js.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
    )
}

fn check_stream(
    name: &'static str,
    have: &stream::Config,
    want: &stream::Config,
) -> Result<(), RelayError> {
    if have.subjects != want.subjects {
        return Err(RelayError::StreamMismatch {
            stream: name,
            problem: format!(
                "has subjects {:?}, the relay needs exactly {:?}",
                have.subjects, want.subjects
            ),
        });
    }
    if have.storage != stream::StorageType::File {
        return Err(RelayError::StreamMismatch {
            stream: name,
            problem: "is not on file storage".into(),
        });
    }
    Ok(())
}

/// Waits until the stream `name` exists, asking again every `every` (a relay whose vault has not
/// started yet has no streams); `on_wait` is told each time it is still missing.
pub async fn wait_for_stream(
    js: &jetstream::Context,
    name: &str,
    every: Duration,
    mut on_wait: impl FnMut(&str),
) -> Result<jetstream::stream::Stream, RelayError> {
    loop {
        match js.get_stream(name).await {
            Ok(stream) => return Ok(stream),
            Err(e) if is_not_found(&e) => on_wait(&format!("stream {name} does not exist yet")),
            Err(e) => on_wait(&e.to_string()),
        }
        tokio::time::sleep(every).await;
    }
}

/// Publishes a message for the first time: like `publish`, but a PubAck that says "duplicate"
/// is an error. Its id was never used by this publisher, so someone else published under it
/// first, and JetStream dropped this one (see the spec's note on `Nats-Msg-Id`). A retry of a
/// message whose first attempt may have been stored uses `publish`.
pub async fn publish_new(
    js: &jetstream::Context,
    message: &Publication,
    timeout: Duration,
) -> Result<PublishAck, RelayError> {
    confirm(send(js, message).await?, message, true, timeout).await
}

/// Publishes `message` to JetStream and waits for its PubAck (`timeout` at most). Publishing
/// again with the same `Nats-Msg-Id` inside the duplicate window is acknowledged as a duplicate,
/// so a publisher that lost a PubAck retries safely.
pub async fn publish(
    js: &jetstream::Context,
    message: &Publication,
    timeout: Duration,
) -> Result<PublishAck, RelayError> {
    confirm(send(js, message).await?, message, false, timeout).await
}

/// Sends `message` without waiting for its PubAck, so many can be in flight at once; `confirm`
/// waits for it.
pub async fn send(
    js: &jetstream::Context,
    message: &Publication,
) -> Result<jetstream::context::PublishAckFuture, RelayError> {
    let mut headers = HeaderMap::new();
    for (name, value) in &message.headers {
        headers.insert(*name, value.as_str());
    }
    js.publish_with_headers(
        message.subject.clone(),
        headers,
        Bytes::from(message.body.clone()),
    )
    .await
    .map_err(|e| RelayError::Publish(e.to_string()))
}

/// Waits for the PubAck of `message`, sent with `send` (`timeout` at most). With `first` (the
/// message's first attempt), a PubAck saying "duplicate" is `Suppressed`, as `publish_new` says.
pub async fn confirm(
    ack: jetstream::context::PublishAckFuture,
    message: &Publication,
    first: bool,
    timeout: Duration,
) -> Result<PublishAck, RelayError> {
    let ack = match tokio::time::timeout(timeout, ack).await {
        Ok(Ok(ack)) => ack,
        Ok(Err(e)) => return Err(RelayError::Publish(e.to_string())),
        Err(_) => return Err(RelayError::Publish(format!("no PubAck within {timeout:?}"))),
    };
    if first && ack.duplicate {
        let id = message
            .headers
            .iter()
            .find(|(name, _)| *name == crate::wire::MSG_ID_HEADER)
            .map_or_else(String::new, |(_, v)| v.clone());
        return Err(RelayError::Suppressed(id));
    }
    Ok(ack)
}
