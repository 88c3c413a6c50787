//! Consent at the transport: who may do what on the relay, as NATS permissions. One function per
//! kind of user (a vendor, a vault host) returns the subjects it may publish and subscribe to;
//! everything not listed is denied. It also owns the names those permissions tie to: each
//! JetStream consumer's name and each user's inbox prefix, which the SDK, carnetd and the tools
//! must use exactly.
//!
//! It never grants a wildcard reach beyond a user's own subjects: a vendor reads only its
//! directory categories and its own answers, a vault host only its own offer buckets. It signs
//! nothing and reads no key (`creds` and `nats_config` do).

pub use crate::wire::Host;
use crate::wire::{ANNOUNCE_PREFIX, ANSWER_PREFIX, Category, OFFER_PREFIX, VendorId};

/// The stream of announcements (`icast.v1.>`).
pub const INTENTS_STREAM: &str = "INTENTS";
/// The stream of offers (`offer.v1.>`).
pub const OFFERS_STREAM: &str = "OFFERS";
/// The stream of answers to offers (`answer.v1.>`).
pub const ANSWERS_STREAM: &str = "ANSWERS";

/// JetStream's direct gets, denied to everyone but the admin: they read any message by subject.
pub const DIRECT_GET: &str = "$JS.API.DIRECT.GET.>";
/// JetStream's message gets, denied likewise: they read any message by sequence.
pub const MSG_GET: &str = "$JS.API.STREAM.MSG.GET.>";

/// The durable consumer a vendor reads one directory category with, on `INTENTS`:
/// `<vendor>_<category>_<subcategory>`. Vendor ids and category tokens hold no `_`, so two
/// (vendor, category) pairs never share a name.
pub fn vendor_consumer(vendor: &VendorId, category: &Category) -> String {
    format!("{vendor}_{}_{}", category.top(), category.sub())
}

/// The durable consumer a vendor reads its answers with, on `ANSWERS`: `<vendor>_answers`.
pub fn vendor_answers_consumer(vendor: &VendorId) -> String {
    format!("{vendor}_answers")
}

/// The durable consumer a vault host reads the offers to its buckets with, on `OFFERS`:
/// `vault_<host>`.
pub fn vault_consumer(host: &Host) -> String {
    format!("vault_{host}")
}

/// The subjects a vault host's buckets live under: offers go on `offer.v1.<host>.<random>`.
pub fn vault_offers_filter(host: &Host) -> String {
    format!("{OFFER_PREFIX}.{host}.>")
}

/// The filter of a vendor's consumer on `category`: one region, or every region.
pub fn vendor_filter(category: &Category, region: Option<&str>) -> String {
    format!("{ANNOUNCE_PREFIX}.{category}.{}", region.unwrap_or("*"))
}

/// A vendor's inbox prefix (`_INBOX_<vendor>`): its replies (PubAcks, pulled messages) arrive
/// there, and only it may subscribe to it. The SDK connects with it as async-nats's
/// `custom_inbox_prefix`.
pub fn vendor_inbox(vendor: &VendorId) -> String {
    format!("_INBOX_{vendor}")
}

/// A vault host's inbox prefix (`_INBOX_vault_<host>`). The `vault_` keeps it apart from every
/// vendor's: vendor ids hold no `_`, so a host named like a vendor still gets another inbox.
pub fn vault_inbox(host: &Host) -> String {
    format!("_INBOX_vault_{host}")
}

/// What a user may publish and subscribe to. With a non-empty allow list, NATS refuses every
/// other subject; a deny entry wins over an allow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Permissions {
    pub pub_allow: Vec<String>,
    pub pub_deny: Vec<String>,
    pub sub_allow: Vec<String>,
    pub sub_deny: Vec<String>,
}

/// The JetStream API subjects one durable pull consumer needs: create it (with its name and its
/// filter in the subject, which the server checks against the request's config), read its
/// info, delete it, pull from it and acknowledge its messages.
fn consumer_api(stream: &str, name: &str, filter: &str) -> Vec<String> {
    vec![
        format!("$JS.API.CONSUMER.CREATE.{stream}.{name}.{filter}"),
        format!("$JS.API.CONSUMER.INFO.{stream}.{name}"),
        format!("$JS.API.CONSUMER.DELETE.{stream}.{name}"),
        format!("$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}"),
        format!("$JS.ACK.{stream}.{name}.>"),
    ]
}

