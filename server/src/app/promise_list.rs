//! How promises show: open ones with their Kept / Broken buttons (Today, a vendor's page) and
//! a vendor's promise record. Markup only: it reads nothing and changes nothing.

use carnet_schemas::{Followup, PromiseRecord};
use chrono::NaiveDate;
use maud::{Markup, html};

use super::shell::button_form;
use super::signed::Signed;

/// Open promises (as follow-up items), each with its Kept and Broken buttons; a button
/// brings back to the vendor's page if `on_vendor_page`, else to Today.
pub(super) fn open_list(
    signed: &Signed,
    items: &[Followup],
    today: NaiveDate,
    on_vendor_page: bool,
) -> Markup {
    let back = if on_vendor_page { "?back=vendor" } else { "" };
    html! {
        ul.items {
            @for f in items {
                @if let Some(id) = &f.promise_id {
                    li {
                        strong { (f.next_step) } " "
                        @if let Some(d) = f.due {
                            @if d < today { span.tag.late { "late, due " (d) } }
                            @else { span.tag { "due " (d) } }
                        }
                        div.meta {
                            "promised by " a href={ "/app/vendors/" (f.vendor_id) } { (f.vendor_name) }
                        }
                        div.actions {
                            (button_form(signed, &format!("/app/promises/{id}/kept{back}"), "Kept", "secondary"))
                            (button_form(signed, &format!("/app/promises/{id}/broken{back}"), "Broken", "danger"))
                        }
                    }
                }
            }
        }
    }
}

/// A vendor's promise record, in words.
pub(super) fn record(r: &PromiseRecord) -> Markup {
    html! {
        div.facts {
            div { strong { (r.kept) } "promises kept" }
            div { strong { (r.broken) } "broken" }
            div { strong { (r.late) } "late" }
            div { strong { (r.open) } "open" }
            div {
                strong { @match r.median_delay_days { Some(d) => (format!("{d:+} days")), None => "—" } }
                "median delay of kept promises (day kept − day due)"
            }
        }
    }
}
