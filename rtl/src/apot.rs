//! RTL of `apot` and `pot` (model side: `src/units/apot.rs`): additive powers-of-two weight ×
//! unsigned activation, multiplier-free (Li, Dong, Wang, ICLR 2020; ARITHMETIC.md §2).
//!
//! Weight `w = {sign, idx_0, idx_1, ..., [one-bit idx]}` (B+1 bits):
//! `P = (-1)^s Σ_{idx_t != 0} x << (Emax - exps_t[idx_t - 1])`, per term a shift mux with zero
//! gating (constant shift amounts), an adder over the terms, the sign last. Plain PoT has one
//! term with exponents 1..2^B-1 (a barrel shifter). `p` has `bitlen(Lmax (2^a - 1)) + 1` bits.

use crate::mask;
use rust_hdl::prelude::*;

/// At most 7 two-bit terms and one one-bit term (B <= 15).
pub const MAX_TWO_BIT_TERMS: usize = 7;

/// The term structure of APoT with B magnitude bits (§2.1 general rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApotTerms {
    /// Exponents of each two-bit term, ascending; only the first `n_two` are used.
    pub two_bit: [[u32; 3]; MAX_TWO_BIT_TERMS],
    pub n_two: usize,
    /// Exponent of the one-bit term (odd B).
    pub one_bit: Option<u32>,
    pub emax: u32,
}

impl ApotTerms {
    /// §2.1: exponents are dealt in increasing order: two rounds over the two-bit terms, one
    /// exponent to the one-bit term (odd B), a third round. B = 1 is ternary: {0, 2^0}.
    #[inline]
    pub const fn new(b: u32) -> ApotTerms {
        let mut t = ApotTerms {
            two_bit: [[0; 3]; MAX_TWO_BIT_TERMS],
            n_two: (b / 2) as usize,
            one_bit: None,
            emax: 0,
        };
        if b == 1 {
            t.one_bit = Some(0);
            return t;
        }
        let mut next = 1;
        let mut round = 0;
        while round < 3 {
            if round == 2 && b % 2 == 1 {
                t.one_bit = Some(next);
                next += 1;
            }
            let mut i = 0;
            while i < t.n_two {
                t.two_bit[i][round] = next;
                next += 1;
                i += 1;
            }
            round += 1;
        }
        t.emax = next - 1;
        t
    }

    /// Largest level: every term at its largest element.
    #[inline]
    pub const fn lmax(&self) -> u64 {
        let mut l = 0;
        let mut i = 0;
        while i < self.n_two {
            l += 1 << (self.emax - self.two_bit[i][0]);
            i += 1;
        }
        if let Some(e) = self.one_bit {
            l += 1 << (self.emax - e);
        }
        l
    }
}

/// Width of `p` for APoT(B) × a-bit activations: `bitlen(Lmax (2^a - 1)) + 1`.
#[inline]
pub const fn apot_p_bits(b: u32, a: u32) -> usize {
    p_bits(ApotTerms::new(b).lmax(), a)
}

/// Width of `p` for PoT(B): Lmax = 2^(2^B - 2).
#[inline]
pub const fn pot_p_bits(b: u32, a: u32) -> usize {
    p_bits(1 << ((1u64 << b) - 2), a)
}

/// Width of `p` for a level set with largest level `lmax`: `bitlen(lmax (2^a - 1)) + 1`.
#[inline]
pub const fn p_bits(lmax: u64, a: u32) -> usize {
    (crate::bitlen(lmax * ((1u64 << a) - 1)) + 1) as usize
}

/// One APoT term: picks its index field out of `w` and outputs `x << shift_i` for index i,
/// and whether the index is not 0. The shift amounts are constants of the configuration.
#[derive(LogicBlock)]
pub struct ApotTerm<const P: usize> {
    pub w: Signal<In, Bits<P>>,
    pub x: Signal<In, Bits<P>>,
    /// `x << shift` for the index, 0 for index 0.
    pub y: Signal<Out, Bits<P>>,
    /// The index is not 0: the term takes part in the sum.
    pub active: Signal<Out, Bit>,
    index: Signal<Local, Bits<P>>,
    amount: Signal<Local, Bits<P>>,
    field_shift: Constant<Bits<P>>,
    field_mask: Constant<Bits<P>>,
    index1: Constant<Bits<P>>,
    index2: Constant<Bits<P>>,
    shift1: Constant<Bits<P>>,
    shift2: Constant<Bits<P>>,
    shift3: Constant<Bits<P>>,
    /// Whether `y` itself is 0 for index 0, or only the sum's gate on `active` applies.
    gated: Constant<Bit>,
    zero: Constant<Bits<P>>,
}

