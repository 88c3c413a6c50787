//! The intent form (new and edit): every field of `carnet intent new` (the market relay's level
//! and public fields included), labelled like its flags, kept as typed when one is wrong. Each
//! value is parsed here with the wire types; the rules across fields (min ≤ max, the window,
//! the caps, what may be announced) are the core's, and what it refuses is put back beside the
//! field it names.

use carnet_core::intents::IntentError;
use carnet_schemas::{
    Amount, Category, Currency, DEFAULT_MAX_OFFERS, Intent, IntentField, IntentFields, IntentTerms,
    ItemCondition, Line, MAX_MAX_OFFERS, PriceSpecification, PublicField, RelayLevel, Text,
};
use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use maud::{Markup, html};

use super::shell::{self, Errors, Input, checkbox, csrf, field, optional, sentence};
use super::signed::{Posted, Signed};

/// Item conditions, as the CLI's `--condition` spells them.
const CONDITIONS: [(&str, &str); 5] = [
    ("", "Any"),
    ("new", "new"),
    ("used", "used"),
    ("refurbished", "refurbished"),
    ("damaged", "damaged"),
];

/// The market relay's levels, as `--relay` spells them.
const RELAY_LEVELS: [(&str, &str); 4] = [
    ("off", "Off: only the vendors you grant see it"),
    ("announce", "Announce on the market relay"),
    (
        "sealed",
        "Sealed: encrypted to the directory vendors you grant",
    ),
    ("notify", "Notify: tell them where to read it"),
];

/// The fields an announced intent may make public, as `--public` spells them.
const PUBLIC: [(&str, &str); 6] = [
    ("title", "Title"),
    ("description", "Description"),
    ("price_band", "Price"),
    ("quantity", "Quantity"),
    ("item_condition", "Condition"),
    ("delivery_methods", "Delivery"),
];

/// The fields an intent may withhold, as `--withhold` spells them, and what they are.
const WITHHOLDABLE: [(&str, IntentField, &str); 6] = [
    ("description", IntentField::Description, "Description"),
    (
        "price_specification",
        IntentField::PriceSpecification,
        "Price",
    ),
    (
        "eligible_quantity",
        IntentField::EligibleQuantity,
        "Quantity",
    ),
    ("area_served", IntentField::AreaServed, "Area"),
    (
        "available_delivery_method",
        IntentField::AvailableDeliveryMethod,
        "Delivery",
    ),
    ("item_condition", IntentField::ItemCondition, "Condition"),
];

/// How a time is shown in the form (and typed back): `datetime-local`, UTC.
const LOCAL_MINUTE: &str = "%Y-%m-%dT%H:%M";

/// The form as typed (or as the intent is, to edit it).
#[derive(Default, Clone)]
pub struct Draft {
    pub category: String,
    pub title: String,
    pub description: String,
    pub min_price: String,
    pub max_price: String,
    pub currency: String,
    pub quantity: String,
    pub area: String,
    pub delivery: String,
    pub condition: String,
    pub valid_from: String,
    pub valid_through: String,
    pub max_offers: String,
    pub purpose: String,
    pub retention_days: String,
    pub allow_resale: bool,
    pub allow_tracking: bool,
    pub withhold: Vec<String>,
    pub relay: String,
    pub public: Vec<String>,
}

fn shown(t: &DateTime<FixedOffset>) -> String {
    t.with_timezone(&Utc).format(LOCAL_MINUTE).to_string()
}

fn text<T: ToString>(v: Option<&T>) -> String {
    v.map_or(String::new(), ToString::to_string)
}

impl Draft {
    /// An empty form, with the terms' defaults.
    pub fn new() -> Draft {
        Draft {
            retention_days: IntentTerms::default().retention_days.to_string(),
            relay: RelayLevel::Off.as_str().to_owned(),
            ..Draft::default()
        }
    }

