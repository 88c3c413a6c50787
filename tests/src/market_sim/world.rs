//! The generated market: a taxonomy, the directory's vendors (keys, categories), and the vaults
//! (their hosts, grants and intents), all drawn from one seed so a failure can be run again.
//!
//! It only describes; it never talks to the relay. The vaults' grants here are the oracle's
//! ground truth: a vault reads them to choose a box's recipients (`vault`), and the oracle reads
//! them again, with the revocation log, to judge what each vendor opened (`oracle`).

use carnet_market::directory::{AcceptedTerms, Directory, DirectoryVendor};
use carnet_market::keys::{SigningKey, VendorKeys};
use carnet_market::wire::announcement::{IntentKeys, Level};
use carnet_market::wire::{Category, Host, Region, VendorId};
use chrono::{DateTime, Duration, Utc};

/// First-level categories of the taxonomy.
pub const TOPS: usize = 10;
/// Second levels under each first level.
pub const SUBS: usize = 5;
/// The regions vaults announce in (vendors listen to every region).
pub const REGIONS: [&str; 3] = ["FR", "DE", "FR-75"];

/// How big a market to make.
#[derive(Debug, Clone, Copy)]
pub struct Size {
    pub vaults: usize,
    pub vendors: usize,
    /// Vault hosts: each holds `vaults / hosts` vaults behind one connection and one set of
    /// credentials, as a hosting provider would.
    pub hosts: usize,
    pub seed: u64,
}

/// A tiny xorshift64* generator: the same market from the same seed, no crate needed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// `k` distinct numbers of `0..n`, in the order drawn.
    pub fn distinct(&mut self, k: usize, n: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(k);
        while out.len() < k.min(n) {
            let x = self.below(n);
            if !out.contains(&x) {
                out.push(x);
            }
        }
        out
    }
}

/// One directory vendor, with its private keys (the simulation plays it).
pub struct SimVendor {
    pub id: VendorId,
    pub keys: VendorKeys,
    /// Indexes into `World::categories`: what it registered for.
    pub categories: Vec<usize>,
}

/// A vault's grant to one directory vendor.
#[derive(Debug, Clone)]
pub struct Grant {
    pub vendor: usize,
    /// Indexes into `World::categories`.
    pub categories: Vec<usize>,
    /// The phase it was revoked in, if it was.
    pub revoked_in: Option<usize>,
}

/// One intent of a vault, as its relay row would hold it.
pub struct SimIntent {
    pub keys: IntentKeys,
    pub category: usize,
    pub region: usize,
    pub level: Level,
    /// The last revision published (0: never).
    pub revision: u64,
    /// The owner ended it (withdrawn or fulfilled).
    pub ended: bool,
}

/// One simulated vault: its host, its grants, its intents.
pub struct SimVault {
    pub host: usize,
    pub grants: Vec<Grant>,
    pub intents: Vec<SimIntent>,
}

/// The whole market.
pub struct World {
    pub categories: Vec<Category>,
    pub vendors: Vec<SimVendor>,
    pub directory: Directory,
    pub operator: SigningKey,
    /// Every vault's intents' window.
    pub window: (DateTime<Utc>, DateTime<Utc>),
}

impl World {
    /// The taxonomy and the directory's vendors, signed by a fresh operator key.
    pub fn generate(size: Size, rng: &mut Rng, now: DateTime<Utc>) -> World {
        let mut categories: Vec<Category> = Vec::with_capacity(TOPS * SUBS);
        for t in 0..TOPS {
            for s in 0..SUBS {
                categories.push(format!("cat{t}.sub{s}").parse().expect("a category"));
            }
        }
        let operator = SigningKey::generate();
        let mut directory = Directory::empty(now);
        let mut vendors = Vec::with_capacity(size.vendors);
        for v in 0..size.vendors {
            let keys = VendorKeys::generate();
            let n = 1 + rng.below(3);
            let mine = rng.distinct(n, categories.len());
            let id: VendorId = format!("v{v:03}").parse().expect("a vendor id");
            directory
                .add_vendor(DirectoryVendor {
                    id: id.clone(),
                    name: format!("vendor {v}"),
                    website: None,
                    ed25519: keys.signing.verifying_key().to_string(),
                    x25519: keys.identity.recipient().to_string(),
                    categories: mine.iter().map(|&c| categories[c].clone()).collect(),
                    terms: AcceptedTerms {
                        retention_days: 30,
                        no_resale: true,
                        no_tracking: true,
                    },
                })
                .expect("a directory vendor");
            vendors.push(SimVendor {
                id,
                keys,
                categories: mine,
            });
        }
        directory.sign(&operator, now, Duration::days(30));
        World {
            categories,
            vendors,
            directory,
            operator,
            window: (now - Duration::days(1), now + Duration::days(30)),
        }
    }

    /// `n` vaults spread over `hosts`: each grants 0 to 4 directory vendors some of their
    /// categories, and writes 1 or 2 intents at a random level, most in a category it granted.
    pub fn vaults(&self, size: Size, rng: &mut Rng) -> Vec<SimVault> {
        (0..size.vaults)
            .map(|i| {
                let k = rng.below(5);
                let grants: Vec<Grant> = rng
                    .distinct(k, self.vendors.len())
                    .into_iter()
                    .map(|vendor| {
                        let theirs = &self.vendors[vendor].categories;
                        let k = 1 + rng.below(theirs.len());
                        let categories = rng
                            .distinct(k, theirs.len())
                            .into_iter()
                            .map(|c| theirs[c])
                            .collect();
                        Grant {
                            vendor,
                            categories,
                            revoked_in: None,
                        }
                    })
                    .collect();
                let granted: Vec<usize> =
                    grants.iter().flat_map(|g| g.categories.clone()).collect();
                let host = World::host(i % size.hosts);
                let intents = (0..1 + rng.below(2))
                    .map(|_| SimIntent {
                        // Offer buckets under the host's name, as carnetd on a consent relay.
                        keys: IntentKeys::generate_for(&host),
                        category: if !granted.is_empty() && rng.chance(70) {
                            granted[rng.below(granted.len())]
                        } else {
                            rng.below(self.categories.len())
                        },
                        region: rng.below(REGIONS.len()),
                        level: [Level::Announce, Level::Sealed, Level::Notify][rng.below(3)],
                        revision: 0,
                        ended: false,
                    })
                    .collect();
                SimVault {
                    host: i % size.hosts,
                    grants,
                    intents,
                }
            })
            .collect()
    }

    /// The vendors registered in category `c` (their consumers' filters take its subjects).
    pub fn registered(&self, c: usize) -> Vec<usize> {
        (0..self.vendors.len())
            .filter(|&v| self.vendors[v].categories.contains(&c))
            .collect()
    }

    /// Vault host `h`'s name on the relay (`vault-user --id`).
    pub fn host(h: usize) -> Host {
        format!("h{h}").parse().expect("a host name")
    }

    pub fn region(i: usize) -> Region {
        REGIONS[i].parse().expect("a region")
    }
}