impl<const P: usize> ApotTerm<P> {
    /// A term whose index field starts at bit `field_shift` of `w`, `field_bits` wide, with
    /// output shifts `shifts[i-1]` for index i.
    fn new(field_shift: u32, field_bits: u32, shifts: [u32; 3], gated: bool) -> Self {
        let c = |v: u64| Constant::new(v.into());
        Self {
            w: Default::default(),
            x: Default::default(),
            y: Default::default(),
            active: Default::default(),
            index: Default::default(),
            amount: Default::default(),
            field_shift: c(field_shift.into()),
            field_mask: c(mask(field_bits as usize)),
            index1: c(1),
            index2: c(2),
            shift1: c(shifts[0].into()),
            shift2: c(shifts[1].into()),
            shift3: c(shifts[2].into()),
            gated: Constant::new(gated),
            zero: c(0),
        }
    }
}

impl<const P: usize> Logic for ApotTerm<P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.index.next = (self.w.val() >> self.field_shift.val()) & self.field_mask.val();
        // The index picks a shift amount (a mux of constants), then one shift, 0 for index 0;
        // the sum also adds it only when the index is not 0 (`active`), which is redundant
        // but maps to fewer LUTs than either gate alone or an AND-OR of the three shifted
        // copies (Yosys 0.70, APoT B4/B5/B6 a8: 38/59/64 LUTs, against 40/57/90 with the
        // sum's gate alone and 38/63/81 with the term's). B = 3 is the exception, see
        // `ApotCore::new`.
        self.amount.next = self.shift3.val();
        if self.index.val() == self.index1.val() {
            self.amount.next = self.shift1.val();
        }
        if self.index.val() == self.index2.val() {
            self.amount.next = self.shift2.val();
        }
        self.active.next = self.index.val().any();
        self.y.next = self.zero.val();
        if self.active.val() | !self.gated.val() {
            self.y.next = self.x.val() << self.amount.val();
        }
    }
}

/// APoT datapath at the product width: the terms, their sum, the sign last.
#[derive(LogicBlock)]
pub struct ApotCore<const P: usize> {
    pub w: Signal<In, Bits<P>>,
    pub x: Signal<In, Bits<P>>,
    /// The product's magnitude and sign (the shell applies the sign).
    pub magnitude: Signal<Out, Bits<P>>,
    pub negative: Signal<Out, Bit>,
    terms: Vec<ApotTerm<P>>,
    sum: Signal<Local, Bits<P>>,
    sign_bit: Constant<Bits<P>>,
    zero: Constant<Bits<P>>,
    _n_terms: usize,
}

impl<const P: usize> ApotCore<P> {
    pub fn new(mag_bits: u32) -> Self {
        let t = ApotTerms::new(mag_bits);
        // The sum adds the narrowest, least significant rows first: the one-bit term (a single
        // shift), then the two-bit terms from the largest exponents (smallest shifts) up. Yosys
        // 0.70, a = 8: B5 59 -> 51, B6 64 -> 61, B7 80 -> 72 LUTs against the terms in field
        // order. B = 3 (one two-bit term, one one-bit term) maps one LUT smaller at every a
        // with the one-bit term last and the sum's gate alone: 18 -> 17 LUTs at a = 4, 30 -> 29
        // at a = 8, 42 -> 41 at a = 12 (the same change costs B4..B7 up to 50 %).
        let b3 = mag_bits == 3;
        let one_bit = t.one_bit.map(|e| ApotTerm::new(0, 1, [t.emax - e; 3], !b3));
        let mut terms: Vec<_> = t.two_bit[..t.n_two]
            .iter()
            .enumerate()
            .rev()
            .map(|(i, exps)| {
                let shifts = exps.map(|e| t.emax - e);
                ApotTerm::new(mag_bits - 2 * (i as u32 + 1), 2, shifts, !b3)
            })
            .collect();
        if let Some(term) = one_bit {
            terms.insert(if b3 { terms.len() } else { 0 }, term);
        }
        Self {
            w: Default::default(),
            x: Default::default(),
            magnitude: Default::default(),
            negative: Default::default(),
            _n_terms: terms.len(),
            terms,
            sum: Default::default(),
            sign_bit: Constant::new((1u64 << mag_bits).into()),
            zero: Constant::new(0u64.into()),
        }
    }
}

