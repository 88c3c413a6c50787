//! Who may do what, in memory: clients (id → vendor and secret hash), live grants, and live
//! tokens (hash → what they allow). Loaded from the database at start; every change is
//! applied here right after its transaction commits, so a revoked grant or removed vendor
//! stops working before the owner's request returns. Request checks never touch the database.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use carnet_schemas::{Category, ClientId, GrantId, ScopeSet, VendorId};
use chrono::{DateTime, Utc};

/// A client as the token endpoint needs it.
#[derive(Debug, Clone)]
pub struct ClientEntry {
    pub vendor_id: VendorId,
    pub secret_hash: [u8; 32],
    /// The grant types it may use at the token endpoint.
    pub grant_types: GrantTypes,
}

/// A grant type the token endpoint knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
}

impl GrantType {
    pub const ALL: [GrantType; 3] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
    ];

    /// Its name in a token request and in registration metadata.
    pub const fn name(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::ClientCredentials => "client_credentials",
        }
    }

    /// The grant type named `name`, if the token endpoint knows it.
    pub fn named(name: &str) -> Option<GrantType> {
        Self::ALL.into_iter().find(|g| g.name() == name)
    }
}

impl std::fmt::Display for GrantType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The grant types a client may use at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrantTypes(u8);

impl GrantTypes {
    /// The grant types the token endpoint knows, each with its bit.
    pub const NAMES: [&'static str; 3] = [
        GrantType::ALL[0].name(),
        GrantType::ALL[1].name(),
        GrantType::ALL[2].name(),
    ];

    /// Every grant type (a client the owner connected).
    pub const ALL: GrantTypes = GrantTypes(0b111);

    /// The grant types of a client record (`None`: all of them); unknown names allow nothing.
    pub fn of(names: Option<&[String]>) -> GrantTypes {
        let Some(names) = names else {
            return GrantTypes::ALL;
        };
        GrantTypes(
            Self::NAMES
                .iter()
                .enumerate()
                .filter(|(_, n)| names.iter().any(|g| g == *n))
                .fold(0, |bits, (i, _)| bits | (1 << i)),
        )
    }

    /// Whether `grant_type` is one of them.
    pub fn allows(self, grant_type: GrantType) -> bool {
        // Bits in `GrantType::ALL` order, which is the order of its discriminants.
        self.0 & (1 << grant_type as u8) != 0
    }
}

/// A grant as access checks need it.
#[derive(Debug, Clone)]
pub struct GrantEntry {
    pub vendor_id: VendorId,
    pub scopes: ScopeSet,
    /// `None`: every category.
    pub categories: Option<Vec<Category>>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
}

impl GrantEntry {
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        !self.revoked && now < self.expires_at
    }

    /// Whether `category` is inside what this grant lets the vendor see.
    pub fn covers(&self, category: &Category) -> bool {
        within(self.categories.as_deref(), category)
    }

    /// Whether this grant lets its vendor read intents of `category` (`intents:read`, and the
    /// category covered): the one rule for webhook events and the market relay's recipients.
    pub fn reads_intents_in(&self, category: &Category) -> bool {
        self.scopes.contains(carnet_schemas::Scope::IntentsRead) && self.covers(category)
    }
}

/// Whether `category` is inside `allowed` (`None`: every category) — the one rule for grants,
/// the tokens narrowed from them, and the webhook events sent under them.
fn within(allowed: Option<&[Category]>, category: &Category) -> bool {
    allowed.is_none_or(|cats| cats.iter().any(|c| c.covers(category)))
}

/// A token as access checks need it.
#[derive(Debug, Clone)]
pub struct TokenEntry {
    pub client_id: ClientId,
    pub grant_id: GrantId,
    pub scopes: ScopeSet,
    /// `None`: every category the grant allows.
    pub categories: Option<Vec<Category>>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub refresh: bool,
    /// The token family of an authorization-code grant (revoked together).
    pub family: Option<String>,
    /// What it allows, built on first use and shared by every request that presents it.
    pub access: OnceLock<Arc<Access>>,
}

