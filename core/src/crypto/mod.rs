//! The vault's cryptography, apart from files and the database: the vault key and what is
//! derived from it, record sealing (ChaCha20-Poly1305 bound to table and row id) and the row
//! MACs of clear columns. Never stores or logs a key; never reads or writes a file.

mod key;
mod keys;
pub mod rowmac;
mod seal;

pub use key::{KEY_LEN, Purpose, SubKey, VaultKey};
pub use keys::{ImportedKeys, Keys};
pub use rowmac::RowMac;
pub use seal::{SealKey, Sealable, Sealed, Table, Unreadable};
pub(crate) use seal::{open_blob, seal_blob};
