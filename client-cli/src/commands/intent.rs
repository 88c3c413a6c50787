//! `carnet intent new | list | show | edit | activate | withdraw | fulfil`: what the owner wants
//! to buy, published to granted vendors only while active and inside its window.

use carnet_schemas::{
    Amount, Category, Currency, Grant, GrantState, Intent, IntentFields, IntentId, IntentState,
    IntentTerms, PriceSpecification, RelayLevel, Scope,
};
use chrono::Utc;

use super::intent_view::{print_intent, table, window, window_end};
use super::{Ctx, join, name_of};
use crate::cli::{IntentCmd, IntentEdit, IntentNew, OrClear};
use crate::client::Doc;
use crate::error::{CliError, CliResult};
use crate::output::{self, quoted};

pub fn run(ctx: &Ctx, cmd: IntentCmd) -> CliResult<()> {
    match cmd {
        IntentCmd::New(args) => new(ctx, args),
        IntentCmd::List { state } => list(ctx, state),
        IntentCmd::Show { id } => show(ctx, &id),
        IntentCmd::Edit(args) => edit(ctx, args),
        IntentCmd::Activate { id } => transition(ctx, &id, IntentState::Active),
        IntentCmd::Withdraw { id } => transition(ctx, &id, IntentState::Withdrawn),
        IntentCmd::Fulfil { id } => transition(ctx, &id, IntentState::Fulfilled),
    }
}

fn path(id: &IntentId) -> String {
    format!("/v1/intents/{id}")
}

fn new(ctx: &Ctx, a: IntentNew) -> CliResult<()> {
    // The server keeps such a draft (it may be edited later), but it could not be activated.
    if let Some(until) = a.until.filter(|u| a.activate && u.end() <= Utc::now()) {
        return Err(CliError::usage(format!(
            "--until: the window would be over already ({}), so it cannot be activated",
            window_end(&until.end())
        ))
        .with_hint("give a later --until, or leave out --activate to keep a draft"));
    }
    let x = a.extra;
    let fields = IntentFields {
        category: a.category,
        title: a.title,
        description: a.description,
        // clap makes --min-price and --max-price require --currency.
        price_specification: a.currency.map(|c| PriceSpecification {
            min_price: a.min_price,
            max_price: a.max_price,
            price_currency: c,
        }),
        eligible_quantity: a.quantity,
        area_served: a.area,
        available_delivery_method: x.delivery,
        item_condition: x.condition,
        valid_from: a.from.map(|w| w.start()),
        valid_through: a.until.map(|w| w.end()),
        terms: IntentTerms {
            purpose: x.purpose,
            retention_days: x
                .retention_days
                .unwrap_or(IntentTerms::default().retention_days),
            no_resale: !x.allow_resale,
            no_tracking: !x.allow_tracking,
            withhold: x.withhold,
        },
        max_offers: a.max_offers,
        relay: a.relay.unwrap_or_default(),
        public: a.public,
    };
    warn_if_announced(&fields);
    let created: Doc<Intent> = ctx.client.post("/v1/intents", &fields)?;
    if a.activate {
        return activate_written(ctx, created, "wrote");
    }
    ctx.print(&created, |i| {
        ctx.done(&format!(
            "wrote intent {} {} as a draft: no vendor sees it until `carnet intent activate {}`",
            i.id,
            quoted(i.fields.title.as_str()),
            i.id
        ));
    });
    Ok(())
}

/// Says plainly, before anything goes out, what putting it on the market relay means.
fn warn_if_announced(fields: &IntentFields) {
    if fields.relay.is_boxed() {
        output::message(&format!(
            "relay {}: once active, {} encrypted to the market directory vendors you granted {} (`carnet vendor add --from-directory` and a grant); the relay and other vendors see only its category, your server's region, its window and how many vendors it went to. A vendor who received it keeps it: a later revocation keeps it out of later revisions only",
            fields.relay,
            match fields.relay {
                RelayLevel::Notify => "only where to read it goes out,",
                _ => "the whole intent (but what you withhold) goes out,",
            },
            fields.category
        ));
        return;
    }
    if fields.relay != RelayLevel::Announce {
        return;
    }
    output::message(&format!(
        "relay announce: once active, every vendor on the market relay subscribed to {} receives this intent's category, your server's region and its window{} — with no grant from you; each of them may keep what it receives",
        // What is announced: the category's first two levels.
        fields
            .category
            .as_str()
            .splitn(3, '.')
            .take(2)
            .collect::<Vec<_>>()
            .join("."),
        match fields.public.is_empty() {
            true => String::new(),
            false => format!(", and its {}", join(&fields.public)),
        }
    ));
}

