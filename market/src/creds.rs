//! NATS credentials files (`.creds`, NATS's own format: the user's JWT and its nkey seed) for the
//! relay's users: a vault host, a vendor, the operator's admin. Issuing one signs a user JWT with
//! the MARKET account's derived key and the user's permissions (`access`); reading one back
//! tells who it is for (`identity_of`, `host_of`), so a client picks its inbox and consumer
//! names from its credentials alone.
//!
//! It never overwrites a file and writes the seed only to a new file of mode 0600. Reading a
//! file never verifies its JWT: the relay does that.

use std::path::Path;

use chrono::{DateTime, Utc};
use nkeys::KeyPair;
use zeroize::Zeroizing;

use crate::access::{self, Host};
use crate::directory::DirectoryVendor;
use crate::jwt::{self, DerivedKey, JwtError};
use crate::keys::SigningKey;
use crate::wire::{ANNOUNCE_PREFIX, Category, VendorId};

/// The tag a vault host's user JWT carries: `carnet-host:<HOST>`.
pub const HOST_TAG: &str = "carnet-host:";
/// The tag a vendor's user JWT carries: `carnet-vendor:<id>`.
pub const VENDOR_TAG: &str = "carnet-vendor:";
/// The tag of the operator's admin user.
pub const ADMIN_TAG: &str = "carnet-admin";

/// Why credentials could not be issued or read.
#[derive(Debug, thiserror::Error)]
pub enum CredsError {
    #[error(transparent)]
    Jwt(#[from] JwtError),
    /// The file could not be written, or exists already (`KeyError::Exists`).
    #[error(transparent)]
    Write(crate::keys::KeyError),
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a NATS credentials file ({why})")]
    Malformed { path: String, why: String },
}

/// Whom a credentials file is for, as its user JWT's tags say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A vault host (`vault-user`).
    Host(Host),
    /// A vendor of the directory (`vendor-user`).
    Vendor(VendorId),
    /// The operator's admin (`admin-user`): no permission limits.
    Admin,
}

impl Identity {
    /// The inbox prefix the client must connect with: its permissions allow it no other.
    pub fn inbox_prefix(&self) -> Option<String> {
        match self {
            Identity::Host(h) => Some(access::vault_inbox(h)),
            Identity::Vendor(v) => Some(access::vendor_inbox(v)),
            Identity::Admin => None,
        }
    }
}

/// Issues a vault host's credentials (`carnet-market vault-user`) to the new file `out`.
pub fn issue_vault(
    operator: &SigningKey,
    host: &Host,
    out: &Path,
    now: DateTime<Utc>,
) -> Result<(), CredsError> {
    let permissions = access::vault_permissions(host);
    let tags = [format!("{HOST_TAG}{host}")];
    issue(
        operator,
        &format!("vault {host}"),
        Some(&permissions),
        &tags,
        out,
        now,
    )
}

/// Issues a vendor's credentials (`carnet-market vendor-user`) from its directory entry.
pub fn issue_vendor(
    operator: &SigningKey,
    vendor: &DirectoryVendor,
    out: &Path,
    now: DateTime<Utc>,
) -> Result<(), CredsError> {
    let permissions = access::vendor_permissions(&vendor.id, &vendor.categories);
    let tags = [format!("{VENDOR_TAG}{}", vendor.id)];
    let name = format!("vendor {}", vendor.id);
    issue(operator, &name, Some(&permissions), &tags, out, now)
}

/// Issues the operator's admin credentials (`carnet-market admin-user`): every subject of the
/// MARKET account, for `carnet-market streams` and the operator's own inspection.
pub fn issue_admin(
    operator: &SigningKey,
    out: &Path,
    now: DateTime<Utc>,
) -> Result<(), CredsError> {
    issue(operator, "admin", None, &[ADMIN_TAG.to_owned()], out, now)
}

fn issue(
    operator: &SigningKey,
    name: &str,
    permissions: Option<&access::Permissions>,
    tags: &[String],
    out: &Path,
    now: DateTime<Utc>,
) -> Result<(), CredsError> {
    let account = jwt::derive(operator, DerivedKey::MarketAccount)?;
    let user = KeyPair::new_user();
    let token = jwt::user_jwt(&account, &user, name, permissions, tags, now)?;
    let seed = Zeroizing::new(user.seed().map_err(|e| JwtError::Key(e.to_string()))?);
    let text = Zeroizing::new(format!(
        "-----BEGIN NATS USER JWT-----\n{token}\n------END NATS USER JWT------\n\n\
         ************************* IMPORTANT *************************\n\
         NKEY Seed printed below can be used to sign and prove identity.\n\
         NKEYs are sensitive and should be treated as secrets.\n\n\
         -----BEGIN USER NKEY SEED-----\n{}\n------END USER NKEY SEED------\n\n\
         *************************************************************\n",
        seed.as_str()
    ));
    crate::keys::write_new_private_file(out, text.as_bytes()).map_err(CredsError::Write)
}

