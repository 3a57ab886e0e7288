//! RTL of `mitchell` (Unp-AxM) and `adam` (Pro-AdAM) (model side: `src/units/adam.rs`):
//! logarithmic approximate multipliers (Mitchell 1962; Taheri et al., ETS 2024;
//! ARITHMETIC.md §3).
//!
//! Two leading-one detectors give `kA`, `kB`; two alignment shifters the t-bit fractions `FA`,
//! `FB`; a t-bit adder `c`, `s`; the antilog shifter `P = ((2^t + s) << (kA + kB + c)) >> t`.
//! AdAM's adder is adaptive: its idle low positions recompute the top `d` bit pairs as a
//! duplicate lane; a checker zeroes every primary bit (and `c`) that disagrees with its copy
//! and raises `err`. With fault ports, a [`FaultInjector`] sits between adder and checker
//! (site `1 + i` = adder output bit i). Operands n bits, product 2n bits.

use crate::tmr::{FaultInjector, SITE_BITS};

/// The adaptive adder (whose idle positions hold the duplicate lane) and the checker: kept
/// apart through synthesis, else the duplicate lane is merged with the primary one and `err`
/// becomes a constant 0.
pub const REDUNDANT_BLOCKS: [&str; 2] = ["adder", "duplicate_checker"];
use crate::{mask, ApplySign};
use rust_hdl::prelude::*;

/// Position of the leading one of `x` (0 for x = 0, which the caller handles).
#[derive(LogicBlock)]
pub struct LeadingOneDetector<const N: usize> {
    pub x: Signal<In, Bits<N>>,
    pub k: Signal<Out, Bits<N>>,
    index: Signal<Local, Bits<N>>,
    zero: Constant<Bits<N>>,
    one: Constant<Bits<N>>,
    k_mask: Constant<Bits<N>>,
}

impl<const N: usize> Default for LeadingOneDetector<N> {
    fn default() -> Self {
        Self {
            x: Default::default(),
            k: Default::default(),
            index: Default::default(),
            zero: Constant::new(0u64.into()),
            one: Constant::new(1u64.into()),
            k_mask: Constant::new(k_mask::<N>().into()),
        }
    }
}

/// Ones in the bitlen(n-1) low bits, where every leading-one position fits.
fn k_mask<const N: usize>() -> u64 {
    mask(crate::bitlen(N as u64 - 1) as usize)
}

impl<const N: usize> Logic for LeadingOneDetector<N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.k.next = self.zero.val();
        self.index.next = self.zero.val();
        for i in 0..N {
            if self.x.val().get_bit(i) {
                self.k.next = self.index.val();
            }
            self.index.next = self.index.val() + self.one.val();
        }
        // Synthesis does not see through the chain above that k < n: say so, or every
        // comparison and sum of positions is built n bits wide.
        self.k.next = self.k.val() & self.k_mask.val();
    }
}

/// The leading-one position as a priority encoder from the top: the first one seen from bit
/// n-1 down wins. The same function as [`LeadingOneDetector`], in the form Yosys maps
/// differently (smaller at some (n, t), larger at most: see [`OperandStructure::for_unit`]).
#[derive(LogicBlock)]
pub struct PriorityEncoder<const N: usize> {
    pub x: Signal<In, Bits<N>>,
    pub k: Signal<Out, Bits<N>>,
    found: Signal<Local, Bit>,
    /// Per step, from the top: the bit tested (1 << (n-1-i)) and its position n-1-i.
    bits: Vec<Constant<Bits<N>>>,
    positions: Vec<Constant<Bits<N>>>,
    zero: Constant<Bits<N>>,
    k_mask: Constant<Bits<N>>,
}

impl<const N: usize> Default for PriorityEncoder<N> {
    fn default() -> Self {
        let from_top = (0..N as u64).rev();
        Self {
            x: Default::default(),
            k: Default::default(),
            found: Default::default(),
            bits: from_top
                .clone()
                .map(|i| Constant::new((1u64 << i).into()))
                .collect(),
            positions: from_top.map(|i| Constant::new(i.into())).collect(),
            zero: Constant::new(0u64.into()),
            k_mask: Constant::new(k_mask::<N>().into()),
        }
    }
}

impl<const N: usize> Logic for PriorityEncoder<N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.k.next = self.zero.val();
        self.found.next = false;
        for i in 0..N {
            if !self.found.val() & (self.x.val() & self.bits[i].val()).any() {
                self.k.next = self.positions[i].val();
                self.found.next = true;
            }
        }
        // As in the detector: k < n, said to synthesis.
        self.k.next = self.k.val() & self.k_mask.val();
    }
}

/// The t-bit fraction: `{x, t zeros} >> k` puts the leading one on bit t, so its t low bits
/// are the bits below the leading one, left-aligned (a right shift by k needs no n-1-k, which
/// is a subtraction when n is not a power of two: Mitchell n5 t3 40 -> 33 LUTs).
#[derive(LogicBlock)]
pub struct FractionAligner<const N: usize, const P: usize> {
    pub x: Signal<In, Bits<N>>,
    pub k: Signal<In, Bits<N>>,
    pub f: Signal<Out, Bits<N>>,
    shifted: Signal<Local, Bits<P>>,
    /// Bits [n, 2n) of `shifted`, above the fraction: read here so that they are not
    /// reported as unused (Verilator's `*unused*` naming convention).
    unused_high_bits: Signal<Local, Bits<P>>,
    frac_bits: Constant<Bits<P>>,
    frac_mask: Constant<Bits<P>>,
    k_mask: Constant<Bits<N>>,
}

impl<const N: usize, const P: usize> FractionAligner<N, P> {
    fn new(t: u32) -> Self {
        Self {
            x: Default::default(),
            k: Default::default(),
            f: Default::default(),
            shifted: Default::default(),
            unused_high_bits: Default::default(),
            frac_bits: Constant::new(u64::from(t).into()),
            frac_mask: Constant::new(mask(t as usize).into()),
            k_mask: Constant::new(k_mask::<N>().into()),
        }
    }
}

