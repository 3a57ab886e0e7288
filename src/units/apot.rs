//! `apot` and `pot`: additive powers-of-two weight × unsigned activation, multiplier-free
//! (ARITHMETIC.md §2).
//!
//! A level is a sum of one element of each term set `{0} ∪ {2^-e : e in exps}`. Weight code
//! `w = {sign, idx_0, idx_1, ..., [one-bit idx]}` (B+1 bits); the unit computes
//! `P = (-1)^s Σ_{idx_t != 0} x << (Emax - exps_t[idx_t - 1])`: per term a shift mux with zero
//! gating (constant shift amounts), an adder over the terms, the sign last. Plain PoT has one
//! term with exponents 1..2^B-1 (a barrel shifter). RTL: `rtl/src/apot.rs`.

use crate::base::{
    bitlen, check_range, mask, parse_params, to_raw, ParamInfo, ParamMap, Port, SpecError,
};
use crate::units::{Family, Quantized, Unit};
use serde::Deserialize;

pub static APOT: Family = Family {
    name: "apot",
    summary:
        "APoT weight {sign, idx_0, ...} × unsigned activation: shift muxes + adder, no multiplier",
    params: &[
        ParamInfo {
            key: "mag_bits",
            range: "1..=15",
            default: "4",
            help: "magnitude bits B (1 ternary; 9..15 experimental)",
        },
        ParamInfo {
            key: "act_bits",
            range: "2..=16",
            default: "8",
            help: "unsigned activation width a",
        },
    ],
    sweep: || sweep(true),
    quantize: Some(|m, w, a| quantize(true, m, w, a)),
    build: |m| Ok(Box::new(ApotParams::from_map(true, m)?)),
};