/// The user JWT's claims in the credentials file at `path`, not verified.
fn user_claims(path: &Path) -> Result<serde_json::Value, CredsError> {
    let shown = || path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| CredsError::Io {
        action: "read",
        path: shown(),
        source,
    })?;
    let malformed = |why: &str| CredsError::Malformed {
        path: shown(),
        why: why.to_owned(),
    };
    let token = text
        .split("-----BEGIN NATS USER JWT-----")
        .nth(1)
        .and_then(|rest| rest.split("------END NATS USER JWT------").next())
        .ok_or_else(|| malformed("no user JWT"))?;
    jwt::claims(token).map_err(|e| malformed(&e.to_string()))
}

/// Whom the credentials file at `path` is for; `None` for a file without a Carnet tag (issued
/// by other tools, e.g. `nsc`).
pub fn identity_of(path: &Path) -> Result<Option<Identity>, CredsError> {
    let claims = user_claims(path)?;
    let malformed = |why: &str| CredsError::Malformed {
        path: path.display().to_string(),
        why: why.to_owned(),
    };
    let tags = claims["nats"]["tags"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for tag in tags.iter().filter_map(|t| t.as_str()) {
        if let Some(host) = tag.strip_prefix(HOST_TAG) {
            let host = host
                .parse()
                .map_err(|e: crate::wire::BadValue| malformed(&e.to_string()))?;
            return Ok(Some(Identity::Host(host)));
        }
        if let Some(id) = tag.strip_prefix(VENDOR_TAG) {
            let id = id
                .parse()
                .map_err(|e: crate::wire::BadValue| malformed(&e.to_string()))?;
            return Ok(Some(Identity::Vendor(id)));
        }
        if tag == ADMIN_TAG {
            return Ok(Some(Identity::Admin));
        }
    }
    Ok(None)
}

/// The directory categories a vendor's credentials let it read (from its JWT's subscribe
/// permissions, `icast.v1.<category>.>`); empty for any other user.
pub fn categories_of(path: &Path) -> Result<Vec<Category>, CredsError> {
    let claims = user_claims(path)?;
    let allowed = claims["nats"]["sub"]["allow"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let prefix = format!("{ANNOUNCE_PREFIX}.");
    Ok(allowed
        .iter()
        .filter_map(|s| {
            s.as_str()?
                .strip_prefix(&prefix)?
                .strip_suffix(".>")?
                .parse()
                .ok()
        })
        .collect())
}

/// The vault host a credentials file was issued for (its `carnet-host:<HOST>` tag); `None` for
/// any other user. carnetd names its buckets `<HOST>.<random>` and its consumer after it.
pub fn host_of(path: &Path) -> Result<Option<Host>, CredsError> {
    Ok(match identity_of(path)? {
        Some(Identity::Host(h)) => Some(h),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_credentials_say_whom_they_are_for_and_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate();
        let host: Host = "v17".parse().unwrap();
        let path = dir.path().join("vault.creds");
        issue_vault(&key, &host, &path, Utc::now()).unwrap();
        assert_eq!(host_of(&path).unwrap(), Some(host.clone()));
        assert_eq!(
            identity_of(&path)
                .unwrap()
                .unwrap()
                .inbox_prefix()
                .as_deref(),
            Some("_INBOX_vault_v17")
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches!(
            issue_vault(&key, &host, &path, Utc::now()),
            Err(CredsError::Write(crate::keys::KeyError::Exists { .. }))
        ));
        let admin = dir.path().join("admin.creds");
        issue_admin(&key, &admin, Utc::now()).unwrap();
        assert_eq!(host_of(&admin).unwrap(), None);
        assert_eq!(identity_of(&admin).unwrap(), Some(Identity::Admin));
        let vendor = crate::testing::directory_vendor("acme");
        let acme = dir.path().join("acme.creds");
        issue_vendor(&key, &vendor, &acme, Utc::now()).unwrap();
        assert_eq!(categories_of(&acme).unwrap(), vendor.categories);
        assert!(categories_of(&path).unwrap().is_empty());
        let junk = dir.path().join("junk");
        std::fs::write(&junk, "hello").unwrap();
        assert!(matches!(host_of(&junk), Err(CredsError::Malformed { .. })));
    }
}