impl<const P: usize> Logic for ApotCore<P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.sum.next = self.zero.val();
        for t in 0..self._n_terms {
            self.terms[t].w.next = self.w.val();
            self.terms[t].x.next = self.x.val();
            if self.terms[t].active.val() {
                self.sum.next = self.sum.val() + self.terms[t].y.val();
            }
        }
        self.magnitude.next = self.sum.val();
        self.negative.next = (self.w.val() & self.sign_bit.val()).any();
    }
}

/// PoT datapath: `x << (Emax - j)` for j != 0, 0 for j = 0, the sign last.
#[derive(LogicBlock)]
pub struct PotCore<const P: usize> {
    pub w: Signal<In, Bits<P>>,
    pub x: Signal<In, Bits<P>>,
    /// The product's magnitude and sign (the shell applies the sign).
    pub magnitude: Signal<Out, Bits<P>>,
    pub negative: Signal<Out, Bit>,
    j: Signal<Local, Bits<P>>,
    j_mask: Constant<Bits<P>>,
    emax: Constant<Bits<P>>,
    sign_bit: Constant<Bits<P>>,
    zero: Constant<Bits<P>>,
}

impl<const P: usize> PotCore<P> {
    pub fn new(mag_bits: u32) -> Self {
        let c = |v: u64| Constant::new(v.into());
        Self {
            w: Default::default(),
            x: Default::default(),
            magnitude: Default::default(),
            negative: Default::default(),
            j: Default::default(),
            j_mask: c(mask(mag_bits as usize)),
            emax: c((1u64 << mag_bits) - 1),
            sign_bit: c(1 << mag_bits),
            zero: c(0),
        }
    }
}

impl<const P: usize> Logic for PotCore<P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.j.next = self.w.val() & self.j_mask.val();
        self.magnitude.next = self.zero.val();
        if self.j.val().any() {
            self.magnitude.next = self.x.val() << (self.emax.val() - self.j.val());
        }
        self.negative.next = (self.w.val() & self.sign_bit.val()).any();
    }
}

crate::weight_activation_shell!(
    /// The APoT unit with its exact port widths.
    ApotMultiplier,
    ApotLane,
    ApotCore,
    u32
);

crate::weight_activation_shell!(
    /// The PoT unit with its exact port widths.
    PotMultiplier,
    PotLane,
    PotCore,
    u32
);

/// The rust-hdl block of `apot` (`additive`) or `pot` (top module `top`) with B = `mag_bits`.
pub fn block(additive: bool, mag_bits: u32, act_bits: u32, form: crate::Form) -> crate::AnyBlock {
    use crate::dispatch_wxp as d;
    let (b, a) = (mag_bits, act_bits);
    if additive {
        d!(
            b,
            1..=15,
            a,
            W = (BB + 1),
            P = (apot_p_bits(BB, AA)),
            block_for(additive, b, form)
        )
    } else {
        d!(
            b,
            1..=4,
            a,
            W = (BB + 1),
            P = (pot_p_bits(BB, AA)),
            block_for(additive, b, form)
        )
    }
}

