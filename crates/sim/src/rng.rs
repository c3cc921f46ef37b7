//! Deterministic randomness for seeded data.
//!
//! Every seeded record is a pure function of `(seed, stream, index)`: the simulators never
//! materialise their whole data set, they regenerate a record whenever it is read. That keeps
//! `--scale 100000` instant and small, and it is why this is SplitMix64 written out here rather
//! than `rand::StdRng`: SplitMix64's output is fixed by its definition, so the same seed keeps
//! producing byte-identical responses whatever dependency versions the workspace resolves.

/// The SplitMix64 finaliser: a bijective, well-mixing hash of a 64-bit value.
pub(crate) const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A stable hash of `(seed, stream, index, salt)`, for relations that must be computed without
/// generating the whole record (a work order's asset, an asset's parent, ...).
pub(crate) fn hash(seed: u64, stream: u64, index: u64, salt: u64) -> u64 {
    mix(seed ^ mix(stream.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ mix(index ^ mix(salt))))
}

/// A small deterministic generator (SplitMix64).
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator for free-running use (mutations), seeded once.
    pub(crate) fn new(seed: u64) -> Self {
        Rng(mix(seed ^ 0x5eed_5eed_5eed_5eed))
    }

    /// The generator for one seeded record: the same arguments always give the same stream.
    pub(crate) fn for_record(seed: u64, stream: u64, index: u64) -> Self {
        Rng(hash(seed, stream, index, 0))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n`; `n` must be positive. Multiply-shift keeps it branch-free; the bias
    /// (at most n / 2^64) is irrelevant for test data.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0, "below(0)");
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..hi` (half-open); `hi` must exceed `lo`.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(hi > lo, "empty range {lo}..{hi}");
        lo + self.below((hi - lo) as u64) as i64
    }

    /// True with probability `percent` / 100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// One element of a non-empty slice, weighted by the second member of each pair.
    pub(crate) fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut roll = self.below(total);
        for (item, weight) in items {
            let weight = u64::from(*weight);
            if roll < weight {
                return item;
            }
            roll -= weight;
        }
        &items[items.len() - 1].0
    }

    /// A string of `len` decimal digits (leading zeros allowed).
    pub(crate) fn digits(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }

    /// A string of `len` upper-case letters and digits.
    pub(crate) fn alnum(&mut self, len: usize) -> String {
        const SET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
        (0..len).map(|_| char::from(*self.pick(SET))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_same_stream() {
        let a: Vec<u64> = {
            let mut r = Rng::for_record(42, 3, 7);
            (0..5).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::for_record(42, 3, 7);
            (0..5).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        let mut c = Rng::for_record(43, 3, 7);
        assert_ne!(a[0], c.next_u64());
    }

    #[test]
    fn below_stays_in_range_and_covers_it() {
        let mut r = Rng::new(1);
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let v = r.below(7);
            assert!(v < 7);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn weighted_respects_zero_weights() {
        let mut r = Rng::new(9);
        let items = [("never", 0), ("always", 5)];
        for _ in 0..100 {
            assert_eq!(*r.weighted(&items), "always");
        }
    }
}
