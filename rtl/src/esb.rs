//! RTL of `esb` (model side: `src/units/esb.rs`): Elastic Significant Bit weight × unsigned
//! activation (Gong et al., IEEE TPDS 33(11), 2022; ARITHMETIC.md §1).
//!
//! Weight `w = {s, E, M}` (1 + e + k bits): significand `sig = (E == 0) ? M : 2^k | M`
//! (k+1 bits), `P = (-1)^s · (sig · x) << max(E-1, 0)`: a (k+1)×a shift-add product, a barrel
//! shift by 0..2^e-2, the sign last. Linear mode `{s, j}`: `P = (-1)^s (2j+1) x`.
//! Widths: `p` has `bitlen((2^(k+1)-1)(2^a-1)) + 2^e - 2 + 1` bits (linear:
//! `bitlen((2^b-1)(2^a-1)) + 1`), two's complement.

use crate::{bitlen, mask};
use rust_hdl::prelude::*;

/// Width of `p` (exact magnitude width + 1) for nonlinear ESB(e, k) × a-bit activations.
#[inline]
pub const fn nonlinear_p_bits(e: u32, k: u32, a: u32) -> usize {
    (bitlen(((1u64 << (k + 1)) - 1) * ((1u64 << a) - 1)) + (1u32 << e) - 2 + 1) as usize
}

/// Width of `p` for linear ESB with b-bit words × a-bit activations.
#[inline]
pub const fn linear_p_bits(b: u32, a: u32) -> usize {
    (bitlen(((1u64 << b) - 1) * ((1u64 << a) - 1)) + 1) as usize
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EsbFormat {
    /// `{s, E, M}` with e exponent and k fraction bits.
    Nonlinear { e: u32, k: u32 },
    /// `{s, j}` with `b - 1` magnitude bits, level 2j+1 in half units.
    Linear { b: u32 },
}

/// The first half of the ESB datapath at the product width P (weight and activation
/// zero-extended to P bits): significand decode, the (k+1)×a shift-add product and the shift
/// amount max(E - 1, 0). Generic over P only, so that the ~1000 (e, k, a) configurations share
/// a few dozen instances of it.
#[derive(LogicBlock)]
pub struct EsbProduct<const P: usize> {
    pub w: Signal<In, Bits<P>>,
    pub x: Signal<In, Bits<P>>,
    pub product: Signal<Out, Bits<P>>,
    pub shift: Signal<Out, Bits<P>>,
    pub negative: Signal<Out, Bit>,
    exponent: Signal<Local, Bits<P>>,
    significand: Signal<Local, Bits<P>>,
    /// `x` shifted left once per significand bit.
    x_shifted: Signal<Local, Bits<P>>,
    even: Signal<Local, Bits<P>>,
    /// Sum of the odd significand bits' partial products (a second chain beside `even`).
    odd: Signal<Local, Bits<P>>,
    /// 1 unless E = 0: the shift is E - 1, or 0 at E = 0.
    underflow: Signal<Local, Bits<P>>,
    linear: Constant<Bit>,
    frac_bits: Constant<Bits<P>>,
    exponent_mask: Constant<Bits<P>>,
    fraction_mask: Constant<Bits<P>>,
    hidden_one: Constant<Bits<P>>,
    sign_bit: Constant<Bits<P>>,
    zero: Constant<Bits<P>>,
    one: Constant<Bits<P>>,
    /// Even and odd significand bit positions (k+1, or b in linear mode, in all).
    _even_bits: usize,
    _odd_bits: usize,
}

impl<const P: usize> EsbProduct<P> {
    pub fn new(format: EsbFormat) -> Self {
        let (linear, k, e, b) = match format {
            EsbFormat::Nonlinear { e, k } => (false, k as usize, e as usize, (1 + e + k) as usize),
            EsbFormat::Linear { b } => (true, 0, 0, b as usize),
        };
        let sig_bits = if linear { b } else { k + 1 };
        Self {
            w: Default::default(),
            x: Default::default(),
            product: Default::default(),
            shift: Default::default(),
            negative: Default::default(),
            exponent: Default::default(),
            significand: Default::default(),
            x_shifted: Default::default(),
            even: Default::default(),
            odd: Default::default(),
            underflow: Default::default(),
            linear: Constant::new(linear),
            frac_bits: Constant::new((k as u64).into()),
            exponent_mask: Constant::new(mask(e).into()),
            // Linear mode: the magnitude j is all bits below the sign.
            fraction_mask: Constant::new(if linear { mask(b - 1) } else { mask(k) }.into()),
            hidden_one: Constant::new((1u64 << k).into()),
            sign_bit: Constant::new((1u64 << (b - 1)).into()),
            zero: Constant::new(0u64.into()),
            one: Constant::new(1u64.into()),
            _even_bits: sig_bits.div_ceil(2),
            _odd_bits: sig_bits / 2,
        }
    }
}

impl<const P: usize> Logic for EsbProduct<P> {
    #[hdl_gen]
    fn update(&mut self) {
        if self.linear.val() {
            // 2j+1: the odd half-unit level.
            self.exponent.next = self.zero.val();
            self.significand.next =
                ((self.w.val() & self.fraction_mask.val()) << 1) | self.one.val();
        } else {
            // Hidden leading one unless E = 0 (gradual underflow).
            self.exponent.next = (self.w.val() >> self.frac_bits.val()) & self.exponent_mask.val();
            self.significand.next = self.w.val() & self.fraction_mask.val();
            if self.exponent.val().any() {
                self.significand.next = self.significand.val() | self.hidden_one.val();
            }
        }
        self.x_shifted.next = self.x.val();
        // Two chains, even and odd significand bits, added at the end: half the adder depth.
        self.even.next = self.zero.val();
        for j in 0..self._even_bits {
            if self.significand.val().get_bit(2 * j) {
                self.even.next = self.even.val() + self.x_shifted.val();
            }
            self.x_shifted.next = self.x_shifted.val() << 2;
        }
        self.x_shifted.next = self.x.val() << 1;
        self.odd.next = self.zero.val();
        for j in 0..self._odd_bits {
            if self.significand.val().get_bit(2 * j + 1) {
                self.odd.next = self.odd.val() + self.x_shifted.val();
            }
            self.x_shifted.next = self.x_shifted.val() << 2;
        }
        self.product.next = self.even.val() + self.odd.val();
        // One shift by max(E - 1, 0) = E - (E != 0) (a mux after a shift by E - 1 costs a LUT
        // level); masking keeps the amount e bits wide for synthesis.
        self.underflow.next = self.zero.val();
        if self.exponent.val().any() {
            self.underflow.next = self.one.val();
        }
        self.shift.next = (self.exponent.val() - self.underflow.val()) & self.exponent_mask.val();
        self.negative.next = (self.w.val() & self.sign_bit.val()).any();
    }
}

/// The second half of the ESB datapath: the barrel shift of the product.
#[derive(LogicBlock, Default)]
pub struct EsbShift<const P: usize> {
    pub product: Signal<In, Bits<P>>,
    pub shift: Signal<In, Bits<P>>,
    pub magnitude: Signal<Out, Bits<P>>,
}

impl<const P: usize> Logic for EsbShift<P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.magnitude.next = self.product.val() << self.shift.val();
    }
}

