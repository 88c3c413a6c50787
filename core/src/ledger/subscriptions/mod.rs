//! Subscriptions and contracts: what the household pays a vendor on a rhythm, sealed like every
//! record (only the id, the vendor and the row's times are clear). Their dates (`schedule`)
//! are computed on the day asked, never stored. There are few of them, so they are read from
//! their table, not from the ledger index (they are not in search either). Never writes a
//! subscription of a vendor that does not exist, nor an amount its currency cannot have.

mod schedule;

use std::sync::Arc;

use carnet_schemas::ids::SubscriptionKind;
use carnet_schemas::{
    IntentFields, NewSubscription, PaymentProjection, PaymentQuery, PriceSpecification,
    Subscription, SubscriptionCancel, SubscriptionFields, SubscriptionId, SubscriptionPatch,
    SubscriptionQuery, SubscriptionState, VendorId, ids::ID_RANDOM_BYTES,
};
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rusqlite::Connection;

use super::error::invalid;
use super::kind::vendor_exists;
use super::{LedgerError, Opened, open};
use crate::credential::random_bytes;
use crate::crypto::{Keys, Sealable};
use crate::store::Store;
use crate::store::records::{self, Row};

pub use schedule::{
    at, next_payment, notice_deadline, payment, payments_between, projection, renewal, state,
    year_through,
};

/// The most days of notice a contract may ask (ten years).
pub const MAX_NOTICE_DAYS: u32 = 3660;

type Stored = Opened<SubscriptionKind, SubscriptionFields>;

fn wire(o: Stored, today: NaiveDate) -> Subscription {
    let (created_at, updated_at) = (o.row.created_at, o.row.updated_at);
    answer(o.id, (created_at, updated_at), o.fields, today)
}

fn answer(
    id: SubscriptionId,
    (created_at, updated_at): (DateTime<Utc>, DateTime<Utc>),
    fields: SubscriptionFields,
    today: NaiveDate,
) -> Subscription {
    at(
        Subscription {
            id,
            created_at,
            updated_at,
            fields,
            state: SubscriptionState::Active,
            next_payment: None,
            renewal: None,
            notice_deadline: None,
        },
        today,
    )
}

/// The rules a subscription's content follows on its own.
pub fn check(f: &SubscriptionFields) -> Result<(), LedgerError> {
    f.amount
        .fits(&f.currency)
        .map_err(|e| invalid("amount", e.0))?;
    if let Some(days) = f.notice_days
        && days > MAX_NOTICE_DAYS
    {
        return Err(invalid(
            "notice_days",
            format!(
                "a notice of {days} days is more than the {MAX_NOTICE_DAYS} days (ten years) Carnet takes"
            ),
        ));
    }
    Ok(())
}

fn not_found(id: &SubscriptionId) -> LedgerError {
    LedgerError::NotFound {
        noun: "subscription",
        id: id.to_string(),
    }
}

fn get(conn: &Connection, keys: &Keys, id: &SubscriptionId) -> Result<Stored, LedgerError> {
    let row =
        records::get::<SubscriptionFields>(conn, id.as_str())?.ok_or_else(|| not_found(id))?;
    Ok(open(keys, row)?)
}

fn all(
    conn: &Connection,
    keys: &Keys,
    vendor: Option<&VendorId>,
) -> Result<Vec<Stored>, LedgerError> {
    records::list::<SubscriptionFields>(conn, vendor.map(|v| v.as_str()))?
        .into_iter()
        .map(|r| Ok(open(keys, r)?))
        .collect()
}

/// Records a subscription (active: a cancellation is its own step).
pub async fn create(
    store: &Store,
    keys: &Keys,
    new: NewSubscription,
    now: DateTime<Utc>,
) -> Result<Subscription, LedgerError> {
    let fields = SubscriptionFields {
        vendor_id: new.vendor_id,
        item: new.item,
        amount: new.amount,
        currency: new.currency,
        every: new.every,
        next: new.next,
        notice_days: new.notice_days,
        ends: new.ends,
        category: new.category,
        cancelled_at: None,
        note: new.note,
    };
    check(&fields)?;
    let id: SubscriptionId = carnet_schemas::Id::from_random(&random_bytes::<ID_RANDOM_BYTES>());
    let row = Row {
        id: id.to_string(),
        vendor_id: Some(fields.vendor_id.to_string()),
        created_at: now,
        updated_at: now,
        sealed: keys.seal().seal(id.as_str(), &fields),
    };
    let vendor = fields.vendor_id.clone();
    store
        .write(move |c| {
            vendor_exists(c, &vendor)?;
            records::insert(c, &row)?;
            Ok::<_, LedgerError>(())
        })
        .await?;
    Ok(answer(
        id,
        (now, now),
        fields,
        super::profile::today(store, keys, now)?,
    ))
}

