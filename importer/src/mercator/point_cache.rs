//! A small direct-mapped cache of points already transformed by PROJ.
//!
//! Neighbouring parcels share their corners: in a cadastral file written
//! sheet by sheet, about three of four vertices were transformed a few
//! records earlier (74 % of the generated province's, within 1,024
//! points). PROJ is a pure function of the input point, so handing back
//! its earlier answer for the same bits is exact, and PROJ's math was the
//! largest part of the workers' time.
//!
//! ```
//! use importer::mercator::point_cache::PointCache;
//! let mut c = PointCache::new();
//! assert_eq!(c.get([1.0, 2.0]), None);
//! c.put([1.0, 2.0], [10.0, 20.0]);
//! assert_eq!(c.get([1.0, 2.0]), Some([10.0, 20.0]));
//! assert_eq!(c.get([2.0, 1.0]), None);
//! ```

/// Slots of the cache (a power of two): 128 KiB per worker.
const SLOTS: usize = 4096;

/// Source point bits and PROJ's answer for it.
type Slot = ([u64; 2], [f64; 2]);

/// Points keyed by their exact bits; a new point replaces the one in its
/// slot. NaN keys never hit (a slot starts as NaN bits that no finite
/// point has, and only finite answers are stored by callers).
pub struct PointCache {
    slots: Box<[Slot]>,
}

impl Default for PointCache {
    fn default() -> Self {
        Self::new()
    }
}

impl PointCache {
    pub fn new() -> Self {
        let empty = f64::NAN.to_bits();
        PointCache {
            slots: vec![([empty, empty], [0.0; 2]); SLOTS].into_boxed_slice(),
        }
    }

    fn slot(key: [u64; 2]) -> usize {
        let h = (key[0] ^ key[1].rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> (64 - SLOTS.trailing_zeros())) as usize
    }

    /// PROJ's answer for `p`, if this cache holds it.
    pub fn get(&self, p: [f64; 2]) -> Option<[f64; 2]> {
        let key = [p[0].to_bits(), p[1].to_bits()];
        let (k, v) = &self.slots[Self::slot(key)];
        (*k == key && !p[0].is_nan()).then_some(*v)
    }

    /// Remembers PROJ's answer `q` for `p`.
    pub fn put(&mut self, p: [f64; 2], q: [f64; 2]) {
        let key = [p[0].to_bits(), p[1].to_bits()];
        self.slots[Self::slot(key)] = (key, q);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_bits_only_and_the_newest_point_wins_its_slot() {
        let mut c = PointCache::new();
        // Equal as numbers, different bits: not the same key.
        c.put([0.0, 1.0], [5.0, 5.0]);
        assert_eq!(c.get([-0.0, 1.0]), None);
        assert_eq!(c.get([0.0, 1.0]), Some([5.0, 5.0]));
        // Fill far beyond the slots: whatever is found is what was put.
        for i in 0..(SLOTS * 4) {
            let p = [500_000.0 + i as f64 * 0.25, 1_100_000.0 - i as f64];
            c.put(p, [p[1], p[0]]);
        }
        let mut hits = 0;
        for i in 0..(SLOTS * 4) {
            let p = [500_000.0 + i as f64 * 0.25, 1_100_000.0 - i as f64];
            if let Some(q) = c.get(p) {
                assert_eq!(q, [p[1], p[0]]);
                hits += 1;
            }
        }
        assert!(hits > 0 && hits <= SLOTS, "{hits}");
        // An empty slot's NaN key never matches a NaN point.
        assert_eq!(PointCache::new().get([f64::NAN, f64::NAN]), None);
    }
}