/// What a valid access token allows, right now.
#[derive(Debug, Clone)]
pub struct Access {
    pub client_id: ClientId,
    pub vendor_id: VendorId,
    pub grant_id: GrantId,
    pub scopes: ScopeSet,
    /// `None`: every category.
    pub categories: Option<Vec<Category>>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Access {
    /// Whether `category` is inside what this token may see.
    pub fn covers(&self, category: &Category) -> bool {
        within(self.categories.as_deref(), category)
    }
}

#[derive(Default)]
struct Inner {
    clients: HashMap<ClientId, ClientEntry>,
    grants: HashMap<GrantId, GrantEntry>,
    /// The grants of each vendor in `grants` (a vendor has one live grant, and the few it had
    /// before until `prune`), so issuing a token never looks at other vendors' grants.
    grants_of: HashMap<VendorId, Vec<GrantId>>,
    tokens: HashMap<[u8; 32], TokenEntry>,
    /// How many access tokens (not refresh tokens) of each client `tokens` holds.
    access_tokens: HashMap<ClientId, usize>,
}

impl Inner {
    /// One access token of `client` fewer.
    fn forget_one(&mut self, client: &ClientId) {
        if let Some(n) = self.access_tokens.get_mut(client) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.access_tokens.remove(client);
            }
        }
    }

    /// Forgets the grants `keep` refuses, in `grants` and `grants_of` alike.
    fn retain_grants(&mut self, keep: impl Fn(&GrantEntry) -> bool) {
        let grants = &mut self.grants;
        self.grants_of.retain(|_, ids| {
            ids.retain(|id| {
                let kept = grants.get(id).is_some_and(&keep);
                if !kept {
                    grants.remove(id);
                }
                kept
            });
            !ids.is_empty()
        });
    }

    /// Counts the access tokens again, after tokens were dropped in bulk.
    fn recount(&mut self) {
        self.access_tokens.clear();
        for t in self.tokens.values().filter(|t| !t.refresh) {
            *self.access_tokens.entry(t.client_id.clone()).or_default() += 1;
        }
    }
}

#[derive(Default)]
pub struct AccessCache {
    inner: RwLock<Inner>,
}

impl AccessCache {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn client(&self, id: &ClientId) -> Option<ClientEntry> {
        self.read().clients.get(id).cloned()
    }

    pub fn client_of_vendor(&self, vendor: &VendorId) -> Option<ClientId> {
        self.read()
            .clients
            .iter()
            .find(|(_, c)| c.vendor_id == *vendor)
            .map(|(id, _)| id.clone())
    }

    pub fn put_client(&self, id: ClientId, entry: ClientEntry) {
        self.write().clients.insert(id, entry);
    }

    /// Replaces a client's secret; its tokens die with the old secret.
    pub fn rotate_client_secret(&self, id: &ClientId, secret_hash: [u8; 32]) {
        let mut inner = self.write();
        if let Some(c) = inner.clients.get_mut(id) {
            c.secret_hash = secret_hash;
        }
        inner.tokens.retain(|_, t| t.client_id != *id);
        inner.recount();
    }

    pub fn remove_client(&self, id: &ClientId) {
        let mut inner = self.write();
        inner.clients.remove(id);
        inner.tokens.retain(|_, t| t.client_id != *id);
        inner.recount();
    }

    /// The live grant of a vendor (a vendor has at most one).
    pub fn live_grant(
        &self,
        vendor: &VendorId,
        now: DateTime<Utc>,
    ) -> Option<(GrantId, GrantEntry)> {
        let inner = self.read();
        inner
            .grants_of
            .get(vendor)?
            .iter()
            .filter_map(|id| Some((id, inner.grants.get(id)?)))
            .filter(|(_, g)| g.is_live(now))
            .max_by_key(|(_, g)| g.created_at)
            .map(|(id, g)| (id.clone(), g.clone()))
    }

    /// Every vendor's live grant (one each), in no particular order.
    pub fn live_grants(&self, now: DateTime<Utc>) -> Vec<(GrantId, GrantEntry)> {
        let vendors: Vec<VendorId> = self.read().grants_of.keys().cloned().collect();
        vendors
            .iter()
            .filter_map(|v| self.live_grant(v, now))
            .collect()
    }

    pub fn put_grant(&self, id: GrantId, entry: GrantEntry) {
        let mut inner = self.write();
        let of_vendor = inner.grants_of.entry(entry.vendor_id.clone()).or_default();
        if !of_vendor.contains(&id) {
            of_vendor.push(id.clone());
        }
        if let Some(before) = inner.grants.insert(id.clone(), entry)
            && inner
                .grants
                .get(&id)
                .is_some_and(|g| g.vendor_id != before.vendor_id)
        {
            // A grant never changes vendor; should one, it is filed under its new one only.
            if let Some(ids) = inner.grants_of.get_mut(&before.vendor_id) {
                ids.retain(|g| *g != id);
            }
        }
    }

    /// Marks a grant revoked and drops every token issued under it.
    pub fn revoke_grant(&self, id: &GrantId) {
        let mut inner = self.write();
        if let Some(g) = inner.grants.get_mut(id) {
            g.revoked = true;
        }
        inner.tokens.retain(|_, t| t.grant_id != *id);
        inner.recount();
    }

