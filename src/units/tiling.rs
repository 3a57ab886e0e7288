//! Partial products a_i·b_j grouped into LUT6 tables for a bit heap: a group of products
//! reading at most six operand bits is one table per bit of its weighted count
//! ([`qmulgen_rtl::heap::Heap::add_product_group`]), so the densest groups leave the fewest
//! bits to compress. Three products of a column and two of the next make 3 bits (5 products:
//! the best a LUT6 does), a 3x3 block without its lowest product 5 (8 products), a whole 3x3
//! block 6 (9). Counting column by column alone leaves a column's one or two leftover
//! products a bit each (8x8: 48 bits); [`product_groups`] finds a cover of 42.

/// Products a_i·b_j as their (i, j).
pub type ProductGroup = Vec<(usize, usize)>;

/// The products to group: a_i (i < `rows`) times b_j, with a_i of weight 2^i and b_j of weight
/// 2^`b_weights[j]` (a multiplier's b_j: 2^j), so a_i·b_j sits at column i + b_weights[j].
#[derive(Clone, Debug)]
pub struct ProductGrid {
    pub rows: usize,
    pub b_weights: Vec<usize>,
}

impl ProductGrid {
    /// The partial products of an `na` x `nb` multiplier.
    pub fn multiplier(na: usize, nb: usize) -> Self {
        ProductGrid {
            rows: na,
            b_weights: (0..nb).collect(),
        }
    }

    fn cols(&self) -> usize {
        self.b_weights.len()
    }

    /// The heap column of a_i·b_j.
    pub fn column(&self, (i, j): (usize, usize)) -> usize {
        i + self.b_weights[j]
    }

    /// The heap bits a group takes: the width of its weighted count (relative to its lowest
    /// column).
    pub fn group_bits(&self, group: &[(usize, usize)]) -> usize {
        let base = group.iter().map(|&p| self.column(p)).min().unwrap_or(0);
        let max: u64 = group.iter().map(|&p| 1u64 << (self.column(p) - base)).sum();
        (u64::BITS - max.leading_zeros()) as usize
    }
}

/// Windows of six operand bits whose products may form a group.
const WINDOWS: [(usize, usize); 3] = [(3, 3), (2, 4), (4, 2)];

/// Groups worth a table: single products (a bit each) and groups with fewer bits than
/// products (any other is no better than its products alone): subsets of a window of
/// [`WINDOWS`] and three products of one column (any six operand bits). Each group once: from
/// the first window shape its rows and columns fit, at the window nearest its first row and
/// column.
fn candidates(grid: &ProductGrid) -> Vec<ProductGroup> {
    let (na, nb) = (grid.rows, grid.cols());
    let low_and_span = |g: &[(usize, usize)], f: fn(&(usize, usize)) -> usize| {
        let lo = g.iter().map(f).min().unwrap_or(0);
        (lo, g.iter().map(f).max().unwrap_or(0) + 1 - lo)
    };
    let first_window = |g: &[(usize, usize)]| {
        let ((_, rows), (_, cols)) = (low_and_span(g, |p| p.0), low_and_span(g, |p| p.1));
        WINDOWS
            .iter()
            .position(|&(h, w)| rows <= h && cols <= w && h <= na && w <= nb)
    };
    let mut out: Vec<ProductGroup> = (0..na)
        .flat_map(|i| (0..nb).map(move |j| vec![(i, j)]))
        .collect();
    for (shape, &(h, w)) in WINDOWS.iter().enumerate() {
        for i0 in 0..(na + 1).saturating_sub(h) {
            for j0 in 0..(nb + 1).saturating_sub(w) {
                let window: Vec<(usize, usize)> = (i0..i0 + h)
                    .flat_map(|i| (j0..j0 + w).map(move |j| (i, j)))
                    .collect();
                for subset in (1..1u32 << window.len()).filter(|s| s.count_ones() >= 2) {
                    let group: ProductGroup = (0..window.len())
                        .filter(|&k| subset >> k & 1 == 1)
                        .map(|k| window[k])
                        .collect();
                    let at = (
                        low_and_span(&group, |p| p.0).0.min(na - h),
                        low_and_span(&group, |p| p.1).0.min(nb - w),
                    );
                    if at == (i0, j0)
                        && first_window(&group) == Some(shape)
                        && group.len() > grid.group_bits(&group)
                    {
                        out.push(group);
                    }
                }
            }
        }
    }
    let columns = (0..na).flat_map(|i| (0..nb).map(move |j| (i, j)));
    for column in 0..=columns.clone().map(|p| grid.column(p)).max().unwrap_or(0) {
        let cells: Vec<(usize, usize)> = columns
            .clone()
            .filter(|&p| grid.column(p) == column)
            .collect();
        for (x, &p) in cells.iter().enumerate() {
            for (y, &q) in cells.iter().enumerate().skip(x + 1) {
                for &r in &cells[y + 1..] {
                    if first_window(&[p, q, r]).is_none() {
                        out.push(vec![p, q, r]);
                    }
                }
            }
        }
    }
    out
}

