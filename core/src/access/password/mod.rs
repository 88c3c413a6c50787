//! The owner's web password (it signs the owner in on the consent page): Argon2id in PHC
//! string form (m = 19 MiB, t = 2, p = 1). A stored hash carnetd did not just write (one
//! imported, one left by an older carnetd, a tampered row) is checked against the work limits
//! before anything is computed: one that asks for more is refused, never run. An old
//! PBKDF2-SHA256 hash (what carnetd wrote before) verifies once, bounded, and is rehashed.
//!
//! Hashing runs off the async workers and one at a time (`SlowHashes`); the only way to
//! check the password is `sign_in`, which takes the per-address limiter first. Never here:
//! the password in a log, or a comparison that is not constant time.

mod queue;
mod sign_in;

use std::num::NonZeroU32;

use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use data_encoding::BASE64URL_NOPAD;
use ring::pbkdf2;

pub use crate::limits::SignInAttempts;
pub use queue::{Held, Lane, MAX_WAITING, Refused, SlowHashes};
pub use sign_in::{SignIn, sign_in};

/// The `meta` key of the web password's hash.
pub const WEB_PASSWORD: &str = "web_password";

/// Whether the owner has set a web password (the web app is off until then).
pub fn is_set(store: &crate::store::Store) -> Result<bool, crate::store::StoreError> {
    store.read(|c| Ok(crate::store::records::meta_get(c, WEB_PASSWORD)?.is_some()))
}

/// Why a new web password was not set.
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    #[error("the password contains a control character")]
    ControlCharacter,
    #[error("use at least {MIN_CHARS} characters (a few words make a good one)")]
    TooShort,
    /// Password hashes are queued beyond the limit: try again after this many seconds.
    #[error("too many password hashes are queued")]
    Busy { retry_after: u64 },
    #[error("the password could not be hashed: {0}")]
    Failed(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The fewest characters a web password may have.
pub const MIN_CHARS: usize = 10;

/// Sets the web password: checked, hashed through the owner's lane of the queue, stored. Every
/// web session signed in before ends at its next request (`sessions::stamp` changes).
pub async fn set(
    store: &crate::store::Store,
    queue: &SlowHashes,
    password: zeroize::Zeroizing<String>,
) -> Result<(), SetError> {
    if password.chars().any(char::is_control) {
        return Err(SetError::ControlCharacter);
    }
    if password.chars().count() < MIN_CHARS {
        return Err(SetError::TooShort);
    }
    let stored = queue
        .run(Lane::Owner, move || hash(&password))
        .await
        .map_err(|e| match e {
            Refused::Busy { retry_after } => SetError::Busy { retry_after },
            Refused::Failed(e) => SetError::Failed(e),
        })?;
    store
        .write(move |c| crate::store::records::meta_put(c, WEB_PASSWORD, stored.as_bytes()))
        .await?;
    Ok(())
}

/// What carnetd writes: Argon2id, 19 MiB (in KiB), 2 passes, 1 lane (OWASP's first choice).
pub const M_KIB: u32 = 19 * 1024;
pub const T_COST: u32 = 2;
pub const P_COST: u32 = 1;

/// The most a stored or imported Argon2 hash may ask for; more is refused, never computed.
pub const MAX_M_KIB: u32 = 64 * 1024;
pub const MAX_T_COST: u32 = 10;
pub const MAX_P_COST: u32 = 4;

/// The most PBKDF2 iterations an old hash may ask for (carnetd wrote 300,000).
pub const MAX_PBKDF2_ITERATIONS: u32 = 1_000_000;

/// Longer than any hash carnetd reads.
const MAX_STORED_LEN: usize = 512;

const PBKDF2_PREFIX: &str = "pbkdf2-sha256$";

/// Why a stored hash cannot be used (it is never computed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error(
        "not a password hash this carnetd reads (Argon2id `$argon2id$…`, or PBKDF2 `pbkdf2-sha256$…`): {0}"
    )]
    Malformed(String),
    #[error("the hash asks for {what} {found}, above the {max} carnetd allows")]
    TooCostly {
        what: &'static str,
        found: u64,
        max: u64,
    },
}