    /// The form filled with intent `i`, to edit it.
    pub fn of(i: &Intent) -> Draft {
        let f = &i.fields;
        let p = f.price_specification.as_ref();
        Draft {
            category: f.category.to_string(),
            title: f.title.to_string(),
            description: text(f.description.as_ref()),
            min_price: text(p.and_then(|p| p.min_price.as_ref())),
            max_price: text(p.and_then(|p| p.max_price.as_ref())),
            currency: text(p.map(|p| &p.price_currency)),
            quantity: text(f.eligible_quantity.as_ref()),
            area: text(f.area_served.as_ref()),
            delivery: text(f.available_delivery_method.as_ref()),
            condition: f.item_condition.map_or(String::new(), condition_name),
            valid_from: f.valid_from.as_ref().map_or(String::new(), shown),
            valid_through: f.valid_through.as_ref().map_or(String::new(), shown),
            max_offers: text(f.max_offers.as_ref()),
            purpose: text(f.terms.purpose.as_ref()),
            retention_days: f.terms.retention_days.to_string(),
            allow_resale: !f.terms.no_resale,
            allow_tracking: !f.terms.no_tracking,
            withhold: f
                .terms
                .withhold
                .iter()
                .filter_map(|w| WITHHOLDABLE.iter().find(|(_, v, _)| v == w))
                .map(|(n, _, _)| (*n).to_owned())
                .collect(),
            relay: f.relay.as_str().to_owned(),
            public: f.public.iter().map(|p| p.as_str().to_owned()).collect(),
        }
    }

    /// The form as it was sent.
    pub fn posted(p: &Posted) -> Draft {
        let get = |k: &str| p.get(k).to_owned();
        Draft {
            category: get("category"),
            title: get("title"),
            description: get("description"),
            min_price: get("min_price"),
            max_price: get("max_price"),
            currency: get("currency"),
            quantity: get("quantity"),
            area: get("area"),
            delivery: get("delivery"),
            condition: get("condition"),
            valid_from: get("valid_from"),
            valid_through: get("valid_through"),
            max_offers: get("max_offers"),
            purpose: get("purpose"),
            retention_days: get("retention_days"),
            allow_resale: !p.get("allow_resale").is_empty(),
            allow_tracking: !p.get("allow_tracking").is_empty(),
            withhold: p.all("withhold").map(str::to_owned).collect(),
            relay: get("relay"),
            public: p.all("public").map(str::to_owned).collect(),
        }
    }

    /// The intent's fields, or what is wrong with each field. `before` is the intent being
    /// edited: a time left as it was shown keeps its seconds.
    pub fn parse(&self, before: Option<&IntentFields>) -> Result<IntentFields, Errors> {
        let mut e = Errors::default();
        let category = required::<Category>(&mut e, "category", &self.category);
        let title = required::<Line>(&mut e, "title", &self.title);
        let description = optional::<Text>(&mut e, "description", &self.description);
        let min_price = optional::<Amount>(&mut e, "min_price", &self.min_price);
        let max_price = optional::<Amount>(&mut e, "max_price", &self.max_price);
        let currency = optional::<Currency>(&mut e, "currency", &self.currency);
        if currency.is_none()
            && e.of("currency").is_none()
            && (min_price.is_some() || max_price.is_some())
        {
            e.add("currency", "Give the currency of the prices (EUR, USD, …).");
        }
        let quantity = count(&mut e, "quantity", &self.quantity, u32::MAX);
        let area = optional::<Line>(&mut e, "area", &self.area);
        let delivery = optional::<Line>(&mut e, "delivery", &self.delivery);
        let condition = optional::<ItemCondition>(&mut e, "condition", &self.condition);
        let valid_from = when(
            &mut e,
            "valid_from",
            &self.valid_from,
            false,
            before.and_then(|b| b.valid_from),
        );
        let valid_through = when(
            &mut e,
            "valid_through",
            &self.valid_through,
            true,
            before.and_then(|b| b.valid_through),
        );
        let max_offers = count(&mut e, "max_offers", &self.max_offers, MAX_MAX_OFFERS);
        let purpose = optional::<Text>(&mut e, "purpose", &self.purpose);
        let retention_days = if self.retention_days.trim().is_empty() {
            Some(IntentTerms::default().retention_days)
        } else {
            count(&mut e, "retention_days", &self.retention_days, u32::MAX)
        };
        let mut withhold = Vec::new();
        for w in &self.withhold {
            match WITHHOLDABLE.iter().find(|(n, _, _)| n == w) {
                Some((_, f, _)) => withhold.push(*f),
                None => e.add("withhold", format!("{w:?} is not a field an intent has.")),
            }
        }
        let relay = match self.relay.trim() {
            "" => Some(RelayLevel::Off),
            r => r.parse::<RelayLevel>().ok().or_else(|| {
                e.add("relay", "Choose off, announce, sealed or notify.");
                None
            }),
        };
        let mut public = Vec::new();
        for p in &self.public {
            match p.parse::<PublicField>() {
                Ok(f) => public.push(f),
                Err(_) => e.add(
                    "public",
                    format!("{p:?} is not a field an intent may make public."),
                ),
            }
        }
        let (Some(category), Some(title), Some(retention_days), Some(relay), true) =
            (category, title, retention_days, relay, e.is_empty())
        else {
            return Err(e);
        };
        Ok(IntentFields {
            category,
            title,
            description,
            price_specification: currency.map(|c| PriceSpecification {
                min_price,
                max_price,
                price_currency: c,
            }),
            eligible_quantity: quantity,
            area_served: area,
            available_delivery_method: delivery,
            item_condition: condition,
            valid_from,
            valid_through,
            terms: IntentTerms {
                purpose,
                retention_days,
                no_resale: !self.allow_resale,
                no_tracking: !self.allow_tracking,
                withhold,
            },
            max_offers,
            relay,
            public,
        })
    }
}

