//! `exact`: the exact A×B multiplier baseline (ARITHMETIC.md §0, §3.4 "Unp-exact").
//!
//! Unsigned, or two's complement when `signed`; `p` has A+B bits. RTL: `rtl/src/exact.rs`.

use crate::base::{
    check_range, mask, parse_params, sign_extend, to_raw, ParamInfo, ParamMap, Port, SpecError,
};
use crate::units::{Family, Unit};
use serde::Deserialize;

pub const MIN_WIDTH: u32 = 2;
pub const MAX_WIDTH: u32 = 16;

/// Operand parameters of `exact`, shared with `tmr`.
pub const OPERAND_PARAMS: [ParamInfo; 4] = [
    ParamInfo {
        key: "a_bits",
        range: "2..=16",
        default: "8 (or width)",
        help: "width of operand a",
    },
    ParamInfo {
        key: "b_bits",
        range: "2..=16",
        default: "8 (or width)",
        help: "width of operand b",
    },
    ParamInfo {
        key: "width",
        range: "2..=16",
        default: "-",
        help: "sets a_bits and b_bits together",
    },
    ParamInfo {
        key: "signed",
        range: "true/false",
        default: "false",
        help: "two's complement operands and product",
    },
];

pub static FAMILY: Family = Family {
    name: "exact",
    summary: "exact A×B multiplier (Unp-exact baseline), unsigned or two's complement",
    params: &OPERAND_PARAMS,
    sweep: crate::units::sweep_ab,
    quantize: None,
    build: |m| Ok(Box::new(ExactParams::from_map("exact", m)?)),
};

/// Operand widths and signedness, shared by `exact` and `tmr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExactParams {
    pub a_bits: u32,
    pub b_bits: u32,
    pub signed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExactParams {
    a_bits: Option<u32>,
    b_bits: Option<u32>,
    width: Option<u32>,
    #[serde(default)]
    signed: bool,
}

impl ExactParams {
    /// Validate `a_bits`/`b_bits`/`width`/`signed` for a family with exact-multiplier operands.
    pub fn from_map(family: &str, map: &ParamMap) -> Result<ExactParams, SpecError> {
        let raw: RawExactParams = parse_params(family, map)?;
        let pick = |key: &str, own: Option<u32>| -> Result<u32, SpecError> {
            let v = match (own, raw.width) {
                (Some(v), Some(w)) if v != w => {
                    return Err(SpecError(format!(
                        "{family}: {key} = {v} contradicts width = {w}; give one of them"
                    )))
                }
                (Some(v), _) => v,
                (None, Some(w)) => w,
                (None, None) => 8,
            };
            let key = if own.is_some() { key } else { "width" };
            check_range(family, key, v, MIN_WIDTH, MAX_WIDTH)?;
            Ok(v)
        };
        Ok(ExactParams {
            a_bits: pick("a_bits", raw.a_bits)?,
            b_bits: pick("b_bits", raw.b_bits)?,
            signed: raw.signed,
        })
    }

    pub fn product_bits(&self) -> u32 {
        self.a_bits + self.b_bits
    }

    /// `u8x8` / `s12x12`: the part of the module name that both exact and TMR share.
    pub fn name_part(&self) -> String {
        let s = if self.signed { 's' } else { 'u' };
        format!("{s}{}x{}", self.a_bits, self.b_bits)
    }

    pub fn params_json(&self) -> serde_json::Value {
        serde_json::json!({"a_bits": self.a_bits, "b_bits": self.b_bits, "signed": self.signed})
    }

    /// Operand ports `a`, `b` and the product port `p`.
    pub fn ports(&self) -> Vec<Port> {
        vec![
            Port::input("a", self.a_bits as usize, self.signed),
            Port::input("b", self.b_bits as usize, self.signed),
            Port::output("p", self.product_bits() as usize, self.signed),
        ]
    }

    /// Golden model: the product as a raw `a_bits + b_bits` bit pattern.
    pub fn product(&self, a: u64, b: u64) -> u64 {
        let pw = self.product_bits() as usize;
        if self.signed {
            let v = sign_extend(a, self.a_bits as usize) * sign_extend(b, self.b_bits as usize);
            to_raw(v, pw)
        } else {
            (a * b) & mask(pw)
        }
    }