/// Activates an intent just written or changed (`new --activate`, `edit --activate`); if the
/// server refuses, the written draft is still printed with `--json` and the error says so.
fn activate_written(ctx: &Ctx, written: Doc<Intent>, verb: &str) -> CliResult<()> {
    let id = written.value.id.clone();
    match ctx
        .client
        .post_empty::<Intent>(&format!("{}/activate", path(&id)))
    {
        Ok(active) => {
            ctx.print(&active, |i| ctx.done(&activated_line(i, verb)));
            if ctx.json {
                output::message(&activated_line(&active.value, verb));
            }
            say_who_sees(ctx, &active.value)
        }
        Err(mut e) => {
            if ctx.json {
                output::json(&written.raw);
            }
            e.message = format!(
                "{verb} intent {id}, but it is not active: {}",
                e.message.trim_end_matches('.')
            );
            Err(e.or_hint(format!(
                "it is kept as it is; activate it later with `carnet intent activate {id}`"
            )))
        }
    }
}

fn activated_line(i: &Intent, verb: &str) -> String {
    let verb = if verb.is_empty() {
        "activated".to_owned()
    } else {
        format!("{verb} and activated")
    };
    format!(
        "{verb} intent {} {}: visible to granted vendors {}",
        i.id,
        quoted(i.fields.title.as_str()),
        window(&i.fields)
    )
}

/// Says which vendors can see an active intent: those with a live grant reading intents in a
/// category covering it. None is worth saying loudly: the intent reaches no one.
fn say_who_sees(ctx: &Ctx, i: &Intent) -> CliResult<()> {
    let grants: Vec<Doc<Grant>> = ctx.client.get_array("/v1/grants", &[])?;
    let category = &i.fields.category;
    let seeing: Vec<_> = grants
        .iter()
        .map(|g| &g.value)
        .filter(|g| covers(g, category))
        .map(|g| g.fields.vendor_id.clone())
        .collect();
    if i.fields.relay.is_boxed() && seeing.is_empty() {
        output::message(&format!(
            "relay {}: no vendor has a live grant to read intents in {category}, so nothing goes to the market relay yet: add a directory vendor with `carnet vendor add --from-directory ID`, then `carnet grant create VENDOR --scope intents:read --scope offers:write --category {category}`",
            i.fields.relay
        ));
    } else if i.fields.relay.is_boxed() {
        let names = ctx.vendor_names()?;
        output::message(&format!(
            "on the market relay ({}): encrypted to those of the vendors granted {category} that are in the market directory: {}",
            i.fields.relay,
            join(seeing.iter().map(|v| name_of(&names, v)))
        ));
    } else if i.fields.relay == RelayLevel::Announce {
        output::message(&format!(
            "announced on the market relay: vendors subscribed to its category receive it{}",
            if seeing.is_empty() {
                String::new()
            } else {
                format!("; granted vendors too: {}", {
                    let names = ctx.vendor_names()?;
                    join(seeing.iter().map(|v| name_of(&names, v)))
                })
            }
        ));
    } else if seeing.is_empty() {
        output::message(&format!(
            "no vendor has a live grant to read intents in {category}, so none sees it yet: \
give one with `carnet grant create VENDOR --scope intents:read --scope offers:write --category {category}`"
        ));
    } else {
        let names = ctx.vendor_names()?;
        output::message(&format!(
            "vendors granted {category}: {}",
            join(seeing.iter().map(|v| name_of(&names, v)))
        ));
    }
    Ok(())
}

fn covers(g: &Grant, category: &Category) -> bool {
    g.state == GrantState::Live
        && g.fields.scopes.contains(&Scope::IntentsRead)
        && (g.fields.all_categories || g.fields.categories.iter().any(|c| c.covers(category)))
}

fn list(ctx: &Ctx, state: Option<IntentState>) -> CliResult<()> {
    let query: Vec<_> = state
        .map(|s| ("state", s.as_str().to_owned()))
        .into_iter()
        .collect();
    let items: Vec<Doc<Intent>> = ctx.client.get_array("/v1/intents", &query)?;
    let empty = match state {
        Some(s) => format!("no {s} intents"),
        None => "no intents yet; write one with `carnet intent new --category CAT --title TEXT`"
            .to_owned(),
    };
    ctx.print_list(&items, &empty, |items| table(items).print());
    Ok(())
}

fn show(ctx: &Ctx, id: &IntentId) -> CliResult<()> {
    let doc: Doc<Intent> = ctx.client.get(&path(id), &[])?;
    ctx.print(&doc, |i| print_intent(i).print());
    Ok(())
}

