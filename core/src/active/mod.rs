//! The active intents, opened and kept in memory (few: a consumer buys a few things at a
//! time): what vendor pulls and webhook announcements read, what a vendor may see of one, and
//! the first pages served from them. Refreshed after every change commits; never read from
//! the database but at unlock.
//!
//! Never shows a vendor an intent outside its window, outside `active`, or outside the
//! categories its token covers.

use std::collections::{BTreeMap, HashMap, btree_map};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;

use carnet_schemas::{
    Category, IntentField, IntentFields, IntentId, VendorId, VendorIntent, VendorTerms,
};
use chrono::{DateTime, FixedOffset, Utc};

pub mod view;

use crate::access::Access;
use crate::store::Store;
use crate::store::intents::{self as rows, IntentRow, StoredIntentState};
use crate::vault::{Keys, Table, Unreadable, VaultError};
use view::{OnPage, View};

/// An active intent, opened, as vendor pulls need it.
#[derive(Debug, Clone)]
pub struct ActiveIntent {
    pub fields: IntentFields,
    pub updated_at: DateTime<Utc>,
    pub valid_from: DateTime<FixedOffset>,
    pub valid_through: DateTime<FixedOffset>,
    /// Offers received so far (every state counts against `max_offers`).
    pub offers: u32,
    /// What vendors see of it, rendered (`None` until `rendered`).
    pub view: Option<Arc<View>>,
}

/// An intent's state at `now`: an active one whose window has closed is expired (so no
/// background job is needed). Read by the owner's and vendors' services and by the relay's
/// offer intake.
pub fn effective_state(
    stored: StoredIntentState,
    fields: &IntentFields,
    now: DateTime<Utc>,
) -> carnet_schemas::IntentState {
    use carnet_schemas::IntentState;
    match stored {
        StoredIntentState::Draft => IntentState::Draft,
        StoredIntentState::Active if fields.valid_through.is_some_and(|end| now >= end) => {
            IntentState::Expired
        }
        StoredIntentState::Active => IntentState::Active,
        StoredIntentState::Fulfilled => IntentState::Fulfilled,
        StoredIntentState::Withdrawn => IntentState::Withdrawn,
    }
}

/// Whether an intent that received `offers` offers takes one more: the one rule, read by the
/// vendor's view (`accepts_offers`), before an offer takes the vendor's allowance, and again
/// inside the offer's transaction.
pub fn takes_offers(fields: &IntentFields, offers: u32) -> bool {
    offers
        < fields
            .max_offers
            .unwrap_or(carnet_schemas::DEFAULT_MAX_OFFERS)
}

impl ActiveIntent {
    /// `None` for an intent without a window (not yet activated): never visible.
    pub fn new(fields: IntentFields, updated_at: DateTime<Utc>, offers: u32) -> Option<Self> {
        Some(ActiveIntent {
            valid_from: fields.valid_from?,
            valid_through: fields.valid_through?,
            fields,
            updated_at,
            offers,
            view: None,
        })
    }

    /// With its vendor view rendered (as intent `id`).
    pub fn rendered(mut self, id: &IntentId) -> Self {
        self.render(id);
        self
    }

    /// Renders its vendor view again (after what vendors see of it changed).
    fn render(&mut self, id: &IntentId) {
        self.view = View::render(&self.for_vendor(id, String::new())).map(Arc::new);
    }

    /// Whether it takes one more offer.
    pub fn takes_offers(&self) -> bool {
        takes_offers(&self.fields, self.offers)
    }

    /// Inside its buying window at `now` (from inclusive, through exclusive).
    pub fn in_window(&self, now: DateTime<Utc>) -> bool {
        self.valid_from <= now && now < self.valid_through
    }

    /// What a vendor may see: withheld fields left out, the consumer as `customer_ref`.
    pub fn for_vendor(&self, id: &IntentId, customer_ref: String) -> VendorIntent {
        let f = &self.fields;
        let shown = |field: IntentField| !f.terms.withhold.contains(&field);
        VendorIntent {
            id: id.clone(),
            customer_ref,
            updated_at: self.updated_at,
            category: f.category.clone(),
            title: f.title.clone(),
            description: f
                .description
                .clone()
                .filter(|_| shown(IntentField::Description)),
            price_specification: f
                .price_specification
                .clone()
                .filter(|_| shown(IntentField::PriceSpecification)),
            eligible_quantity: f
                .eligible_quantity
                .filter(|_| shown(IntentField::EligibleQuantity)),
            area_served: f
                .area_served
                .clone()
                .filter(|_| shown(IntentField::AreaServed)),
            available_delivery_method: f
                .available_delivery_method
                .clone()
                .filter(|_| shown(IntentField::AvailableDeliveryMethod)),
            item_condition: f
                .item_condition
                .filter(|_| shown(IntentField::ItemCondition)),
            valid_from: self.valid_from,
            valid_through: self.valid_through,
            terms: VendorTerms {
                purpose: f.terms.purpose.clone(),
                retention_days: f.terms.retention_days,
                no_resale: f.terms.no_resale,
                no_tracking: f.terms.no_tracking,
            },
            max_offers: f.max_offers.unwrap_or(carnet_schemas::DEFAULT_MAX_OFFERS),
            accepts_offers: self.takes_offers(),
        }
    }
}

