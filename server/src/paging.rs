//! Keyset paging. Owner listings page through the ledger index (`keyset`): the cursor is the
//! sort key of the last record returned, and the index starts after it. Vendor listings open
//! every matching record (few), sort in memory and cut the page (`paginate_signed`), but for
//! intents, which the active set keeps in pull order (`CursorSigner::after` and `sign`). Vendor
//! cursors are MAC-protected and bound to the vendor and the listing, so a vendor can neither
//! forge one nor replay another vendor's.

use carnet_schemas::{DEFAULT_PAGE, MAX_PAGE, Page};
use data_encoding::BASE64URL_NOPAD;
use ring::hmac;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiResult};
use carnet_core::vault::Keys;

fn bad_cursor() -> ApiError {
    ApiError::bad_request(
        "the cursor is not one this server issued for this listing",
        "pass `next_cursor` from the previous page unchanged, or leave it out to start over",
    )
}

/// The page of an owner listing: checks `limit`, decodes `cursor` into the listing's sort key,
/// turns it into the index's (`to_index`: `None` for a key no record of the listing can
/// have), has `fetch` pick and open the page, and makes the next cursor of the key it gives.
pub fn keyset<K, I, T>(
    limit: Option<u32>,
    cursor: Option<&str>,
    to_index: impl Fn(&K) -> Option<I>,
    fetch: impl FnOnce(Option<I>, usize) -> ApiResult<(Vec<T>, Option<K>)>,
) -> ApiResult<Page<T>>
where
    K: Serialize + DeserializeOwned,
{
    let limit = page_size(limit)?;
    let after = match cursor {
        None => None,
        Some(c) => Some(to_index(&decode::<K>(c)?).ok_or_else(bad_cursor)?),
    };
    let (items, next) = fetch(after, limit)?;
    Ok(Page {
        items,
        next_cursor: next.map(|k| encode(&k)),
    })
}

/// The page size `limit` asks for (the default without one), or why it is refused.
pub fn page_size(limit: Option<u32>) -> ApiResult<usize> {
    Ok(match limit {
        None => DEFAULT_PAGE,
        Some(n) if (1..=MAX_PAGE).contains(&n) => n,
        Some(n) => return Err(ApiError::limit_out_of_range(n)),
    } as usize)
}

/// Binds cursors to a vendor and a listing with an HMAC under a key from the vault key.
pub struct CursorSigner<'k> {
    key: &'k hmac::Key,
    context: String,
}

impl<'k> CursorSigner<'k> {
    pub fn new(keys: &'k Keys, vendor: &str, listing: &str) -> Self {
        CursorSigner {
            key: keys.cursor(),
            context: format!("{vendor}\0{listing}\0"),
        }
    }

    fn tag(&self, payload: &[u8]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(self.key);
        ctx.update(self.context.as_bytes());
        ctx.update(payload);
        ctx.sign()
    }

    /// The cursor of the page after `key`.
    pub fn sign<K: Serialize>(&self, key: &K) -> String {
        let payload = serde_json::to_vec(key).unwrap_or_default();
        format!(
            "{}.{}",
            BASE64URL_NOPAD.encode(&payload),
            BASE64URL_NOPAD.encode(self.tag(&payload).as_ref())
        )
    }

    /// The key `cursor` continues after, if there is one and this signer issued it.
    pub fn after<K: DeserializeOwned>(&self, cursor: Option<&str>) -> ApiResult<Option<K>> {
        cursor.map(|c| self.verify(c)).transpose()
    }

    fn verify<K: DeserializeOwned>(&self, cursor: &str) -> ApiResult<K> {
        let (payload, tag) = cursor.split_once('.').ok_or_else(bad_cursor)?;
        let payload = BASE64URL_NOPAD
            .decode(payload.as_bytes())
            .map_err(|_| bad_cursor())?;
        let tag = BASE64URL_NOPAD
            .decode(tag.as_bytes())
            .map_err(|_| bad_cursor())?;
        let mut ctx_input = self.context.as_bytes().to_vec();
        ctx_input.extend_from_slice(&payload);
        hmac::verify(self.key, &ctx_input, &tag).map_err(|_| bad_cursor())?;
        serde_json::from_slice(&payload).map_err(|_| bad_cursor())
    }
}