#[inline(never)]
fn block_for<const W: usize, const X: usize, const P: usize>(
    additive: bool,
    b: u32,
    form: crate::Form,
) -> crate::AnyBlock {
    use crate::{AnyBlock, Form};
    match (additive, form) {
        (true, Form::Unit) => AnyBlock::new(ApotMultiplier::<W, X, P>::new(b)),
        (true, Form::Lane) => AnyBlock::new(ApotLane::<W, X, P>::new(b)),
        (false, Form::Unit) => AnyBlock::new(PotMultiplier::<W, X, P>::new(b)),
        (false, Form::Lane) => AnyBlock::new(PotLane::<W, X, P>::new(b)),
        (_, Form::StagedLane) => unreachable!("apot and pot have no staged lane"),
    }
}

/// The lane's terms as rows of a dot's heap (operands `w`, `x`): term t is x << shift(idx_t),
/// placed by its index field (each bit picks its x bit), all terms negated with the weight's
/// sign by [`crate::heap::Heap::add_signed_rows`] (an inactive term is a zero row). PoT is one
/// term over j.
pub fn heap_rows(additive: bool, mag_bits: u32, act_bits: u32) -> crate::heap::LaneRows {
    use crate::heap::{op, shifted_bit, Heap, LaneSignals};
    use rust_hdl::prelude::ast::VerilogOp::BitXor;
    let a = act_bits as usize;
    // Per term: (field offset, field width, shift for index 1, 2, ...).
    let terms: Vec<(usize, usize, Vec<usize>)> = if additive {
        let t = ApotTerms::new(mag_bits);
        let mut v: Vec<_> = t.two_bit[..t.n_two]
            .iter()
            .enumerate()
            .map(|(i, exps)| {
                let offset = (mag_bits - 2 * (i as u32 + 1)) as usize;
                (
                    offset,
                    2,
                    exps.iter().map(|e| (t.emax - e) as usize).collect(),
                )
            })
            .collect();
        if let Some(e) = t.one_bit {
            v.push((0, 1, vec![(t.emax - e) as usize]));
        }
        v
    } else {
        let emax = (1usize << mag_bits) - 1;
        vec![(0, mag_bits as usize, (1..=emax).map(|j| emax - j).collect())]
    };
    // A term's bit reads its index, the x bits of its shifts and the sign: one LUT6 if that
    // is at most six inputs (APoT's terms), else a mux tree and the sign after it.
    let (field_bits, choices) = terms
        .iter()
        .map(|t| (t.1, t.2.len()))
        .max()
        .unwrap_or((1, 1));
    let ns = match field_bits + choices + 1 {
        ..=6 => crate::timing::LUT_NS,
        _ => crate::timing::mux_ns(field_bits as u32) + 2.0 * crate::timing::LUT_NS,
    };
    let add = move |heap: &mut Heap, _: &mut crate::assembly::Assembly, lane: &LaneSignals| {
        let (w, x) = (&lane.operands[0], &lane.operands[1]);
        let sign = w.bit(mag_bits as usize);
        let rows = terms.iter().map(|(offset, width, shifts)| {
            let select = w.bits(*offset, *width);
            let choices: Vec<(u64, usize)> = shifts
                .iter()
                .enumerate()
                .map(|(i, s)| (i as u64 + 1, *s))
                .collect();
            let low = *shifts.iter().min().unwrap_or(&0);
            let high = shifts.iter().max().unwrap_or(&0) + a;
            let row = (low..high)
                .map(|c| {
                    let term = shifted_bit(&x.bits(0, a), c, &select, &choices);
                    op(term, BitXor, sign.clone())
                })
                .collect::<Vec<_>>();
            (low, row)
        });
        heap.add_signed_rows(sign.clone(), rows.collect());
    };
    crate::heap::LaneRows {
        registered: Vec::new(),
        unregistered: Vec::new(),
        add: std::sync::Arc::new(add),
        ns,
        // A term's bit is a LUT of six inputs (index, three x bits, sign) that no table can
        // share with another term. At 400 MHz, heap/tree LUTs at N = 4, 8, 16: APoT B4 a8
        // 202/212, 364/412, 705/812; PoT B3 a8 (a single term) 189/180, 369/348, 680/685, at
        // 300 MHz N = 16 693/684.
        smaller: match additive {
            true => crate::heap::Smaller::Always,
            false => crate::heap::Smaller::FromLanesAt {
                lanes: 16,
                mhz: 400.0,
            },
        },
    }
}