/// A stored hash, parsed and within the limits (short-lived: the size difference is fine).
#[allow(clippy::large_enum_variant)]
enum Stored<'a> {
    Argon2id(PasswordHash<'a>, Params),
    Pbkdf2 {
        iterations: NonZeroU32,
        salt: Vec<u8>,
        expected: Vec<u8>,
    },
}

/// Whether `stored` is a hash carnetd reads, within the work limits. Computes nothing.
pub fn check(stored: &str) -> Result<(), Unusable> {
    parse(stored).map(|_| ())
}

fn parse(stored: &str) -> Result<Stored<'_>, Unusable> {
    if stored.len() > MAX_STORED_LEN {
        return Err(Unusable::Malformed(format!(
            "longer than {MAX_STORED_LEN} bytes"
        )));
    }
    if let Some(rest) = stored.strip_prefix(PBKDF2_PREFIX) {
        return parse_pbkdf2(rest);
    }
    let hash = PasswordHash::new(stored).map_err(|e| Unusable::Malformed(e.to_string()))?;
    if hash.algorithm != argon2::ARGON2ID_IDENT {
        return Err(Unusable::Malformed(format!(
            "the algorithm is {}, not argon2id",
            hash.algorithm
        )));
    }
    // The costs are read and bounded before argon2 sees them.
    for (what, name, max) in [
        ("a memory cost (m, KiB) of", "m", MAX_M_KIB),
        ("a time cost (t) of", "t", MAX_T_COST),
        ("a parallelism (p) of", "p", MAX_P_COST),
    ] {
        let found = hash
            .params
            .get_decimal(name)
            .ok_or_else(|| Unusable::Malformed(format!("no decimal parameter {name}")))?;
        if found > max {
            return Err(Unusable::TooCostly {
                what,
                found: found.into(),
                max: max.into(),
            });
        }
    }
    let params = Params::try_from(&hash).map_err(|e| Unusable::Malformed(e.to_string()))?;
    if hash.salt.is_none() || hash.hash.is_none() {
        return Err(Unusable::Malformed("no salt or no hash".into()));
    }
    Ok(Stored::Argon2id(hash, params))
}

/// `ITERATIONS$SALT$HASH` (base64url), what carnetd wrote before Argon2id.
fn parse_pbkdf2(rest: &str) -> Result<Stored<'static>, Unusable> {
    let malformed = || Unusable::Malformed("pbkdf2-sha256$ITERATIONS$SALT$HASH".into());
    let mut parts = rest.split('$');
    let (Some(iter), Some(salt), Some(expected), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let iterations: u64 = iter.parse().map_err(|_| malformed())?;
    if iterations > u64::from(MAX_PBKDF2_ITERATIONS) {
        return Err(Unusable::TooCostly {
            what: "a PBKDF2 iteration count of",
            found: iterations,
            max: MAX_PBKDF2_ITERATIONS.into(),
        });
    }
    let (Some(iterations), Ok(salt), Ok(expected)) = (
        u32::try_from(iterations).ok().and_then(NonZeroU32::new),
        BASE64URL_NOPAD.decode(salt.as_bytes()),
        BASE64URL_NOPAD.decode(expected.as_bytes()),
    ) else {
        return Err(malformed());
    };
    if expected.is_empty() {
        return Err(malformed());
    }
    Ok(Stored::Pbkdf2 {
        iterations,
        salt,
        expected,
    })
}