/// Like `paginate`, with cursors that only `signer` issues and accepts (vendor listings).
pub fn paginate_signed<K, T>(
    items: Vec<(K, T)>,
    limit: Option<u32>,
    cursor: Option<&str>,
    signer: &CursorSigner<'_>,
) -> ApiResult<Page<T>>
where
    K: Ord + Serialize + DeserializeOwned,
{
    let after = signer.after(cursor)?;
    page(items, limit, after, |k| signer.sign(k))
}

fn page<K, T>(
    mut items: Vec<(K, T)>,
    limit: Option<u32>,
    after: Option<K>,
    cursor_of: impl Fn(&K) -> String,
) -> ApiResult<Page<T>>
where
    K: Ord,
{
    let limit = page_size(limit)?;
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let start = after.map_or(0, |k| items.partition_point(|(key, _)| *key <= k));
    let mut rest: Vec<(K, T)> = items.into_iter().skip(start).collect();
    let next_cursor = if rest.len() > limit {
        rest.truncate(limit);
        rest.last().map(|(k, _)| cursor_of(k))
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
        .ok_or_else(bad_cursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_everything_once_in_order() {
        let items: Vec<i64> = (0..25).collect();
        let paginate = |limit: Option<u32>, cursor: Option<&str>| {
            keyset(
                limit,
                cursor,
                |k: &i64| (*k >= 0).then_some(*k),
                |after: Option<i64>, limit| {
                    let mut rest: Vec<i64> = items
                        .iter()
                        .copied()
                        .filter(|i| after.is_none_or(|a| *i > a))
                        .take(limit + 1)
                        .collect();
                    let next = (rest.len() > limit).then(|| {
                        rest.truncate(limit);
                        rest[limit - 1]
                    });
                    Ok((rest, next))
                },
            )
        };
        let mut seen = vec![];
        let mut cursor = None;
        loop {
            let page = paginate(Some(10), cursor.as_deref()).unwrap();
            seen.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, (0..25).collect::<Vec<_>>());
        assert!(paginate(Some(0), None).is_err());
        assert!(paginate(None, Some("garbage!")).is_err());
        // A well-formed key no record can have is refused like a forged one.
        assert!(paginate(None, Some(&encode(&-1i64))).is_err());
    }

    #[test]
    fn signed_cursors_are_bound_to_their_vendor_and_listing() {
        let keys = Keys::new(carnet_core::vault::VaultKey::generate().unwrap());
        let a = CursorSigner::new(&keys, "ven_a", "interactions");
        let b = CursorSigner::new(&keys, "ven_b", "interactions");
        let other_listing = CursorSigner::new(&keys, "ven_a", "receipts");
        let items: Vec<(i64, i64)> = (0..5).map(|i| (i, i)).collect();
        let page = paginate_signed(items.clone(), Some(2), None, &a).unwrap();
        let cursor = page.next_cursor.unwrap();
        assert_eq!(
            paginate_signed(items.clone(), Some(2), Some(&cursor), &a)
                .unwrap()
                .items,
            vec![2, 3]
        );
        assert!(paginate_signed(items.clone(), Some(2), Some(&cursor), &b).is_err());
        assert!(paginate_signed(items.clone(), Some(2), Some(&cursor), &other_listing).is_err());
        let forged = format!(
            "{}.{}",
            BASE64URL_NOPAD.encode(b"0"),
            cursor.split('.').nth(1).unwrap()
        );
        assert!(paginate_signed(items, Some(2), Some(&forged), &a).is_err());
    }
}
