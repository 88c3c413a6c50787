//! The words of the ledger, in memory: folding (NFKD, combining marks dropped, lower case),
//! splitting (Unicode words, then at anything not a letter or digit), and postings from each
//! word to the documents that hold it. A query word matches every word it is a prefix of
//! (a range of the sorted word table), never a word it is only inside of.

use std::collections::BTreeMap;
use std::mem::size_of;
use std::ops::Bound;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;
use unicode_segmentation::UnicodeSegmentation;

pub use super::rank::Matches;

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

    /// For each document, how many of `query` (folded words, at most `MAX_QUERY_WORDS`) it
    /// matches by prefix, and its score (see `rank::Matches`): sparsely when the query's
    /// postings are fewer than a sixteenth of the documents, else densely.
    pub fn matches(&self, query: &[String]) -> Matches {
        let mut postings = 0usize;
        self.each_list(query, |_, _, list| postings += list.len());
        self.matches_as(query, postings < self.docs.len() / 16)
    }

    fn matches_as(&self, query: &[String], sparse: bool) -> Matches {
        let needed = u8::try_from(query.len()).unwrap_or(u8::MAX);
        if sparse {
            let mut met = Vec::new();
            self.each_posting(query, |i, doc, weight| met.push((doc, i, weight)));
            return Matches::sparse(met, needed);
        }
        let n = self.docs.len();
        let mut hits = vec![0u8; n];
        let mut score = vec![0f32; n];
        self.each_posting(query, |i, doc, weight| {
            let d = doc as usize;
            if hits[d] == i {
                hits[d] = i + 1;
                score[d] += weight;
            } else if hits[d] == i + 1 {
                score[d] += weight;
            }
        });
        Matches::Dense {
            hits,
            score,
            needed,
        }
    }

    /// Calls `f` with each posting of each query word, in order (the query word's position,
    /// the document, the posting's weight).
    fn each_posting(&self, query: &[String], mut f: impl FnMut(u8, u32, f32)) {
        let live = self.live.max(1) as f32;
        self.each_list(query, |i, whole, list| {
            // Rarer words weigh more; a whole word more than a prefix of one.
            let idf = (1.0 + live / list.len() as f32).ln();
            let whole = if whole { 1.5 } else { 1.0 };
            for p in list {
                f(i, p >> 1, idf * whole * if p & 1 == 1 { 2.0 } else { 1.0 });
            }
        });
    }

    /// Calls `f` with each non-empty posting list of each query word's prefix range (the query
    /// word's position, whether the word is the whole query word, the list).
    fn each_list(&self, query: &[String], mut f: impl FnMut(u8, bool, &[u32])) {
        for (i, q) in query.iter().enumerate() {
            let i = u8::try_from(i).unwrap_or(u8::MAX - 1);
            for (word, &w) in self
                .words
                .range::<str, _>((Bound::Included(q.as_str()), Bound::Unbounded))
            {
                if !word.starts_with(q.as_str()) {
                    break;
                }
                if let Some(list) = self.lists.get(w as usize).filter(|l| !l.is_empty()) {
                    f(i, word.len() == q.len(), list);
                }
            }
        }
    }

    /// The `limit` best documents of `m` that `keep` accepts (see `Matches::best`).
    pub fn best(
        &self,
        m: &Matches,
        limit: usize,
        keep: impl FnMut(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        m.best(&self.recency, limit, keep)
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
        assert!(p.matches(&folded("chnic")).all().is_empty());
        let m = p.matches(&folded("ELECTR tech"));
        assert_eq!(
            m.all().into_iter().map(|(d, _)| d).collect::<Vec<_>>(),
            vec![b]
        );
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
            .into_iter()
            .map(|(d, _)| d)
            .filter(|d| p.meta(*d).is_some())
            .collect();
        assert_eq!(alive, vec![b]);
        let map = p.compact();
        assert_eq!(map, vec![u32::MAX, 0]);
        assert_eq!(
            p.matches(&folded("beta"))
                .all()
                .into_iter()
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
        let mut want: Vec<(u32, f32)> = m.all().into_iter().filter(|(d, _)| keep(*d)).collect();
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

    #[test]
    fn sparse_and_dense_matching_agree_to_the_bit() {
        let mut p: Postings<u8> = Postings::default();
        for d in 0..3000u32 {
            let body =
                ["alpha beta", "alphabet gamma", "alpine beta beta", "delta"][(d % 4) as usize];
            let title = ["alpha", "Beta", "gamma", ""][(d % 3) as usize];
            p.add(0, i64::from(d % 13), &[(title, true), (body, false)]);
        }
        p.remove(7);
        for q in ["alp", "alpha", "alp bet", "bet alp gam", "delta alp", "zzz"] {
            let words = folded(q);
            let (dense, sparse) = (p.matches_as(&words, false), p.matches_as(&words, true));
            let bits = |m: &Matches| {
                m.all()
                    .into_iter()
                    .map(|(d, s)| (d, s.to_bits()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&dense), bits(&sparse), "{q}");
            for d in [0, 1, 7, 2999, 5000] {
                assert_eq!(
                    dense.score(d).map(f32::to_bits),
                    sparse.score(d).map(f32::to_bits)
                );
            }
            let keep = |d: u32| p.meta(d).is_some() && !d.is_multiple_of(5);
            for limit in [1, 20, 4000] {
                assert_eq!(
                    p.best(&dense, limit, keep),
                    p.best(&sparse, limit, keep),
                    "{q}"
                );
            }
        }
    }
}
