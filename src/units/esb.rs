//! `esb`: Elastic Significant Bit weight × unsigned activation (ARITHMETIC.md §1).
//!
//! Weight word `w = {s, E, M}` (b = 1 + e + k bits), a tiny float with bias 1 and gradual
//! underflow: level `q = M` for E = 0, else `(2^k + M) << (E-1)`. The unit computes
//! `P = (-1)^s · sig · x << max(E-1, 0)` with `sig` the k+1 significant bits: a (k+1)×a
//! shift-add product and a barrel shift. Linear mode: word `{s, j}`, `P = (-1)^s (2j+1) x`.
//! RTL: `rtl/src/esb.rs`.

use crate::base::{
    bitlen, check_range, mask, parse_params, to_raw, ParamInfo, ParamMap, Port, SpecError,
};
use crate::units::{Family, Quantized, Unit};
pub use qmulgen_rtl::esb::{linear_p_bits, nonlinear_p_bits, EsbFormat};
use serde::Deserialize;

pub static FAMILY: Family = Family {
    name: "esb",
    summary: "ESB weight {s,E,M} × unsigned activation: (k+1)×a shift-add product + barrel shift",
    params: &[
        ParamInfo {
            key: "exp_bits",
            range: "2..=5",
            default: "2",
            help: "exponent field width e (nonlinear mode)",
        },
        ParamInfo {
            key: "frac_bits",
            range: "0..=13",
            default: "2",
            help: "fraction field width k; weight word 1+e+k <= 16",
        },
        ParamInfo {
            key: "act_bits",
            range: "2..=16",
            default: "8",
            help: "unsigned activation width a",
        },
        ParamInfo {
            key: "linear",
            range: "true/false",
            default: "false",
            help: "linear mode: word {s, j}, level 2j+1 (half units)",
        },
        ParamInfo {
            key: "weight_bits",
            range: "2..=16",
            default: "4",
            help: "weight word width b (linear mode only)",
        },
    ],
    sweep,
    quantize: Some(quantize),
    build: |m| Ok(Box::new(EsbParams::from_map(m)?)),
};

/// DDA scale factors λ(b, k) of the reference code (`autoqnn/quantizers/esb.py`,
/// `ESB_PerChannel`) for every (b, k) it uses with e >= 2 (nonlinear).
const DDA_LAMBDA: [((u32, u32), f64); 13] = [
    ((3, 0), 0.5181),
    ((4, 0), 0.0381),
    ((4, 1), 0.4871),
    ((5, 1), 0.0391),
    ((5, 2), 0.4828),
    ((6, 2), 0.0406),
    ((6, 3), 0.4997),
    ((7, 3), 0.0409),
    ((7, 4), 0.5247),
    ((8, 4), 0.0412),
    ((8, 5), 0.5527),
    ((9, 5), 0.0416),
    ((9, 6), 0.5816),
];

/// Linear-mode scale factors λ_lin[b - 1], b = 1..8, of the same code.
const LINEAR_LAMBDA: [f64; 8] = [
    1.5958, 0.9957, 0.5860, 0.3352, 0.1881, 0.1041, 0.0569, 0.0308,
];

/// `floor(log2 |y|)` exactly, from the binary exponent (None for 0).
fn floor_log2(y: f64) -> Option<i32> {
    if y == 0.0 {
        return None;
    }
    let bits = y.abs().to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: below every level's step.
        return Some(-1075);
    }
    Some(biased - 1023)
}

/// §1.2 quantizer (nonlinear ESB): `n = clip(floor(log2|y|), 0, N)`, step `2^(n-k)`, round half
/// to even, clip to `±(2^(N+1) - 2^(N-k))`. Returns the signed level q in units of 2^-k.
pub fn quantize_level(e: u32, k: u32, y: f64) -> (i64, bool) {
    let big_n = (1i32 << e) - 2;
    let n = floor_log2(y).unwrap_or(0).clamp(0, big_n);
    let step = 2f64.powi(n - k as i32);
    let q_max = ((1u64 << (k + 1)) - 1) << big_n;
    let rounded = (y.abs() / step).round_ties_even() * step * 2f64.powi(k as i32);
    // "Clipped": |y| lies beyond the largest level (saturated), whatever the rounding.
    let clipped = y.abs() > q_max as f64 * 2f64.powi(-(k as i32));
    let q = (rounded as u64).min(q_max) as i64;
    (if y < 0.0 { -q } else { q }, clipped)
}