impl<const N: usize, const P: usize> Logic for FractionAligner<N, P> {
    #[hdl_gen]
    fn update(&mut self) {
        // k is masked to the positions' width: a wide amount costs a wider shifter.
        self.shifted.next = ((bit_cast::<P, N>(self.x.val()) << self.frac_bits.val())
            >> (self.k.val() & self.k_mask.val()))
            & self.frac_mask.val();
        self.unused_high_bits.next = self.shifted.val();
        self.f.next = self.shifted.val().get_bits::<N>(0);
    }
}

/// The t-bit fraction the other way round: `x << (n-1-k)` puts the leading one on bit n-1,
/// the t bits below it are the fraction (moved down to bits [0, t)).
#[derive(LogicBlock)]
pub struct LeftFractionAligner<const N: usize> {
    pub x: Signal<In, Bits<N>>,
    pub k: Signal<In, Bits<N>>,
    pub f: Signal<Out, Bits<N>>,
    shifted: Signal<Local, Bits<N>>,
    top: Constant<Bits<N>>,
    low: Constant<Bits<N>>,
    frac_mask: Constant<Bits<N>>,
    k_mask: Constant<Bits<N>>,
}

impl<const N: usize> LeftFractionAligner<N> {
    fn new(t: u32) -> Self {
        Self {
            x: Default::default(),
            k: Default::default(),
            f: Default::default(),
            shifted: Default::default(),
            top: Constant::new((N as u64 - 1).into()),
            low: Constant::new((N as u64 - 1 - u64::from(t)).into()),
            frac_mask: Constant::new(mask(t as usize).into()),
            k_mask: Constant::new(k_mask::<N>().into()),
        }
    }
}

impl<const N: usize> Logic for LeftFractionAligner<N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.shifted.next = self.x.val() << (self.top.val() - (self.k.val() & self.k_mask.val()));
        self.f.next = (self.shifted.val() >> self.low.val()) & self.frac_mask.val();
    }
}

/// Leading-one position and fraction together, as a normaliser (FloPoCo's LZOC shifter): x,
/// zero-extended to 16 bits, passes four stages; stage j (j = 3 down to 0) shifts the word
/// left by 2^j where its top 2^j bits are zero, else sets bit j of k. The leading one ends on
/// bit 15 and k = 15 - (total shift). Stages whose test is constant (n <= 8: the top 8 bits
/// are the padding) fold away in synthesis.
#[derive(LogicBlock)]
pub struct LeadingOneNormalizer<const N: usize> {
    pub x: Signal<In, Bits<N>>,
    pub k: Signal<Out, Bits<N>>,
    pub f: Signal<Out, Bits<N>>,
    word: Signal<Local, Bits<16>>,
    level: Signal<Local, Bits<4>>,
    shifted: Signal<Local, Bits<16>>,
    /// Bits [t, 16) of `shifted`, above the fraction (Verilator's `*unused*` convention).
    unused_high_bits: Signal<Local, Bits<16>>,
    /// Per stage, from the first: the top 2^j bits, the shift 2^j, bit j of k.
    tops: Vec<Constant<Bits<16>>>,
    shifts: Vec<Constant<Bits<16>>>,
    k_bits: Vec<Constant<Bits<4>>>,
    no_k_bits: Constant<Bits<4>>,
    frac_low: Constant<Bits<16>>,
    frac_mask: Constant<Bits<16>>,
}

impl<const N: usize> LeadingOneNormalizer<N> {
    fn new(t: u32) -> Self {
        // k leaves as four bits: n >= 4 (the parameter check refuses smaller n).
        assert!(N >= 4, "the normaliser needs n >= 4");
        let stages = [3u32, 2, 1, 0];
        Self {
            x: Default::default(),
            k: Default::default(),
            f: Default::default(),
            word: Default::default(),
            level: Default::default(),
            shifted: Default::default(),
            unused_high_bits: Default::default(),
            tops: stages
                .map(|j| Constant::new((0xffffu64 ^ (0xffff >> (1 << j))).into()))
                .to_vec(),
            shifts: stages.map(|j| Constant::new((1u64 << j).into())).to_vec(),
            k_bits: stages.map(|j| Constant::new((1u64 << j).into())).to_vec(),
            no_k_bits: Constant::new(0u64.into()),
            frac_low: Constant::new((15 - u64::from(t)).into()),
            frac_mask: Constant::new(mask(t as usize).into()),
        }
    }
}

impl<const N: usize> Logic for LeadingOneNormalizer<N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.word.next = bit_cast::<16, N>(self.x.val());
        self.level.next = self.no_k_bits.val();
        for j in 0..4 {
            if (self.word.val() & self.tops[j].val()).any() {
                self.level.next = self.level.val() | self.k_bits[j].val();
            } else {
                self.word.next = self.word.val() << self.shifts[j].val();
            }
        }
        self.shifted.next = (self.word.val() >> self.frac_low.val()) & self.frac_mask.val();
        self.unused_high_bits.next = self.shifted.val();
        self.f.next = self.shifted.val().get_bits::<N>(0);
        self.k.next = bit_cast::<N, 4>(self.level.val());
    }
}

/// How an operand's leading-one position k and t-bit fraction are found. The four map to
/// different LUT counts at different (n, t) under Yosys, by up to 20 % either way; each
/// configuration uses the one measured smallest (see [`OperandStructure::for_unit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OperandStructure {
    /// A leading-one detector, then `{x, t zeros} >> k` ([`FractionAligner`]).
    DetectShiftRight,
    /// A leading-one detector, then `x << (n-1-k)` ([`LeftFractionAligner`]).
    DetectShiftLeft,
    /// Both at once, stage by stage ([`LeadingOneNormalizer`]).
    Normalize,
    /// A priority encoder from the top ([`PriorityEncoder`]), then the right shift.
    PriorityShiftRight,
}

