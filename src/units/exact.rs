//! `exact`: the exact A×B multiplier baseline (ARITHMETIC.md §0, §3.4 "Unp-exact").
//!
//! Unsigned, or two's complement when `signed`; `p` has A+B bits. RTL: `rtl/src/exact.rs`.

use crate::base::{
    check_range, mask, parse_params, sign_extend, to_raw, ParamInfo, ParamMap, Port, SpecError,
};
use crate::timing::{adder_ns, LUT_NS};
use crate::units::{Family, Unit};
use serde::Deserialize;

pub const MIN_WIDTH: u32 = 2;
pub const MAX_WIDTH: u32 = 16;

/// Operand parameters of `exact`, shared with `tmr`.
pub const OPERAND_PARAMS: [ParamInfo; 6] = [
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
        help: "two's complement operands and product (sets a_signed and b_signed)",
    },
    ParamInfo {
        key: "a_signed",
        range: "true/false",
        default: "signed",
        help: "operand a is two's complement (e.g. int8 weights x uint8 activations)",
    },
    ParamInfo {
        key: "b_signed",
        range: "true/false",
        default: "signed",
        help: "operand b is two's complement",
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
    pub a_signed: bool,
    pub b_signed: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExactParams {
    a_bits: Option<u32>,
    b_bits: Option<u32>,
    width: Option<u32>,
    signed: Option<bool>,
    a_signed: Option<bool>,
    b_signed: Option<bool>,
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
        let signed =
            crate::base::operand_signedness(family, raw.signed, raw.a_signed, raw.b_signed)?;
        Ok(ExactParams {
            a_bits: pick("a_bits", raw.a_bits)?,
            b_bits: pick("b_bits", raw.b_bits)?,
            a_signed: signed.a,
            b_signed: signed.b,
        })
    }

    /// The product is two's complement when either operand is.
    pub fn signed(&self) -> bool {
        self.a_signed || self.b_signed
    }

    /// The operand that selects partial products (the narrower; ties: b) is signed.
    pub fn selector_signed(&self) -> bool {
        if self.a_bits < self.b_bits {
            self.a_signed
        } else {
            self.b_signed
        }
    }

    pub fn signedness(&self) -> qmulgen_rtl::exact::Signedness {
        qmulgen_rtl::exact::Signedness {
            a: self.a_signed,
            b: self.b_signed,
        }
    }

    pub fn product_bits(&self) -> u32 {
        self.a_bits + self.b_bits
    }

    /// §5 delay of `ExactGroups`: the operand LUT, then the adder levels of a group of four
    /// leaves (two pairs and their sum; one more for the negated leaf of a signed selector).
    pub fn groups_ns(&self) -> f64 {
        let selector = self.a_bits.min(self.b_bits) as usize;
        let group = selector.min(4).next_power_of_two().trailing_zeros() as usize;
        let chain = group + usize::from(self.selector_signed());
        LUT_NS + chain as f64 * adder_ns(self.product_bits() as usize)
    }

    /// §5 delay of `ExactTree`: one adder level per halving of the groups.
    pub fn tree_ns(&self) -> f64 {
        let selector = self.a_bits.min(self.b_bits) as usize;
        let tree = selector.div_ceil(4).next_power_of_two().trailing_zeros() as usize;
        tree as f64 * adder_ns(self.product_bits() as usize)
    }

    /// `u8x8` / `s12x12` / `s8xu8`: the part of the module name exact and TMR share.
    pub fn name_part(&self) -> String {
        crate::base::operands_name(self.a_bits, self.b_bits, self.signedness())
    }

    pub fn params_json(&self) -> serde_json::Value {
        if self.a_signed == self.b_signed {
            serde_json::json!({"a_bits": self.a_bits, "b_bits": self.b_bits, "signed": self.a_signed})
        } else {
            serde_json::json!({"a_bits": self.a_bits, "b_bits": self.b_bits,
                "a_signed": self.a_signed, "b_signed": self.b_signed})
        }
    }

    /// Operand ports `a`, `b` and the product port `p`.
    pub fn ports(&self) -> Vec<Port> {
        vec![
            Port::input("a", self.a_bits as usize, self.a_signed),
            Port::input("b", self.b_bits as usize, self.b_signed),
            Port::output("p", self.product_bits() as usize, self.signed()),
        ]
    }

    /// Golden model: the product as a raw `a_bits + b_bits` bit pattern.
    pub fn product(&self, a: u64, b: u64) -> u64 {
        let pw = self.product_bits() as usize;
        let value = |x: u64, bits: u32, signed: bool| {
            if signed {
                sign_extend(x, bits as usize)
            } else {
                x as i64
            }
        };
        let v = value(a, self.a_bits, self.a_signed) * value(b, self.b_bits, self.b_signed);
        to_raw(v, pw)
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
    fn rtl(&self) -> qmulgen_rtl::AnyBlock {
        let form = qmulgen_rtl::Form::Unit;
        qmulgen_rtl::exact::block(self.a_bits, self.b_bits, self.signedness(), form)
    }
    fn heap_rows(&self) -> Option<qmulgen_rtl::heap::LaneRows> {
        let grid =
            super::tiling::ProductGrid::multiplier(self.a_bits as usize, self.b_bits as usize);
        let groups = super::tiling::product_groups(&grid);
        let rows =
            qmulgen_rtl::exact::heap_rows(self.a_bits, self.b_bits, self.signedness(), groups);
        Some(rows)
    }
    fn staged_lane_rtl(&self) -> Option<qmulgen_rtl::AnyBlock> {
        let form = qmulgen_rtl::Form::StagedLane;
        Some(qmulgen_rtl::exact::block(
            self.a_bits,
            self.b_bits,
            self.signedness(),
            form,
        ))
    }
    /// §5 estimate of the multiplier (`ExactGroups` then `ExactTree`).
    fn lane_path_ns(&self) -> Option<f64> {
        Some(self.groups_ns() + self.tree_ns())
    }
    fn leaf_ns(&self, path: &str) -> Option<f64> {
        match path.rsplit('$').next()? {
            "groups" => Some(self.groups_ns()),
            "tree" => Some(self.tree_ns()),
            _ => None,
        }
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
            a_signed: signed,
            b_signed: signed,
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
    fn golden_mixed_signedness_products() {
        // int8 weight x uint8 activation: -1 * 255 = -255 = 0xff01 in 16 bits; -128 * 255 =
        // -32640 = 0x8080; 127 * 255 = 32385 = 0x7e81.
        let p = ExactParams {
            a_bits: 8,
            b_bits: 8,
            a_signed: true,
            b_signed: false,
        };
        assert_eq!(p.product(0xff, 255), 0xff01);
        assert_eq!(p.product(0x80, 255), 0x8080);
        assert_eq!(p.product(0x7f, 255), 0x7e81);
        assert_eq!(p.name_part(), "s8xu8");
        // Unsigned a (4 bits) x signed b (3 bits): 15 * -4 = -60 = 0b1000100 in 7 bits.
        let q = ExactParams {
            a_bits: 4,
            b_bits: 3,
            a_signed: false,
            b_signed: true,
        };
        assert_eq!(q.product(15, 0b100), 0b100_0100);
        assert!(q.signed() && q.selector_signed());
    }

    #[test]
    fn per_operand_signedness_keys() {
        let map = |yaml: &str| -> ParamMap { serde_yaml::from_str(yaml).unwrap() };
        let p = ExactParams::from_map("exact", &map("{a_signed: true}")).unwrap();
        assert!(p.a_signed && !p.b_signed);
        let p = ExactParams::from_map("exact", &map("{signed: true, b_signed: true}")).unwrap();
        assert!(p.a_signed && p.b_signed);
        let e =
            ExactParams::from_map("exact", &map("{signed: true, b_signed: false}")).unwrap_err();
        assert!(
            e.0.contains("b_signed = false contradicts signed = true"),
            "{e}"
        );
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