/// Words of [`Cells`]: the largest grid is ESB e5k10 a16's, 11 significand bits times 48
/// factors (528 products).
const WORDS: usize = 9;

/// A set of products: bit i·nb + j for a_i·b_j.
type Cells = [u64; WORDS];

/// States the beam keeps at each step.
const BEAM: usize = 50;

/// The products of `grid` (at most 576) grouped into tables that leave few heap bits: an exact
/// cover by [`candidates`], searched by a beam of [`BEAM`] states over the products from the
/// lowest column up (each step covers the first product not yet covered), ranked by bits so
/// far plus 0.6 per product left (the densest group's bits per product). It reaches the
/// optimum of the integer program (scipy's HiGHS, over the same kinds of groups) for the sizes
/// the tests check, e.g. 8x8 in 42 bits.
pub fn product_groups(grid: &ProductGrid) -> Vec<ProductGroup> {
    let (na, nb) = (grid.rows, grid.cols());
    assert!(na * nb <= 64 * WORDS, "at most {} products", 64 * WORDS);
    let candidates = candidates(grid);
    let index = |(i, j): (usize, usize)| i * nb + j;
    let masks: Vec<Cells> = (candidates.iter())
        .map(|g| {
            let mut cells = [0; WORDS];
            g.iter()
                .map(|&p| index(p))
                .for_each(|k| cells[k / 64] |= 1 << (k % 64));
            cells
        })
        .collect();
    let bits: Vec<usize> = candidates.iter().map(|g| grid.group_bits(g)).collect();
    // Products are covered in `order`: a group is only tried for its first product.
    let mut order: Vec<usize> = (0..na * nb).collect();
    order.sort_by_key(|&k| (grid.column((k / nb, k % nb)), k / nb));
    let mut rank = vec![0; na * nb];
    order.iter().enumerate().for_each(|(r, &k)| rank[k] = r);
    let mut starting: Vec<Vec<usize>> = vec![Vec::new(); na * nb];
    for (g, group) in candidates.iter().enumerate() {
        let first = group.iter().map(|&p| index(p)).min_by_key(|&k| rank[k]);
        starting[first.expect("a group has a product")].push(g);
    }
    let covered = |cells: &Cells, k: usize| cells[k / 64] >> (k % 64) & 1 == 1;
    // A state: the products covered, the bits so far and its last step in `trail` (a group
    // and the step before).
    let mut trail: Vec<(usize, Option<usize>)> = Vec::new();
    let mut beam: Vec<(Cells, usize, Option<usize>)> = vec![([0; WORDS], 0, None)];
    loop {
        // (rank, products covered, bits, step) one group on from each state.
        let mut next: Vec<(usize, Cells, usize, Option<usize>)> = Vec::new();
        let mut grown = false;
        for (cells, cost, at) in &beam {
            let Some(first) = order.iter().copied().find(|&k| !covered(cells, k)) else {
                next.push((5 * cost, *cells, *cost, *at));
                continue;
            };
            grown = true;
            for &g in &starting[first] {
                let m = &masks[g];
                if cells.iter().zip(m).any(|(c, m)| c & m != 0) {
                    continue;
                }
                let union: Cells = std::array::from_fn(|w| cells[w] | m[w]);
                let left = na * nb - union.iter().map(|c| c.count_ones() as usize).sum::<usize>();
                let cost = cost + bits[g];
                trail.push((g, *at));
                next.push((5 * cost + 3 * left, union, cost, Some(trail.len() - 1)));
            }
        }
        if !grown {
            break;
        }
        // The cheapest way to each set of covered products, then the best ranked.
        next.sort_unstable_by_key(|&(_, cells, cost, at)| (cells, cost, at));
        next.dedup_by_key(|&mut (_, cells, _, _)| cells);
        next.sort_unstable_by_key(|&(rank, cells, _, _)| (rank, cells));
        next.truncate(BEAM);
        beam = next
            .into_iter()
            .map(|(_, c, cost, at)| (c, cost, at))
            .collect();
    }
    let (_, _, mut at) = *beam
        .iter()
        .min_by_key(|(_, cost, _)| *cost)
        .expect("a state");
    let mut groups = Vec::new();
    while let Some(step) = at {
        let (g, before) = trail[step];
        groups.push(candidates[g].clone());
        at = before;
    }
    groups.reverse();
    groups
}