/// Operand side of the log multiplier: magnitudes (signed option), the leading-one positions
/// and fractions of both operands in the configuration's [`OperandStructure`] (the unused
/// structures' block lists are empty, so they are not written), the product's sign and the
/// zero test.
#[derive(LogicBlock)]
pub struct LogOperands<const N: usize, const P: usize> {
    pub a: Signal<In, Bits<N>>,
    pub b: Signal<In, Bits<N>>,
    pub ka: Signal<Out, Bits<N>>,
    pub kb: Signal<Out, Bits<N>>,
    pub fa: Signal<Out, Bits<N>>,
    pub fb: Signal<Out, Bits<N>>,
    pub negative: Signal<Out, Bit>,
    pub nonzero: Signal<Out, Bit>,
    magnitude_a: Signal<Local, Bits<N>>,
    magnitude_b: Signal<Local, Bits<N>>,
    /// The leading-one positions as the structure finds them, read by the aligners.
    position_a: Signal<Local, Bits<N>>,
    position_b: Signal<Local, Bits<N>>,
    /// Leading-one detectors or priority encoders of a and b (or none), with a right or a
    /// left aligner each (or none).
    lod: Vec<LeadingOneDetector<N>>,
    priority: Vec<PriorityEncoder<N>>,
    align_right: Vec<FractionAligner<N, P>>,
    align_left: Vec<LeftFractionAligner<N>>,
    /// Normalisers of a and b (or none).
    normalize: Vec<LeadingOneNormalizer<N>>,
    a_signed: Constant<Bit>,
    b_signed: Constant<Bit>,
    msb: Constant<Bits<N>>,
    one: Constant<Bits<N>>,
}

impl<const N: usize, const P: usize> LogOperands<N, P> {
    fn new(t: u32, signed: crate::Signedness, structure: OperandStructure) -> Self {
        let pair = |s: OperandStructure| usize::from(structure == s) * 2;
        let (right, left, normalized, priority) = (
            pair(OperandStructure::DetectShiftRight),
            pair(OperandStructure::DetectShiftLeft),
            pair(OperandStructure::Normalize),
            pair(OperandStructure::PriorityShiftRight),
        );
        Self {
            a: Default::default(),
            b: Default::default(),
            ka: Default::default(),
            kb: Default::default(),
            fa: Default::default(),
            fb: Default::default(),
            negative: Default::default(),
            nonzero: Default::default(),
            magnitude_a: Default::default(),
            magnitude_b: Default::default(),
            position_a: Default::default(),
            position_b: Default::default(),
            lod: (0..right + left).map(|_| Default::default()).collect(),
            priority: (0..priority).map(|_| Default::default()).collect(),
            align_right: (0..right + priority)
                .map(|_| FractionAligner::new(t))
                .collect(),
            align_left: (0..left).map(|_| LeftFractionAligner::new(t)).collect(),
            normalize: (0..normalized)
                .map(|_| LeadingOneNormalizer::new(t))
                .collect(),
            a_signed: Constant::new(signed.a),
            b_signed: Constant::new(signed.b),
            msb: Constant::new((1u64 << (N - 1)).into()),
            one: Constant::new(1u64.into()),
        }
    }
}

impl<const N: usize, const P: usize> Logic for LogOperands<N, P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.magnitude_a.next = self.a.val();
        if self.a_signed.val() & (self.a.val() & self.msb.val()).any() {
            self.magnitude_a.next = !self.a.val() + self.one.val();
        }
        self.magnitude_b.next = self.b.val();
        if self.b_signed.val() & (self.b.val() & self.msb.val()).any() {
            self.magnitude_b.next = !self.b.val() + self.one.val();
        }
        self.negative.next = (self.a_signed.val() & (self.a.val() & self.msb.val()).any())
            ^ (self.b_signed.val() & (self.b.val() & self.msb.val()).any());
        self.nonzero.next = self.a.val().any() & self.b.val().any();
        // Each loop runs once (its list holds the blocks of a and b) or not at all (empty), as
        // the configuration's structure has it.
        for _i in 0..(self.lod.len() / 2) {
            self.lod[0].x.next = self.magnitude_a.val();
            self.lod[1].x.next = self.magnitude_b.val();
            self.position_a.next = self.lod[0].k.val();
            self.position_b.next = self.lod[1].k.val();
        }
        for _i in 0..(self.priority.len() / 2) {
            self.priority[0].x.next = self.magnitude_a.val();
            self.priority[1].x.next = self.magnitude_b.val();
            self.position_a.next = self.priority[0].k.val();
            self.position_b.next = self.priority[1].k.val();
        }
        // The aligners shift by the positions found above.
        for _i in 0..(self.align_right.len() / 2) {
            self.align_right[0].x.next = self.magnitude_a.val();
            self.align_right[1].x.next = self.magnitude_b.val();
            self.align_right[0].k.next = self.position_a.val();
            self.align_right[1].k.next = self.position_b.val();
            self.fa.next = self.align_right[0].f.val();
            self.fb.next = self.align_right[1].f.val();
        }
        for _i in 0..(self.align_left.len() / 2) {
            self.align_left[0].x.next = self.magnitude_a.val();
            self.align_left[1].x.next = self.magnitude_b.val();
            self.align_left[0].k.next = self.position_a.val();
            self.align_left[1].k.next = self.position_b.val();
            self.fa.next = self.align_left[0].f.val();
            self.fb.next = self.align_left[1].f.val();
        }
        for _i in 0..(self.normalize.len() / 2) {
            self.normalize[0].x.next = self.magnitude_a.val();
            self.normalize[1].x.next = self.magnitude_b.val();
            self.position_a.next = self.normalize[0].k.val();
            self.position_b.next = self.normalize[1].k.val();
            self.fa.next = self.normalize[0].f.val();
            self.fb.next = self.normalize[1].f.val();
        }
        self.ka.next = self.position_a.val();
        self.kb.next = self.position_b.val();
    }
}

impl OperandStructure {
    pub const ALL: [OperandStructure; 4] = [
        OperandStructure::DetectShiftRight,
        OperandStructure::DetectShiftLeft,
        OperandStructure::Normalize,
        OperandStructure::PriorityShiftRight,
    ];