/// Linear-mode quantizer: `fixed = round_half_even(y - 0.5) + 0.5`, clipped to
/// `±(2^(b-1) - 0.5)`; code `{s, j}` with `j = |fixed| - 0.5`. Returns (code, fixed, clipped).
pub fn quantize_linear(b: u32, y: f64) -> (u64, f64, bool) {
    let limit = 2f64.powi(b as i32 - 1) - 0.5;
    let fixed = (y - 0.5).round_ties_even() + 0.5;
    let clipped = fixed.abs() > limit;
    let fixed = fixed.clamp(-limit, limit);
    let j = (fixed.abs() - 0.5) as u64;
    let sign = if fixed < 0.0 { 1u64 << (b - 1) } else { 0 };
    (sign | j, fixed, clipped)
}

/// Unbiased (N-1) standard deviation.
fn std_unbiased(weights: &[f64]) -> f64 {
    let n = weights.len() as f64;
    let mean = weights.iter().sum::<f64>() / n;
    (weights.iter().map(|w| (w - mean) * (w - mean)).sum::<f64>() / (n - 1.0)).sqrt()
}

fn quantize(map: &ParamMap, weights: &[f64], alpha: Option<f64>) -> Result<Quantized, SpecError> {
    let p = EsbParams::from_map(map)?;
    let b = p.weight_bits();
    let alpha = match alpha {
        Some(a) if a.is_finite() && a > 0.0 => a,
        Some(a) => {
            return Err(SpecError(format!(
                "--alpha = {a} must be a positive number"
            )))
        }
        None => {
            let lambda = match p.format {
                EsbFormat::Nonlinear { k, .. } => DDA_LAMBDA
                    .iter()
                    .find(|(bk, _)| *bk == (b, k))
                    .map(|x| x.1)
                    .ok_or_else(|| {
                        SpecError(format!(
                            "esb: no DDA λ for b = {b}, k = {k} (the reference table covers e = 2, 3 with b <= 9); give --alpha"
                        ))
                    })?,
                EsbFormat::Linear { b } => {
                    *LINEAR_LAMBDA.get(b as usize - 1).ok_or_else(|| {
                        SpecError(format!(
                            "esb: no linear λ for weight_bits = {b} (the reference table covers 1..=8); give --alpha"
                        ))
                    })?
                }
            };
            if weights.len() < 2 {
                return Err(SpecError(
                    "esb: DDA needs at least 2 weights for the std; give --alpha".into(),
                ));
            }
            lambda * std_unbiased(weights) + 1e-5
        }
    };
    let mut out = Quantized {
        code_bits: b,
        codes: Vec::new(),
        values: Vec::new(),
        alpha,
        // Levels q in units of 2^-k (nonlinear) or 2j + 1 in units of 1/2 (linear, §1.3).
        step: match p.format {
            EsbFormat::Nonlinear { k, .. } => alpha * 2f64.powi(-(k as i32)),
            EsbFormat::Linear { .. } => alpha / 2.0,
        },
        clipped: 0,
    };
    for &w in weights {
        let (code, value, clipped) = match p.format {
            EsbFormat::Nonlinear { e, k } => {
                let (q, clipped) = quantize_level(e, k, w / alpha);
                let sign = if q < 0 { 1u64 << (b - 1) } else { 0 };
                let code = sign | EsbParams::code_of_level(k, q.unsigned_abs());
                (code, q as f64 * 2f64.powi(-(k as i32)), clipped)
            }
            EsbFormat::Linear { b } => quantize_linear(b, w / alpha),
        };
        out.codes.push(code);
        out.values.push(value * alpha);
        out.clipped += usize::from(clipped);
    }
    Ok(out)
}