/// A vendor's permissions: subscribe to its categories' announcements and its inbox; create,
/// pull and acknowledge only its own consumers (one per directory category, one for its
/// answers); publish offers. Direct and message gets are denied outright.
pub fn vendor_permissions(vendor: &VendorId, categories: &[Category]) -> Permissions {
    let mut pub_allow = vec![format!("{OFFER_PREFIX}.>")];
    let mut sub_allow = vec![format!("{}.>", vendor_inbox(vendor))];
    for category in categories {
        let subjects = format!("{ANNOUNCE_PREFIX}.{category}.>");
        pub_allow.extend(consumer_api(
            INTENTS_STREAM,
            &vendor_consumer(vendor, category),
            &subjects,
        ));
        sub_allow.push(subjects);
    }
    pub_allow.extend(consumer_api(
        ANSWERS_STREAM,
        &vendor_answers_consumer(vendor),
        &format!("{ANSWER_PREFIX}.{vendor}"),
    ));
    Permissions {
        pub_allow,
        pub_deny: vec![DIRECT_GET.into(), MSG_GET.into()],
        sub_allow,
        sub_deny: Vec::new(),
    }
}

/// A vault host's permissions: publish announcements and answers; read the three streams' info
/// (carnetd checks them at its start); create, pull and acknowledge only its own consumer on
/// `OFFERS`, filtered on its own buckets; subscribe to its inbox alone.
pub fn vault_permissions(host: &Host) -> Permissions {
    let mut pub_allow = vec![format!("{ANNOUNCE_PREFIX}.>"), format!("{ANSWER_PREFIX}.*")];
    for stream in [INTENTS_STREAM, OFFERS_STREAM, ANSWERS_STREAM] {
        pub_allow.push(format!("$JS.API.STREAM.INFO.{stream}"));
    }
    pub_allow.extend(consumer_api(
        OFFERS_STREAM,
        &vault_consumer(host),
        &vault_offers_filter(host),
    ));
    Permissions {
        pub_allow,
        pub_deny: vec![DIRECT_GET.into(), MSG_GET.into()],
        sub_allow: vec![format!("{}.>", vault_inbox(host))],
        sub_deny: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consumer_names_of_different_vendors_or_categories_never_collide() {
        let ids = ["a", "a-b", "b", "vault"];
        let cats = ["a.b", "a-b.c", "a.b-c", "b.c"];
        let mut seen = std::collections::HashSet::new();
        for id in ids {
            let id: VendorId = id.parse().unwrap();
            assert!(seen.insert(vendor_answers_consumer(&id)));
            for c in cats {
                assert!(seen.insert(vendor_consumer(&id, &c.parse().unwrap())));
            }
        }
    }

    #[test]
    fn a_host_named_like_a_vendor_gets_another_inbox() {
        let host: Host = "acme".parse().unwrap();
        let vendor: VendorId = "acme".parse().unwrap();
        assert_ne!(vault_inbox(&host), vendor_inbox(&vendor));
        for bad in ["", "A", "a.b", "a_b", "a*", &"x".repeat(33)] {
            assert!(bad.parse::<Host>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_vendor_is_allowed_nothing_outside_its_categories_and_its_answers() {
        let id: VendorId = "acme".parse().unwrap();
        let p = vendor_permissions(&id, &["home.appliances".parse().unwrap()]);
        assert_eq!(p.sub_allow, ["_INBOX_acme.>", "icast.v1.home.appliances.>"]);
        for subject in &p.pub_allow {
            assert!(
                subject == "offer.v1.>"
                    || subject.contains(".acme_home_appliances")
                    || subject.contains(".acme_answers"),
                "{subject}"
            );
        }
        assert!(p.pub_deny.iter().any(|d| d == DIRECT_GET));
        assert!(p.pub_deny.iter().any(|d| d == MSG_GET));
    }
}