    /// The parameter value that names the structure (`operands: ...`).
    pub fn name(self) -> &'static str {
        match self {
            OperandStructure::DetectShiftRight => "lod-right",
            OperandStructure::DetectShiftLeft => "lod-left",
            OperandStructure::Normalize => "normalize",
            OperandStructure::PriorityShiftRight => "priority-right",
        }
    }

    /// The default of an n-bit Mitchell (`protected` false) or AdAM unit with t fraction bits:
    /// the smallest of the three, as measured for that family with the project's synthesis
    /// flow (Yosys 0.70, every (n, t) with n >= 4, ties to lod-right), the normaliser only
    /// where it saves more than 2 % (its stages are up to two LUT levels deeper: AdAM n16 t15
    /// 283 LUTs, depth 21, against 286, depth 19). Below n = 4 the normaliser's four-bit
    /// position does not fit. Mitchell's table also has the priority encoder where it saves
    /// more than 2 % over the other three (9 of 117 entries, e.g. n8 t4 70 -> 68, n9 t3
    /// 71 -> 66; the same function as the detector, mapped differently by Yosys); AdAM's was
    /// not re-measured with it. A table row, [n - 4], holds one letter per t = 1..n-1: r, l,
    /// z, p for lod-right, lod-left, normalize, priority-right. The structures differ by up
    /// to 25 % at one (n, t) and none is smallest throughout: the normaliser wins at most t of
    /// n = 11..13 and 16, the detectors at n = 8 and t near n.
    pub fn for_unit(protected: bool, n: u32, t: u32) -> OperandStructure {
        const MITCHELL: [&str; 13] = [
            "lpr",
            "rrrr",
            "rpzzz",
            "pprllz",
            "rzlprrr",
            "rrpzlrrp",
            "rlzzlrrrr",
            "zzzzzzrlrr",
            "zzzzzzzzpzp",
            "rzzzlzlzrrll",
            "lllzlzllzllrl",
            "rrzzzzzrrlllll",
            "zzzzzzzzlzzrrzr",
        ];
        const ADAM: [&str; 13] = [
            "rrr",
            "rrrr",
            "rzzrz",
            "zzzllz",
            "rzrrrrr",
            "rrrllrrr",
            "rrllrrrrr",
            "rzzrlrrlrr",
            "rzzzzzzzrzz",
            "lzzzzzllllll",
            "rzzzzzlllllll",
            "rzzzzzzrrlllll",
            "rzzzzzzrzrrrrrr",
        ];
        let table = if protected { ADAM } else { MITCHELL };
        let letter = n
            .checked_sub(4)
            .and_then(|i| table.get(i as usize))
            .and_then(|row| row.as_bytes().get((t as usize).checked_sub(1)?));
        match letter {
            Some(b'l') => OperandStructure::DetectShiftLeft,
            Some(b'z') => OperandStructure::Normalize,
            Some(b'p') => OperandStructure::PriorityShiftRight,
            _ => OperandStructure::DetectShiftRight,
        }
    }
}

/// Mitchell's plain t-bit fraction adder: `s` = sum mod 2^t, `c` = carry out.
#[derive(LogicBlock)]
pub struct FractionAdder<const N: usize> {
    pub fa: Signal<In, Bits<N>>,
    pub fb: Signal<In, Bits<N>>,
    pub s: Signal<Out, Bits<N>>,
    pub c: Signal<Out, Bit>,
    sum: Signal<Local, Bits<N>>,
    frac_mask: Constant<Bits<N>>,
    carry_bit: Constant<Bits<N>>,
}

impl<const N: usize> FractionAdder<N> {
    fn new(t: u32) -> Self {
        Self {
            fa: Default::default(),
            fb: Default::default(),
            s: Default::default(),
            c: Default::default(),
            sum: Default::default(),
            frac_mask: Constant::new(mask(t as usize).into()),
            carry_bit: Constant::new((1u64 << t).into()),
        }
    }
}

impl<const N: usize> Logic for FractionAdder<N> {
    #[hdl_gen]
    fn update(&mut self) {
        // t <= n-1, so the sum and its carry fit in n bits.
        self.sum.next = self.fa.val() + self.fb.val();
        self.s.next = self.sum.val() & self.frac_mask.val();
        self.c.next = (self.sum.val() & self.carry_bit.val()).any();
    }
}

/// The first half of the lane plan of ARITHMETIC.md §3.2, from `kmax = max(kA, kB)`:
/// `q = min(kmax, t)` informative positions `[free, t)`, `free = t - q`. Every lane-plan value
/// is at most t, so each is masked to bitlen(t) bits: synthesis then sees narrow shift amounts
/// (a wide amount built by a subtraction costs a full barrel shifter per use).
#[derive(LogicBlock)]
pub struct InformativeLanes<const N: usize> {
    pub kmax: Signal<In, Bits<N>>,
    pub q: Signal<Out, Bits<N>>,
    pub free: Signal<Out, Bits<N>>,
    k: Signal<Local, Bits<N>>,
    t: Constant<Bits<N>>,
    narrow: Constant<Bits<N>>,
    k_mask: Constant<Bits<N>>,
}

impl<const N: usize> InformativeLanes<N> {
    fn new(t: u32) -> Self {
        Self {
            kmax: Default::default(),
            q: Default::default(),
            free: Default::default(),
            k: Default::default(),
            t: Constant::new(u64::from(t).into()),
            narrow: Constant::new(narrow_mask(t).into()),
            k_mask: Constant::new(k_mask::<N>().into()),
        }
    }
}

impl<const N: usize> Logic for InformativeLanes<N> {
    #[hdl_gen]
    fn update(&mut self) {
        // kmax < n: this block sits in a kept module, where synthesis cannot see that the
        // upper bits of its input are 0.
        self.k.next = self.kmax.val() & self.k_mask.val();
        self.q.next = self.k.val() & self.narrow.val();
        if self.k.val() > self.t.val() {
            self.q.next = self.t.val();
        }
        self.free.next = (self.t.val() - self.q.val()) & self.narrow.val();
    }
}

