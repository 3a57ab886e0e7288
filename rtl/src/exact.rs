//! RTL of `exact` (model side: `src/units/exact.rs`): the exact A×B multiplier baseline
//! (ARITHMETIC.md §0, §3.4 "Unp-exact"). An adder tree of partial products (rust-hdl only
//! multiplies `Bits<16>`, and an explicit tree keeps the unit DSP-free in Vivado too).

use crate::mask;
use rust_hdl::prelude::*;

pub use crate::Signedness;

/// The narrower operand width (ties: `b`): it drives the partial-product selection, so the
/// adder tree has as few leaves as possible.
#[inline]
pub const fn selector_width(a_bits: usize, b_bits: usize) -> usize {
    if a_bits < b_bits {
        a_bits
    } else {
        b_bits
    }
}

/// The partial-product groups of `p = a * b` over A+B = P bits. The narrower operand
/// (`S` = [`selector_width`] bits) selects: leaf k = the wider operand, extended to P bits,
/// shifted by k (negated for the MSB of a signed selector, which weighs -2^(S-1)), taken when
/// selector bit k is set. A group of four leaves is two conditional adds (the selection inside
/// their LUTs) and their sum: two adder levels, where a chain of three conditional adds took
/// three (Yosys, 8x8: 92 LUTs and 3.29 ns under the §5 model against 87 and 4.42 ns); leaves
/// beyond the last full group are a short chain. `sums[g]` is group g's sum.
#[derive(LogicBlock)]
pub struct ExactGroups<const A: usize, const B: usize, const P: usize, const S: usize> {
    pub a: Signal<In, Bits<A>>,
    pub b: Signal<In, Bits<B>>,
    /// One sum per group of four leaves: ceil(S/4) of them.
    pub sums: Vec<Signal<Out, Bits<P>>>,
    selector: Signal<Local, Bits<S>>,
    /// The wider operand, sign- or zero-extended to P bits.
    multiplicand: Signal<Local, Bits<P>>,
    /// The multiplicand shifted by k while leaf k is built.
    shifted: Signal<Local, Bits<P>>,
    /// Leaf k; node 4g then holds group g's sum.
    node: [Signal<Local, Bits<P>>; S],
    /// The wider operand (the multiplicand) is signed: sign-extend it.
    multiplicand_signed: Constant<Bit>,
    /// The narrower operand (the selector) is signed: its MSB weighs -2^(S-1).
    selector_signed: Constant<Bit>,
    select_a: Constant<Bit>,
    /// Only the MSB set: `x & x_msb` is non-zero when a signed `x` is negative.
    a_msb: Constant<Bits<A>>,
    b_msb: Constant<Bits<B>>,
    /// Ones in bits P-1..A (P-1..B): or-ed into the extended operand when it is negative.
    a_sign_fill: Constant<Bits<P>>,
    b_sign_fill: Constant<Bits<P>>,
    zero: Constant<Bits<P>>,
    one: Constant<Bits<P>>,
}

impl<const A: usize, const B: usize, const P: usize, const S: usize> ExactGroups<A, B, P, S> {
    pub fn new(signed: Signedness) -> Self {
        let (multiplicand_signed, selector_signed) = if A < B {
            (signed.b, signed.a)
        } else {
            (signed.a, signed.b)
        };
        Self {
            a: Default::default(),
            b: Default::default(),
            sums: (0..S.div_ceil(4)).map(|_| Default::default()).collect(),
            selector: Default::default(),
            multiplicand: Default::default(),
            shifted: Default::default(),
            node: std::array::from_fn(|_| Default::default()),
            multiplicand_signed: Constant::new(multiplicand_signed),
            selector_signed: Constant::new(selector_signed),
            select_a: Constant::new(A < B),
            a_msb: Constant::new((1u64 << (A - 1)).into()),
            b_msb: Constant::new((1u64 << (B - 1)).into()),
            a_sign_fill: Constant::new((mask(P) & !mask(A)).into()),
            b_sign_fill: Constant::new((mask(P) & !mask(B)).into()),
            zero: Constant::new(0u64.into()),
            one: Constant::new(1u64.into()),
        }
    }
}