pub static POT: Family = Family {
    name: "pot",
    summary: "PoT weight {sign, j} × unsigned activation: one barrel shift, no multiplier",
    params: &[
        ParamInfo {
            key: "mag_bits",
            range: "1..=4",
            default: "3",
            help: "magnitude bits B: levels 0 and 2^-1..2^-(2^B-1)",
        },
        ParamInfo {
            key: "act_bits",
            range: "2..=16",
            default: "8",
            help: "unsigned activation width a",
        },
    ],
    sweep: || sweep(false),
    quantize: Some(|m, w, a| quantize(false, m, w, a)),
    build: |m| Ok(Box::new(ApotParams::from_map(false, m)?)),
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ApotParams {
    /// `false`: plain PoT.
    pub additive: bool,
    pub mag_bits: u32,
    pub act_bits: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApotParams {
    mag_bits: Option<u32>,
    #[serde(default = "default_act_bits")]
    act_bits: u32,
}

fn default_act_bits() -> u32 {
    8
}

/// The exponent lists of APoT(B)'s terms (ARITHMETIC.md §2.1), ascending within each term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terms {
    pub two_bit: Vec<[u32; 3]>,
    /// The one-bit term of odd B (B = 1: the ternary level 2^0).
    pub one_bit: Option<u32>,
    pub emax: u32,
}

/// §2.1's rule in closed form. B = 2n: two-bit term t (0-based) has exponents t+1, t+1+n,
/// t+1+2n. B = 2n+1: two rounds over the n two-bit terms (1..=2n), the one-bit term 2n+1, a
/// third round (2n+2..=3n+1). This is the exponent of element `idx` (1..=3) of term `t`.
fn two_bit_exponent(b: u32, t: u32, idx: u32) -> u32 {
    let (n, odd) = (b / 2, b % 2);
    t + 1 + (idx - 1) * n + if idx == 3 { odd } else { 0 }
}

/// The one-bit term's exponent (odd B; B = 1 is ternary: {0, 2^0}).
fn one_bit_exponent(b: u32) -> Option<u32> {
    (b % 2 == 1).then_some(if b == 1 { 0 } else { b })
}

fn emax_of(b: u32) -> u32 {
    if b == 1 {
        0
    } else {
        3 * (b / 2) + b % 2
    }
}

impl Terms {
    pub fn of(b: u32) -> Terms {
        Terms {
            two_bit: (0..b / 2)
                .map(|t| [1, 2, 3].map(|idx| two_bit_exponent(b, t, idx)))
                .collect(),
            one_bit: one_bit_exponent(b),
            emax: emax_of(b),
        }
    }
}

impl ApotParams {
    fn from_map(additive: bool, map: &ParamMap) -> Result<ApotParams, SpecError> {
        let family = if additive { "apot" } else { "pot" };
        let raw: RawApotParams = parse_params(family, map)?;
        let b = raw.mag_bits.unwrap_or(if additive { 4 } else { 3 });
        check_range(family, "mag_bits", b, 1, if additive { 15 } else { 4 })?;
        check_range(family, "act_bits", raw.act_bits, 2, 16)?;
        Ok(ApotParams {
            additive,
            mag_bits: b,
            act_bits: raw.act_bits,
        })
    }

    pub fn emax(&self) -> u32 {
        if self.additive {
            emax_of(self.mag_bits)
        } else {
            (1 << self.mag_bits) - 1
        }
    }

    /// Largest integer level: every term at its largest element (APoT), 2^(Emax-1) (PoT).
    pub fn lmax(&self) -> u64 {
        let b = self.mag_bits;
        let emax = self.emax();
        if !self.additive {
            return 1 << (emax - 1);
        }
        (0..b / 2)
            .map(|t| 1u64 << (emax - two_bit_exponent(b, t, 1)))
            .chain(one_bit_exponent(b).map(|e| 1u64 << (emax - e)))
            .sum()
    }

    /// §2.3: the magnitude needs `bitlen(Lmax (2^a - 1))` bits, plus the sign.
    pub fn p_bits(&self) -> usize {
        bitlen(self.lmax() * mask(self.act_bits as usize)) as usize + 1
    }

    /// Integer level L (units 2^-Emax) of a magnitude code (the B bits below the sign): the
    /// sum of the terms' selected elements (§2.2: two bits per two-bit term from the top,
    /// index i >= 1 picks the term's i-th exponent ascending; the one-bit index last).
    pub fn level(&self, magnitude: u64) -> u64 {
        let b = self.mag_bits;
        if !self.additive {
            return if magnitude == 0 {
                0
            } else {
                1 << (self.emax() as u64 - magnitude)
            };
        }
        let emax = self.emax();
        let mut l = 0;
        for t in 0..b / 2 {
            let idx = (magnitude >> (b - 2 * (t + 1))) & 3;
            if idx != 0 {
                l += 1 << (emax - two_bit_exponent(b, t, idx as u32));
            }
        }
        if let Some(e) = one_bit_exponent(b) {
            if magnitude & 1 == 1 {
                l += 1 << (emax - e);
            }
        }
        l
    }

    /// Golden model: `P = (-1)^s L(w) x` as a raw two's-complement pattern.
    pub fn product(&self, w: u64, x: u64) -> u64 {
        let b = self.mag_bits;
        let l = (self.level(w & mask(b as usize)) * x) as i64;
        to_raw(if (w >> b) & 1 == 1 { -l } else { l }, self.p_bits())
    }
}

impl Unit for ApotParams {
    fn family(&self) -> &'static str {
        if self.additive {
            "apot"
        } else {
            "pot"
        }
    }
    fn base_name(&self) -> String {
        format!("{}_b{}_a{}", self.family(), self.mag_bits, self.act_bits)
    }
    fn ports(&self) -> Vec<Port> {
        vec![
            Port::input("w", self.mag_bits as usize + 1, false),
            Port::input("x", self.act_bits as usize, false),
            Port::output("p", self.p_bits(), true),
        ]
    }
    fn golden(&self, inputs: &[u64], outputs: &mut [u64]) {
        outputs[0] = self.product(inputs[0], inputs[1]);
    }
    fn rtl(&self) -> qmulgen_rtl::AnyBlock {
        let form = qmulgen_rtl::Form::Unit;
        qmulgen_rtl::apot::block(self.additive, self.mag_bits, self.act_bits, form)
    }
    /// Fitted to Yosys' mapping of each block on its own (rounded up): a term's decode and
    /// AND-OR mux of shifted copies; APoT's core, the terms and their sum; PoT's core, the
    /// shift by Emax - j; the sign's adder.
    fn leaf_ns(&self, path: &str) -> Option<f64> {
        use crate::timing::{adder_ns, LUT_NS};
        let terms = self.mag_bits.div_ceil(2) as usize;
        match path {
            "sign" => Some(adder_ns(self.p_bits())),
            "core" if self.additive => {
                Some(2.0 * LUT_NS + (terms - 1) as f64 * adder_ns(self.p_bits()))
            }
            "core" => Some(LUT_NS * (1 + crate::base::bitlen(u64::from(self.mag_bits))) as f64),
            _ if path.starts_with("core$terms$") => Some(2.0 * LUT_NS),
            _ => None,
        }
    }
    fn heap_rows(&self) -> Option<qmulgen_rtl::heap::LaneRows> {
        let (additive, b, a) = (self.additive, self.mag_bits, self.act_bits);
        Some(qmulgen_rtl::apot::heap_rows(additive, b, a))
    }
    fn lane_rtl(&self) -> Option<(qmulgen_rtl::AnyBlock, qmulgen_rtl::dot::Inversion)> {
        use qmulgen_rtl::dot::Inversion;
        let form = qmulgen_rtl::Form::Lane;
        let block = qmulgen_rtl::apot::block(self.additive, self.mag_bits, self.act_bits, form);
        // APoT's magnitude leaves the adder of its terms, PoT's its shifter's muxes.
        let inversion = if self.additive {
            Inversion::InSum
        } else {
            Inversion::InLane
        };
        Some((block, inversion))
    }
    fn corner_cases(&self) -> Vec<Vec<u64>> {
        let wm = mask(self.mag_bits as usize + 1);
        let xm = mask(self.act_bits as usize);
        let half = 1 << self.mag_bits;
        let ws = [0, 1, half - 1, half, half + 1, wm, half >> 1];
        let xs = [0, 1, 2, xm, xm - 1, xm >> 1];
        ws.iter()
            .flat_map(|&w| xs.iter().map(move |&x| vec![w & wm, x]))
            .collect()
    }
    fn params(&self) -> serde_json::Value {
        serde_json::json!({"mag_bits": self.mag_bits, "act_bits": self.act_bits})
    }
    fn notes(&self) -> Vec<String> {
        if self.additive && self.mag_bits >= 9 {
            vec![format!(
                "apot: mag_bits = {} follows the general rule beyond the published B <= 8 and is experimental",
                self.mag_bits
            )]
        } else {
            Vec::new()
        }
    }
}

