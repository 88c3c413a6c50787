//! Keyset paging over opened records. Listings open every matching record anyway (sort keys
//! are sealed), so paging sorts in memory and the cursor is the last key returned. Vendor
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

/// Sorts `items` by key and returns the page after `cursor` (owner listings).
pub fn paginate<K, T>(
    items: Vec<(K, T)>,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> ApiResult<Page<T>>
where
    K: Ord + Serialize + DeserializeOwned,
{
    let after = cursor.map(decode).transpose()?;
    page(items, limit, after, |k| encode(k))
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

    fn sign<K: Serialize>(&self, key: &K) -> String {
        let payload = serde_json::to_vec(key).unwrap_or_default();
        format!(
            "{}.{}",
            BASE64URL_NOPAD.encode(&payload),
            BASE64URL_NOPAD.encode(self.tag(&payload).as_ref())
        )
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
    let after = cursor.map(|c| signer.verify(c)).transpose()?;
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
    let limit = match limit {
        None => DEFAULT_PAGE,
        Some(n) if (1..=MAX_PAGE).contains(&n) => n,
        Some(n) => return Err(ApiError::limit_out_of_range(n)),
    } as usize;
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