/// The second half: `d = min(free, q)` duplicated positions. They are the top d positions, which
/// lie in the window of the top `dmax = floor(t/2)` positions (d never exceeds it), from window
/// bit `lo = dmax - d` up; `lo = dmax` means no duplicates.
#[derive(LogicBlock)]
pub struct DuplicateLanes<const N: usize> {
    pub q: Signal<In, Bits<N>>,
    pub free: Signal<In, Bits<N>>,
    pub lo: Signal<Out, Bits<N>>,
    d: Signal<Local, Bits<N>>,
    dmax: Constant<Bits<N>>,
    d_mask: Constant<Bits<N>>,
    narrow: Constant<Bits<N>>,
}

impl<const N: usize> DuplicateLanes<N> {
    fn new(t: u32) -> Self {
        let dmax = Window::new(t).size;
        Self {
            q: Default::default(),
            free: Default::default(),
            lo: Default::default(),
            d: Default::default(),
            dmax: Constant::new(dmax.into()),
            d_mask: Constant::new(mask(crate::bitlen(dmax) as usize).into()),
            narrow: Constant::new(narrow_mask(t).into()),
        }
    }
}

impl<const N: usize> Logic for DuplicateLanes<N> {
    #[hdl_gen]
    fn update(&mut self) {
        self.d.next = self.free.val();
        if self.q.val() < self.free.val() {
            self.d.next = self.q.val();
        }
        // d <= dmax: said to synthesis by a mask. At t = 1 (dmax = 0) nothing is duplicated,
        // so the duplicate lane and err fold to constants, as §3.2 defines them.
        self.d.next = self.d.val() & self.d_mask.val();
        self.lo.next = (self.dmax.val() - self.d.val()) & self.narrow.val();
    }
}

/// Ones in the bitlen(t) low bits: every lane-plan value is at most t.
fn narrow_mask(t: u32) -> u64 {
    mask(crate::bitlen(u64::from(t)) as usize)
}

/// Constants of the duplicate window (the top `dmax = floor(t/2)` adder positions), shared by
/// the adder and the checker.
#[derive(Clone, Copy)]
struct Window {
    /// dmax = floor(t/2), the most positions a lane plan duplicates.
    size: u64,
    /// Adder position of window bit 0: t - dmax.
    base: u64,
    /// Ones in the dmax window bits.
    mask: u64,
}

impl Window {
    fn new(t: u32) -> Self {
        Self {
            size: u64::from(t / 2),
            base: u64::from(t - t / 2),
            mask: mask((t / 2) as usize),
        }
    }
}

/// AdAM's t-bit adaptive adder. The primary lane is Mitchell's fraction adder (both fractions
/// are 0 below t-q, so its chain starts there with 0). The duplicate lane recomputes the
/// window of the top dmax = floor(t/2) positions (every possible d lies in it) from the
/// operands' window bits and the primary carry into the window base t - dmax: a dmax-bit
/// adder behind constant shifts, not a second datapath. Its window bits from `lo = dmax - d`
/// up are the copies of the top d positions (their carry-in is the lane's own recomputation of
/// the primary carry into t - d, equal to it when fault-free); one narrow shift by `lo` puts
/// them into the idle positions `[0, d)`, and its carry out is `c'`. `sums` carries the
/// adder's physical outputs, the fault sites of ARITHMETIC.md §3.2: bit i < t the sum output
/// of position i (a duplicate bit for i < d), bit t the carry `c`, bit t+1 `c'`; one word so
/// that one fault injector reaches every site.
#[derive(LogicBlock)]
pub struct AdaptiveAdder<const N: usize, const P: usize> {
    pub fa: Signal<In, Bits<N>>,
    pub fb: Signal<In, Bits<N>>,
    pub kmax: Signal<In, Bits<N>>,
    pub sums: Signal<Out, Bits<P>>,
    informative: InformativeLanes<N>,
    plan: DuplicateLanes<N>,
    /// The fractions as t-bit values (the kept boundary hides that their upper bits are 0).
    x: Signal<Local, Bits<N>>,
    y: Signal<Local, Bits<N>>,
    primary: Signal<Local, Bits<N>>,
    /// Each operand's window bits, one bit up, with the carry-in set at bit 0 of both: adding
    /// them carries it into bit 1, so the three-input sum is one two-input adder.
    window_a: Signal<Local, Bits<N>>,
    window_b: Signal<Local, Bits<N>>,
    carry_in: Signal<Local, Bits<N>>,
    dup: Signal<Local, Bits<N>>,
    positions: Signal<Local, Bits<N>>,
    one: Constant<Bits<N>>,
    frac_mask: Constant<Bits<N>>,
    carry_bit: Constant<Bits<N>>,
    window_base: Constant<Bits<N>>,
    window_mask: Constant<Bits<N>>,
    dup_carry_bit: Constant<Bits<N>>,
    carry_out_bit: Constant<Bits<P>>,
    dup_carry_out_bit: Constant<Bits<P>>,
}

impl<const N: usize, const P: usize> AdaptiveAdder<N, P> {
    fn new(t: u32) -> Self {
        let window = Window::new(t);
        Self {
            fa: Default::default(),
            fb: Default::default(),
            kmax: Default::default(),
            sums: Default::default(),
            informative: InformativeLanes::new(t),
            plan: DuplicateLanes::new(t),
            x: Default::default(),
            y: Default::default(),
            primary: Default::default(),
            window_a: Default::default(),
            window_b: Default::default(),
            carry_in: Default::default(),
            dup: Default::default(),
            positions: Default::default(),
            one: Constant::new(1u64.into()),
            frac_mask: Constant::new(mask(t as usize).into()),
            carry_bit: Constant::new((1u64 << t).into()),
            window_base: Constant::new(window.base.into()),
            window_mask: Constant::new(window.mask.into()),
            dup_carry_bit: Constant::new((window.mask + 1).into()),
            carry_out_bit: Constant::new((1u64 << t).into()),
            dup_carry_out_bit: Constant::new((1u64 << (t + 1)).into()),
        }
    }
}