/// Every (B, a) with B + 1 + a <= 24 (B <= 8 for APoT).
fn sweep(additive: bool) -> Vec<ParamMap> {
    let mut v = Vec::new();
    for b in 1..=if additive { 8u32 } else { 4 } {
        for a in 2..=16u32.min(23 - b) {
            v.push(crate::base::param_map([
                ("mag_bits", b.into()),
                ("act_bits", a.into()),
            ]));
        }
    }
    v
}

/// `|y| · lmax` compared with `half_sum / 2` exactly: sign of `2 |y| lmax - half_sum`.
fn compare_scaled(y: f64, lmax: u64, half_sum: u64) -> std::cmp::Ordering {
    // y = mantissa · 2^exp exactly (y is finite, 0 <= y <= 1).
    let bits = y.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let (mantissa, exp) = if biased == 0 {
        (bits & ((1 << 52) - 1), -1074)
    } else {
        ((bits & ((1 << 52) - 1)) | (1 << 52), biased - 1075)
    };
    let lhs = u128::from(mantissa) * 2 * u128::from(lmax);
    if exp >= 0 {
        (lhs << exp).cmp(&u128::from(half_sum))
    } else {
        let shift = (-exp) as u32;
        match u128::from(half_sum)
            .checked_shl(shift)
            .filter(|r| r >> shift == u128::from(half_sum))
        {
            Some(rhs) => lhs.cmp(&rhs),
            None => std::cmp::Ordering::Less,
        }
    }
}

