//! The vault host a NATS credentials file names: its user JWT's tag `carnet-host:<host>`.
//!
//! A stand-in for `carnet_market::creds::host_of` (made by the market tools alongside the
//! `vault-user` command that writes the tag) until that lands; the two take the same path and
//! say the same thing. Reads the JWT's claims only: never checks its signature (the relay does,
//! at connection) and never reads, keeps or logs the seed below it.

use std::path::Path;

use carnet_market::keys::unb64;
use carnet_market::wire::Host;

/// The tag's prefix in the user JWT's `nats.tags`.
pub const HOST_TAG: &str = "carnet-host:";

/// Why the credentials file's host could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CredsError {
    #[error("cannot read the credentials file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the credentials file {path} {problem}")]
    Malformed { path: String, problem: String },
}

/// The host tagged in the user JWT of the credentials file at `path`; `None` when it has no
/// `carnet-host:` tag.
pub fn host_of(path: &Path) -> Result<Option<Host>, CredsError> {
    let text = std::fs::read_to_string(path).map_err(|source| CredsError::Read {
        path: path.display().to_string(),
        source,
    })?;
    host_in(&text).map_err(|problem| CredsError::Malformed {
        path: path.display().to_string(),
        problem,
    })
}

/// `host_of` on the file's text.
fn host_in(text: &str) -> Result<Option<Host>, String> {
    let jwt = text
        .lines()
        .skip_while(|l| !l.contains("BEGIN NATS USER JWT"))
        .nth(1)
        .map(str::trim)
        .ok_or("has no user JWT (-----BEGIN NATS USER JWT-----)")?;
    let claims = jwt
        .split('.')
        .nth(1)
        .and_then(unb64)
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .ok_or("has a user JWT whose claims do not read")?;
    let tags = claims["nats"]["tags"].as_array().into_iter().flatten();
    let Some(tagged) = tags
        .filter_map(|t| t.as_str()?.strip_prefix(HOST_TAG))
        .next()
    else {
        return Ok(None);
    };
    tagged.parse().map(Some).map_err(|e| format!("tags {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use carnet_market::keys::b64;

    fn creds(claims: serde_json::Value) -> String {
        let jwt = format!(
            "{}.{}.{}",
            b64(br#"{"typ":"JWT","alg":"ed25519-nkey"}"#),
            b64(claims.to_string().as_bytes()),
            b64(b"signature")
        );
        format!(
            "-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n\n\
             -----BEGIN USER NKEY SEED-----\nSUAEXAMPLE\n------END USER NKEY SEED------\n"
        )
    }

    #[test]
    fn the_host_is_the_user_jwts_carnet_host_tag() {
        let tagged =
            creds(serde_json::json!({"nats": {"tags": ["team:a", "carnet-host:vault-7"]}}));
        assert_eq!(
            host_in(&tagged).unwrap().map(|h| h.to_string()),
            Some("vault-7".into())
        );
        let untagged = creds(serde_json::json!({"nats": {"tags": ["team:a"]}}));
        assert_eq!(host_in(&untagged).unwrap(), None);
        assert_eq!(
            host_in(&creds(serde_json::json!({"nats": {}}))).unwrap(),
            None
        );
        // A tag that could widen the subject it names is refused, not used.
        let wild = creds(serde_json::json!({"nats": {"tags": ["carnet-host:>"]}}));
        assert!(host_in(&wild).is_err());
        assert!(host_in("no jwt here").is_err());
        assert!(host_in("-----BEGIN NATS USER JWT-----\nnot.a-jwt!\n").is_err());
    }
}
