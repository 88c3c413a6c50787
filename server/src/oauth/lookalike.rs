//! Names that look like another vendor's. A client that registered itself names its own vendor;
//! a name that reads like one the owner already deals with (a Cyrillic `о` for a Latin `o`, a
//! trailing space, another case, or the ` (2)` Carnet adds to a name taken) is a classic
//! phishing move. Such names are registered (refusing them would tell anyone which vendors the
//! owner has) and flagged: the consent page and `carnet consent list|approve` warn the owner.
//!
//! Two names look alike when their UTS #39 skeletons match, after trimming, case folding,
//! removing whitespace and a trailing ` (n)`.

use carnet_schemas::{VendorFields, VendorId};
use unicode_security::confusable_detection::skeleton;

use crate::state::AppState;
use carnet_core::store::records;

/// What a name is compared by.
pub fn fold(name: &str) -> String {
    let name = name.trim();
    let base = match name.rsplit_once(" (") {
        Some((base, n))
            if n.strip_suffix(')')
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit())) =>
        {
            base
        }
        _ => name,
    };
    let lower: String = base.chars().flat_map(char::to_lowercase).collect();
    skeleton(&lower)
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The name of another vendor that `name` (vendor `own`'s) looks like, if any.
pub fn existing_like(s: &AppState, own: &VendorId, name: &str) -> Option<String> {
    let folded = fold(name);
    let rows = s
        .store
        .read(|c| records::list::<VendorFields>(c, None))
        .ok()?;
    rows.into_iter()
        .filter(|r| r.id != own.as_str())
        .filter_map(|r| s.keys.seal().open::<VendorFields>(&r.id, &r.sealed).ok())
        .map(|v| v.name.to_string())
        .find(|other| fold(other) == folded)
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn look_alikes_fold_to_the_same_name() {
        let acme = fold("Acme");
        for like in [
            "Acme ", " acme", "Acmе", "Аcme", "ACME", "Acme (2)", "Ac me",
        ] {
            assert_eq!(fold(like), acme, "{like:?}");
        }
        for unlike in ["Acne", "Acme Shop", "Bolt"] {
            assert_ne!(fold(unlike), acme, "{unlike:?}");
        }
    }
}