/// §2.3 quantizer: clamp to [-1, 1], nearest normalised level L/Lmax in exact arithmetic, ties
/// to the smaller magnitude, sign restored.
fn quantize(
    additive: bool,
    map: &ParamMap,
    weights: &[f64],
    alpha: Option<f64>,
) -> Result<Quantized, SpecError> {
    let p = ApotParams::from_map(additive, map)?;
    let alpha = match alpha {
        Some(a) if a.is_finite() && a > 0.0 => a,
        Some(a) => {
            return Err(SpecError(format!(
                "--alpha = {a} must be a positive number"
            )))
        }
        None => return Err(SpecError(format!("{}: quantize needs --alpha", p.family()))),
    };
    let b = p.mag_bits;
    let lmax = p.lmax();
    // (level, magnitude code), ascending.
    let mut levels: Vec<(u64, u64)> = (0..1u64 << b).map(|c| (p.level(c), c)).collect();
    levels.sort_unstable();
    let mut out = Quantized {
        code_bits: b + 1,
        codes: Vec::new(),
        values: Vec::new(),
        alpha,
        step: alpha / lmax as f64,
        clipped: 0,
    };
    for &w in weights {
        let y = w / alpha;
        out.clipped += usize::from(y.abs() > 1.0);
        let ya = y.abs().min(1.0);
        // First level whose midpoint with the next one is >= |y|: ties go to the smaller.
        let mut pick = levels[levels.len() - 1];
        for pair in levels.windows(2) {
            if compare_scaled(ya, lmax, pair[0].0 + pair[1].0) != std::cmp::Ordering::Greater {
                pick = pair[0];
                break;
            }
        }
        let negative = y < 0.0 && pick.0 != 0;
        out.codes.push(pick.1 | if negative { 1 << b } else { 0 });
        let v = pick.0 as f64 / lmax as f64 * alpha;
        out.values.push(if negative { -v } else { v });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apot(b: u32) -> ApotParams {
        ApotParams {
            additive: true,
            mag_bits: b,
            act_bits: 8,
        }
    }

    fn level_set(p: &ApotParams) -> Vec<u64> {
        let mut l: Vec<u64> = (0..1u64 << p.mag_bits).map(|c| p.level(c)).collect();
        l.sort_unstable();
        l
    }

    /// §2.1 table: exponent lists, Emax, Lmax.
    #[test]
    fn term_exponents_follow_the_table() {
        type Row = (u32, &'static [[u32; 3]], Option<u32>, u32, u64);
        let rows: [Row; 8] = [
            (1, &[], Some(0), 0, 1),
            (2, &[[1, 2, 3]], None, 3, 4),
            (3, &[[1, 2, 4]], Some(3), 4, 10),
            (4, &[[1, 3, 5], [2, 4, 6]], None, 6, 48),
            (5, &[[1, 3, 6], [2, 4, 7]], Some(5), 7, 100),
            (6, &[[1, 4, 7], [2, 5, 8], [3, 6, 9]], None, 9, 448),
            (7, &[[1, 4, 8], [2, 5, 9], [3, 6, 10]], Some(7), 10, 904),
            (
                8,
                &[[1, 5, 9], [2, 6, 10], [3, 7, 11], [4, 8, 12]],
                None,
                12,
                3840,
            ),
        ];
        for (b, two, one, emax, lmax) in rows {
            let t = Terms::of(b);
            assert_eq!(t.two_bit, two, "B = {b}");
            assert_eq!(
                (t.one_bit, t.emax, apot(b).lmax()),
                (one, emax, lmax),
                "B = {b}"
            );
        }
    }

    /// The RTL crate deals the exponents with its own table; both must agree for every B the
    /// family takes, or verification would compare the RTL with a different level set.
    #[test]
    fn the_rtl_table_agrees_with_the_model_for_every_b() {
        for b in 1..=15 {
            let rtl = qmulgen_rtl::apot::ApotTerms::new(b);
            let model = Terms::of(b);
            assert_eq!(rtl.two_bit[..rtl.n_two], model.two_bit[..], "B = {b}");
            assert_eq!(
                (rtl.one_bit, rtl.emax),
                (model.one_bit, model.emax),
                "B = {b}"
            );
            assert_eq!(rtl.lmax(), apot(b).lmax(), "B = {b}");
            assert_eq!(
                qmulgen_rtl::apot::apot_p_bits(b, 8),
                apot(b).p_bits(),
                "B = {b}"
            );
        }
        for b in 1..=4 {
            let pot = ApotParams {
                additive: false,
                mag_bits: b,
                act_bits: 8,
            };
            assert_eq!(
                qmulgen_rtl::apot::pot_p_bits(b, 8),
                pot.p_bits(),
                "PoT B = {b}"
            );
        }
    }

    #[test]
    fn level_sets_follow_the_table_and_all_sums_are_distinct() {
        assert_eq!(level_set(&apot(1)), vec![0, 1]);
        assert_eq!(level_set(&apot(2)), vec![0, 1, 2, 4]);
        assert_eq!(level_set(&apot(3)), vec![0, 1, 2, 3, 4, 6, 8, 10]);
        assert_eq!(
            level_set(&apot(4)),
            vec![0, 1, 2, 3, 4, 6, 8, 9, 12, 16, 18, 24, 32, 33, 36, 48]
        );
        let l5 = level_set(&apot(5));
        assert_eq!(l5.len(), 32);
        assert_eq!(&l5[24..], &[64, 65, 68, 69, 72, 76, 96, 100]);
        assert_eq!(*l5.last().unwrap(), 100);
        for (b, lmax) in [(6, 448), (7, 904), (8, 3840)] {
            let l = level_set(&apot(b));
            assert_eq!(l.len(), 1 << b);
            assert_eq!(*l.last().unwrap(), lmax);
        }
        for b in 1..=15 {
            let l = level_set(&apot(b));
            assert!(
                l.windows(2).all(|w| w[0] < w[1]),
                "B = {b}: sums not distinct"
            );
        }
        // PoT equals APoT at B = 2, and in general is 0 and 2^(Emax - j).
        let pot = |b| ApotParams {
            additive: false,
            mag_bits: b,
            act_bits: 8,
        };
        assert_eq!(level_set(&pot(2)), level_set(&apot(2)));
        assert_eq!(level_set(&pot(3)), vec![0, 1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(pot(4).lmax(), 1 << 14);
    }

    /// §2.3 worked examples (sign is the MSB, idx_0 next, one-bit index last).
    #[test]
    #[allow(clippy::unusual_byte_groupings)] // literals grouped as the code fields {s, idx_0, ...}
    fn worked_examples() {
        let signed =
            |p: &ApotParams, w: u64, x: u64| crate::base::sign_extend(p.product(w, x), p.p_bits());
        assert_eq!(signed(&apot(4), 0b0_01_10, 100), 3600);
        assert_eq!(signed(&apot(4), 0b1_11_11, 255), -765);
        assert_eq!(signed(&apot(3), 0b0_10_1, 9), 54);
        assert_eq!(signed(&apot(5), 0b1_01_11_1, 17), -1173);
        assert_eq!(signed(&apot(6), 0b0_01_00_10, 50), 13200);
        let pot3 = ApotParams {
            additive: false,
            mag_bits: 3,
            act_bits: 8,
        };
        assert_eq!(signed(&pot3, 3, 25), 400);
        // Negative zero is 0; widths are bitlen(Lmax (2^a - 1)) + 1.
        assert_eq!(apot(4).product(0b1_00_00, 77), 0);
        assert_eq!(apot(4).p_bits(), 14 + 1);
        assert_eq!(apot(8).p_bits(), 20 + 1);
    }

    #[test]
    fn quantizer_picks_the_nearest_level_ties_to_smaller_and_clamps() {
        let m: ParamMap = serde_yaml::from_str("{mag_bits: 2}").unwrap();
        // Normalised levels 0, 1/4, 1/2, 1 (codes 0, 3, 2, 1).
        let q = quantize(
            true,
            &m,
            &[0.125, 0.126, 0.375, 0.75, 0.76, -2.0, -0.0001],
            Some(1.0),
        )
        .unwrap();
        assert_eq!(q.values, vec![0.0, 0.25, 0.25, 0.5, 1.0, -1.0, 0.0]);
        assert_eq!(q.codes, vec![0, 3, 3, 2, 1, 0b101, 0]);
        assert_eq!(q.clipped, 1);
        // B = 2: Lmax = 4 (§2.1), real = L·alpha/Lmax.
        assert_eq!(q.step, 0.25);
        let p = ApotParams::from_map(true, &m).unwrap();
        for (c, v) in q.codes.iter().zip(&q.values) {
            let l = p.level(c & 3) as f64 / 4.0;
            assert_eq!(if c & 4 != 0 { -l } else { l }, *v);
        }
        assert!(quantize(true, &m, &[0.1], None)
            .unwrap_err()
            .0
            .contains("--alpha"));
    }

    #[test]
    fn parameter_errors_name_the_field() {
        let err = |additive, yaml: &str| {
            let m: ParamMap = serde_yaml::from_str(yaml).unwrap();
            ApotParams::from_map(additive, &m).unwrap_err().0
        };
        assert_eq!(
            err(true, "{mag_bits: 16}"),
            "apot: mag_bits = 16 is out of range, allowed 1..=15"
        );
        assert_eq!(
            err(false, "{mag_bits: 5}"),
            "pot: mag_bits = 5 is out of range, allowed 1..=4"
        );
        assert!(err(true, "{act_bits: 1}").contains("act_bits = 1"));
        assert!(err(true, "{exp_bits: 2}").contains("unknown field `exp_bits`"));
        // Through the family table, the allowed list includes the shared options.
        let m: ParamMap = serde_yaml::from_str("{exp_bits: 2}").unwrap();
        let e = crate::spec::UnitSpec::from_params("apot", &m)
            .err()
            .unwrap()
            .0;
        assert_eq!(
            e,
            "apot: unknown key `exp_bits`, allowed: mag_bits, act_bits, pipeline, target_mhz, valid, name"
        );
    }
}