impl<const N: usize, const P: usize> Logic for AdaptiveAdder<N, P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.informative.kmax.next = self.kmax.val();
        self.plan.q.next = self.informative.q.val();
        self.plan.free.next = self.informative.free.val();
        self.x.next = self.fa.val() & self.frac_mask.val();
        self.y.next = self.fb.val() & self.frac_mask.val();
        self.primary.next = self.x.val() + self.y.val();
        // The primary carry into the window base t - dmax: bit t - dmax of sum ^ a ^ b.
        self.carry_in.next = ((self.primary.val() ^ self.x.val() ^ self.y.val())
            >> self.window_base.val())
            & self.one.val();
        self.window_a.next = (((self.x.val() >> self.window_base.val()) & self.window_mask.val())
            << self.one.val())
            | self.carry_in.val();
        self.window_b.next = (((self.y.val() >> self.window_base.val()) & self.window_mask.val())
            << self.one.val())
            | self.carry_in.val();
        // Window bits [lo, dmax) are the duplicate sums, bit dmax is c'.
        self.dup.next = (self.window_a.val() + self.window_b.val()) >> self.one.val();
        self.positions.next = (self.primary.val() & self.frac_mask.val())
            | ((self.dup.val() & self.window_mask.val()) >> self.plan.lo.val());
        self.sums.next = bit_cast::<P, N>(self.positions.val());
        if (self.primary.val() & self.carry_bit.val()).any() {
            self.sums.next = self.sums.val() | self.carry_out_bit.val();
        }
        if (self.dup.val() & self.dup_carry_bit.val()).any() {
            self.sums.next = self.sums.val() | self.dup_carry_out_bit.val();
        }
    }
}

/// AdAM's checker: plans the lanes from `kmax` as the adder does, compares the top d primary
/// bits (window positions `[lo, dmax)`) and `c` with the duplicate lane's bits (moved up from
/// `[0, d)`) and `c'`, zeroes every primary bit (and `c`) that disagrees, masks positions
/// `[0, t-q)` and flags a mismatch.
#[derive(LogicBlock)]
pub struct DuplicateChecker<const N: usize, const P: usize> {
    pub sums: Signal<In, Bits<P>>,
    pub kmax: Signal<In, Bits<N>>,
    pub s: Signal<Out, Bits<N>>,
    pub c: Signal<Out, Bit>,
    pub mismatch: Signal<Out, Bit>,
    informative: InformativeLanes<N>,
    plan: DuplicateLanes<N>,
    positions: Signal<Local, Bits<N>>,
    primary: Signal<Local, Bits<N>>,
    copies: Signal<Local, Bits<N>>,
    differ: Signal<Local, Bits<N>>,
    carry: Signal<Local, Bit>,
    dup_carry: Signal<Local, Bit>,
    carry_differs: Signal<Local, Bit>,
    frac_mask: Constant<Bits<N>>,
    window_base: Constant<Bits<N>>,
    window_mask: Constant<Bits<N>>,
    dmax: Constant<Bits<N>>,
    carry_out_bit: Constant<Bits<P>>,
    dup_carry_out_bit: Constant<Bits<P>>,
}

impl<const N: usize, const P: usize> DuplicateChecker<N, P> {
    fn new(t: u32) -> Self {
        let window = Window::new(t);
        Self {
            sums: Default::default(),
            kmax: Default::default(),
            s: Default::default(),
            c: Default::default(),
            mismatch: Default::default(),
            informative: InformativeLanes::new(t),
            plan: DuplicateLanes::new(t),
            positions: Default::default(),
            primary: Default::default(),
            copies: Default::default(),
            differ: Default::default(),
            carry: Default::default(),
            dup_carry: Default::default(),
            carry_differs: Default::default(),
            frac_mask: Constant::new(mask(t as usize).into()),
            window_base: Constant::new(window.base.into()),
            window_mask: Constant::new(window.mask.into()),
            dmax: Constant::new(window.size.into()),
            carry_out_bit: Constant::new((1u64 << t).into()),
            dup_carry_out_bit: Constant::new((1u64 << (t + 1)).into()),
        }
    }
}

impl<const N: usize, const P: usize> Logic for DuplicateChecker<N, P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.informative.kmax.next = self.kmax.val();
        self.plan.q.next = self.informative.q.val();
        self.plan.free.next = self.informative.free.val();
        self.positions.next = self.sums.val().get_bits::<N>(0) & self.frac_mask.val();
        // Masks are shifted constants, never `(1 << v) - 1`, which synthesis builds as a
        // subtractor.
        self.primary.next =
            self.positions.val() & (self.frac_mask.val() << self.informative.free.val());
        // Duplicate bit j < d sits at position j; its primary twin at window bit lo + j.
        self.copies.next = ((self.positions.val() & self.window_mask.val()) << self.plan.lo.val())
            & self.window_mask.val();
        self.differ.next = ((self.primary.val() >> self.window_base.val()) ^ self.copies.val())
            & (self.window_mask.val() << self.plan.lo.val())
            & self.window_mask.val();
        self.s.next = self.primary.val() & !(self.differ.val() << self.window_base.val());
        self.carry.next = (self.sums.val() & self.carry_out_bit.val()).any();
        self.dup_carry.next = (self.sums.val() & self.dup_carry_out_bit.val()).any();
        // d > 0 exactly when lo != dmax (lo <= dmax).
        self.carry_differs.next =
            (self.carry.val() ^ self.dup_carry.val()) & (self.plan.lo.val() != self.dmax.val());
        self.c.next = self.carry.val() & !self.carry_differs.val();
        self.mismatch.next = self.differ.val().any() | self.carry_differs.val();
    }
}

/// The antilog's exponent `e = kA + kB + c`: one adder, the carry as its third (one-bit)
/// operand, which synthesis maps to the carry input (an increment after the adder, or a
/// shift by c before the shifter, costs up to 8 LUTs more at n = 8).
#[derive(LogicBlock)]
pub struct AntilogExponent<const N: usize, const P: usize> {
    pub ka: Signal<In, Bits<N>>,
    pub kb: Signal<In, Bits<N>>,
    /// The fraction adder's carry, as a one-bit vector: zero-extended by a cast (not a mux
    /// of 0 and 1, which synthesis keeps as a third full-width operand), it becomes the
    /// adder's carry input.
    pub c: Signal<In, Bits<1>>,
    pub e: Signal<Out, Bits<P>>,
    exponent_mask: Constant<Bits<P>>,
}

