//! The one rule for a passphrase that guards everything: the vault key (`carnetd init
//! --passphrase-file`, `carnetd rekey --passphrase-file`) and an archive of the whole vault
//! (`carnet export --passphrase-file`). Both binaries check it here, so they cannot drift.
//! It only applies when a passphrase is chosen; reading an existing vault or archive never
//! refuses a passphrase for its length.

use std::fmt;

/// The fewest characters (Unicode scalar values, spaces included) a new passphrase may have.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// Why a new passphrase was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeakPassphrase {
    /// How many characters it had.
    pub chars: usize,
}

impl fmt::Display for WeakPassphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "is shorter than {MIN_PASSPHRASE_CHARS} characters ({} given)",
            self.chars
        )
    }
}

impl std::error::Error for WeakPassphrase {}

/// Checks a passphrase being chosen (not one being typed to open something).
pub fn check_new_passphrase(passphrase: &str) -> Result<(), WeakPassphrase> {
    let chars = passphrase.chars().count();
    if chars < MIN_PASSPHRASE_CHARS {
        return Err(WeakPassphrase { chars });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_passphrase_needs_eight_characters() {
        for short in ["", "x", "1234567", "ééééééé"] {
            assert!(check_new_passphrase(short).is_err(), "{short:?}");
        }
        for long in ["12345678", "éééééééé", "correct horse"] {
            assert_eq!(check_new_passphrase(long), Ok(()), "{long:?}");
        }
    }
}
