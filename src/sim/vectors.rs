//! Input vectors addressed by index, so that the writer and the checker thread can produce the
//! same vector independently: exhaustive enumeration, corner cases and seeded random vectors.

/// A finite, indexable sequence of input vectors (one value per input port).
pub trait VectorSource: Sync {
    fn len(&self) -> u64;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn fill(&self, index: u64, out: &mut [u64]);
    fn describe(&self) -> String;
}

/// Every combination: the first input varies fastest. Input j ranges over `0..sizes[j]`
/// (all values of a `w`-bit port with [`Exhaustive::new`], a prefix with [`Exhaustive::grid`]).
pub struct Exhaustive {
    sizes: Vec<u64>,
}

impl Exhaustive {
    /// Every value of every input, given the input widths.
    pub fn new(widths: Vec<usize>) -> Self {
        Exhaustive {
            sizes: widths.into_iter().map(|w| 1u64 << w).collect(),
        }
    }
    /// Input j takes the values `0..sizes[j]` (e.g. only the valid fault sites).
    pub fn grid(sizes: Vec<u64>) -> Self {
        Exhaustive { sizes }
    }
}

impl VectorSource for Exhaustive {
    fn len(&self) -> u64 {
        self.sizes.iter().product()
    }
    fn fill(&self, index: u64, out: &mut [u64]) {
        let mut rest = index;
        for (o, &size) in out.iter_mut().zip(&self.sizes) {
            *o = rest % size;
            rest /= size;
        }
    }
    fn describe(&self) -> String {
        format!("exhaustive, {} vectors", self.len())
    }
}

/// A fixed list (a unit's corner cases).
pub struct Corners {
    vectors: Vec<Vec<u64>>,
}

impl Corners {
    pub fn new(vectors: Vec<Vec<u64>>) -> Self {
        Corners { vectors }
    }
}

impl VectorSource for Corners {
    fn len(&self) -> u64 {
        self.vectors.len() as u64
    }
    fn fill(&self, index: u64, out: &mut [u64]) {
        out.copy_from_slice(&self.vectors[index as usize]);
    }
    fn describe(&self) -> String {
        format!("{} corner cases", self.len())
    }
}

/// Seeded uniform random vectors; vector `i` depends only on (seed, i).
pub struct Random {
    widths: Vec<usize>,
    count: u64,
    seed: u64,
}

impl Random {
    pub fn new(widths: Vec<usize>, count: u64, seed: u64) -> Self {
        Random {
            widths,
            count,
            seed,
        }
    }
}

/// SplitMix64 finaliser: a good 64-bit mix of a counter.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl VectorSource for Random {
    fn len(&self) -> u64 {
        self.count
    }
    fn fill(&self, index: u64, out: &mut [u64]) {
        let base = splitmix64(self.seed ^ 0x51_7cc1_b727_220a)
            .wrapping_add(index.wrapping_mul(self.widths.len() as u64));
        for (j, (o, &w)) in out.iter_mut().zip(&self.widths).enumerate() {
            *o = splitmix64(base.wrapping_add(j as u64)) & crate::base::mask(w);
        }
    }
    fn describe(&self) -> String {
        format!("{} random vectors, seed {}", self.count, self.seed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhaustive_covers_every_pair_once() {
        let src = Exhaustive::new(vec![2, 3]);
        assert_eq!(src.len(), 32);
        let mut seen = std::collections::BTreeSet::new();
        let mut v = [0u64; 2];
        for i in 0..src.len() {
            src.fill(i, &mut v);
            assert!(v[0] < 4 && v[1] < 8);
            seen.insert(v);
        }
        assert_eq!(seen.len(), 32);
        let grid = Exhaustive::grid(vec![3, 5]);
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..grid.len() {
            grid.fill(i, &mut v);
            assert!(v[0] < 3 && v[1] < 5);
            seen.insert(v);
        }
        assert_eq!(seen.len(), 15);
    }

    #[test]
    fn random_is_reproducible_and_seed_dependent() {
        let a = Random::new(vec![16, 16], 100, 1);
        let b = Random::new(vec![16, 16], 100, 2);
        let (mut x, mut y, mut z) = ([0u64; 2], [0u64; 2], [0u64; 2]);
        let mut differ = 0;
        for i in 0..100 {
            a.fill(i, &mut x);
            a.fill(i, &mut y);
            b.fill(i, &mut z);
            assert_eq!(x, y);
            assert!(x[0] < 1 << 16 && x[1] < 1 << 16);
            differ += usize::from(x != z);
        }
        assert!(differ > 90);
    }
}