impl<const N: usize, const P: usize> Default for AntilogExponent<N, P> {
    fn default() -> Self {
        Self {
            ka: Default::default(),
            kb: Default::default(),
            c: Default::default(),
            e: Default::default(),
            exponent_mask: Constant::new(exponent_mask::<P>().into()),
        }
    }
}

/// Ones in the bitlen(2n - 1) low bits, where every exponent kA + kB + c fits: masked, the
/// shift amount reads as narrow to synthesis (a wide one costs a wider shifter).
fn exponent_mask<const P: usize>() -> u64 {
    mask(crate::bitlen(P as u64 - 1) as usize)
}

impl<const N: usize, const P: usize> Logic for AntilogExponent<N, P> {
    #[hdl_gen]
    fn update(&mut self) {
        self.e.next = (bit_cast::<P, N>(self.ka.val())
            + bit_cast::<P, N>(self.kb.val())
            + bit_cast::<P, 1>(self.c.val()))
            & self.exponent_mask.val();
    }
}

/// The antilog's shifter: `((2^t + s) << e) >> t`, 0 when an operand is 0. The left shift of
/// the narrow mantissa into a W = 3n-bit word, whose bits [t, t + 2n) are the product, maps to
/// fewer LUTs than a right shift of a top-aligned mantissa by 2n - 1 - e (Yosys 0.70: 69 vs
/// 73 LUTs for a whole n = 8, t = 6 unit).
#[derive(LogicBlock)]
pub struct AntilogShift<const N: usize, const P: usize, const W: usize> {
    pub s: Signal<In, Bits<N>>,
    pub e: Signal<In, Bits<P>>,
    pub nonzero: Signal<In, Bit>,
    pub p: Signal<Out, Bits<P>>,
    wide: Signal<Local, Bits<W>>,
    shifted: Signal<Local, Bits<W>>,
    /// Bits [2n, 3n) of `shifted`, always 0: read here so that they are not reported as
    /// unused (Verilator's `*unused*` naming convention).
    unused_high_bits: Signal<Local, Bits<W>>,
    frac_bits: Constant<Bits<W>>,
    frac_mask: Constant<Bits<W>>,
    lead: Constant<Bits<W>>,
    zero: Constant<Bits<P>>,
}

impl<const N: usize, const P: usize, const W: usize> AntilogShift<N, P, W> {
    fn new(t: u32) -> Self {
        Self {
            s: Default::default(),
            e: Default::default(),
            nonzero: Default::default(),
            p: Default::default(),
            wide: Default::default(),
            shifted: Default::default(),
            unused_high_bits: Default::default(),
            frac_bits: Constant::new(u64::from(t).into()),
            frac_mask: Constant::new(mask(t as usize).into()),
            lead: Constant::new((1u64 << t).into()),
            zero: Constant::new(0u64.into()),
        }
    }
}

impl<const N: usize, const P: usize, const W: usize> Logic for AntilogShift<N, P, W> {
    #[hdl_gen]
    fn update(&mut self) {
        // s is masked to its t bits: behind AdAM's kept checker synthesis cannot see that the
        // rest is 0, and shifts the whole word (AdAM n16 t1: 139 -> 94 LUTs, n14 t7: 185 -> 167).
        self.wide.next = ((bit_cast::<W, N>(self.s.val()) & self.frac_mask.val())
            | self.lead.val())
            << self.e.val();
        self.shifted.next = self.wide.val() >> self.frac_bits.val();
        self.unused_high_bits.next = self.shifted.val();
        self.p.next = self.shifted.val().get_bits::<P>(0);
        if !self.nonzero.val() {
            self.p.next = self.zero.val();
        }
    }
}

/// Antilog: `((2^t + s) << (kA + kB + c)) >> t` as the exponent's adder, then one shift; 0
/// when an operand is 0. Two blocks, so that a pipeline can put a register between them.
#[derive(LogicBlock)]
pub struct AntilogShifter<const N: usize, const P: usize, const W: usize> {
    pub s: Signal<In, Bits<N>>,
    pub c: Signal<In, Bit>,
    pub ka: Signal<In, Bits<N>>,
    pub kb: Signal<In, Bits<N>>,
    pub nonzero: Signal<In, Bit>,
    pub p: Signal<Out, Bits<P>>,
    exponent: AntilogExponent<N, P>,
    shift: AntilogShift<N, P, W>,
}

impl<const N: usize, const P: usize, const W: usize> AntilogShifter<N, P, W> {
    fn new(t: u32) -> Self {
        Self {
            s: Default::default(),
            c: Default::default(),
            ka: Default::default(),
            kb: Default::default(),
            nonzero: Default::default(),
            p: Default::default(),
            exponent: Default::default(),
            shift: AntilogShift::new(t),
        }
    }
}

impl<const N: usize, const P: usize, const W: usize> Logic for AntilogShifter<N, P, W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.exponent.ka.next = self.ka.val();
        self.exponent.kb.next = self.kb.val();
        self.exponent.c.next = self.c.val().into();
        self.shift.s.next = self.s.val();
        self.shift.e.next = self.exponent.e.val();
        self.shift.nonzero.next = self.nonzero.val();
        self.p.next = self.shift.p.val();
    }
}

/// Unp-AxM: Mitchell's multiplier with a plain fraction adder.
#[derive(LogicBlock)]
pub struct MitchellMultiplier<const N: usize, const P: usize, const W: usize> {
    pub a: Signal<In, Bits<N>>,
    pub b: Signal<In, Bits<N>>,
    pub p: Signal<Out, Bits<P>>,
    operands: LogOperands<N, P>,
    adder: FractionAdder<N>,
    antilog: AntilogShifter<N, P, W>,
    sign: ApplySign<P>,
}