impl<const A: usize, const B: usize, const P: usize, const S: usize> Logic
    for ExactGroups<A, B, P, S>
{
    #[hdl_gen]
    fn update(&mut self) {
        if self.select_a.val() {
            self.selector.next = self.a.val().get_bits::<S>(0);
            self.multiplicand.next = bit_cast::<P, B>(self.b.val());
            if self.multiplicand_signed.val() & (self.b.val() & self.b_msb.val()).any() {
                self.multiplicand.next = self.multiplicand.val() | self.b_sign_fill.val();
            }
        } else {
            self.selector.next = self.b.val().get_bits::<S>(0);
            self.multiplicand.next = bit_cast::<P, A>(self.a.val());
            if self.multiplicand_signed.val() & (self.a.val() & self.a_msb.val()).any() {
                self.multiplicand.next = self.multiplicand.val() | self.a_sign_fill.val();
            }
        }
        // node[k] = the multiplicand shifted by k (leaf k before selection).
        self.shifted.next = self.multiplicand.val();
        for k in 0..S {
            self.node[k].next = self.shifted.val();
            self.shifted.next = self.shifted.val() << 1;
        }
        // The selector's MSB weighs -2^(S-1) when signed (a one-step loop: array indices must
        // be literals after unrolling).
        for k in (S - 1)..S {
            if self.selector_signed.val() {
                self.node[k].next = !self.node[k].val() + self.one.val();
            }
        }
        // Group g sums leaves 4g..4g+3 into node[4g]: (leaf 4g + leaf 4g+1) + (leaf 4g+2 +
        // leaf 4g+3), each pair one carry chain with the selection bits inside its LUTs.
        for g in 0..S.div_ceil(4) {
            if !self.selector.val().get_bit(4 * g) {
                self.node[4 * g].next = self.zero.val();
            }
        }
        for g in 0..(S / 4) {
            if self.selector.val().get_bit(4 * g + 1) {
                self.node[4 * g].next = self.node[4 * g].val() + self.node[4 * g + 1].val();
            }
            if !self.selector.val().get_bit(4 * g + 2) {
                self.node[4 * g + 2].next = self.zero.val();
            }
            if self.selector.val().get_bit(4 * g + 3) {
                self.node[4 * g + 2].next = self.node[4 * g + 2].val() + self.node[4 * g + 3].val();
            }
            self.node[4 * g].next = self.node[4 * g].val() + self.node[4 * g + 2].val();
        }
        for k in (4 * (S / 4) + 1)..S {
            if self.selector.val().get_bit(k) {
                self.node[4 * (k / 4)].next = self.node[4 * (k / 4)].val() + self.node[k].val();
            }
        }
        for g in 0..S.div_ceil(4) {
            self.sums[g].next = self.node[4 * g].val();
        }
    }
}

/// The group sums of [`ExactGroups`] added by a balanced tree (S <= 16: at most 4 groups, two
/// levels). Each add is skipped when its right operand is 0: the same sum, but each add stays
/// its own carry chain instead of being merged into one wide compressor (Yosys, 16x16: 382
/// LUTs, depth 8, against 433 and 10 without; `a * b` 531 and 8).
#[derive(LogicBlock)]
pub struct ExactTree<const P: usize> {
    pub sums: Vec<Signal<In, Bits<P>>>,
    pub p: Signal<Out, Bits<P>>,
    /// Group g's sum, then the pair and quad sums at the even positions.
    node: Vec<Signal<Local, Bits<P>>>,
    _groups: usize,
    _pairs: usize,
    _quads: usize,
}

impl<const P: usize> ExactTree<P> {
    pub fn new(groups: usize) -> Self {
        Self {
            sums: (0..groups).map(|_| Default::default()).collect(),
            p: Default::default(),
            node: (0..groups).map(|_| Default::default()).collect(),
            _groups: groups,
            _pairs: groups / 2,
            _quads: groups.div_ceil(2) / 2,
        }
    }
}

impl<const P: usize> Logic for ExactTree<P> {
    #[hdl_gen]
    fn update(&mut self) {
        for g in 0..self._groups {
            self.node[g].next = self.sums[g].val();
        }
        for k in 0..self._pairs {
            if self.node[2 * k + 1].val().any() {
                self.node[2 * k].next = self.node[2 * k].val() + self.node[2 * k + 1].val();
            }
        }
        for k in 0..self._quads {
            if self.node[4 * k + 2].val().any() {
                self.node[4 * k].next = self.node[4 * k].val() + self.node[4 * k + 2].val();
            }
        }
        self.p.next = self.node[0].val();
    }
}

/// `p = a * b` over A+B = P bits: [`ExactGroups`] then [`ExactTree`], at most 2 + 2 adders
/// deep instead of a chain of S (rust-hdl only multiplies `Bits<16>`, and an explicit tree
/// keeps the unit DSP-free in Vivado too).
#[derive(LogicBlock)]
pub struct ExactMultiplier<const A: usize, const B: usize, const P: usize, const S: usize> {
    pub a: Signal<In, Bits<A>>,
    pub b: Signal<In, Bits<B>>,
    pub p: Signal<Out, Bits<P>>,
    groups: ExactGroups<A, B, P, S>,
    tree: ExactTree<P>,
    _groups: usize,
}

impl<const A: usize, const B: usize, const P: usize, const S: usize> ExactMultiplier<A, B, P, S> {
    pub fn new(signed: Signedness) -> Self {
        Self {
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
            groups: ExactGroups::new(signed),
            tree: ExactTree::new(S.div_ceil(4)),
            _groups: S.div_ceil(4),
        }
    }
}

