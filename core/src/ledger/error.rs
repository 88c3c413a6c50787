//! What a ledger service answers when it cannot do what was asked.

use crate::crypto::Unreadable;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// No such record (`noun` as a person calls it: "vendor").
    #[error("no {noun} {id}")]
    NotFound { noun: &'static str, id: String },
    /// A field of what was sent is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// What was asked goes against the ledger as it stands (a vendor name taken, a next step
    /// to mark done that is not there); `hint` says what to do instead.
    #[error("{detail}")]
    Conflict { detail: String, hint: &'static str },
    /// The amounts of a vendor's purchases do not add up to a total.
    #[error("{0}")]
    Total(String),
    /// The ledger index is still being built after unlock (it took longer than a request may
    /// wait for it).
    #[error("the ledger index is still being built after unlock")]
    Warming,
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(super) fn invalid(field: &'static str, message: impl Into<String>) -> LedgerError {
    LedgerError::Invalid {
        field,
        message: message.into(),
    }
}