impl<const N: usize, const P: usize, const W: usize> MitchellMultiplier<N, P, W> {
    pub fn new(t: u32, signed: crate::Signedness, structure: OperandStructure) -> Self {
        Self {
            a: Default::default(),
            b: Default::default(),
            p: Default::default(),
            operands: LogOperands::new(t, signed, structure),
            adder: FractionAdder::new(t),
            antilog: AntilogShifter::new(t),
            sign: Default::default(),
        }
    }
}

impl<const N: usize, const P: usize, const W: usize> Logic for MitchellMultiplier<N, P, W> {
    #[hdl_gen]
    fn update(&mut self) {
        self.operands.a.next = self.a.val();
        self.operands.b.next = self.b.val();
        self.adder.fa.next = self.operands.fa.val();
        self.adder.fb.next = self.operands.fb.val();
        self.antilog.s.next = self.adder.s.val();
        self.antilog.c.next = self.adder.c.val();
        self.antilog.ka.next = self.operands.ka.val();
        self.antilog.kb.next = self.operands.kb.val();
        self.antilog.nonzero.next = self.operands.nonzero.val();
        self.sign.magnitude.next = self.antilog.p.val();
        self.sign.negative.next = self.operands.negative.val();
        self.p.next = self.sign.p.val();
    }
}

/// Defines an AdAM top level; with `$injector`, a fault injector sits between adder and checker.
macro_rules! adam_multiplier {
    ($(#[$doc:meta])* $name:ident, [$($fault:ident: $fault_ty:ty),*],
     injector [$($injector:ident)?], checker input $src:ident . $src_port:ident) => {
        $(#[$doc])*
        #[derive(LogicBlock)]
        pub struct $name<const N: usize, const P: usize, const W: usize> {
            pub a: Signal<In, Bits<N>>,
            pub b: Signal<In, Bits<N>>,
            $(pub $fault: Signal<In, $fault_ty>,)*
            pub p: Signal<Out, Bits<P>>,
            pub err: Signal<Out, Bit>,
            operands: LogOperands<N, P>,
            kmax: Signal<Local, Bits<N>>,
            adder: AdaptiveAdder<N, P>,
            $($injector: FaultInjector<P>,)?
            duplicate_checker: DuplicateChecker<N, P>,
            antilog: AntilogShifter<N, P, W>,
            sign: ApplySign<P>,
        }

        impl<const N: usize, const P: usize, const W: usize> $name<N, P, W> {
            pub fn new(t: u32, signed: crate::Signedness, structure: OperandStructure) -> Self {
                Self {
                    a: Default::default(),
                    b: Default::default(),
                    $($fault: Default::default(),)*
                    p: Default::default(),
                    err: Default::default(),
                    operands: LogOperands::new(t, signed, structure),
                    kmax: Default::default(),
                    adder: AdaptiveAdder::new(t),
                    // Bit i of the adder's output word is fault site 1 + i.
                    $($injector: FaultInjector::new(1),)?
                    duplicate_checker: DuplicateChecker::new(t),
                    antilog: AntilogShifter::new(t),
                    sign: Default::default(),
                }
            }
        }

        impl<const N: usize, const P: usize, const W: usize> Logic for $name<N, P, W> {
            #[hdl_gen]
            fn update(&mut self) {
                self.operands.a.next = self.a.val();
                self.operands.b.next = self.b.val();
                self.adder.fa.next = self.operands.fa.val();
                self.adder.fb.next = self.operands.fb.val();
                self.kmax.next = self.operands.ka.val();
                if self.operands.kb.val() > self.operands.ka.val() {
                    self.kmax.next = self.operands.kb.val();
                }
                self.adder.kmax.next = self.kmax.val();
                $(
                    self.$injector.x.next = self.adder.sums.val();
                    self.$injector.site.next = self.fault_site.val();
                    self.$injector.kind.next = self.fault_kind.val();
                )?
                self.duplicate_checker.sums.next = self.$src.$src_port.val();
                self.duplicate_checker.kmax.next = self.kmax.val();
                self.antilog.s.next = self.duplicate_checker.s.val();
                self.antilog.c.next = self.duplicate_checker.c.val();
                self.antilog.ka.next = self.operands.ka.val();
                self.antilog.kb.next = self.operands.kb.val();
                self.antilog.nonzero.next = self.operands.nonzero.val();
                self.sign.magnitude.next = self.antilog.p.val();
                self.sign.negative.next = self.operands.negative.val();
                self.p.next = self.sign.p.val();
                self.err.next = self.duplicate_checker.mismatch.val() & self.operands.nonzero.val();
            }
        }
    };
}

adam_multiplier!(
    /// Pro-AdAM: the log multiplier with the adaptive adder and its checker.
    AdamMultiplier,
    [],
    injector [],
    checker input adder.sums
);

adam_multiplier!(
    /// Pro-AdAM with `fault_site`/`fault_kind` inputs driving one fault on one adder output.
    AdamMultiplierFaultPorts,
    [fault_site: Bits<SITE_BITS>, fault_kind: Bits<2>],
    injector [injector],
    checker input injector.y
);

/// The rust-hdl block of `mitchell` (`protected` false) or `adam` (top module `top`): n-bit operands,
/// t fraction bits, the operands found by `structure`.
pub fn block(
    n: u32,
    t: u32,
    signed: crate::Signedness,
    protected: bool,
    fault_ports: bool,
    structure: OperandStructure,
) -> crate::AnyBlock {
    crate::dispatch_n_2n_3n!(n, block_for(t, signed, protected, fault_ports, structure))
}

#[inline(never)]
fn block_for<const N: usize, const P: usize, const W: usize>(
    t: u32,
    s: crate::Signedness,
    protected: bool,
    fault_ports: bool,
    o: OperandStructure,
) -> crate::AnyBlock {
    match (protected, fault_ports) {
        (false, _) => crate::AnyBlock::new(MitchellMultiplier::<N, P, W>::new(t, s, o)),
        (true, false) => crate::AnyBlock::new(AdamMultiplier::<N, P, W>::new(t, s, o)),
        (true, true) => crate::AnyBlock::new(AdamMultiplierFaultPorts::<N, P, W>::new(t, s, o)),
    }
}