/// The opened set of intents in the stored `active` state (few: a consumer buys a few things
/// at a time), refreshed after every change commits. A generation number moves with every
/// change, so answers computed from the set can be reused until it moves or a window opens or
/// closes.
#[derive(Default)]
pub struct ActiveIntents {
    inner: RwLock<Set>,
    generation: AtomicU64,
    pages: Mutex<HashMap<PageKey, CachedPage>>,
}

/// The active intents by id, in pull order, and their windows' edges.
#[derive(Default)]
struct Set {
    by_id: HashMap<IntentId, ActiveIntent>,
    /// Pull order: when each last changed (ms), then its id.
    order: BTreeMap<PullKey, IntentId>,
    /// Every window's opening and closing instants, with how many windows have each.
    edges: BTreeMap<DateTime<Utc>, u32>,
}

impl Set {
    fn key(id: &IntentId, i: &ActiveIntent) -> PullKey {
        (i.updated_at.timestamp_millis(), id.to_string())
    }

    fn edges(i: &ActiveIntent) -> [DateTime<Utc>; 2] {
        [i.valid_from.to_utc(), i.valid_through.to_utc()]
    }

    fn insert(&mut self, id: IntentId, i: ActiveIntent) {
        self.remove(&id);
        self.order.insert(Set::key(&id, &i), id.clone());
        for t in Set::edges(&i) {
            *self.edges.entry(t).or_default() += 1;
        }
        self.by_id.insert(id, i);
    }

    fn remove(&mut self, id: &IntentId) {
        let Some(i) = self.by_id.remove(id) else {
            return;
        };
        self.order.remove(&Set::key(id, &i));
        for t in Set::edges(&i) {
            if let btree_map::Entry::Occupied(mut e) = self.edges.entry(t) {
                *e.get_mut() -= 1;
                if *e.get() == 0 {
                    e.remove();
                }
            }
        }
    }
}

/// One page of what a token may see at some instant, and how long that stays true.
pub struct Visible {
    /// The page's intents: their ids, and each rendered (see `view::page`).
    pub ids: Vec<String>,
    pub shown: Vec<OnPage>,
    /// The key of the page's last intent, if more follow.
    pub next: Option<PullKey>,
    /// The fields each intent of the page withholds from vendors (intents that withhold none
    /// are left out), for the access log.
    pub withheld: Withheld,
    pub generation: u64,
    /// The next instant an intent's window opens or closes (the view may change then).
    pub until: Option<DateTime<Utc>>,
}

/// Where a visible intent sorts in a pull: when it last changed (ms), then its id.
pub type PullKey = (i64, String);

pub use crate::access::log::Withheld;

/// A first page of a vendor's pull, as served, with the ids it returned.
#[derive(Clone)]
pub struct CachedPage {
    pub body: Bytes,
    pub ids: Arc<Vec<String>>,
    pub withheld: Option<Arc<Withheld>>,
    generation: u64,
    until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    vendor: VendorId,
    categories: Option<Vec<Category>>,
    limit: Option<u32>,
}

/// At most this many cached first pages (one per vendor and token view, in practice).
const MAX_CACHED_PAGES: usize = 1024;

impl ActiveIntents {
    pub fn load(store: &Store, keys: &Keys) -> Result<Self, VaultError> {
        let (rows, counts): (Vec<IntentRow<IntentFields>>, _) = store.read(|c| {
            Ok::<_, crate::store::StoreError>((
                rows::intents(c, Some(StoredIntentState::Active))?,
                rows::offer_counts(c)?,
            ))
        })?;
        let counts: HashMap<String, u32> = counts.into_iter().collect();
        let set = ActiveIntents::default();
        for row in rows {
            let fields: IntentFields = keys.seal().open(&row.id, &row.sealed)?;
            let id = row.id.parse().map_err(|_| Unreadable {
                table: Table::Intents.name(),
                id: row.id.clone(),
            })?;
            let offers = counts.get(&row.id).copied().unwrap_or(0);
            if let Some(active) = ActiveIntent::new(fields, row.updated_at, offers) {
                let active = active.rendered(&id);
                set.inner
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(id, active);
            }
        }
        Ok(set)
    }