impl<const A: usize, const B: usize, const P: usize, const S: usize> Logic
    for ExactMultiplier<A, B, P, S>
{
    #[hdl_gen]
    fn update(&mut self) {
        self.groups.a.next = self.a.val();
        self.groups.b.next = self.b.val();
        for g in 0..self._groups {
            self.tree.sums[g].next = self.groups.sums[g].val();
        }
        self.p.next = self.tree.p.val();
    }
}

/// `exact` as a lane of a dot with a register between the group sums and their tree (latency
/// 1), for clocks the whole multiplier would miss; its registers load while `ce`.
#[derive(LogicBlock)]
pub struct ExactStagedLane<const A: usize, const B: usize, const P: usize, const S: usize> {
    pub clk: Signal<In, Clock>,
    pub ce: Signal<In, Bit>,
    pub a: Signal<In, Bits<A>>,
    pub b: Signal<In, Bits<B>>,
    pub p: Signal<Out, Bits<P>>,
    groups: ExactGroups<A, B, P, S>,
    sums_r: Vec<DFF<Bits<P>>>,
    tree: ExactTree<P>,
    _groups: usize,
}

impl<const A: usize, const B: usize, const P: usize, const S: usize> ExactStagedLane<A, B, P, S> {
    pub fn new(signed: Signedness) -> Self {
        Self {
            clk: Default::default(),
            ce: Default::default(),
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
            groups: ExactGroups::new(signed),
            sums_r: (0..S.div_ceil(4)).map(|_| Default::default()).collect(),
            tree: ExactTree::new(S.div_ceil(4)),
            _groups: S.div_ceil(4),
        }
    }
}

impl<const A: usize, const B: usize, const P: usize, const S: usize> Logic
    for ExactStagedLane<A, B, P, S>
{
    #[hdl_gen]
    fn update(&mut self) {
        self.groups.a.next = self.a.val();
        self.groups.b.next = self.b.val();
        for g in 0..self._groups {
            self.sums_r[g].clock.next = self.clk.val();
            self.sums_r[g].d.next = self.sums_r[g].q.val();
            if self.ce.val() {
                self.sums_r[g].d.next = self.groups.sums[g].val();
            }
            self.tree.sums[g].next = self.sums_r[g].q.val();
        }
        self.p.next = self.tree.p.val();
    }
}

/// The rust-hdl block of `exact` (top module `top`): an `a_bits` × `b_bits` multiplier,
/// optionally signed.
pub fn block(a_bits: u32, b_bits: u32, signed: Signedness, form: crate::Form) -> crate::AnyBlock {
    crate::dispatch_wxp!(
        a_bits,
        2..=16,
        b_bits,
        W = (BB),
        P = (BB + AA),
        block_for(signed, form),
        S = (selector_width(BB, AA))
    )
}

#[inline(never)]
fn block_for<const A: usize, const B: usize, const P: usize, const S: usize>(
    signed: Signedness,
    form: crate::Form,
) -> crate::AnyBlock {
    match form {
        crate::Form::Unit | crate::Form::Lane => {
            crate::AnyBlock::new(ExactMultiplier::<A, B, P, S>::new(signed))
        }
        crate::Form::StagedLane => crate::AnyBlock::new(ExactStagedLane::<A, B, P, S>::new(signed)),
    }
}

/// The lane's partial products as bits of a dot's heap (operands `a`, `b`): a_i & b_j at
/// column i + j, counted in tables of the `groups` of (i, j) (each reading at most six of the
/// operands' bits); the products with one operand's sign bit are negative (Baugh-Wooley:
/// −p = ~p + 1, the ones in the heap's constant), counted as their NAND in the same tables as
/// positive ones.
pub fn heap_rows(
    a_bits: u32,
    b_bits: u32,
    signed: Signedness,
    groups: Vec<Vec<(usize, usize)>>,
) -> crate::heap::LaneRows {
    use crate::heap::{Heap, LaneSignals};
    let (na, nb) = (a_bits as usize, b_bits as usize);
    let add = move |heap: &mut Heap, m: &mut crate::assembly::Assembly, lane: &LaneSignals| {
        let (a, b) = (&lane.operands[0], &lane.operands[1]);
        for group in &groups {
            let products: Vec<_> = (group.iter())
                .map(|&(i, j)| {
                    let negative = (signed.a && i == na - 1) != (signed.b && j == nb - 1);
                    (i + j, negative, vec![a.bit(i), b.bit(j)])
                })
                .collect();
            heap.add_product_group(m, &products);
        }
    };
    crate::heap::LaneRows {
        registered: Vec::new(),
        unregistered: Vec::new(),
        add: std::sync::Arc::new(add),
        ns: crate::timing::LUT_NS,
        smaller: crate::heap::Smaller::Always,
    }
}
