//! What the consent page shows: that approving replaces the vendor's live grant, and what
//! that grant gives that the new one would not; and, after a failed sign-in, the form as the
//! owner left it (the categories ticked, the other categories, the duration).

use carnet_tests::browser::{Browser, Pkce, input_value};
use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, TestServer};
use serde_json::json;

use crate::consent::{answer, authorize_url, setup};

/// Whether the page has the category box `value`, and whether it is ticked.
fn category_box(html: &str, value: &str) -> Option<bool> {
    let tag = format!("name=\"category\" value=\"{value}\"");
    let at = html.find(&tag)?;
    let end = html[at..].find('>')? + at;
    Some(html[at..end].contains("checked"))
}

fn with_known_category(s: &TestServer, v: &VendorApp, category: &str) {
    let r = s.put(
        &format!("/v1/vendors/{}", v.vendor_id),
        &json!({"name": "Acme", "categories": [category]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn a_failed_sign_in_shows_the_form_again_as_the_owner_left_it() {
    let (s, v) = setup();
    with_known_category(&s, &v, "home.garden");
    let pkce = Pkce::new(7);
    let mut b = Browser::default();
    let page = b.get(&authorize_url(&s, &v, &pkce, &[]));
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(category_box(&page.text, "home.appliances"), Some(true));
    assert_eq!(category_box(&page.text, "home.garden"), Some(false));

    // The owner unticks what the vendor asked for, ticks the garden, types another category,
    // picks 90 days, and mistypes the password.
    let again = answer(
        &mut b,
        &s,
        &page,
        &[
            ("category", "home.garden"),
            ("other_categories", "books"),
            ("days", "90"),
            ("password", "not the password"),
            ("decision", "approve"),
        ],
    );
    assert_eq!(again.status, 401, "{}", again.text);
    assert!(again.text.contains("Sign-in failed"), "{}", again.text);
    assert_eq!(
        category_box(&again.text, "home.garden"),
        Some(true),
        "the ticked category is still ticked"
    );
    assert_eq!(
        category_box(&again.text, "home.appliances"),
        Some(false),
        "the unticked one stays unticked"
    );
    assert_eq!(
        input_value(&again.text, "other_categories").as_deref(),
        Some("books")
    );
    assert!(
        again.text.contains("<option value=\"90\" selected>"),
        "{}",
        again.text
    );

    // Signing in from that page grants what is shown there.
    let approved = answer(
        &mut b,
        &s,
        &again,
        &[
            ("category", "home.garden"),
            ("other_categories", "books"),
            ("days", "90"),
            ("password", crate::consent::PASSWORD),
            ("decision", "approve"),
        ],
    );
    assert_eq!(approved.status, 303, "{}", approved.text);
    let grants = s.get(&format!("/v1/grants?vendor={}", v.vendor_id)).json();
    assert_eq!(grants[0]["categories"], json!(["books", "home.garden"]));
}

#[test]
fn the_consent_page_says_it_replaces_the_live_grant_and_what_would_be_lost() {
    let (s, v) = setup();
    let live = s.create(
        "/v1/grants",
        &json!({"vendor_id": v.vendor_id, "scopes": ["relationship:read", "interactions:read"],
                "categories": ["home.appliances", "home.garden"], "days": 90}),
    );
    let pkce = Pkce::new(8);
    let mut b = Browser::default();
    // The vendor asks for relationship:read and profile:read in home.appliances, 30 days.
    let page = b.get(&authorize_url(&s, &v, &pkce, &[]));
    assert_eq!(page.status, 200, "{}", page.text);
    let text = &page.text;
    assert!(
        text.contains("This replaces the access Acme has now"),
        "{text}"
    );
    assert!(text.contains(&live), "names the live grant: {text}");
    let lost = &text[text.find("would lose").expect("what would be lost")..];
    let lost = &lost[..lost.find("</ul>").unwrap()];
    assert!(lost.contains("interactions:read"), "{lost}");
    assert!(!lost.contains("relationship:read"), "kept: {lost}");
    assert!(lost.contains("home.garden"), "{lost}");
    assert!(!lost.contains("home.appliances"), "kept: {lost}");
    assert!(lost.contains("access until"), "90 days against 30: {lost}");

    // A vendor without a live grant: nothing is replaced, and the page says nothing of it.
    let other = VendorApp::connect(&s, "Bolt");
    let page = b.get(&authorize_url(&s, &other, &pkce, &[]));
    assert!(!page.text.contains("This replaces"), "{}", page.text);
}
