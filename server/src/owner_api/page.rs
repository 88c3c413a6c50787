//! Keyset paging over opened records. Owner listings open every matching record anyway (the
//! sort keys are sealed), so paging sorts in memory and the cursor is the last key returned.

use carnet_schemas::{DEFAULT_PAGE, MAX_PAGE, Page};
use data_encoding::BASE64URL_NOPAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};

/// Sorts `items` by key and returns the page after `cursor`.
pub fn paginate<K, T>(
    mut items: Vec<(K, T)>,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> ApiResult<Page<T>>
where
    K: Ord + Serialize + DeserializeOwned,
{
    let limit = match limit {
        None => DEFAULT_PAGE,
        Some(n) if (1..=MAX_PAGE).contains(&n) => n,
        Some(n) => {
            return Err(ApiError::bad_request(
                format!("limit {n} is out of range"),
                format!("use a limit from 1 to {MAX_PAGE}"),
            ));
        }
    } as usize;
    let after: Option<K> = cursor.map(decode).transpose()?;
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let start = after.map_or(0, |k| items.partition_point(|(key, _)| *key <= k));
    let mut rest: Vec<(K, T)> = items.into_iter().skip(start).collect();
    let next_cursor = if rest.len() > limit {
        rest.truncate(limit);
        rest.last().map(|(k, _)| encode(k))
    } else {
        None
    };
    Ok(Page {
        items: rest.into_iter().map(|(_, t)| t).collect(),
        next_cursor,
    })
}

fn encode<K: Serialize>(key: &K) -> String {
    BASE64URL_NOPAD.encode(&serde_json::to_vec(key).unwrap_or_default())
}

fn decode<K: DeserializeOwned>(cursor: &str) -> ApiResult<K> {
    BASE64URL_NOPAD
        .decode(cursor.as_bytes())
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            ApiError::bad_request(
                "the cursor is not one this server issued for this listing",
                "pass `next_cursor` from the previous page unchanged, or leave it out to start over",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_everything_once_in_order() {
        let items: Vec<(i64, i64)> = (0..25).rev().map(|i| (i, i)).collect();
        let mut seen = vec![];
        let mut cursor = None;
        loop {
            let page = paginate(items.clone(), Some(10), cursor.as_deref()).unwrap();
            seen.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, (0..25).collect::<Vec<_>>());
        assert!(paginate(items.clone(), Some(0), None).is_err());
        assert!(paginate(items, None, Some("garbage!")).is_err());
    }
}
