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
    live: usize,
    word_bytes: usize,
}

impl<M: Copy> Default for Postings<M> {
    fn default() -> Self {
        Postings {
            words: BTreeMap::new(),
            lists: Vec::new(),
            docs: Vec::new(),
            live: 0,
            word_bytes: 0,
        }
    }
}

impl<M: Copy> Postings<M> {
    /// Adds a document made of `texts` (`true`: a title, which weighs more); returns its number.
    pub fn add(&mut self, meta: M, texts: &[(&str, bool)]) -> u32 {
        let doc = u32::try_from(self.docs.len()).unwrap_or(u32::MAX >> 1);
        self.docs.push(Doc { meta, alive: true });
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
        tree + self.word_bytes + lists + self.docs.capacity() * size_of::<Doc<M>>()
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
        let a = p.add(1, &[("Visite du technicien", true)]);
        let b = p.add(2, &[("Facture", true), ("technique, électricité", false)]);
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
        let a = p.add(1, &[("alpha", true)]);
        let b = p.add(2, &[("alpha beta", true)]);
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
}