    /// Records an intent's new stored state and content (its offers stay counted).
    pub fn set(
        &self,
        id: &IntentId,
        state: StoredIntentState,
        fields: &IntentFields,
        updated_at: DateTime<Utc>,
    ) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let offers = inner.by_id.get(id).map_or(0, |i| i.offers);
        match (state, ActiveIntent::new(fields.clone(), updated_at, offers)) {
            (StoredIntentState::Active, Some(active)) => {
                inner.insert(id.clone(), active.rendered(id));
            }
            _ => {
                inner.remove(id);
            }
        }
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// Counts an offer written on intent `id` (vendors' views say when it is full).
    pub fn offer_made(&self, id: &IntentId) {
        let mut inner = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if let Some(active) = inner.by_id.get_mut(id) {
            active.offers += 1;
            active.render(id);
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// One page of what `access` may see at `now` (changed at or after `since`, if given):
    /// at most `limit` intents after the key `after`, in pull order, and the key of the last
    /// one if more follow. Walks the intents in order from `after` (or `since`) and stops
    /// once the page is full, so a page costs what it shows plus the intents it passes over.
    pub fn visible_page(
        &self,
        access: &Access,
        now: DateTime<Utc>,
        customer_ref: &str,
        since: Option<DateTime<Utc>>,
        after: Option<&PullKey>,
        limit: usize,
    ) -> Visible {
        let set = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let generation = self.generation.load(Ordering::Acquire);
        let until = set
            .edges
            .range((Bound::Excluded(now), Bound::Unbounded))
            .next()
            .map(|(t, _)| *t);
        let from_since = since.map(|t| (t.timestamp_millis(), String::new()));
        let start = match (after, from_since) {
            (Some(a), Some(s)) if *a < s => Bound::Included(s),
            (Some(a), _) => Bound::Excluded(a.clone()),
            (None, Some(s)) => Bound::Included(s),
            (None, None) => Bound::Unbounded,
        };
        let mut withheld = Withheld::new();
        let (mut ids, mut shown) = (Vec::new(), Vec::new());
        let (mut last, mut more) = (None, false);
        for (key, id) in set.order.range((start, Bound::Unbounded)) {
            let Some(i) = set.by_id.get(id) else {
                continue;
            };
            if !(i.in_window(now)
                && access.covers(&i.fields.category)
                && since.is_none_or(|t| i.updated_at >= t))
            {
                continue;
            }
            if ids.len() == limit {
                more = true;
                break;
            }
            if !i.fields.terms.withhold.is_empty() {
                withheld.insert(key.1.clone(), i.fields.terms.withhold.clone());
            }
            shown.push(match &i.view {
                Some(v) => OnPage::View(v.clone()),
                None => OnPage::Built(Box::new(i.for_vendor(id, customer_ref.to_owned()))),
            });
            ids.push(key.1.clone());
            last = Some(key);
        }
        Visible {
            ids,
            shown,
            // More follow: the page ends at its last intent.
            next: last.filter(|_| more).cloned(),
            withheld,
            generation,
            until,
        }
    }

    /// The first page served earlier for this view, if nothing it depends on has changed.
    pub fn cached_page(
        &self,
        access: &Access,
        limit: Option<u32>,
        now: DateTime<Utc>,
    ) -> Option<CachedPage> {
        let key = PageKey {
            vendor: access.vendor_id.clone(),
            categories: access.categories.clone(),
            limit,
        };
        let generation = self.generation.load(Ordering::Acquire);
        let pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        pages
            .get(&key)
            .filter(|p| p.generation == generation && p.until.is_none_or(|u| now < u))
            .cloned()
    }

    /// Keeps a first page for reuse (see `cached_page`).
    pub fn keep_page(
        &self,
        access: &Access,
        limit: Option<u32>,
        seen: &Visible,
        body: Bytes,
        ids: Arc<Vec<String>>,
        withheld: Option<Arc<Withheld>>,
    ) {
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        if pages.len() >= MAX_CACHED_PAGES {
            pages.clear();
        }
        pages.insert(
            PageKey {
                vendor: access.vendor_id.clone(),
                categories: access.categories.clone(),
                limit,
            },
            CachedPage {
                body,
                ids,
                withheld,
                generation: seen.generation,
                until: seen.until,
            },
        );
    }

    /// Active intents whose window is open at `now` (to announce `intent.activated`).
    pub fn open_now(&self, now: DateTime<Utc>) -> Vec<(IntentId, ActiveIntent)> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner
            .by_id
            .iter()
            .filter(|(_, i)| i.in_window(now))
            .map(|(id, i)| (id.clone(), i.clone()))
            .collect()
    }

    /// Active intents whose window has closed at `now` (to announce `intent.expired`).
    pub fn closed(&self, now: DateTime<Utc>) -> Vec<(IntentId, ActiveIntent)> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner
            .by_id
            .iter()
            .filter(|(_, i)| i.valid_through <= now)
            .map(|(id, i)| (id.clone(), i.clone()))
            .collect()
    }

    /// One intent, if `access` may see it at `now`.
    pub fn visible_one(
        &self,
        id: &IntentId,
        access: &Access,
        now: DateTime<Utc>,
    ) -> Option<ActiveIntent> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner
            .by_id
            .get(id)
            .filter(|i| i.in_window(now) && access.covers(&i.fields.category))
            .cloned()
    }
}
