//! The active intents, opened and kept in memory (few: a consumer buys a few things at a
//! time): what vendor pulls and webhook announcements read, what a vendor may see of one, and
//! the first pages served from them. Refreshed after every change commits; never read from
//! the database but at unlock.
//!
//! Never shows a vendor an intent outside its window, outside `active`, or outside the
//! categories its token covers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;

use carnet_schemas::{
    Category, IntentField, IntentFields, IntentId, Page, VendorId, VendorIntent, VendorTerms,
};
use chrono::{DateTime, FixedOffset, Utc};

use crate::access::Access;
use crate::store::Store;
use crate::store::intents::{self as rows, IntentRow, StoredIntentState};
use crate::vault::{Keys, Table, Unreadable, VaultError};

/// An active intent, opened, as vendor pulls need it.
#[derive(Debug, Clone)]
pub struct ActiveIntent {
    pub fields: IntentFields,
    pub updated_at: DateTime<Utc>,
    pub valid_from: DateTime<FixedOffset>,
    pub valid_through: DateTime<FixedOffset>,
    /// Offers received so far (every state counts against `max_offers`).
    pub offers: u32,
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
        })
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
    inner: RwLock<HashMap<IntentId, ActiveIntent>>,
    generation: AtomicU64,
    pages: Mutex<HashMap<PageKey, CachedPage>>,
}

/// One page of what a token may see at some instant, and how long that stays true.
pub struct Visible {
    /// The page, as the vendor sees it.
    pub page: Page<VendorIntent>,
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
        let offers = inner.get(id).map_or(0, |i| i.offers);
        match (state, ActiveIntent::new(fields.clone(), updated_at, offers)) {
            (StoredIntentState::Active, Some(active)) => {
                inner.insert(id.clone(), active);
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
        if let Some(active) = inner.get_mut(id) {
            active.offers += 1;
            self.generation.fetch_add(1, Ordering::Release);
        }
    }

    /// One page of what `access` may see at `now` (changed at or after `since`, if given), as
    /// the vendor sees it (`customer_ref` filled in). `cut` chooses the page from the keys of
    /// every intent visible; only the intents on the page are built, so a page costs a sort of
    /// keys plus what it shows.
    pub fn visible_page<E>(
        &self,
        access: &Access,
        now: DateTime<Utc>,
        customer_ref: &str,
        since: Option<DateTime<Utc>>,
        cut: impl FnOnce(Vec<(PullKey, IntentId)>) -> Result<Page<IntentId>, E>,
    ) -> Result<Visible, E> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let generation = self.generation.load(Ordering::Acquire);
        let until = inner
            .values()
            .flat_map(|i| [i.valid_from.to_utc(), i.valid_through.to_utc()])
            .filter(|t| *t > now)
            .min();
        let keys = inner
            .iter()
            .filter(|(_, i)| i.in_window(now) && access.covers(&i.fields.category))
            .filter(|(_, i)| since.is_none_or(|t| i.updated_at >= t))
            .map(|(id, i)| {
                (
                    (i.updated_at.timestamp_millis(), id.to_string()),
                    id.clone(),
                )
            })
            .collect();
        let chosen = cut(keys)?;
        let mut withheld = Withheld::new();
        let items = chosen
            .items
            .iter()
            .filter_map(|id| inner.get_key_value(id))
            .map(|(id, i)| {
                if !i.fields.terms.withhold.is_empty() {
                    withheld.insert(id.to_string(), i.fields.terms.withhold.clone());
                }
                i.for_vendor(id, customer_ref.to_owned())
            })
            .collect();
        Ok(Visible {
            page: Page {
                items,
                next_cursor: chosen.next_cursor,
            },
            withheld,
            generation,
            until,
        })
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
            .iter()
            .filter(|(_, i)| i.in_window(now))
            .map(|(id, i)| (id.clone(), i.clone()))
            .collect()
    }

    /// Active intents whose window has closed at `now` (to announce `intent.expired`).
    pub fn closed(&self, now: DateTime<Utc>) -> Vec<(IntentId, ActiveIntent)> {
        let inner = self.inner.read().unwrap_or_else(|p| p.into_inner());
        inner
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
            .get(id)
            .filter(|i| i.in_window(now) && access.covers(&i.fields.category))
            .cloned()
    }
}