/// A withheld field, as `--withhold` spells it.
pub fn withhold_name(f: IntentField) -> &'static str {
    WITHHOLDABLE
        .iter()
        .find(|(_, v, _)| *v == f)
        .map_or("?", |(n, _, _)| n)
}

/// An item condition, as `--condition` spells it.
pub fn condition_name(c: ItemCondition) -> String {
    match c {
        ItemCondition::New => "new",
        ItemCondition::Used => "used",
        ItemCondition::Refurbished => "refurbished",
        ItemCondition::Damaged => "damaged",
    }
    .to_owned()
}

/// A field that must be given.
fn required<T: std::str::FromStr<Err = carnet_schemas::InvalidValue>>(
    e: &mut Errors,
    name: &str,
    value: &str,
) -> Option<T> {
    shell::required(e, name, "This field is needed.", value)
}

/// A whole number from 1 to `max`, or nothing.
fn count(e: &mut Errors, name: &str, value: &str, max: u32) -> Option<u32> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    match value.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Some(n),
        _ => {
            e.add(name, format!("Give a whole number from 1 to {max}."));
            None
        }
    }
}

/// A time typed as `datetime-local` (UTC), RFC 3339, or a date alone: its start, or for the
/// window's end (`end`) the end of that day, as `--until DATE` means. A value left as it was
/// shown keeps `before` exactly.
fn when(
    e: &mut Errors,
    name: &str,
    value: &str,
    end: bool,
    before: Option<DateTime<FixedOffset>>,
) -> Option<DateTime<FixedOffset>> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if let Some(b) = before.filter(|b| shown(b) == value) {
        return Some(b);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t);
    }
    for format in [LOCAL_MINUTE, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(value, format) {
            return Some(t.and_utc().fixed_offset());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let day = if end {
            d.checked_add_days(Days::new(1)).unwrap_or(d)
        } else {
            d
        };
        return Some(day.and_hms_opt(0, 0, 0)?.and_utc().fixed_offset());
    }
    e.add(
        name,
        "Give a date and time (2026-12-15T18:00, UTC) or a date (2026-12-15).",
    );
    None
}

/// What the core refused, beside the field of the form it is about (or above the form).
pub fn refused(e: &IntentError) -> Option<Errors> {
    let IntentError::Invalid { field, message } = e else {
        return None;
    };
    let name = match *field {
        "price_specification.min_price" => "min_price",
        "price_specification.max_price" => "max_price",
        "eligible_quantity" => "quantity",
        "terms.retention_days" => "retention_days",
        f @ ("valid_from" | "valid_through" | "max_offers" | "category" | "title" | "relay"
        | "public") => f,
        _ => "",
    };
    let mut errors = Errors::default();
    errors.add(name, sentence(message));
    Some(errors)
}