fn edit(ctx: &Ctx, a: IntentEdit) -> CliResult<()> {
    let current: Doc<Intent> = ctx.client.get(&path(&a.id), &[])?;
    let mut f = current.value.fields;
    if let Some(c) = a.category {
        f.category = c;
    }
    if let Some(t) = a.title {
        f.title = t;
    }
    OrClear::set(&mut f.description, a.description);
    f.price_specification = apply_price(
        f.price_specification,
        a.min_price,
        a.max_price,
        a.currency,
        &a.id,
    )?;
    OrClear::set(&mut f.eligible_quantity, a.quantity);
    OrClear::set(&mut f.area_served, a.area);
    OrClear::set(&mut f.valid_from, a.from.map(|w| w.map(|w| w.start())));
    OrClear::set(&mut f.valid_through, a.until.map(|w| w.map(|w| w.end())));
    OrClear::set(&mut f.max_offers, a.max_offers);
    OrClear::set(&mut f.available_delivery_method, a.delivery);
    OrClear::set(&mut f.item_condition, a.condition);
    OrClear::set(&mut f.terms.purpose, a.purpose);
    if let Some(d) = a.retention_days {
        f.terms.retention_days = d;
    }
    if a.allow_resale || a.forbid_resale {
        f.terms.no_resale = a.forbid_resale;
    }
    if a.allow_tracking || a.forbid_tracking {
        f.terms.no_tracking = a.forbid_tracking;
    }
    if let Some(w) = a.withhold {
        f.terms.withhold = w.into_iter().filter_map(OrClear::into_option).collect();
    }
    let was = f.relay;
    if let Some(level) = a.relay {
        f.relay = level;
        // Public fields are announce's alone: moving to sealed or notify drops them, unless
        // --public names some (which the server then refuses, with the reason).
        if level.is_boxed() && a.public.is_none() {
            f.public.clear();
        }
    }
    if let Some(p) = a.public {
        f.public = p.into_iter().filter_map(OrClear::into_option).collect();
    }
    if was != f.relay {
        warn_if_announced(&f);
    }
    let changed: Doc<Intent> = ctx.client.put(&path(&a.id), &f)?;
    if a.activate && changed.value.state == IntentState::Draft {
        return activate_written(ctx, changed, "changed");
    }
    ctx.print(&changed, |i| {
        let seen = if i.state == IntentState::Active {
            ": vendors see the change at their next pull"
        } else {
            ""
        };
        ctx.done(&format!(
            "changed intent {} {} ({}){seen}",
            i.id,
            quoted(i.fields.title.as_str()),
            i.state
        ));
    });
    Ok(())
}

/// The price range after `edit`: the bounds given replace the current ones ('' removes one),
/// the currency is the one given or the current one. An intent without a price needs
/// `--currency` with a bound; once both bounds are removed (and no currency is given) there is
/// no price at all.
pub fn apply_price(
    current: Option<PriceSpecification>,
    min: Option<OrClear<Amount>>,
    max: Option<OrClear<Amount>>,
    currency: Option<Currency>,
    id: &IntentId,
) -> CliResult<Option<PriceSpecification>> {
    if min.is_none() && max.is_none() && currency.is_none() {
        return Ok(current);
    }
    let (mut lo, mut hi, had) = match current {
        Some(p) => (p.min_price, p.max_price, Some(p.price_currency)),
        None => (None, None, None),
    };
    let given: Vec<&str> = [(&min, "--min-price"), (&max, "--max-price")]
        .iter()
        .filter(|(v, _)| matches!(v, Some(OrClear::Set(_))))
        .map(|(_, n)| *n)
        .collect();
    if let Some(m) = min {
        lo = m.into_option();
    }
    if let Some(m) = max {
        hi = m.into_option();
    }
    let currency_given = currency.is_some();
    let Some(c) = currency.or(had) else {
        if lo.is_none() && hi.is_none() {
            return Ok(None);
        }
        return Err(CliError::usage(format!(
            "{} needs --currency: intent {id} has no price yet",
            given.join(" and ")
        ))
        .with_hint(format!(
            "say the currency too, e.g. `carnet intent edit {id} {} N --currency EUR`",
            given.first().copied().unwrap_or("--max-price")
        )));
    };
    if lo.is_none() && hi.is_none() && !currency_given {
        return Ok(None);
    }
    Ok(Some(PriceSpecification {
        min_price: lo,
        max_price: hi,
        price_currency: c,
    }))
}

