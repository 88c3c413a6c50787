//! The words of the ledger, in memory: folding (NFKD, combining marks dropped, lower case),
//! splitting (Unicode words, then at anything not a letter or digit), and postings from each
//! word to the documents that hold it. A query word matches every word it is a prefix of
//! (a range of the sorted word table), never a word it is only inside of.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::mem::size_of;
use std::ops::Bound;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;

/// Longest word kept (longer ones are cut): a pasted token cannot grow the table much.
const MAX_WORD_CHARS: usize = 48;
/// Most words a query may hold.
pub const MAX_QUERY_WORDS: usize = 16;

/// The folded words of `text`, in order (repeats included).
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for w in text.unicode_words() {
        let folded = fold(w);
        for part in folded.split(|c: char| !c.is_alphanumeric()) {
            if !part.is_empty() {
                out.push(part.chars().take(MAX_WORD_CHARS).collect());
            }
        }
    }
    out
}

fn fold(word: &str) -> String {
    if word.is_ascii() {
        return word.to_ascii_lowercase();
    }
    word.nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// A document: one record's current content.
#[derive(Debug, Clone, Copy)]
pub struct Doc<M> {
    pub meta: M,
    pub alive: bool,
}

/// Words → documents. A posting is `doc << 1 | title`, in increasing document order.
pub struct Postings<M> {
    words: BTreeMap<Box<str>, u32>,
    lists: Vec<Vec<u32>>,
    docs: Vec<Doc<M>>,
    /// Each document's time (what ties in a ranking go by: the newest first), apart from
    /// the documents so that ranking reads it in order without touching them.
    recency: Vec<i64>,
    live: usize,
    word_bytes: usize,
}

impl<M: Copy> Default for Postings<M> {
    fn default() -> Self {
        Postings {
            words: BTreeMap::new(),
            lists: Vec::new(),
            docs: Vec::new(),
            recency: Vec::new(),
            live: 0,
            word_bytes: 0,
        }
    }
}

impl<M: Copy> Postings<M> {
    /// Adds a document made of `texts` (`true`: a title, which weighs more), of time
    /// `recency`; returns its number.
    pub fn add(&mut self, meta: M, recency: i64, texts: &[(&str, bool)]) -> u32 {
        let doc = u32::try_from(self.docs.len()).unwrap_or(u32::MAX >> 1);
        self.docs.push(Doc { meta, alive: true });
        self.recency.push(recency);
        self.live += 1;
        let mut seen: BTreeMap<String, bool> = BTreeMap::new();
        for (text, title) in texts {
            for w in words(text) {
                let t = seen.entry(w).or_insert(*title);
                *t |= *title;
            }
        }
        for (w, title) in seen {
            let n = match self.words.get(w.as_str()) {
                Some(n) => *n,
                None => {
                    let n = u32::try_from(self.lists.len()).unwrap_or(u32::MAX);
                    self.word_bytes += w.len();
                    self.words.insert(w.into_boxed_str(), n);
                    self.lists.push(Vec::new());
                    n
                }
            };
            if let Some(list) = self.lists.get_mut(n as usize) {
                list.push(doc << 1 | u32::from(title));
            }
        }
        doc
    }

    /// Marks document `doc` gone (its postings stay until `compact`).
    pub fn remove(&mut self, doc: u32) {
        if let Some(d) = self.docs.get_mut(doc as usize)
            && d.alive
        {
            d.alive = false;
            self.live -= 1;
        }
    }

    pub fn meta(&self, doc: u32) -> Option<&M> {
        self.docs
            .get(doc as usize)
            .filter(|d| d.alive)
            .map(|d| &d.meta)
    }

    pub fn meta_mut(&mut self, doc: u32) -> Option<&mut M> {
        self.docs
            .get_mut(doc as usize)
            .filter(|d| d.alive)
            .map(|d| &mut d.meta)
    }

    /// Whether enough documents are gone that `compact` is worth its pass.
    pub fn wants_compaction(&self) -> bool {
        let dead = self.docs.len() - self.live;
        dead > 4096 && dead > self.live
    }

    /// Drops the documents that are gone and renumbers the rest (in order); returns the new
    /// number of each old one (`u32::MAX`: gone).
    pub fn compact(&mut self) -> Vec<u32> {
        let mut map = vec![u32::MAX; self.docs.len()];
        let mut next = 0u32;
        for (old, d) in self.docs.iter().enumerate() {
            if d.alive {
                map[old] = next;
                next += 1;
            }
        }
        let mut alive = self.docs.iter().map(|d| d.alive);
        self.recency.retain(|_| alive.next().unwrap_or(false));
        self.recency.shrink_to_fit();
        self.docs.retain(|d| d.alive);
        self.docs.shrink_to_fit();
        for list in &mut self.lists {
            list.retain_mut(|p| {
                let new = map[(*p >> 1) as usize];
                *p = new << 1 | (*p & 1);
                new != u32::MAX
            });
            list.shrink_to_fit();
        }
        map
    }

    /// For each live document, how many of `query` (folded words, at most
    /// `MAX_QUERY_WORDS`) it matches by prefix, and its score; `None` where not all match.
    pub fn matches(&self, query: &[String]) -> Matches {
        let n = self.docs.len();
        let mut hits = vec![0u8; n];
        let mut score = vec![0f32; n];
        let live = self.live.max(1) as f32;
        for (i, q) in query.iter().enumerate() {
            let i = u8::try_from(i).unwrap_or(u8::MAX - 1);
            for (word, &w) in self
                .words
                .range::<str, _>((Bound::Included(q.as_str()), Bound::Unbounded))
            {
                if !word.starts_with(q.as_str()) {
                    break;
                }
                let Some(list) = self.lists.get(w as usize).filter(|l| !l.is_empty()) else {
                    continue;
                };
                // Rarer words weigh more; a whole word more than a prefix of one.
                let idf = (1.0 + live / list.len() as f32).ln();
                let whole = if word.len() == q.len() { 1.5 } else { 1.0 };
                for p in list {
                    let d = (p >> 1) as usize;
                    let weight = idf * whole * if p & 1 == 1 { 2.0 } else { 1.0 };
                    if hits[d] == i {
                        hits[d] = i + 1;
                        score[d] += weight;
                    } else if hits[d] == i + 1 {
                        score[d] += weight;
                    }
                }
            }
        }
        Matches {
            hits,
            score,
            needed: u8::try_from(query.len()).unwrap_or(u8::MAX),
        }
    }

    /// The `limit` best documents of `m` that `keep` accepts, best first: by score, then the
    /// newest, then the last added. Holds `limit` at a time whatever matched; goes from the
    /// last document added back (newer records were mostly added later, so ties are mostly
    /// met best first), skips runs of documents scored below the worst kept in one pass over
    /// their scores, and asks `keep` only of documents that would be kept.
    pub fn best(
        &self,
        m: &Matches,
        limit: usize,
        mut keep: impl FnMut(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        const RUN: usize = 64;
        if limit == 0 {
            return Vec::new();
        }
        // A min-heap of the best so far: its top is the one to drop next.
        let mut heap: BinaryHeap<Reverse<Ranked>> = BinaryHeap::with_capacity(limit + 1);
        for (run, scores) in m.score.chunks(RUN).enumerate().rev() {
            let worst = (heap.len() == limit)
                .then(|| heap.peek().map(|w| w.0))
                .flatten();
            if let Some(w) = worst
                && scores.iter().all(|s| *s < w.score)
            {
                continue;
            }
            for (i, &score) in scores.iter().enumerate().rev() {
                let doc = run * RUN + i;
                if m.hits[doc] != m.needed {
                    continue;
                }
                let r = Ranked {
                    score,
                    recency: self.recency.get(doc).copied().unwrap_or(i64::MIN),
                    doc: doc as u32,
                };
                let full = heap.len() == limit;
                if full && heap.peek().is_some_and(|w| r <= w.0) {
                    continue;
                }
                if !keep(r.doc) {
                    continue;
                }
                if full {
                    heap.pop();
                }
                heap.push(Reverse(r));
            }
        }
        heap.into_sorted_vec()
            .into_iter()
            .map(|Reverse(r)| (r.doc, r.score))
            .collect()
    }

    pub fn docs(&self) -> impl Iterator<Item = (u32, &M)> {
        self.docs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.alive)
            .map(|(i, d)| (i as u32, &d.meta))
    }

    pub fn live(&self) -> usize {
        self.live
    }

    /// Heap bytes held, by capacities (a B-tree entry counted at its key, value and a
    /// pointer's share of its node).
    pub fn heap_bytes(&self) -> usize {
        let tree = self.words.len() * (size_of::<Box<str>>() + size_of::<u32>() + 8);
        let lists: usize = self
            .lists
            .iter()
            .map(|l| l.capacity() * size_of::<u32>())
            .sum::<usize>()
            + self.lists.capacity() * size_of::<Vec<u32>>();
        tree + self.word_bytes
            + lists
            + self.docs.capacity() * size_of::<Doc<M>>()
            + self.recency.capacity() * size_of::<i64>()
    }
}

/// Which documents matched a query, and how well.
pub struct Matches {
    hits: Vec<u8>,
    score: Vec<f32>,
    needed: u8,
}

impl Matches {
    /// Document `doc`'s score, if it matched every query word.
    pub fn score(&self, doc: u32) -> Option<f32> {
        let d = doc as usize;
        (self.hits.get(d) == Some(&self.needed)).then(|| self.score[d])
    }

    /// The documents that matched every word.
    pub fn all(&self) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.hits
            .iter()
            .enumerate()
            .filter(|(_, h)| **h == self.needed)
            .map(|(d, _)| (d as u32, self.score[d]))
    }
}