/// ESB datapath at the product width P: [`EsbProduct`] then [`EsbShift`]; the shell applies
/// the sign (`p = (-1)^s · (sig · x) << max(E-1, 0)`).
#[derive(LogicBlock)]
pub struct EsbCore<const P: usize> {
    pub w: Signal<In, Bits<P>>,
    pub x: Signal<In, Bits<P>>,
    /// The product's magnitude and sign (the shell applies the sign).
    pub magnitude: Signal<Out, Bits<P>>,
    pub negative: Signal<Out, Bit>,
    front: EsbProduct<P>,
    back: EsbShift<P>,
}

impl<const P: usize> EsbCore<P> {
    pub fn new(format: EsbFormat) -> Self {
        Self {
            w: Default::default(),
            x: Default::default(),
            magnitude: Default::default(),
            negative: Default::default(),
            front: EsbProduct::new(format),
            back: Default::default(),
        }
    }
}

impl<const P: usize> Logic for EsbCore<P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.front.w.next = self.w.val();
        self.front.x.next = self.x.val();
        self.back.product.next = self.front.product.val();
        self.back.shift.next = self.front.shift.val();
        self.magnitude.next = self.back.magnitude.val();
        self.negative.next = self.front.negative.val();
    }
}

/// ESB as a lane of a dot with a register between the product and the shift (latency 1), for
/// clocks the whole lane would miss; its registers load while `ce`.
#[derive(LogicBlock)]
pub struct EsbStagedLane<const W: usize, const X: usize, const P: usize> {
    pub clk: Signal<In, Clock>,
    pub ce: Signal<In, Bit>,
    pub w: Signal<In, Bits<W>>,
    pub x: Signal<In, Bits<X>>,
    pub magnitude: Signal<Out, Bits<P>>,
    pub negative: Signal<Out, Bit>,
    front: EsbProduct<P>,
    product_r: DFF<Bits<P>>,
    shift_r: DFF<Bits<P>>,
    negative_r: DFF<Bit>,
    back: EsbShift<P>,
}