    /// Forgets everything of a removed vendor.
    pub fn remove_vendor(&self, vendor: &VendorId) {
        let mut inner = self.write();
        let clients: Vec<ClientId> = inner
            .clients
            .iter()
            .filter(|(_, c)| c.vendor_id == *vendor)
            .map(|(id, _)| id.clone())
            .collect();
        inner.clients.retain(|_, c| c.vendor_id != *vendor);
        inner.retain_grants(|g| g.vendor_id != *vendor);
        inner.tokens.retain(|_, t| !clients.contains(&t.client_id));
        inner.recount();
    }

    pub fn put_token(&self, hash: [u8; 32], entry: TokenEntry) {
        let mut inner = self.write();
        if !entry.refresh {
            *inner
                .access_tokens
                .entry(entry.client_id.clone())
                .or_default() += 1;
        }
        if let Some(replaced) = inner.tokens.insert(hash, entry)
            && !replaced.refresh
        {
            inner.forget_one(&replaced.client_id);
        }
    }

    /// How many access tokens a client holds (the expired ones among them are forgotten
    /// within a minute, see `prune`).
    pub fn access_tokens_of(&self, client: &ClientId) -> usize {
        self.read().access_tokens.get(client).copied().unwrap_or(0)
    }

    pub fn token(&self, hash: &[u8; 32]) -> Option<TokenEntry> {
        self.read().tokens.get(hash).cloned()
    }

    /// Drops every token of a family (a replayed code or refresh token).
    pub fn revoke_family(&self, family: &str) {
        let mut inner = self.write();
        inner
            .tokens
            .retain(|_, t| t.family.as_deref() != Some(family));
        inner.recount();
    }

    pub fn remove_token(&self, hash: &[u8; 32]) {
        let mut inner = self.write();
        if let Some(removed) = inner.tokens.remove(hash)
            && !removed.refresh
        {
            inner.forget_one(&removed.client_id);
        }
    }

    /// What the access token with this hash allows at `now`, if anything: the token must be
    /// unexpired, and its grant live and its client still there.
    pub fn check(&self, hash: &[u8; 32], now: DateTime<Utc>) -> Option<Arc<Access>> {
        let inner = self.read();
        let t = inner
            .tokens
            .get(hash)
            .filter(|t| !t.refresh && now < t.expires_at)?;
        let g = inner.grants.get(&t.grant_id).filter(|g| g.is_live(now))?;
        let c = inner.clients.get(&t.client_id)?;
        if c.vendor_id != g.vendor_id {
            return None;
        }
        let access = t.access.get_or_init(|| {
            Arc::new(Access {
                client_id: t.client_id.clone(),
                vendor_id: g.vendor_id.clone(),
                grant_id: t.grant_id.clone(),
                scopes: t.scopes,
                categories: t.categories.clone(),
                issued_at: t.issued_at,
                expires_at: t.expires_at,
            })
        });
        Some(Arc::clone(access))
    }

