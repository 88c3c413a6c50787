//! Which documents matched a query and how well, and the best of them. A query whose words'
//! postings are few is matched sparsely (its postings sorted by document: no array the size of
//! the index); one whose postings are many, densely (a count and a score per document).

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// Which documents matched a query, and how well.
pub enum Matches {
    /// Per document: how many query words it matched, and its score.
    Dense {
        hits: Vec<u8>,
        score: Vec<f32>,
        needed: u8,
    },
    /// The documents that matched every word, with their scores, by document.
    Sparse(Vec<(u32, f32)>),
}

/// One posting met by a query: its document, the query word (its position) and its weight.
pub type Met = (u32, u8, f32);

impl Matches {
    /// The sparse matches of `met` (in the order the postings were read) for a query of
    /// `needed` words: the documents met by every word, each scored by the sum of its weights
    /// added in that order (so a score is the same, to the bit, as the dense one).
    pub fn sparse(mut met: Vec<Met>, needed: u8) -> Matches {
        met.sort_by_key(|(doc, word, _)| (*doc, *word));
        let mut out: Vec<(u32, f32)> = Vec::new();
        let mut at = 0;
        while at < met.len() {
            let doc = met[at].0;
            let (mut words, mut last, mut score) = (0u8, None, 0f32);
            while at < met.len() && met[at].0 == doc {
                let (_, word, weight) = met[at];
                if last != Some(word) {
                    words += 1;
                    last = Some(word);
                }
                score += weight;
                at += 1;
            }
            if words == needed {
                out.push((doc, score));
            }
        }
        Matches::Sparse(out)
    }

    /// Document `doc`'s score, if it matched every query word.
    pub fn score(&self, doc: u32) -> Option<f32> {
        match self {
            Matches::Dense {
                hits,
                score,
                needed,
            } => {
                let d = doc as usize;
                (hits.get(d) == Some(needed)).then(|| score[d])
            }
            Matches::Sparse(found) => found
                .binary_search_by_key(&doc, |(d, _)| *d)
                .ok()
                .map(|i| found[i].1),
        }
    }

    /// The documents that matched every word, by document.
    pub fn all(&self) -> Vec<(u32, f32)> {
        match self {
            Matches::Dense {
                hits,
                score,
                needed,
            } => hits
                .iter()
                .enumerate()
                .filter(|(_, h)| *h == needed)
                .map(|(d, _)| (d as u32, score[d]))
                .collect(),
            Matches::Sparse(found) => found.clone(),
        }
    }

    /// The `limit` best documents that `keep` accepts, best first: by score, then the newest
    /// (`recency`, per document), then the last added. Holds `limit` at a time whatever
    /// matched; goes from the last document added back (newer records were mostly added
    /// later, so ties are mostly met best first); densely, skips runs of documents scored
    /// below the worst kept after one check of their scores; asks `keep` only of documents
    /// that would be kept.
    pub fn best(
        &self,
        recency: &[i64],
        limit: usize,
        keep: impl FnMut(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        const RUN: usize = 64;
        let mut top = Top {
            heap: BinaryHeap::with_capacity(limit + 1),
            limit,
            recency,
            keep,
        };
        if limit == 0 {
            return Vec::new();
        }
        match self {
            Matches::Dense {
                hits,
                score,
                needed,
            } => {
                for (run, scores) in score.chunks(RUN).enumerate().rev() {
                    if let Some(w) = top.worst()
                        && scores.iter().all(|s| *s < w.score)
                    {
                        continue;
                    }
                    for (i, &score) in scores.iter().enumerate().rev() {
                        let doc = run * RUN + i;
                        if hits[doc] == *needed {
                            top.offer(doc as u32, score);
                        }
                    }
                }
            }
            Matches::Sparse(found) => {
                for &(doc, score) in found.iter().rev() {
                    top.offer(doc, score);
                }
            }
        }
        top.heap
            .into_sorted_vec()
            .into_iter()
            .map(|Reverse(r)| (r.doc, r.score))
            .collect()
    }
}

/// The best `limit` so far: a min-heap, whose top is the one to drop next.
struct Top<'r, K> {
    heap: BinaryHeap<Reverse<Ranked>>,
    limit: usize,
    recency: &'r [i64],
    keep: K,
}

impl<K: FnMut(u32) -> bool> Top<'_, K> {
    /// The worst kept, once `limit` are.
    fn worst(&self) -> Option<Ranked> {
        (self.heap.len() == self.limit)
            .then(|| self.heap.peek().map(|w| w.0))
            .flatten()
    }

    fn offer(&mut self, doc: u32, score: f32) {
        let r = Ranked {
            score,
            recency: self.recency.get(doc as usize).copied().unwrap_or(i64::MIN),
            doc,
        };
        let worst = self.worst();
        if worst.is_some_and(|w| r <= w) || !(self.keep)(doc) {
            return;
        }
        if worst.is_some() {
            self.heap.pop();
        }
        self.heap.push(Reverse(r));
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