fn current() -> Argon2<'static> {
    // Constants within argon2's bounds (a unit test hashes with them).
    let params = Params::new(M_KIB, T_COST, P_COST, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The stored form of `password`: `$argon2id$v=19$m=19456,t=2,p=1$SALT$HASH`. Slow: call
/// it through `SlowHashes`.
pub fn hash(password: &str) -> String {
    let salt = SaltString::encode_b64(&crate::credential::random_bytes::<16>())
        .expect("16 bytes are a valid salt");
    let argon2 = current();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    run(&argon2, password, &salt, &mut out).expect("the current parameters hash any password");
    PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: argon2
            .params()
            .try_into()
            .expect("the current parameters are a PHC string"),
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).expect("32 bytes are a PHC output")),
    }
    .to_string()
}

/// Argon2 over `password` and `salt` (as the PHC string holds it) into `out`, in memory that
/// goes back to the system once done (see [`argon2_memory`]).
fn run(
    argon2: &Argon2<'_>,
    password: &str,
    salt: &SaltString,
    out: &mut [u8],
) -> Result<(), Unusable> {
    let mut raw = [0u8; 64];
    let salt = salt
        .decode_b64(&mut raw)
        .map_err(|e| Unusable::Malformed(e.to_string()))?;
    argon2
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt,
            out,
            argon2_memory(argon2.params().block_count()),
        )
        .map_err(|e| Unusable::Malformed(e.to_string()))
}

/// Argon2's 19 MiB, allocated so that they are given back to the system when freed. glibc's
/// malloc serves an allocation over 32 MiB (the most its mmap threshold ever rises to) with a
/// mapping of its own, unmapped on free; a 19 MiB one is mapped the first time, but that raises
/// the threshold, and from the second hash on it came from a thread's arena and stayed resident
/// (measured: carnetd 19.6 MiB larger for good after setting the password and one sign-in).
/// Only the blocks Argon2 uses are ever touched, so the rest costs no memory.
fn argon2_memory(blocks: usize) -> Vec<Block> {
    const MAPPED_OF_ITS_OWN: usize = (33 << 20) / std::mem::size_of::<Block>();
    let mut memory = Vec::with_capacity(blocks.max(MAPPED_OF_ITS_OWN));
    memory.resize(blocks, Block::default());
    memory
}

/// What checking a password against a stored hash found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    Wrong,
    /// Right; `rehash`: the stored hash is not what carnetd writes now.
    Right {
        rehash: bool,
    },
}

/// Checks `password` against `stored` (constant time). Slow: only `sign_in` calls it, through
/// the limiter and `SlowHashes`.
fn verify(stored: &str, password: &str) -> Result<Verdict, Unusable> {
    let right = match parse(stored)? {
        Stored::Argon2id(hash, params) => {
            let rehash = (params.m_cost(), params.t_cost(), params.p_cost())
                != (M_KIB, T_COST, P_COST)
                || hash.version != Some(Version::V0x13.into());
            let version = hash
                .version
                .map_or(Ok(Version::V0x13), Version::try_from)
                .map_err(|e| Unusable::Malformed(e.to_string()))?;
            let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
                return Err(Unusable::Malformed("no salt or no hash".into()));
            };
            let salt = SaltString::from_b64(salt.as_str())
                .map_err(|e| Unusable::Malformed(e.to_string()))?;
            let argon2 = Argon2::new(Algorithm::Argon2id, version, params);
            let mut out = vec![0u8; expected.len()];
            run(&argon2, password, &salt, &mut out)?;
            // `Output`'s comparison is constant time.
            let ok = Output::new(&out).is_ok_and(|computed| computed == expected);
            ok.then_some(rehash)
        }
        Stored::Pbkdf2 {
            iterations,
            salt,
            expected,
        } => pbkdf2::verify(
            pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            &salt,
            password.as_bytes(),
            &expected,
        )
        .is_ok()
        .then_some(true),
    };
    Ok(match right {
        Some(rehash) => Verdict::Right { rehash },
        None => Verdict::Wrong,
    })
}

#[cfg(test)]
mod tests;