impl<const W: usize, const X: usize, const P: usize> EsbStagedLane<W, X, P> {
    pub fn new(format: EsbFormat) -> Self {
        Self {
            clk: Default::default(),
            ce: Default::default(),
            w: Default::default(),
            x: Default::default(),
            magnitude: Default::default(),
            negative: Default::default(),
            front: EsbProduct::new(format),
            product_r: Default::default(),
            shift_r: Default::default(),
            negative_r: Default::default(),
            back: Default::default(),
        }
    }
}

impl<const W: usize, const X: usize, const P: usize> Logic for EsbStagedLane<W, X, P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.product_r.clock.next = self.clk.val();
        self.shift_r.clock.next = self.clk.val();
        self.negative_r.clock.next = self.clk.val();
        self.front.w.next = bit_cast::<P, W>(self.w.val());
        self.front.x.next = bit_cast::<P, X>(self.x.val());
        self.product_r.d.next = self.product_r.q.val();
        self.shift_r.d.next = self.shift_r.q.val();
        self.negative_r.d.next = self.negative_r.q.val();
        if self.ce.val() {
            self.product_r.d.next = self.front.product.val();
            self.shift_r.d.next = self.front.shift.val();
            self.negative_r.d.next = self.front.negative.val();
        }
        self.back.product.next = self.product_r.q.val();
        self.back.shift.next = self.shift_r.q.val();
        self.magnitude.next = self.back.magnitude.val();
        self.negative.next = self.negative_r.q.val();
    }
}

crate::weight_activation_shell!(
    /// The ESB unit with its exact port widths: zero-extends `w` and `x` into [`EsbCore`].
    EsbMultiplier,
    EsbLane,
    EsbCore,
    EsbFormat
);

/// The rust-hdl block of `esb` (top module `top`) for weight format `format` × `act_bits` activations.
pub fn block(format: EsbFormat, act_bits: u32, form: crate::Form) -> crate::AnyBlock {
    use crate::dispatch_wxp as d;
    let a = act_bits;
    match format {
        EsbFormat::Nonlinear { e: 2, k } => d!(
            k,
            0..=13,
            a,
            W = (3 + BB),
            P = (nonlinear_p_bits(2, BB, AA)),
            block_for(format, form)
        ),
        EsbFormat::Nonlinear { e: 3, k } => d!(
            k,
            0..=12,
            a,
            W = (4 + BB),
            P = (nonlinear_p_bits(3, BB, AA)),
            block_for(format, form)
        ),
        EsbFormat::Nonlinear { e: 4, k } => d!(
            k,
            0..=11,
            a,
            W = (5 + BB),
            P = (nonlinear_p_bits(4, BB, AA)),
            block_for(format, form)
        ),
        EsbFormat::Nonlinear { e: 5, k } => d!(
            k,
            0..=10,
            a,
            W = (6 + BB),
            P = (nonlinear_p_bits(5, BB, AA)),
            block_for(format, form)
        ),
        EsbFormat::Nonlinear { e, .. } => unreachable!("exp_bits {e} passed validation"),
        EsbFormat::Linear { b } => d!(
            b,
            2..=16,
            a,
            W = (BB),
            P = (linear_p_bits(BB, AA)),
            block_for(format, form)
        ),
    }
}

#[inline(never)]
fn block_for<const W: usize, const X: usize, const P: usize>(
    format: EsbFormat,
    form: crate::Form,
) -> crate::AnyBlock {
    match form {
        crate::Form::Unit => crate::AnyBlock::new(EsbMultiplier::<W, X, P>::new(format)),
        crate::Form::Lane => crate::AnyBlock::new(EsbLane::<W, X, P>::new(format)),
        crate::Form::StagedLane => crate::AnyBlock::new(EsbStagedLane::<W, X, P>::new(format)),
    }
}

