//! Tests of `announcement`: signing, verifying, the levels and their boxes.
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
        Body::Public(PublicFields {
            title: Some("washing machine".into()),
            ..PublicFields::default()
        }),
        now,
    )
    .unwrap()
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

fn boxed(keys: &IntentKeys, event: Event, body: Body) -> Publication {
    let now = Utc::now();
    let window = Window {
        valid_from: now,
        valid_through: now + chrono::Duration::days(7),
    };
    let category = "home.appliances".parse().unwrap();
    let region = "FR-75".parse().unwrap();
    keys.announce(2, event, category, region, window, body, now)
        .unwrap()
}

#[test]
fn a_sealed_intent_opens_for_its_recipients_and_no_one_else() {
    let keys = IntentKeys::generate();
    let (granted, other, outsider) = (
        Identity::generate(),
        Identity::generate(),
        Identity::generate(),
    );
    let intent = serde_json::json!({"id": "int_x", "title": "washing machine"});
    let body = Body::Sealed {
        intent: intent.clone(),
        recipients: vec![granted.recipient(), other.recipient()],
    };
    let p = boxed(&keys, Event::Activated, body);
    // What everyone sees: the envelope, no title, no reply, the number of recipients.
    let text = String::from_utf8(p.body.clone()).unwrap();
    assert!(!text.contains("washing"));
    let mut v = verify_announcement(&p.subject, headers(&p), &p.body).unwrap();
    assert_eq!(v.announcement.level, Level::Sealed);
    assert_eq!(v.announcement.public, PublicFields::default());
    assert!(v.reply.is_none() && v.announcement.reply.is_none());
    assert_eq!(v.announcement.sealed.as_ref().unwrap().recipients, 2);
    let mut theirs = v.clone();
    assert!(matches!(
        theirs.open(&outsider),
        Err(WireError::Undecryptable)
    ));
    assert!(theirs.opened.is_none() && theirs.reply.is_none());
    v.open(&granted).unwrap();
    assert_eq!(v.opened.as_ref().unwrap().intent.as_ref(), Some(&intent));
    let (bucket, recipient) = v.reply.clone().unwrap();
    assert_eq!(bucket, keys.bucket);
    assert_eq!(recipient, keys.identity.recipient());
    let mut second = verify_announcement(&p.subject, headers(&p), &p.body).unwrap();
    second.open(&other).unwrap();
    assert_eq!(second.opened, v.opened);
}

#[test]
fn a_notify_intent_carries_only_where_to_pull_it() {
    let keys = IntentKeys::generate();
    let vendor = Identity::generate();
    let body = Body::Notify {
        vendor_api: "https://vault.example".into(),
        intent_url: "https://vault.example/v1/vendor/intents/int_x".into(),
        recipients: vec![vendor.recipient()],
    };
    let p = boxed(&keys, Event::Updated, body);
    let mut v = verify_announcement(&p.subject, headers(&p), &p.body).unwrap();
    v.open(&vendor).unwrap();
    let opened = v.opened.unwrap();
    assert!(opened.intent.is_none());
    let pointer = opened.pointer.unwrap();
    assert_eq!(pointer.intent_ref, keys.intent_ref);
    assert_eq!(pointer.vendor_api, "https://vault.example");
}

#[test]
fn a_box_needs_a_recipient_and_an_ended_sealed_intent_has_none() {
    let keys = IntentKeys::generate();
    let now = Utc::now();
    let window = Window {
        valid_from: now,
        valid_through: now + chrono::Duration::days(7),
    };
    let nobody = Body::Sealed {
        intent: serde_json::json!({}),
        recipients: vec![],
    };
    let category: Category = "home.appliances".parse().unwrap();
    let region: Region = "FR-75".parse().unwrap();
    let refused = keys.announce(
        1,
        Event::Activated,
        category.clone(),
        region.clone(),
        window,
        nobody,
        now,
    );
    assert!(matches!(refused, Err(WireError::Refused(_))));
    let ended = boxed(&keys, Event::Withdrawn, Body::Ended(Level::Sealed));
    let v = verify_announcement(&ended.subject, headers(&ended), &ended.body).unwrap();
    assert!(v.announcement.sealed.is_none() && v.reply.is_none());
    // A message that breaks its level's shape is refused even when signed: a sealed one
    // with a clear reply, an announce-level one with a box.
    let mut a = v.announcement.clone();
    a.event = Event::Activated;
    a.reply = Some(Reply {
        bucket: keys.bucket.clone(),
        recipient: keys.identity.recipient().to_string(),
    });
    let forged = publication(&a, &keys.signing);
    assert!(matches!(
        verify_announcement(&forged.subject, |_| None, &forged.body),
        Err(WireError::Refused(_))
    ));
}