/// One subscription.
pub fn show(
    store: &Store,
    keys: &Keys,
    id: &SubscriptionId,
    now: DateTime<Utc>,
) -> Result<Subscription, LedgerError> {
    let o = store.read(|c| get(c, keys, id))?;
    Ok(wire(o, super::profile::today(store, keys, now)?))
}

/// The subscriptions `q` asks for (their state on today), soonest next payment first (those
/// with none last), then by id.
pub fn list(
    store: &Store,
    keys: &Keys,
    q: &SubscriptionQuery,
    now: DateTime<Utc>,
) -> Result<Vec<Subscription>, LedgerError> {
    list_on(store, keys, q, super::profile::today(store, keys, now)?)
}

/// `list` as of day `day`.
fn list_on(
    store: &Store,
    keys: &Keys,
    q: &SubscriptionQuery,
    day: NaiveDate,
) -> Result<Vec<Subscription>, LedgerError> {
    let mut items: Vec<Subscription> = store
        .read(|c| all(c, keys, q.vendor.as_ref()))?
        .into_iter()
        .map(|o| wire(o, day))
        .filter(|s| q.state.is_none_or(|st| s.state == st))
        .collect();
    items.sort_by(|a, b| {
        let key = |s: &Subscription| (s.next_payment.is_none(), s.next_payment, s.id.to_string());
        key(a).cmp(&key(b))
    });
    Ok(items)
}

/// Rewrites subscription `id` with what `change` makes of its content, checked.
async fn update(
    store: &Store,
    keys: &Arc<Keys>,
    id: &SubscriptionId,
    now: DateTime<Utc>,
    change: impl FnOnce(&Stored) -> Result<SubscriptionFields, LedgerError> + Send + 'static,
) -> Result<Subscription, LedgerError> {
    let today = super::profile::today(store, keys, now)?;
    let (keys, id) = (Arc::clone(keys), id.clone());
    let o = store
        .write(move |c| {
            let mut old = get(c, &keys, &id)?;
            let fields = change(&old)?;
            check(&fields)?;
            let sealed = keys.seal().seal(id.as_str(), &fields);
            records::update(c, id.as_str(), now, &sealed)?;
            old.row.updated_at = now;
            old.fields = fields;
            Ok::<_, LedgerError>(old)
        })
        .await?;
    Ok(wire(o, today))
}

/// Changes the fields `patch` names (its vendor stays).
pub async fn edit(
    store: &Store,
    keys: &Arc<Keys>,
    id: &SubscriptionId,
    patch: SubscriptionPatch,
    now: DateTime<Utc>,
) -> Result<Subscription, LedgerError> {
    update(store, keys, id, now, move |old| {
        let mut f = old.fields.clone();
        let p = patch;
        f.item = p.item.unwrap_or(f.item);
        f.amount = p.amount.unwrap_or(f.amount);
        f.currency = p.currency.unwrap_or(f.currency);
        f.every = p.every.unwrap_or(f.every);
        f.next = p.next.unwrap_or(f.next);
        f.notice_days = p.notice_days.unwrap_or(f.notice_days);
        f.ends = p.ends.unwrap_or(f.ends);
        f.category = p.category.unwrap_or(f.category);
        f.cancelled_at = p.cancelled_at.unwrap_or(f.cancelled_at);
        f.note = p.note.unwrap_or(f.note);
        Ok(f)
    })
    .await
}

/// Cancels a subscription: nothing is paid after `at` (default today). One already cancelled
/// is a conflict (its day changes with an edit).
pub async fn cancel(
    store: &Store,
    keys: &Arc<Keys>,
    id: &SubscriptionId,
    body: SubscriptionCancel,
    now: DateTime<Utc>,
) -> Result<Subscription, LedgerError> {
    let day = super::profile::today(store, keys, now)?;
    let at = body.at.unwrap_or(day);
    update(store, keys, id, now, move |old| {
        if let Some(was) = old.fields.cancelled_at {
            return Err(LedgerError::Conflict {
                detail: format!("subscription {} is already cancelled as of {was}", old.id),
                hint: "see it with `carnet subscription show ID`; its day changes through the API (PATCH /v1/subscriptions/ID with cancelled_at; null takes the cancellation back)",
            });
        }
        let mut f = old.fields.clone();
        f.cancelled_at = Some(at);
        Ok(f)
    })
    .await
}

/// Deletes a subscription.
pub async fn delete(store: &Store, id: &SubscriptionId) -> Result<(), LedgerError> {
    let (row_id, table) = (id.to_string(), SubscriptionFields::TABLE);
    let found = store
        .write(move |c| records::delete(c, table, &row_id))
        .await?;
    if found { Ok(()) } else { Err(not_found(id)) }
}