/// The form, sent to `action`. `activate` offers **Save and activate** beside **Save** (a
/// draft's form, as `--activate`).
pub fn render(
    signed: &Signed,
    action: &str,
    d: &Draft,
    e: &Errors,
    save: &str,
    activate: bool,
) -> Markup {
    html! {
        (e.summary())
        form method="post" action=(action) {
            (csrf(signed))
            (field("Category", "category", Input::Text, &d.category, e,
                Some("A dotted category, e.g. home.appliances.washing-machine. Vendors granted it, or a category above it, see the intent.")))
            (field("Title", "title", Input::Text, &d.title, e, Some("What you want, in a few words.")))
            (field("Description", "description", Input::Area, &d.description, e, None))
            fieldset {
                legend { "Price" }
                div.two {
                    (field("Min price", "min_price", Input::Amount, &d.min_price, e, Some("The least you expect to pay.")))
                    (field("Max price", "max_price", Input::Amount, &d.max_price, e, Some("The most you would pay.")))
                }
                (field("Currency", "currency", Input::Text, &d.currency, e, Some("EUR, USD, … (needed with a price).")))
            }
            div.two {
                (field("Quantity", "quantity", Input::Number, &d.quantity, e, Some("How many (1 or more).")))
                (field("Condition", "condition", Input::Choice(&CONDITIONS), &d.condition, e, None))
            }
            (field("Area", "area", Input::Text, &d.area, e, Some("Where it must be delivered or served (Lyon, 69003).")))
            (field("Delivery", "delivery", Input::Text, &d.delivery, e, Some("How you want it delivered.")))
            fieldset {
                legend { "Buying window (UTC)" }
                div.two {
                    (field("Valid from", "valid_from", Input::DateTime, &d.valid_from, e, Some("Empty: when it is activated.")))
                    (field("Valid through", "valid_through", Input::DateTime, &d.valid_through, e, Some("Empty: 30 days from now.")))
                }
            }
            (field("Max offers", "max_offers", Input::Number, &d.max_offers, e,
                Some(&format!("How many offers it accepts, 1 to {MAX_MAX_OFFERS} (empty: {DEFAULT_MAX_OFFERS})."))))
            fieldset {
                legend { "Terms" }
                (field("Purpose", "purpose", Input::Area, &d.purpose, e, Some("What vendors may use the intent for, in your words.")))
                (field("Retention days", "retention_days", Input::Number, &d.retention_days, e, Some("How many days a vendor may keep what it read, 1 to 3650.")))
                (checkbox("Allow resale (let vendors pass the intent on)", "allow_resale", d.allow_resale))
                (checkbox("Allow tracking (let vendors use the intent to track you)", "allow_tracking", d.allow_tracking))
                fieldset.withhold id="f-withhold" {
                    legend { "Withhold" }
                    small.hint { "Fields vendors do not see (category, title and window are always shown)." }
                    @for (name, _, label) in WITHHOLDABLE {
                        div.check {
                            input id={ "f-withhold-" (name) } type="checkbox" name="withhold" value=(name)
                                checked[d.withhold.iter().any(|w| w == name)];
                            label for={ "f-withhold-" (name) } { (label) }
                        }
                    }
                    @if let Some(err) = e.of("withhold") { p.error { (err) } }
                }
            }
            fieldset {
                legend { "Market relay" }
                (field("Relay", "relay", Input::Choice(&RELAY_LEVELS), &d.relay, e,
                    Some("Announce: once active, every vendor on the market relay subscribed to its category receives its category, your server's region and its window, and the fields below — with no grant from you; each may keep what it receives. Sealed: the whole intent (but what you withhold) goes out encrypted to the market directory vendors you granted its category; others see its category, region, window and how many vendors it went to. Notify: the same vendors are told only where to read it, and read it with their grant. A vendor keeps what it received: revoking it keeps it out of later changes only.")))
                fieldset.withhold id="f-public" {
                    legend { "Public" }
                    small.hint { "With announce only: the fields that go out too (none by default; never one you withhold)." }
                    @for (name, label) in PUBLIC {
                        div.check {
                            input id={ "f-public-" (name) } type="checkbox" name="public" value=(name)
                                checked[d.public.iter().any(|p| p == name)];
                            label for={ "f-public-" (name) } { (label) }
                        }
                    }
                    @if let Some(err) = e.of("public") { p.error { (err) } }
                }
            }
            div.actions {
                button type="submit" name="then" value="save" { (save) }
                @if activate {
                    button.secondary type="submit" name="then" value="activate" { "Save and activate" }
                }
            }
        }
    }
}
