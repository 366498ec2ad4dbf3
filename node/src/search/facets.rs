//! Facet counts over every document a query matches.
//!
//! A query that matches most of the corpus (a common word such as `службы`) visits every match
//! once for its facets. Read from tantivy's fast fields, each visit decodes nine columns (an
//! optional or multi-valued index, then bit-packed values): about two thirds of such a query's
//! time was spent there. A segment never changes once written (deletes do not alter a document's
//! values), so the first query to reach a segment lays its facet values out once, flat: the
//! ordinals of every document one after the other, each already offset into one counting array.
//! Every later visit is a slice and an increment per value. The layouts are kept per segment id
//! and dropped when their segment leaves the index (merged or deleted).
//!
//! Memory: four bytes per facet value of a document plus four per document (a million records
//! with about seven values each: about 32 MB).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, SegmentReader};

use super::Facets;

/// The facet fields, in the order of [`Facets`]' maps.
pub(super) const FACET_FIELDS: [&str; 9] = [
    "country",
    "topic",
    "area",
    "kind",
    "lang",
    "status",
    "role",
    "participant",
    "state",
];

/// One segment's facet values, flat.
#[derive(Debug)]
struct Layout {
    /// `values[starts[d]..starts[d + 1]]` are document `d`'s values.
    starts: Vec<u32>,
    /// Term ordinals, each plus its field's base in the counting array.
    values: Vec<u32>,
    /// Where each field's ordinals begin in the counting array; the last entry is its length.
    bases: [u32; FACET_FIELDS.len() + 1],
}

impl Layout {
    /// Reads every document's values from the segment's columns; `None` when a segment holds
    /// more than `u32::MAX` values (tantivy's segments hold at most 2^31 documents; the facets
    /// of a real corpus have a few hundred distinct values and a few per document).
    fn read(columns: &[Option<StrColumn>], max_doc: DocId) -> Option<Self> {
        let mut bases = [0u32; FACET_FIELDS.len() + 1];
        let mut total: u64 = 0;
        for (i, col) in columns.iter().enumerate() {
            bases[i] = u32::try_from(total).ok()?;
            total += col.as_ref().map_or(0, |c| c.num_terms()) as u64;
        }
        bases[FACET_FIELDS.len()] = u32::try_from(total).ok()?;
        let mut starts = Vec::with_capacity(max_doc as usize + 1);
        let mut values = Vec::with_capacity(max_doc as usize * 4);
        starts.push(0);
        for doc in 0..max_doc {
            for (col, base) in columns.iter().zip(bases) {
                if let Some(col) = col {
                    for ord in col.term_ords(doc) {
                        values.push(u32::try_from(ord).ok()?.checked_add(base)?);
                    }
                }
            }
            starts.push(u32::try_from(values.len()).ok()?);
        }
        Some(Self {
            starts,
            values,
            bases,
        })
    }
}

/// The layouts of the segments queries have reached, by segment id (shared by every clone of
/// the search index).
#[derive(Debug, Default)]
pub(super) struct FacetCache {
    layouts: Mutex<HashMap<SegmentId, Arc<Layout>>>,
}

impl FacetCache {
    /// The layout of `reader`'s segment, read now if no query has reached it yet.
    fn layout(
        &self,
        reader: &SegmentReader,
        columns: &[Option<StrColumn>],
    ) -> tantivy::Result<Arc<Layout>> {
        let id = reader.segment_id();
        if let Some(l) = self.lock().get(&id) {
            return Ok(l.clone());
        }
        // Read outside the lock: other queries go on meanwhile. Two queries reaching a new
        // segment at once may both read it; the second's copy is dropped.
        let layout = Layout::read(columns, reader.max_doc()).ok_or_else(|| {
            tantivy::TantivyError::InternalError(format!(
                "segment {id:?}: more facet values than a u32 counts"
            ))
        })?;
        Ok(self.lock().entry(id).or_insert(Arc::new(layout)).clone())
    }

    /// Forgets the segments not among `live` (merged away or deleted).
    pub(super) fn retain(&self, live: &[SegmentReader]) {
        let mut layouts = self.lock();
        if layouts.len() > live.len() {
            layouts.retain(|id, _| live.iter().any(|r| r.segment_id() == *id));
        }
    }

    /// How many segments' layouts are kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SegmentId, Arc<Layout>>> {
        self.layouts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Counts facet values over every matching document.
pub(super) struct FacetCollector<'a> {
    pub(super) cache: &'a FacetCache,
}

/// One segment's counting.
pub(super) struct FacetSegment {
    /// The columns, for the values' names at the end.
    columns: Vec<Option<StrColumn>>,
    layout: Arc<Layout>,
    /// One count per value of every field (the layout's counting array).
    counts: Vec<u32>,
}

impl Collector for FacetCollector<'_> {
    type Fruit = Facets;
    type Child = FacetSegment;

    fn for_segment(&self, _segment: u32, reader: &SegmentReader) -> tantivy::Result<Self::Child> {
        let mut columns = Vec::with_capacity(FACET_FIELDS.len());
        for name in FACET_FIELDS {
            columns.push(reader.fast_fields().str(name)?);
        }
        let layout = self.cache.layout(reader, &columns)?;
        let counts = vec![0; layout.bases[FACET_FIELDS.len()] as usize];
        Ok(FacetSegment {
            columns,
            layout,
            counts,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Facets>) -> tantivy::Result<Facets> {
        let mut out = Facets::default();
        for f in fruits {
            for (into, from) in out.maps_mut().into_iter().zip(f.into_maps()) {
                for (k, v) in from {
                    *into.entry(k).or_default() += v;
                }
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for FacetSegment {
    type Fruit = Facets;

    fn collect(&mut self, doc: DocId, _score: Score) {
        let starts = &self.layout.starts;
        let (Some(&a), Some(&b)) = (starts.get(doc as usize), starts.get(doc as usize + 1)) else {
            return;
        };
        for &v in self
            .layout
            .values
            .get(a as usize..b as usize)
            .unwrap_or_default()
        {
            if let Some(c) = self.counts.get_mut(v as usize) {
                *c += 1;
            }
        }
    }

    fn harvest(self) -> Facets {
        let mut maps: Vec<BTreeMap<String, u64>> = Vec::with_capacity(FACET_FIELDS.len());
        for (i, col) in self.columns.iter().enumerate() {
            let mut map = BTreeMap::new();
            if let Some(col) = col {
                let base = self.layout.bases[i] as usize;
                let counts = self
                    .counts
                    .get(base..base + col.num_terms())
                    .unwrap_or_default();
                for (ord, &count) in counts.iter().enumerate() {
                    let mut s = String::new();
                    if count > 0 && col.ord_to_str(ord as u64, &mut s).unwrap_or(false) {
                        map.insert(s, u64::from(count));
                    }
                }
            }
            maps.push(map);
        }
        Facets::from_maps(maps)
    }
}