/// The projected payments of the 12 months from today, of one vendor's or one
/// subscription's if asked.
pub fn payments(
    store: &Store,
    keys: &Keys,
    q: &PaymentQuery,
    now: DateTime<Utc>,
) -> Result<PaymentProjection, LedgerError> {
    let day = super::profile::today(store, keys, now)?;
    let subs: Vec<Subscription> = store
        .read(|c| all(c, keys, q.vendor.as_ref()))?
        .into_iter()
        .filter(|o| q.subscription.as_ref().is_none_or(|id| *id == o.id))
        .map(|o| wire(o, day))
        .collect();
    projection(&subs, day)
}

/// Active subscriptions whose notice deadline falls from today through `days` days on,
/// soonest first (what Today shows).
pub fn renewals_within(
    store: &Store,
    keys: &Keys,
    days: u64,
    now: DateTime<Utc>,
) -> Result<Vec<Subscription>, LedgerError> {
    renewals_on(store, keys, super::profile::today(store, keys, now)?, days)
}

/// `renewals_within` as of day `day` (a reminder scheduler's own day): the subscriptions
/// whose notice deadline falls from `day` through `days` days on, their dates computed on
/// `day`.
pub fn renewals_on(
    store: &Store,
    keys: &Keys,
    day: NaiveDate,
    days: u64,
) -> Result<Vec<Subscription>, LedgerError> {
    let through = day
        .checked_add_days(chrono::Days::new(days))
        .unwrap_or(NaiveDate::MAX);
    let mut due: Vec<Subscription> = list_on(store, keys, &SubscriptionQuery::default(), day)?
        .into_iter()
        .filter(|s| s.notice_deadline.is_some_and(|d| d >= day && d <= through))
        .collect();
    due.sort_by_key(|s| (s.notice_deadline, s.id.to_string()));
    Ok(due)
}

/// The draft intent that asks the market before subscription `id` renews (`shop_intent` in
/// the owner's time zone).
pub fn shop(
    store: &Store,
    keys: &Keys,
    id: &SubscriptionId,
    now: DateTime<Utc>,
) -> Result<IntentFields, LedgerError> {
    let sub = show(store, keys, id, now)?;
    shop_intent(&sub, now, super::profile::time_zone(store, keys)?)
}

/// The draft intent that asks the market before subscription `s` renews: its category, its
/// current price as the maximum, a window from now to the end of the notice deadline's day
/// (in `tz`, the owner's). Refused (a conflict) without a category, without a notice deadline, or once it has
/// passed.
pub fn shop_intent(
    s: &Subscription,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<IntentFields, LedgerError> {
    let conflict = |detail: String, hint| LedgerError::Conflict { detail, hint };
    let Some(category) = s.fields.category.clone() else {
        return Err(conflict(
            format!("subscription {} has no category to ask the market in", s.id),
            "give it one: carnet subscription edit ID --category CAT (PATCH category)",
        ));
    };
    let Some(deadline) = s.notice_deadline else {
        let detail = if s.fields.cancelled_at.is_some() {
            format!("subscription {} is cancelled: it does not renew", s.id)
        } else {
            format!("subscription {} has no notice deadline", s.id)
        };
        return Err(conflict(
            detail,
            "a notice deadline needs notice days: carnet subscription edit ID --notice-days N (PATCH notice_days)",
        ));
    };
    if deadline < now.with_timezone(&tz).date_naive() {
        return Err(conflict(
            format!(
                "the notice deadline of subscription {} passed on {deadline}",
                s.id
            ),
            "it renews as it is; shop before the next deadline, or record the end of the new term (--ends)",
        ));
    }
    // The end of the deadline's day where the owner lives (the later instant when a change of
    // offset makes that local time twice; UTC when it does not exist).
    let end = deadline.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default());
    let end = tz
        .from_local_datetime(&end)
        .latest()
        .map_or_else(|| end.and_utc().fixed_offset(), |t| t.fixed_offset());
    Ok(IntentFields {
        category,
        title: s.fields.item.clone(),
        description: None,
        price_specification: Some(PriceSpecification {
            min_price: None,
            max_price: Some(s.fields.amount.clone()),
            price_currency: s.fields.currency.clone(),
        }),
        eligible_quantity: None,
        area_served: None,
        available_delivery_method: None,
        item_condition: None,
        valid_from: Some(now.fixed_offset()),
        valid_through: Some(end),
        terms: Default::default(),
        max_offers: None,
        relay: Default::default(),
        public: Vec::new(),
    })
}
