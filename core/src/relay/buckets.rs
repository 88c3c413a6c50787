//! Which intent an offer message is for, by the bucket in its subject, and which buckets the
//! vault host's one consumer (`offer.v1.<host>.>`) does not read.
//!
//! Every bucket the vault makes is `<host>.<random>` under its host, so one consumer reads all
//! its offers. An intent announced earlier, under no host (before hosts existed) or under a
//! host the vault had before, keeps its bucket — vendors already hold it — and carnetd reads it
//! with a consumer of its own until the intent ends (`alone`). Never reads another vault host's
//! bucket: an offer message reaches an intent only if its whole bucket is that intent's.

use carnet_market::wire::{Bucket, Host, OFFER_PREFIX};

use crate::store::relay::RelayIntentRow;

/// The bucket of an offer message's subject (`offer.v1.<bucket>`), as its text; empty when the
/// subject is not an offer's (no intent has it).
pub fn bucket_of(subject: &str) -> &str {
    subject
        .strip_prefix(OFFER_PREFIX)
        .and_then(|b| b.strip_prefix('.'))
        .unwrap_or_default()
}

/// Whether `bucket` is under `host`, so the host's consumer reads it.
pub fn is_under(bucket: &str, host: &Host) -> bool {
    bucket
        .parse::<Bucket>()
        .is_ok_and(|b| b.host() == Some(host.as_str()))
}

/// This vault's buckets that `host`'s consumer does not read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Alone<'a> {
    /// Of intents still announced: each needs a consumer of its own.
    pub open: Vec<&'a str>,
    /// Of intents that ended: a consumer of its own, if one is left, can go.
    pub ended: Vec<&'a str>,
}

/// The buckets of `rows` not under `host`, by whether their intent is still announced.
pub fn alone<'a>(rows: &'a [RelayIntentRow], host: &Host) -> Alone<'a> {
    let mut out = Alone::default();
    for r in rows.iter().filter(|r| !is_under(&r.bucket, host)) {
        if r.ended {
            out.ended.push(r.bucket.as_str());
        } else {
            out.open.push(r.bucket.as_str());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(bucket: &str, ended: bool) -> RelayIntentRow {
        RelayIntentRow {
            intent_id: format!("int_{bucket}"),
            bucket: bucket.to_owned(),
            revision: 1,
            ended,
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
            blob: Vec::new(),
        }
    }

    #[test]
    fn an_offer_is_routed_by_its_whole_bucket() {
        let host: Host = "vault-a".parse().unwrap();
        let mine = Bucket::generate_for(&host);
        let subject = carnet_market::wire::offer_subject(&mine);
        assert_eq!(bucket_of(&subject), mine.as_str());
        assert!(is_under(bucket_of(&subject), &host));
        // The same random part under another host is another bucket, not this vault's.
        let random = mine.as_str().split_once('.').unwrap().1;
        let theirs = format!("{OFFER_PREFIX}.vault-b.{random}");
        assert_ne!(bucket_of(&theirs), mine.as_str());
        assert!(!is_under(bucket_of(&theirs), &host));
        // A prefix of the host is not the host.
        assert!(!is_under(&format!("vault.{random}"), &host));
        for not_an_offer in ["icast.v1.home.x.FR", "offer.v1", "offer.v1x.a", ""] {
            assert_eq!(bucket_of(not_an_offer), "", "{not_an_offer}");
        }
    }

    #[test]
    fn only_intents_outside_the_host_are_read_alone() {
        let host: Host = "vault-a".parse().unwrap();
        let mine = Bucket::generate_for(&host).to_string();
        let before_hosts = Bucket::generate().to_string();
        let old_host = Bucket::generate_for(&"vault-old".parse().unwrap()).to_string();
        let ended = Bucket::generate().to_string();
        let mine_ended = Bucket::generate_for(&host).to_string();
        let rows = [
            row(&mine, false),
            row(&before_hosts, false),
            row(&old_host, false),
            row(&ended, true),
            row(&mine_ended, true),
        ];
        assert_eq!(
            alone(&rows, &host),
            Alone {
                open: vec![before_hosts.as_str(), old_host.as_str()],
                ended: vec![ended.as_str()],
            }
        );
    }
}