/// A match as `best` ranks it: greater is better.
#[derive(Clone, Copy)]
struct Ranked {
    score: f32,
    recency: i64,
    doc: u32,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.recency.cmp(&other.recency))
            .then(self.doc.cmp(&other.doc))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(q: &str) -> Vec<String> {
        words(q)
    }

    #[test]
    fn words_fold_case_accents_and_split_at_punctuation() {
        assert_eq!(
            words("Le TECHNICIEN est passé, l'eau coule: www.Acme.fr Œuvre ﬁn"),
            [
                "le",
                "technicien",
                "est",
                "passe",
                "l",
                "eau",
                "coule",
                "www",
                "acme",
                "fr",
                "œuvre",
                "fin"
            ]
        );
        assert!(words("  ,;- ").is_empty());
    }

    #[test]
    fn prefixes_match_but_inner_parts_do_not() {
        let mut p: Postings<u8> = Postings::default();
        let a = p.add(1, 0, &[("Visite du technicien", true)]);
        let b = p.add(
            2,
            0,
            &[("Facture", true), ("technique, électricité", false)],
        );
        let m = p.matches(&folded("techn"));
        assert!(m.score(a).is_some() && m.score(b).is_some());
        assert!(p.matches(&folded("chnic")).all().next().is_none());
        let m = p.matches(&folded("ELECTR tech"));
        assert_eq!(m.all().map(|(d, _)| d).collect::<Vec<_>>(), vec![b]);
        // Title beats body.
        let m = p.matches(&folded("techn"));
        assert!(m.score(a) > m.score(b));
    }

    #[test]
    fn removed_documents_stop_matching_and_compaction_renumbers() {
        let mut p: Postings<u8> = Postings::default();
        let a = p.add(1, 0, &[("alpha", true)]);
        let b = p.add(2, 0, &[("alpha beta", true)]);
        p.remove(a);
        let m = p.matches(&folded("alpha"));
        let alive: Vec<u32> = m
            .all()
            .map(|(d, _)| d)
            .filter(|d| p.meta(*d).is_some())
            .collect();
        assert_eq!(alive, vec![b]);
        let map = p.compact();
        assert_eq!(map, vec![u32::MAX, 0]);
        assert_eq!(
            p.matches(&folded("beta"))
                .all()
                .map(|(d, _)| d)
                .collect::<Vec<_>>(),
            vec![0]
        );
        assert_eq!(p.meta(0), Some(&2));
    }

    #[test]
    fn best_keeps_what_a_full_sort_keeps() {
        let mut p: Postings<u8> = Postings::default();
        // Few distinct scores and times, so ties (broken by time, then the last added) abound; enough
        // documents that whole runs are skipped.
        for d in 0..2000u32 {
            let body = ["alpha", "alpha beta", "alphabet", "gamma"][(d % 4) as usize];
            p.add((d % 7) as u8, i64::from(d % 11), &[(body, d % 5 == 0)]);
        }
        p.remove(12);
        let m = p.matches(&folded("alph"));
        let keep = |d: u32| p.meta(d).is_some_and(|k| *k != 3);
        let mut want: Vec<(u32, f32)> = m.all().filter(|(d, _)| keep(*d)).collect();
        want.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then((b.0 % 11).cmp(&(a.0 % 11)))
                .then(b.0.cmp(&a.0))
        });
        for limit in [0, 1, 7, 64, 1000, 5000] {
            let got = p.best(&m, limit, keep);
            assert_eq!(got, want[..limit.min(want.len())], "limit {limit}");
        }
    }
}
