//! States kept as text in a clear column (`intents.state`, `offers.state`, `outbox.state`):
//! written as their name, read back only when the name is one this carnetd knows. An unknown
//! name is an error naming the row, never a default.

use rusqlite::Row;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};

/// The values of one table's `state` column.
pub trait StateColumn: Copy + 'static {
    /// The table whose `state` column holds them.
    const TABLE: &'static str;
    /// Every value (each has its own name).
    const ALL: &'static [Self];
    /// The name stored.
    fn as_str(self) -> &'static str;
}

/// A row whose state is not one of its column's names.
#[derive(Debug, thiserror::Error)]
#[error("row {id} of {table} has the state {value:?}, which this carnetd does not know")]
pub struct UnknownState {
    pub table: &'static str,
    pub id: String,
    pub value: String,
}

/// Declares a state column's enum with the name each value is stored as: the enum, its
/// `StateColumn`, and `ToSql`/`FromSql` by name.
macro_rules! state_column {
    (
        $(#[$meta:meta])*
        pub enum $name:ident in $table:literal {
            $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $crate::store::state::StateColumn for $name {
            const TABLE: &'static str = $table;
            const ALL: &'static [Self] = &[$(Self::$variant,)+];
            fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok($crate::store::state::to_sql(*self))
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                $crate::store::state::from_sql(value)
            }
        }
    };
}
pub(super) use state_column;

pub(super) fn to_sql<T: StateColumn>(state: T) -> ToSqlOutput<'static> {
    state.as_str().into()
}

pub(super) fn from_sql<T: StateColumn>(value: ValueRef<'_>) -> FromSqlResult<T> {
    let name = value.as_str()?;
    T::ALL
        .iter()
        .copied()
        .find(|s| s.as_str() == name)
        .ok_or_else(|| FromSqlError::Other(format!("no {} state {name:?}", T::TABLE).into()))
}

/// Column `idx` of `r` as a state; an unknown one is an error naming the row `id`.
pub(super) fn get<T: StateColumn + FromSql>(
    r: &Row<'_>,
    idx: usize,
    id: &str,
) -> rusqlite::Result<T> {
    let value = r.get_ref(idx)?;
    T::column_result(value).map_err(|_| {
        let shown = match value {
            ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
            other => other.data_type().to_string(),
        };
        rusqlite::Error::FromSqlConversionFailure(
            idx,
            value.data_type(),
            Box::new(UnknownState {
                table: T::TABLE,
                id: id.to_owned(),
                value: shown,
            }),
        )
    })
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::store::intents::{StoredIntentState, StoredOfferState};
    use crate::store::outbox::OutboxState;

    fn read_back<T: StateColumn + FromSql + rusqlite::ToSql>(
        c: &Connection,
        state: T,
    ) -> rusqlite::Result<T> {
        c.execute("DELETE FROM t", [])?;
        c.execute("INSERT INTO t VALUES ('row_1', ?1)", [state])?;
        c.query_row("SELECT id, state FROM t", [], |r| {
            get(r, 1, &r.get::<_, String>(0)?)
        })
    }

    #[test]
    fn every_state_is_stored_by_its_name_and_read_back() {
        let c = Connection::open_in_memory().unwrap();
        c.execute("CREATE TABLE t (id TEXT, state TEXT)", [])
            .unwrap();
        for &s in StoredIntentState::ALL {
            assert_eq!(read_back(&c, s).unwrap(), s);
            let stored: String = c
                .query_row("SELECT state FROM t", [], |r| r.get(0))
                .unwrap();
            assert_eq!(stored, s.as_str());
        }
        for &s in StoredOfferState::ALL {
            assert_eq!(read_back(&c, s).unwrap(), s);
        }
        for &s in OutboxState::ALL {
            assert_eq!(read_back(&c, s).unwrap(), s);
        }
    }

    #[test]
    fn an_unknown_state_is_an_error_naming_the_row_not_a_default() {
        let c = Connection::open_in_memory().unwrap();
        c.execute("CREATE TABLE t (id TEXT, state TEXT)", [])
            .unwrap();
        c.execute("INSERT INTO t VALUES ('int_7', 'paused')", [])
            .unwrap();
        let read = c.query_row("SELECT id, state FROM t", [], |r| {
            get::<StoredIntentState>(r, 1, &r.get::<_, String>(0)?)
        });
        let Err(rusqlite::Error::FromSqlConversionFailure(1, _, e)) = read else {
            panic!("{read:?}");
        };
        let unknown = e.downcast_ref::<UnknownState>().unwrap();
        assert_eq!(
            (unknown.table, unknown.id.as_str(), unknown.value.as_str()),
            ("intents", "int_7", "paused")
        );
        assert_eq!(
            unknown.to_string(),
            r#"row int_7 of intents has the state "paused", which this carnetd does not know"#
        );
    }
}