    /// Drops tokens and grants that can no longer be used (expired), to bound memory.
    pub fn prune(&self, now: DateTime<Utc>) {
        let mut inner = self.write();
        inner.tokens.retain(|_, t| now < t.expires_at);
        inner.recount();
        inner.retain_grants(|g| g.is_live(now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn token(
        client: &ClientId,
        grant: &GrantId,
        refresh: bool,
        expires_at: DateTime<Utc>,
    ) -> TokenEntry {
        TokenEntry {
            client_id: client.clone(),
            grant_id: grant.clone(),
            scopes: Default::default(),
            categories: None,
            issued_at: expires_at - chrono::Duration::hours(1),
            expires_at,
            refresh,
            family: refresh.then(|| "fam".to_owned()),
            access: Default::default(),
        }
    }

    #[test]
    fn a_client_may_use_the_grant_types_it_registered() {
        for g in GrantType::ALL {
            assert_eq!(GrantType::named(g.name()), Some(g));
            assert!(GrantTypes::ALL.allows(g));
        }
        assert_eq!(GrantType::named("password"), None);
        let registered = ["refresh_token".to_owned(), "password".to_owned()];
        let types = GrantTypes::of(Some(&registered));
        assert!(types.allows(GrantType::RefreshToken));
        assert!(!types.allows(GrantType::AuthorizationCode));
        assert!(!types.allows(GrantType::ClientCredentials));
    }

    #[test]
    fn a_grant_covers_its_categories_and_below_or_every_one_without_any() {
        let cat = |s: &str| Category::try_from(s.to_owned()).unwrap();
        let grant = |categories: Option<Vec<Category>>| GrantEntry {
            vendor_id: "ven_0000000000000000".parse().unwrap(),
            scopes: Default::default(),
            categories,
            created_at: Utc::now(),
            expires_at: Utc::now(),
            revoked: false,
        };
        let home = grant(Some(vec![cat("home.appliances"), cat("garden")]));
        assert!(home.covers(&cat("home.appliances")));
        assert!(home.covers(&cat("home.appliances.washing-machine")));
        assert!(home.covers(&cat("garden.tools")));
        assert!(!home.covers(&cat("home")));
        assert!(!home.covers(&cat("home.appliancesx")));
        assert!(grant(None).covers(&cat("anything.at-all")));
        assert!(!grant(Some(vec![])).covers(&cat("garden")));
    }

    #[test]
    fn a_vendors_live_grant_is_found_among_many_and_forgotten_with_it() {
        use carnet_schemas::ids::ID_RANDOM_BYTES;
        let id = |a: u8, b: u8| {
            let mut bytes = [0; ID_RANDOM_BYTES];
            (bytes[0], bytes[1]) = (a, b);
            bytes
        };
        let vendor = |i: u8| VendorId::from_random(&id(i, 0));
        let grant_id = |i: u8, k: u8| GrantId::from_random(&id(i, k));
        let noon = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        let grant = |i: u8, created_at: DateTime<Utc>| GrantEntry {
            vendor_id: vendor(i),
            scopes: Default::default(),
            categories: None,
            created_at,
            expires_at: noon + chrono::Duration::days(1),
            revoked: false,
        };
        let cache = AccessCache::default();
        for i in 0..200 {
            cache.put_grant(grant_id(i, 0), grant(i, noon));
        }
        let live = |i: u8, at: DateTime<Utc>| cache.live_grant(&vendor(i), at).map(|(g, _)| g);
        let later = noon + chrono::Duration::hours(1);
        assert_eq!(live(8, later), Some(grant_id(8, 0)));
        assert_eq!(live(250, later), None, "a vendor without a grant");

        // A widening: the newer grant is the live one, before and after the old is revoked.
        cache.put_grant(grant_id(7, 1), grant(7, later));
        assert_eq!(live(7, later), Some(grant_id(7, 1)));
        cache.revoke_grant(&grant_id(7, 0));
        assert_eq!(live(7, later), Some(grant_id(7, 1)));
        // Rewritten in place (same id): still found once.
        cache.put_grant(grant_id(7, 1), grant(7, later));
        cache.revoke_grant(&grant_id(7, 1));
        assert_eq!(live(7, later), None);

        cache.revoke_grant(&grant_id(8, 0));
        assert_eq!(live(8, later), None);
        assert_eq!(live(9, later), Some(grant_id(9, 0)));
        cache.remove_vendor(&vendor(10));
        assert_eq!(live(10, later), None);

        // Expired grants are not live, and `prune` forgets them (and their index).
        let after = noon + chrono::Duration::days(2);
        assert_eq!(live(9, after), None);
        cache.prune(after);
        assert!(cache.read().grants.is_empty() && cache.read().grants_of.is_empty());
        cache.put_grant(grant_id(9, 2), grant(9, after));
        assert_eq!(
            live(9, later),
            Some(grant_id(9, 2)),
            "a new grant is found again"
        );
    }

    #[test]
    fn access_tokens_are_counted_per_client_through_every_way_they_go() {
        let cache = AccessCache::default();
        let (a, b): (ClientId, ClientId) = (
            ClientId::from_random(&[1; carnet_schemas::ids::ID_RANDOM_BYTES]),
            ClientId::from_random(&[2; carnet_schemas::ids::ID_RANDOM_BYTES]),
        );
        let (ga, gb): (GrantId, GrantId) = (
            GrantId::from_random(&[3; carnet_schemas::ids::ID_RANDOM_BYTES]),
            GrantId::from_random(&[4; carnet_schemas::ids::ID_RANDOM_BYTES]),
        );
        let noon = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        let soon = noon + chrono::Duration::minutes(5);
        let later = noon + chrono::Duration::hours(1);
        cache.put_token([1; 32], token(&a, &ga, false, soon));
        cache.put_token([2; 32], token(&a, &ga, false, later));
        cache.put_token([3; 32], token(&a, &ga, true, later)); // a refresh token: not counted
        cache.put_token([4; 32], token(&b, &gb, false, later));
        assert_eq!(cache.access_tokens_of(&a), 2);
        assert_eq!(cache.access_tokens_of(&b), 1);

        cache.remove_token(&[2; 32]);
        cache.remove_token(&[2; 32]); // twice: counted once
        cache.remove_token(&[3; 32]); // a refresh token: nothing to count
        assert_eq!(cache.access_tokens_of(&a), 1);

        // Expired tokens are forgotten at the next prune.
        cache.prune(soon);
        assert_eq!(cache.access_tokens_of(&a), 0);
        assert_eq!(cache.access_tokens_of(&b), 1);

        cache.put_token([5; 32], token(&a, &ga, false, later));
        cache.revoke_grant(&gb);
        assert_eq!(cache.access_tokens_of(&b), 0);
        assert_eq!(cache.access_tokens_of(&a), 1);
        cache.remove_client(&a);
        assert_eq!(cache.access_tokens_of(&a), 0);
    }
}