    /// Corner cases: zero, one, all ones, most negative, alternating bits, on both operands.
    pub fn corner_cases(&self) -> Vec<Vec<u64>> {
        let values = |w: u32| -> Vec<u64> {
            let m = mask(w as usize);
            let mut v = vec![
                0,
                1,
                2,
                m,
                m - 1,
                m >> 1,
                (m >> 1) + 1,
                0x5555 & m,
                0xaaaa & m,
            ];
            v.sort_unstable();
            v.dedup();
            v
        };
        let (va, vb) = (values(self.a_bits), values(self.b_bits));
        va.iter()
            .flat_map(|&a| vb.iter().map(move |&b| vec![a, b]))
            .collect()
    }
}

impl Unit for ExactParams {
    fn family(&self) -> &'static str {
        "exact"
    }
    fn base_name(&self) -> String {
        format!("exact_{}", self.name_part())
    }
    fn ports(&self) -> Vec<Port> {
        ExactParams::ports(self)
    }
    fn golden(&self, inputs: &[u64], outputs: &mut [u64]) {
        outputs[0] = self.product(inputs[0], inputs[1]);
    }
    fn rtl(&self, registered: bool) -> qmulgen_rtl::AnyBlock {
        let form = qmulgen_rtl::Form::of(registered);
        qmulgen_rtl::exact::block(self.a_bits, self.b_bits, self.signed, form)
    }
    fn staged_lane_rtl(&self) -> Option<qmulgen_rtl::AnyBlock> {
        let form = qmulgen_rtl::Form::StagedLane;
        Some(qmulgen_rtl::exact::block(
            self.a_bits,
            self.b_bits,
            self.signed,
            form,
        ))
    }
    /// §5 estimate of the multiplier (`ExactGroups` then `ExactTree`): the operand LUT, the
    /// adder levels of a group of four leaves (two pairs and their sum; one more for the
    /// negated leaf of a signed selector), then the tree over the groups.
    fn lane_path_ns(&self) -> Option<f64> {
        use crate::timing::{adder_ns, LUT_NS};
        let selector = self.a_bits.min(self.b_bits) as usize;
        let group = selector.min(4).next_power_of_two().trailing_zeros() as usize;
        let chain = group + usize::from(self.signed);
        let tree = selector.div_ceil(4).next_power_of_two().trailing_zeros() as usize;
        Some(LUT_NS + (chain + tree) as f64 * adder_ns(self.product_bits() as usize))
    }
    fn corner_cases(&self) -> Vec<Vec<u64>> {
        ExactParams::corner_cases(self)
    }
    fn params(&self) -> serde_json::Value {
        self.params_json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(a: u32, b: u32, signed: bool) -> ExactParams {
        ExactParams {
            a_bits: a,
            b_bits: b,
            signed,
        }
    }

    #[test]
    fn golden_unsigned_products() {
        let p = params(8, 8, false);
        assert_eq!(p.product(13, 11), 143);
        assert_eq!(p.product(255, 255), 65025);
        assert_eq!(p.product(0, 200), 0);
    }

    #[test]
    fn golden_signed_products_are_twos_complement() {
        let p = params(4, 4, true);
        // -8 * -8 = 64 = 0b0100_0000; -8 * 7 = -56 = 0b1100_1000; -1 * 1 = -1 = 0xff
        assert_eq!(p.product(0b1000, 0b1000), 64);
        assert_eq!(p.product(0b1000, 0b0111), 0b1100_1000);
        assert_eq!(p.product(0b1111, 0b0001), 0xff);
    }

    #[test]
    fn width_sets_both_operands_and_conflicts_are_reported() {
        let mut m = ParamMap::new();
        m.insert("width".into(), 12.into());
        let p = ExactParams::from_map("exact", &m).unwrap();
        assert_eq!((p.a_bits, p.b_bits), (12, 12));
        m.insert("a_bits".into(), 10.into());
        let e = ExactParams::from_map("exact", &m).unwrap_err();
        assert!(e.0.contains("a_bits = 10 contradicts width = 12"), "{e}");
    }

    #[test]
    fn out_of_range_width_names_field_and_range() {
        for bad in [0u32, 1, 17] {
            let mut m = ParamMap::new();
            m.insert("a_bits".into(), bad.into());
            let e = ExactParams::from_map("exact", &m).unwrap_err();
            assert_eq!(
                e.0,
                format!("exact: a_bits = {bad} is out of range, allowed 2..=16")
            );
        }
    }

    #[test]
    fn unknown_key_is_rejected() {
        let mut m = ParamMap::new();
        m.insert("a_bit".into(), 8.into());
        let e = ExactParams::from_map("exact", &m).unwrap_err();
        assert!(e.0.contains("unknown field `a_bit`"), "{e}");
    }
}