fn transition(ctx: &Ctx, id: &IntentId, to: IntentState) -> CliResult<()> {
    let before: Doc<Intent> = ctx.client.get(&path(id), &[])?;
    let verb = match to {
        IntentState::Active => "activate",
        IntentState::Withdrawn => "withdraw",
        _ => "fulfil",
    };
    let after: Doc<Intent> = ctx.client.post_empty(&format!("{}/{verb}", path(id)))?;
    let i = &after.value;
    let title = quoted(i.fields.title.as_str());
    let line = if before.value.state == to {
        format!("intent {id} {title} was already {to}")
    } else {
        match to {
            IntentState::Active => activated_line(i, ""),
            IntentState::Withdrawn => {
                format!("withdrew intent {id} {title}: no vendor sees it any more")
            }
            _ => format!("intent {id} {title} is fulfilled: no vendor sees it any more"),
        }
    };
    ctx.print(&after, |_| ctx.done(&line));
    if ctx.json {
        output::message(&line);
    }
    if before.value.state == to {
        return Ok(());
    }
    match to {
        IntentState::Active => say_who_sees(ctx, i)?,
        IntentState::Fulfilled => output::message(
            "no purchase was recorded (accepting an offer records one): add it with \
`carnet purchase add VENDOR --item TEXT --amount DECIMAL --currency CODE`",
        ),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::intent_view::{last_day, price_text};

    fn amount(s: &str) -> Amount {
        s.parse().unwrap()
    }

    fn eur() -> Currency {
        "EUR".parse().unwrap()
    }

    fn spec(lo: Option<&str>, hi: Option<&str>) -> PriceSpecification {
        PriceSpecification {
            min_price: lo.map(amount),
            max_price: hi.map(amount),
            price_currency: eur(),
        }
    }

    fn id() -> IntentId {
        "itt_0123456789abcdef".parse().unwrap()
    }

    #[test]
    fn prices_read_as_ranges() {
        assert_eq!(price_text(None), "");
        assert_eq!(price_text(Some(&spec(None, Some("700")))), "≤ 700 EUR");
        assert_eq!(
            price_text(Some(&spec(Some("500"), Some("700")))),
            "500–700 EUR"
        );
        assert_eq!(price_text(Some(&spec(Some("500"), None))), "≥ 500 EUR");
        assert_eq!(price_text(Some(&spec(Some("7"), Some("7")))), "7 EUR");
        assert_eq!(price_text(Some(&spec(None, None))), "any price in EUR");
    }

    #[test]
    fn editing_a_price_keeps_what_is_not_given() {
        let cur = Some(spec(Some("500"), Some("700")));
        let same = apply_price(cur.clone(), None, None, None, &id()).unwrap();
        assert_eq!(same, cur);
        let higher = apply_price(
            cur.clone(),
            None,
            Some(OrClear::Set(amount("750"))),
            None,
            &id(),
        )
        .unwrap();
        assert_eq!(higher, Some(spec(Some("500"), Some("750"))));
        let no_min = apply_price(cur.clone(), Some(OrClear::Clear), None, None, &id()).unwrap();
        assert_eq!(no_min, Some(spec(None, Some("700"))));
        let none = apply_price(
            cur.clone(),
            Some(OrClear::Clear),
            Some(OrClear::Clear),
            None,
            &id(),
        )
        .unwrap();
        assert_eq!(none, None);
        let usd: Currency = "USD".parse().unwrap();
        let in_usd = apply_price(cur, None, None, Some(usd.clone()), &id()).unwrap();
        assert_eq!(in_usd.unwrap().price_currency, usd);
    }

    #[test]
    fn a_first_price_needs_a_currency() {
        let e =
            apply_price(None, None, Some(OrClear::Set(amount("700"))), None, &id()).unwrap_err();
        assert_eq!(e.kind.code(), 2);
        assert!(e.message.contains("--max-price needs --currency"), "{e:?}");
        let ok = apply_price(
            None,
            None,
            Some(OrClear::Set(amount("700"))),
            Some(eur()),
            &id(),
        )
        .unwrap();
        assert_eq!(ok, Some(spec(None, Some("700"))));
        assert_eq!(
            apply_price(None, Some(OrClear::Clear), None, None, &id()).unwrap(),
            None
        );
    }

    #[test]
    fn a_window_ending_at_local_midnight_ends_at_24_00_the_day_before() {
        let end: crate::when::When = "2026-12-15".parse().unwrap();
        assert_eq!(window_end(&end.end()), "2026-12-15 24:00");
        let t: crate::when::When = "2026-12-15T14:30".parse().unwrap();
        assert_eq!(window_end(&t.start()), "2026-12-15 14:30");
        assert_eq!(last_day(&end.end()), "2026-12-15");
        assert_eq!(last_day(&t.start()), "2026-12-15");
    }
}
