//! The catalog: record metadata in encrypted pages, bucketed by month.
//!
//! Listing the newest records must not decrypt a 100,000-record vault, and the
//! metadata (types, dates, titles) must stay encrypted, so neither plaintext
//! indexes nor per-record catalog entries will do. Records' metadata lives in
//! pages of at most [`PAGE_CAP`] entries, each page holding one calendar month
//! (by clinical date). A small directory, itself encrypted, says which month each
//! page holds. The newest 50 are then one or two page decryptions away; a text
//! search decrypts every page, which is a few megabytes of ChaCha20.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::fhir::HiType;
use crate::ids::ProfileId;
use crate::record::RecordMeta;

/// Most entries a page holds before a new page is started for the same month.
pub(crate) const PAGE_CAP: usize = 512;

/// Which pages exist and which month each holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Directory {
    pub(crate) pages: Vec<PageInfo>,
    pub(crate) next_page: u64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct PageInfo {
    pub(crate) id: u64,
    pub(crate) bucket: i32,
    pub(crate) count: u32,
}

/// The month a sort key falls in: `year * 12 + month - 1`.
pub(crate) fn bucket_of(sort_key: i64) -> i32 {
    match OffsetDateTime::from_unix_timestamp(sort_key) {
        Ok(t) => t.year() * 12 + i32::from(u8::from(t.month())) - 1,
        Err(_) if sort_key < 0 => i32::MIN,
        Err(_) => i32::MAX,
    }
}

impl Directory {
    /// The page that should take a new entry for `bucket`, creating one if the
    /// month has none with room.
    pub(crate) fn page_for_insert(&mut self, bucket: i32) -> u64 {
        if let Some(p) = self
            .pages
            .iter_mut()
            .find(|p| p.bucket == bucket && (p.count as usize) < PAGE_CAP)
        {
            p.count += 1;
            return p.id;
        }
        let id = self.next_page;
        self.next_page += 1;
        self.pages.push(PageInfo { id, bucket, count: 1 });
        id
    }

    /// Pages that may hold entries for `bucket`.
    pub(crate) fn pages_in(&self, bucket: i32) -> impl Iterator<Item = u64> + '_ {
        self.pages
            .iter()
            .filter(move |p| p.bucket == bucket)
            .map(|p| p.id)
    }

    pub(crate) fn set_count(&mut self, page: u64, count: usize) {
        if count == 0 {
            self.pages.retain(|p| p.id != page);
        } else if let Some(p) = self.pages.iter_mut().find(|p| p.id == page) {
            p.count = count as u32;
        }
    }

    /// Buckets within `[lo, hi]`, newest first, each with its pages.
    pub(crate) fn buckets_newest_first(&self, lo: i32, hi: i32) -> Vec<(i32, Vec<u64>)> {
        let mut buckets: Vec<i32> = self
            .pages
            .iter()
            .map(|p| p.bucket)
            .filter(|b| (lo..=hi).contains(b))
            .collect();
        buckets.sort_unstable_by(|a, b| b.cmp(a));
        buckets.dedup();
        buckets
            .into_iter()
            .map(|b| (b, self.pages_in(b).collect()))
            .collect()
    }

    /// Total entries.
    pub(crate) fn total(&self) -> u64 {
        self.pages.iter().map(|p| u64::from(p.count)).sum()
    }
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Only this profile's records.
    pub profile: Option<ProfileId>,
    /// Only these FHIR resource types or ABDM types (either matches), case-insensitive.
    pub types: Vec<String>,
    /// Only records dated at or after (seconds since 1970).
    pub since: Option<i64>,
    /// Only records dated at or before.
    pub until: Option<i64>,
    /// Only records whose title, codes or text contain every word.
    pub text: Option<String>,
    /// At most this many, newest first.
    pub limit: Option<usize>,
}

impl Query {
    pub(crate) fn matches(&self, meta: &RecordMeta, words: &[String]) -> bool {
        if self.profile.is_some_and(|p| p != meta.profile) {
            return false;
        }
        if self.since.is_some_and(|s| meta.sort_key < s) || self.until.is_some_and(|u| meta.sort_key > u) {
            return false;
        }
        if !self.types.is_empty()
            && !self.types.iter().any(|t| {
                t.eq_ignore_ascii_case(&meta.resource_type)
                    || HiType::parse(t).is_some_and(|h| h == meta.hi_type)
            })
        {
            return false;
        }
        words.iter().all(|w| meta.keywords.contains(w.as_str()))
    }

    pub(crate) fn words(&self) -> Vec<String> {
        self.text
            .as_deref()
            .unwrap_or_default()
            .to_lowercase()
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    pub(crate) fn bucket_range(&self) -> (i32, i32) {
        (
            self.since.map_or(i32::MIN, bucket_of),
            self.until.map_or(i32::MAX, bucket_of),
        )
    }
}

/// Newest first; ties broken by insertion time then id, so the order is stable.
pub(crate) fn sort_newest_first(metas: &mut [RecordMeta]) {
    metas.sort_unstable_by(|a, b| {
        b.sort_key
            .cmp(&a.sort_key)
            .then(b.added.cmp(&a.added))
            .then(a.id.cmp(&b.id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_months() {
        assert_eq!(bucket_of(0), 1970 * 12);
        assert_eq!(bucket_of(31 * 86_400), 1970 * 12 + 1);
        assert_eq!(bucket_of(-1), 1969 * 12 + 11);
    }

    #[test]
    fn full_pages_roll_over() {
        let mut d = Directory::default();
        let first = d.page_for_insert(5);
        for _ in 1..PAGE_CAP {
            assert_eq!(d.page_for_insert(5), first);
        }
        let second = d.page_for_insert(5);
        assert_ne!(first, second);
        assert_eq!(d.pages_in(5).count(), 2);
        assert_eq!(d.total(), PAGE_CAP as u64 + 1);
        d.set_count(second, 0);
        assert_eq!(d.pages_in(5).count(), 1);
    }

    #[test]
    fn newest_buckets_come_first_within_range() {
        let mut d = Directory::default();
        for b in [3, 9, 1, 9, 5] {
            d.page_for_insert(b);
        }
        let order: Vec<i32> = d.buckets_newest_first(2, 9).into_iter().map(|(b, _)| b).collect();
        assert_eq!(order, vec![9, 5, 3]);
    }
}