/// Every (e, k, a) and linear (b, a) with b + a <= 24: exhaustive `verify --all`.
fn sweep() -> Vec<ParamMap> {
    let mut v = Vec::new();
    for e in 2..=5u32 {
        for k in 0..=(15 - e) {
            for a in 2..=16u32.min(24 - (1 + e + k)) {
                v.push(crate::base::param_map([
                    ("exp_bits", e.into()),
                    ("frac_bits", k.into()),
                    ("act_bits", a.into()),
                ]));
            }
        }
    }
    for b in 2..=16u32 {
        for a in 2..=16u32.min(24 - b) {
            v.push(crate::base::param_map([
                ("linear", true.into()),
                ("weight_bits", b.into()),
                ("act_bits", a.into()),
            ]));
        }
    }
    v
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EsbParams {
    pub format: EsbFormat,
    pub act_bits: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEsbParams {
    exp_bits: Option<u32>,
    frac_bits: Option<u32>,
    #[serde(default = "default_act_bits")]
    act_bits: u32,
    #[serde(default)]
    linear: bool,
    weight_bits: Option<u32>,
}

fn default_act_bits() -> u32 {
    8
}

impl EsbParams {
    pub fn from_map(map: &ParamMap) -> Result<EsbParams, SpecError> {
        let raw: RawEsbParams = parse_params("esb", map)?;
        check_range("esb", "act_bits", raw.act_bits, 2, 16)?;
        let format = if raw.linear {
            if raw.exp_bits.is_some() || raw.frac_bits.is_some() {
                return Err(SpecError(
                    "esb: linear mode takes weight_bits, not exp_bits/frac_bits".into(),
                ));
            }
            let b = raw.weight_bits.unwrap_or(4);
            check_range("esb", "weight_bits", b, 2, 16)?;
            EsbFormat::Linear { b }
        } else {
            if raw.weight_bits.is_some() {
                return Err(SpecError(
                    "esb: weight_bits is for linear mode; the nonlinear word is 1+exp_bits+frac_bits".into(),
                ));
            }
            let e = raw.exp_bits.unwrap_or(2);
            let k = raw.frac_bits.unwrap_or(2);
            check_range("esb", "exp_bits", e, 2, 5)?;
            let b = 1 + e + k;
            if b > 16 {
                return Err(SpecError(format!(
                    "esb: weight word 1+exp_bits+frac_bits = 1+{e}+{k} = {b} bits, at most 16"
                )));
            }
            EsbFormat::Nonlinear { e, k }
        };
        Ok(EsbParams {
            format,
            act_bits: raw.act_bits,
        })
    }

    pub fn weight_bits(&self) -> u32 {
        match self.format {
            EsbFormat::Nonlinear { e, k } => 1 + e + k,
            EsbFormat::Linear { b } => b,
        }
    }

    /// §5 delay of `EsbProduct`: the decode LUTs (the exponent's test for the hidden one,
    /// then the significand bit's selection of its row), the adder levels of the two
    /// significand chains and their final add.
    fn product_ns(&self) -> f64 {
        use crate::timing::{adder_ns, LUT_NS};
        let significand = match self.format {
            EsbFormat::Nonlinear { k, .. } => k as usize + 1,
            EsbFormat::Linear { b } => b as usize,
        };
        let (even, odd) = (significand.div_ceil(2), significand / 2);
        let levels = (even - 1).max(odd.saturating_sub(1)) + usize::from(odd > 0);
        2.0 * LUT_NS + levels as f64 * adder_ns(self.p_bits())
    }

    /// §5 delay of `EsbShift`: the shifter's mux levels (one LUT for up to 4 shift amounts).
    fn shift_ns(&self) -> f64 {
        let e = match self.format {
            EsbFormat::Nonlinear { e, .. } => e,
            EsbFormat::Linear { .. } => 0,
        };
        let amounts = (1usize << e).saturating_sub(1);
        let luts = match amounts {
            0 | 1 => 0.0,
            2..=4 => 1.0,
            _ => 2.0,
        };
        luts * crate::timing::LUT_NS
    }

    pub fn p_bits(&self) -> usize {
        match self.format {
            EsbFormat::Nonlinear { e, k } => nonlinear_p_bits(e, k, self.act_bits),
            EsbFormat::Linear { b } => linear_p_bits(b, self.act_bits),
        }
    }

    /// Signed integer level of a weight code: q (units 2^-k), or 2j+1 (units 1/2) in linear mode.
    pub fn level(&self, w: u64) -> i64 {
        let b = self.weight_bits();
        let negative = (w >> (b - 1)) & 1 == 1;
        let q = match self.format {
            EsbFormat::Nonlinear { e, k } => {
                let exp = (w >> k) & mask(e as usize);
                let m = w & mask(k as usize);
                if exp == 0 {
                    m
                } else {
                    ((1u64 << k) + m) << (exp - 1)
                }
            }
            EsbFormat::Linear { .. } => 2 * (w & mask(b as usize - 1)) + 1,
        } as i64;
        if negative {
            -q
        } else {
            q
        }
    }

    /// Golden model: `P = level(w) · x` as a raw two's-complement pattern of `p_bits`.
    pub fn product(&self, w: u64, x: u64) -> u64 {
        to_raw(self.level(w) * x as i64, self.p_bits())
    }

    /// Code of a non-negative nonlinear level (§1.1 "code from a level").
    pub fn code_of_level(k: u32, q: u64) -> u64 {
        if q < (1 << k) {
            return q;
        }
        let e = u64::from(bitlen(q) - k);
        let m = (q >> (e - 1)) - (1 << k);
        (e << k) | m
    }
}

impl Unit for EsbParams {
    fn family(&self) -> &'static str {
        "esb"
    }
    fn base_name(&self) -> String {
        match self.format {
            EsbFormat::Nonlinear { e, k } => format!("esb_e{e}k{k}_a{}", self.act_bits),
            EsbFormat::Linear { b } => format!("esb_lin_b{b}_a{}", self.act_bits),
        }
    }
    fn ports(&self) -> Vec<Port> {
        vec![
            Port::input("w", self.weight_bits() as usize, false),
            Port::input("x", self.act_bits as usize, false),
            Port::output("p", self.p_bits(), true),
        ]
    }
    fn golden(&self, inputs: &[u64], outputs: &mut [u64]) {
        outputs[0] = self.product(inputs[0], inputs[1]);
    }
    fn rtl(&self) -> qmulgen_rtl::AnyBlock {
        qmulgen_rtl::esb::block(self.format, self.act_bits, qmulgen_rtl::Form::Unit)
    }
    fn lane_rtl(&self) -> Option<(qmulgen_rtl::AnyBlock, qmulgen_rtl::dot::Inversion)> {
        // The magnitude leaves the shifter's muxes, whose LUTs take the inversion.
        let block = qmulgen_rtl::esb::block(self.format, self.act_bits, qmulgen_rtl::Form::Lane);
        Some((block, qmulgen_rtl::dot::Inversion::InLane))
    }
    fn heap_rows(&self) -> Option<qmulgen_rtl::heap::LaneRows> {
        let (rows, b_weights) = qmulgen_rtl::esb::heap_product_weights(self.format, self.act_bits);
        let groups = super::tiling::product_groups(&super::tiling::ProductGrid { rows, b_weights });
        Some(qmulgen_rtl::esb::heap_rows(
            self.format,
            self.act_bits,
            groups,
        ))
    }
    fn staged_lane_rtl(&self) -> Option<qmulgen_rtl::AnyBlock> {
        let form = qmulgen_rtl::Form::StagedLane;
        Some(qmulgen_rtl::esb::block(self.format, self.act_bits, form))
    }
    /// §5 estimate of the lane (`EsbProduct` then `EsbShift`, the inversion merged into the
    /// shifter).
    fn lane_path_ns(&self) -> Option<f64> {
        Some(self.product_ns() + self.shift_ns())
    }
    fn leaf_ns(&self, path: &str) -> Option<f64> {
        match path {
            "core$front" => Some(self.product_ns()),
            "core$back" => Some(self.shift_ns()),
            "sign" => Some(crate::timing::adder_ns(self.p_bits())),
            _ => None,
        }
    }
    fn corner_cases(&self) -> Vec<Vec<u64>> {
        let b = self.weight_bits() as usize;
        let xm = mask(self.act_bits as usize);
        let sign = 1u64 << (b - 1);
        let mut ws = vec![
            0,
            1,
            sign,
            sign | 1,
            sign - 1,
            mask(b),
            sign >> 1,
            (sign >> 1) - 1,
        ];
        if let EsbFormat::Nonlinear { k, .. } = self.format {
            ws.extend([1 << k, (1 << k) | sign, (1 << k) - 1]);
        }
        let xs = [0, 1, 2, xm, xm - 1, xm >> 1, (xm >> 1) + 1];
        ws.iter()
            .flat_map(|&w| xs.iter().map(move |&x| vec![w & mask(b), x]))
            .collect()
    }
    fn params(&self) -> serde_json::Value {
        match self.format {
            EsbFormat::Nonlinear { e, k } => {
                serde_json::json!({"exp_bits": e, "frac_bits": k, "act_bits": self.act_bits})
            }
            EsbFormat::Linear { b } => {
                serde_json::json!({"linear": true, "weight_bits": b, "act_bits": self.act_bits})
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nl(e: u32, k: u32, a: u32) -> EsbParams {
        EsbParams {
            format: EsbFormat::Nonlinear { e, k },
            act_bits: a,
        }
    }

    fn levels(p: &EsbParams) -> Vec<i64> {
        let half = 1u64 << (p.weight_bits() - 1);
        (0..half).map(|w| p.level(w)).collect()
    }

    /// §1.1 level tables, non-negative half.
    #[test]
    fn level_tables_of_arithmetic_md() {
        assert_eq!(levels(&nl(2, 1, 8)), vec![0, 1, 2, 3, 4, 6, 8, 12]);
        assert_eq!(levels(&nl(3, 0, 8)), vec![0, 1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(
            levels(&nl(2, 2, 8)),
            vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28]
        );
        assert_eq!(
            levels(&nl(3, 1, 8)),
            vec![0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192]
        );
        let l6 = levels(&nl(3, 2, 8));
        assert_eq!(l6.len(), 32);
        assert_eq!(&l6[..9], &[0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&l6[9..13], &[10, 12, 14, 16]);
        assert_eq!(l6[13], 20);
        assert_eq!(&l6[30..], &[384, 448]);
        let l8 = levels(&nl(4, 3, 8));
        assert_eq!(&l8[..16], &(0..16).collect::<Vec<i64>>()[..]);
        for (i, &q) in l8.iter().enumerate().skip(16) {
            let (e, m) = (i as i64 / 8, i as i64 % 8);
            assert_eq!(q, (8 + m) << (e - 1));
        }
        assert_eq!(*l8.last().unwrap(), 245760);
    }

    #[test]
    fn levels_are_monotone_and_qmax_matches_formula() {
        for e in 2..=5u32 {
            for k in 0..=(15 - e) {
                let p = nl(e, k, 8);
                let l = levels(&p);
                assert!(l.windows(2).all(|w| w[0] < w[1]), "e{e} k{k}");
                let qmax = ((1i64 << (k + 1)) - 1) << ((1 << e) - 2);
                assert_eq!(*l.last().unwrap(), qmax, "e{e} k{k}");
                for (code, &q) in l.iter().enumerate() {
                    assert_eq!(EsbParams::code_of_level(k, q as u64), code as u64);
                }
            }
        }
    }

    /// §1.3 worked examples, b = 5 (e2, k2), a = 8, and the b = 8 (e4, k3) examples.
    #[test]
    fn worked_examples() {
        let p = nl(2, 2, 8);
        let code = |s: u64, e: u64, m: u64| (s << 4) | (e << 2) | m;
        let signed = |raw: u64| crate::base::sign_extend(raw, p.p_bits());
        for (s, e, m, x, want) in [
            (0, 0, 3, 13, 39),
            (0, 1, 2, 13, 78),
            (0, 2, 0, 7, 56),
            (1, 3, 1, 200, -4000),
            (0, 3, 3, 255, 7140),
        ] {
            assert_eq!(signed(p.product(code(s, e, m), x)), want);
        }
        let p8 = nl(4, 3, 8);
        let code8 = |s: u64, e: u64, m: u64| (s << 7) | (e << 3) | m;
        let signed8 = |raw: u64| crate::base::sign_extend(raw, p8.p_bits());
        assert_eq!(signed8(p8.product(code8(0, 15, 7), 255)), 62668800);
        assert_eq!(signed8(p8.product(code8(1, 9, 4), 37)), -113664);
    }

    #[test]
    fn product_widths_follow_section_1_3() {
        // a + k + 1 + 2^e - 2 (+1 sign) for k >= 1, a >= 2; a + 2^e - 2 (+1) for k = 0.
        assert_eq!(nl(2, 2, 8).p_bits(), 8 + 2 + 1 + 2 + 1);
        assert_eq!(nl(3, 0, 8).p_bits(), 8 + 6 + 1);
        assert_eq!(nl(5, 10, 16).p_bits(), 16 + 11 + 30 + 1);
        let lin = EsbParams {
            format: EsbFormat::Linear { b: 6 },
            act_bits: 6,
        };
        assert_eq!(lin.p_bits(), 13);
        // Linear: (2j+1)·x with sign; j = 3, negative, x = 10 -> -70.
        assert_eq!(crate::base::sign_extend(lin.product(0b100011, 10), 13), -70);
        // Negative zero is emitted as 0.
        assert_eq!(nl(2, 2, 8).product(0b10000, 200), 0);
    }

    #[test]
    fn quantizer_rounds_half_to_even_and_clips() {
        // e = 2, k = 1: N = 2, levels (units 1/2) 0 1 2 3 4 6 8 12, max value 6.
        let lv = |y: f64| quantize_level(2, 1, y);
        assert_eq!(lv(0.0), (0, false));
        assert_eq!(lv(0.25), (0, false)); // 0.25/0.5 = 0.5 -> 0 (even)
        assert_eq!(lv(0.75), (2, false)); // 1.5 -> 2: value 1.0
        assert_eq!(lv(1.25), (2, false)); // n = 0, step 0.5: 2.5 -> 2
        assert_eq!(lv(2.5), (4, false)); // n = 1, step 1: 2.5 -> 2 -> q = 4 (value 2)
        assert_eq!(lv(3.5), (8, false)); // 3.5 -> 4 -> q = 8 (value 4)
        assert_eq!(lv(5.0), (8, false)); // n = 2, step 2: 2.5 -> 2 -> value 4
        assert_eq!(lv(6.0), (12, false)); // the largest value itself
        assert_eq!(lv(7.0), (12, true)); // n = 2, 3.5 -> 4 -> 8, clipped to 6
        assert_eq!(lv(-100.0), (-12, true));
        assert_eq!(lv(-0.75), (-2, false));
    }

    #[test]
    fn quantized_codes_decode_to_the_quantizer_levels() {
        let m: ParamMap = serde_yaml::from_str("{exp_bits: 3, frac_bits: 2, act_bits: 8}").unwrap();
        let p = EsbParams::from_map(&m).unwrap();
        let weights: Vec<f64> = (-400..400).map(|i| i as f64 * 0.37 + 0.01).collect();
        let q = quantize(&m, &weights, Some(0.5)).unwrap();
        for ((code, value), w) in q.codes.iter().zip(&q.values).zip(&weights) {
            let decoded = p.level(*code) as f64 * 0.25 * 0.5;
            assert_eq!(decoded, *value, "w = {w}");
            assert!(*code < 64);
        }
        // One level unit is 2^-k·alpha (§1.3: real = q·2^-k·alpha).
        assert_eq!(q.step, 0.25 * 0.5);
        // Every level is reachable and the largest value is q_max·2^-k·alpha = 448/4/2.
        assert_eq!(q.values.iter().cloned().fold(0.0, f64::max), 56.0);
        assert!(q.clipped > 0);
    }

    #[test]
    /// Linear mode (reference rule): fixed = round_half_even(y - 0.5) + 0.5, clipped to
    /// ±(2^(b-1) - 0.5), code {s, j = |fixed| - 0.5}; worked by hand for b = 4.
    fn linear_quantizer_rounds_to_odd_halves_and_clips() {
        for (y, code, fixed, clipped) in [
            (1.2, 0b0001, 1.5, false),
            (-0.3, 0b1000, -0.5, false),
            (0.5, 0b0000, 0.5, false),
            (1.0, 0b0000, 0.5, false),   // 0.5 rounds to even 0
            (2.0, 0b0010, 2.5, false),   // 1.5 rounds to even 2
            (-2.0, 0b1001, -1.5, false), // -2.5 rounds to even -2
            (7.4, 0b0111, 7.5, false),
            (100.0, 0b0111, 7.5, true),
            (-100.0, 0b1111, -7.5, true),
        ] {
            assert_eq!(quantize_linear(4, y), (code, fixed, clipped), "y = {y}");
        }
    }

    #[test]
    fn linear_and_nonlinear_dda_scales_cover_the_reference_table() {
        let weights = [1.0, 3.0];
        let s = 2f64.sqrt();
        for (yaml, lambda) in [
            ("{exp_bits: 2, frac_bits: 0}", 0.5181),
            ("{exp_bits: 3, frac_bits: 0}", 0.0381),
            ("{exp_bits: 3, frac_bits: 1}", 0.0391),
            ("{exp_bits: 2, frac_bits: 6}", 0.5816),
            ("{exp_bits: 3, frac_bits: 5}", 0.0416),
            ("{linear: true, weight_bits: 4}", 0.3352),
            ("{linear: true, weight_bits: 8}", 0.0308),
            ("{linear: true, weight_bits: 2}", 0.9957),
        ] {
            let m: ParamMap = serde_yaml::from_str(yaml).unwrap();
            let q = quantize(&m, &weights, None).unwrap();
            assert!((q.alpha - (lambda * s + 1e-5)).abs() < 1e-12, "{yaml}");
        }
        for yaml in [
            "{exp_bits: 4, frac_bits: 2}",
            "{exp_bits: 2, frac_bits: 7}",
            "{linear: true, weight_bits: 9}",
        ] {
            let m: ParamMap = serde_yaml::from_str(yaml).unwrap();
            let e = quantize(&m, &weights, None).unwrap_err();
            assert!(e.0.contains("give --alpha"), "{yaml}: {}", e.0);
        }
        // Linear codes decode to the unit's level: (2j + 1)/2 · alpha.
        let m: ParamMap = serde_yaml::from_str("{linear: true, weight_bits: 4}").unwrap();
        let q = quantize(&m, &[0.7, -2.2], Some(0.5)).unwrap();
        // 0.7/0.5 = 1.4 -> 1.5 (j = 1); -2.2/0.5 = -4.4 -> round(-4.9) + 0.5 = -4.5 (j = 4).
        assert_eq!(q.codes, vec![0b0001, 0b1100]);
        assert_eq!(q.values, vec![0.75, -2.25]);
    }

    #[test]
    fn dda_scale_uses_the_lambda_table_and_unbiased_std() {
        let m: ParamMap = serde_yaml::from_str("{exp_bits: 2, frac_bits: 2}").unwrap();
        let q = quantize(&m, &[1.0, 3.0], None).unwrap();
        // std (N-1) of {1, 3} = sqrt(2); λ(5, 2) = 0.4828.
        assert!((q.alpha - (0.4828 * 2f64.sqrt() + 1e-5)).abs() < 1e-12);
    }

    #[test]
    fn parameter_errors_name_the_field() {
        let err = |yaml: &str| {
            let m: ParamMap = serde_yaml::from_str(yaml).unwrap();
            EsbParams::from_map(&m).unwrap_err().0
        };
        assert_eq!(
            err("{exp_bits: 5, frac_bits: 12}"),
            "esb: weight word 1+exp_bits+frac_bits = 1+5+12 = 18 bits, at most 16"
        );
        assert!(err("{exp_bits: 6}").contains("exp_bits = 6 is out of range, allowed 2..=5"));
        assert!(err("{act_bits: 17}").contains("act_bits = 17"));
        assert!(err("{linear: true, weight_bits: 1}").contains("weight_bits = 1"));
        assert!(err("{linear: true, exp_bits: 2}").contains("linear mode takes weight_bits"));
        assert!(err("{weight_bits: 6}").contains("weight_bits is for linear mode"));
    }
}
