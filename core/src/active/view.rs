//! An active intent's vendor view, rendered as JSON once per change, and pull pages assembled
//! from those renderings. Every vendor sees the same bytes of an intent but for its
//! `customer_ref`, which is written in as a page is assembled: a page costs copying what it
//! shows, not building and serialising each intent again for each pull.

use std::sync::Arc;

use carnet_schemas::VendorIntent;

/// What precedes the customer reference's value in a rendering made with an empty one.
const REF_FIELD: &str = ",\"customer_ref\":\"";

/// One intent as vendors see it, as JSON, `customer_ref` to be written in at `ref_at`.
#[derive(Debug)]
pub struct View {
    json: Box<str>,
    ref_at: usize,
}

impl View {
    /// `intent` (its `customer_ref` empty) rendered; `None` if it does not render as expected
    /// (then pages build it for each pull).
    pub fn render(intent: &VendorIntent) -> Option<View> {
        if !intent.customer_ref.is_empty() {
            return None;
        }
        let json = serde_json::to_string(intent).ok()?;
        // The id comes first and is written without escapes, so the first match is the field.
        let ref_at = json.find(REF_FIELD)? + REF_FIELD.len();
        (json.as_bytes().get(ref_at) == Some(&b'"')).then(|| View {
            json: json.into_boxed_str(),
            ref_at,
        })
    }

    /// Bytes held.
    pub fn len(&self) -> usize {
        self.json.len()
    }

    /// Whether it holds nothing (never: a rendering is an object).
    pub fn is_empty(&self) -> bool {
        self.json.is_empty()
    }
}

/// An intent on a page: its rendering, or (if it had none) the intent as this vendor sees it.
pub enum OnPage {
    View(Arc<View>),
    Built(Box<VendorIntent>),
}

/// The JSON of a pull's page (`carnet_schemas::Page<VendorIntent>`, byte for byte what serde
/// writes for it) of `items`, seen by the vendor whose reference is `customer_ref`.
pub fn page(
    items: &[OnPage],
    customer_ref: &str,
    next_cursor: Option<&str>,
) -> Result<Vec<u8>, serde_json::Error> {
    let reference = serde_json::to_string(customer_ref)?;
    let reference = &reference[1..reference.len() - 1];
    let size: usize = items
        .iter()
        .map(|i| match i {
            OnPage::View(v) => v.len() + reference.len() + 1,
            OnPage::Built(_) => 1500,
        })
        .sum();
    let mut out = Vec::with_capacity(size + 64);
    out.extend_from_slice(b"{\"items\":[");
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        match item {
            OnPage::View(v) => {
                let (head, tail) = v.json.split_at(v.ref_at);
                out.extend_from_slice(head.as_bytes());
                out.extend_from_slice(reference.as_bytes());
                out.extend_from_slice(tail.as_bytes());
            }
            OnPage::Built(intent) => serde_json::to_writer(&mut out, intent)?,
        }
    }
    out.extend_from_slice(b"],\"next_cursor\":");
    serde_json::to_writer(&mut out, &next_cursor)?;
    out.push(b'}');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use carnet_schemas::Page;
    use serde_json::json;

    fn intent(n: u32, description: Option<&str>) -> VendorIntent {
        let mut v = json!({
            "id": format!("itt_{n:016}"), "customer_ref": "",
            "updated_at": "2026-12-07T10:00:00.123Z", "category": "home.appliances",
            "title": format!("Lave-linge \"{n}\" à hublot"),
            "price_specification": {"max_price": "700", "price_currency": "EUR"},
            "valid_from": "2026-12-01T00:00:00+01:00", "valid_through": "2026-12-31T00:00:00+01:00",
            "terms": {"purpose": "offers", "retention_days": 30, "no_resale": true,
                      "no_tracking": false},
            "max_offers": 10, "accepts_offers": n.is_multiple_of(2),
        });
        if let Some(d) = description {
            v["description"] = json!(d);
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_page_of_renderings_is_what_serde_writes_for_the_page() {
        let intents = [
            intent(1, Some("Silencieux,\n\"customer_ref\":\"x\" — 8 kg")),
            intent(2, None),
            intent(3, Some("Économe, classe A")),
        ];
        for reference in ["cus_0123abcd", "a \"quoted\" \\ ref"] {
            for cursor in [None, Some("eyJ9")] {
                let shown: Vec<OnPage> = intents
                    .iter()
                    .enumerate()
                    .map(|(n, i)| match n {
                        // One built: a page may mix both.
                        1 => {
                            let mut built = i.clone();
                            built.customer_ref = reference.to_owned();
                            OnPage::Built(Box::new(built))
                        }
                        _ => OnPage::View(Arc::new(View::render(i).unwrap())),
                    })
                    .collect();
                let want = Page {
                    items: intents
                        .iter()
                        .map(|i| VendorIntent {
                            customer_ref: reference.to_owned(),
                            ..i.clone()
                        })
                        .collect(),
                    next_cursor: cursor.map(str::to_owned),
                };
                let got = page(&shown, reference, cursor).unwrap();
                assert_eq!(
                    String::from_utf8(got).unwrap(),
                    serde_json::to_string(&want).unwrap()
                );
            }
        }
        assert_eq!(
            page(&[], "r", None).unwrap(),
            br#"{"items":[],"next_cursor":null}"#
        );
    }

    #[test]
    fn only_an_intent_without_a_reference_renders() {
        let mut i = intent(1, None);
        i.customer_ref = "cus_x".into();
        assert!(View::render(&i).is_none());
    }
}