/// The products the lane puts in the heap, as [`heap_rows`] numbers them: significand bits
/// (rows) times the factors [s, X_0 .. X_(len−1), s], whose weights are returned (the first
/// s is the rows' +s_i corrections, the last their −s_i, a negative product).
pub fn heap_product_weights(format: EsbFormat, act_bits: u32) -> (usize, Vec<usize>) {
    let (rows, len) = heap_shape(format, act_bits);
    let weights = std::iter::once(0).chain(0..len).chain([len]).collect();
    (rows, weights)
}

/// (significand bits with linear mode's constant one, bits of X).
fn heap_shape(format: EsbFormat, act_bits: u32) -> (usize, usize) {
    let a = act_bits as usize;
    match format {
        EsbFormat::Nonlinear { e, k } => (k as usize + 1, a + (1 << e) - 2),
        EsbFormat::Linear { b } => (b as usize, a),
    }
}

/// The lane's rows as bits of a dot's heap (operands `w`, `x`): row i of the significand is
/// sig_i · X << i with X = x << max(E − 1, 0). The sign is folded in as (−1)^s_i · row with
/// s_i = s & sig_i (a zero row stays zero): the row's bits are sig_i & (X ^ s), plus s_i at its
/// low column and −s_i past its high one. The lane registers X ^ s (one LUT per bit: E, up to
/// 2^e − 1 bits of x and s), the significand (with its hidden bit E != 0) and s instead of its
/// operands, so that the products are counted right after the registers by tables of at most
/// six inputs, grouped by `groups` (of [`heap_product_weights`]' products).
pub fn heap_rows(
    format: EsbFormat,
    act_bits: u32,
    groups: Vec<Vec<(usize, usize)>>,
) -> crate::heap::LaneRows {
    use crate::assembly::{lit, Expr};
    use crate::heap::{bit_of, op, shifted_bit, Heap, LaneSignals, Operand};
    use rust_hdl::prelude::ast::VerilogOp::{BitXor, Ne};
    use std::sync::Arc;
    let a = act_bits as usize;
    let (k, e, sign_bit) = match format {
        EsbFormat::Nonlinear { e, k } => (k as usize, e as usize, (k + e) as usize),
        EsbFormat::Linear { b } => (b as usize - 1, 0, b as usize - 1),
    };
    let linear = matches!(format, EsbFormat::Linear { .. });
    let (_, len) = heap_shape(format, act_bits);
    let choices: Vec<(u64, usize)> = match linear {
        true => vec![(0, 0)],
        false => (0..1u64 << e)
            .map(|v| (v, v.saturating_sub(1) as usize))
            .collect(),
    };
    // X ^ s. Up to e = 2 each bit is one LUT (E, three x bits, s), found by the mapper. With
    // e = 3 the shift picks among seven x bits: it goes in two steps of LUT cells, by sh & 1
    // (E, two x bits, s) and by sh & !1 (two select bits decoded from E once per lane, four
    // bits of the first step, s where zeros come in); wider exponents are left to the mapper.
    let shifted = move |h: &mut Heap, m: &mut crate::assembly::Assembly, raw: &[Operand]| {
        let (w, x) = (&raw[0], &raw[1]);
        let (exponent, sign, x) = (w.bits(k, e), w.bit(sign_bit), x.bits(0, a));
        if e != 3 {
            return (0..len)
                .map(|c| {
                    op(
                        shifted_bit(&x, c, &exponent, &choices),
                        BitXor,
                        sign.clone(),
                    )
                })
                .collect();
        }
        let amount = |v: u32| v.saturating_sub(1) as usize;
        // Step 1: Y_j = (x << (sh & 1))_j ^ s; inputs E (3 bits), x_j, x_(j-1), s.
        let first: Vec<Expr> = (0..=a)
            .map(|j| {
                let mut inputs = exponent.clone();
                inputs.extend(
                    [x.get(j), j.checked_sub(1).and_then(|i| x.get(i))]
                        .into_iter()
                        .flatten()
                        .cloned(),
                );
                inputs.push(sign.clone());
                let (has_here, n) = (j < a, inputs.len());
                h.lut(m, &inputs, |i| {
                    let shift = amount(i & 7) & 1;
                    let here = |b: usize| i >> b & 1 == 1;
                    let value = match (shift, has_here) {
                        (0, true) => here(3),
                        (0, false) => false,
                        (_, true) if j >= 1 => here(4),
                        (_, false) if j >= 1 => here(3),
                        _ => false,
                    };
                    value ^ here(n - 1)
                })
            })
            .collect();
        // sh >> 1, each bit a LUT of E.
        let steps: Vec<Expr> = (1..3)
            .map(|b| h.lut(m, &exponent, |i| amount(i) >> b & 1 == 1))
            .collect();
        // Step 2: X'_c = Y_(c - 2t) for t = sh >> 1, s where the shift brings zeros in.
        (0..len)
            .map(|c| {
                let sources: Vec<Option<usize>> = (0..4)
                    .map(|t| c.checked_sub(2 * t).filter(|&j| j < first.len()))
                    .collect();
                let mut inputs = steps.clone();
                let mut at = Vec::new();
                for src in &sources {
                    at.push(src.map(|j| {
                        inputs.push(first[j].clone());
                        inputs.len() - 1
                    }));
                }
                let fill = sources.iter().any(Option::is_none);
                if fill {
                    inputs.push(sign.clone());
                }
                let n = inputs.len();
                h.lut(m, &inputs, |i| {
                    let t = (i & 3) as usize;
                    match at[t] {
                        Some(b) => i >> b & 1 == 1,
                        None => fill && i >> (n - 1) & 1 == 1,
                    }
                })
            })
            .collect()
    };
    // Nonlinear: M and the hidden bit; linear: j (the constant one of 2j+1 is not a signal).
    let sig_bits = if linear { k } else { k + 1 };
    let significand = move |_: &mut Heap, _: &mut crate::assembly::Assembly, raw: &[Operand]| {
        let w = &raw[0];
        let hidden = (!linear).then(|| op(w.range(k, e), Ne, lit(e, 0)));
        (0..k).map(|i| w.bit(i)).chain(hidden).collect()
    };
    let sign = move |_: &mut Heap, _: &mut crate::assembly::Assembly, raw: &[Operand]| {
        vec![raw[0].bit(sign_bit)]
    };
    let mut registered: Vec<crate::heap::Registered> = vec![
        ("shifted".to_string(), len, Arc::new(shifted)),
        ("sign".to_string(), 1, Arc::new(sign)),
    ];
    if sig_bits > 0 {
        registered.push(("significand".to_string(), sig_bits, Arc::new(significand)));
    }
    let (_, weights) = heap_product_weights(format, act_bits);
    let add = move |heap: &mut Heap, m: &mut crate::assembly::Assembly, lane: &LaneSignals| {
        let sign = bit_of(&lane.registered[1], 1, 0);
        // Significand bits, low first; `None` is a constant one (linear mode's 2j+1).
        let registered_sig = (0..sig_bits).map(|i| Some(bit_of(&lane.registered[2], sig_bits, i)));
        let sig: Vec<Option<_>> = match linear {
            true => std::iter::once(None).chain(registered_sig).collect(),
            false => registered_sig.collect(),
        };
        let shifted: Vec<_> = (0..len)
            .map(|c| bit_of(&lane.registered[0], len, c))
            .collect();
        // The products' factors as `heap_product_weights` numbers them: s, X, s.
        let b: Vec<_> = std::iter::once(sign.clone())
            .chain(shifted)
            .chain([sign])
            .collect();
        for group in &groups {
            let products: Vec<_> = (group.iter())
                .map(|&(i, j)| {
                    let factors = sig[i].iter().cloned().chain([b[j].clone()]).collect();
                    (i + weights[j], j == len + 1, factors)
                })
                .collect();
            heap.add_product_group(m, &products);
        }
    };
    crate::heap::LaneRows {
        registered,
        unregistered: vec![0, 1],
        add: Arc::new(add),
        ns: crate::timing::LUT_NS,
        // Measured at 400 MHz (e2k2 also at 300), heap/tree LUTs at N = 4, 8, 16: e2k2
        // 227/296, 418/580, 806/1149 (300 MHz: 226/227, 416/444, 805/876); e2k1 183/184,
        // 342/356, 647/701; e3k2 352/360, 658/708, 1285/1405. From e = 4 the heap is larger
        // (at 300 MHz e4k2 558/488 at N = 4 and 2069/1916 at 16, e5k2 905/680 and 3457/2687):
        // its rows multiply the significand by X, a + 2^e − 2 bits wide, where the tree
        // multiplies x and shifts the product (a shifter in steps of LUT cells, as e = 3 has,
        // changed little: e4k2 568 and 2108, e5k2 872 and 3233). Linear mode and k = 0 are not
        // measured.
        smaller: match e <= 3 && k >= 1 && !linear {
            true => crate::heap::Smaller::Always,
            false => crate::heap::Smaller::Never,
        },
    }
}
