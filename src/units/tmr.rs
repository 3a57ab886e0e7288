//! `tmr`: Pro-TMR baseline (ARITHMETIC.md §3.4): three exact multipliers, a bitwise majority
//! voter, `err` = any disagreement between the copies.
//!
//! With `fault_ports`, the unit gets two extra inputs that force a fault on one output bit of
//! one copy: `fault_site` (0 = no fault, 1 + copy·P + bit otherwise) and `fault_kind`
//! (0 flip, 1 stuck-at-0, 2 stuck-at-1, 3 no fault). Without the flag no trace of them remains.
//! RTL: `rtl/src/tmr.rs`.

use crate::base::{mask, parse_params, ParamInfo, ParamMap, Port, SpecError};
use crate::units::exact::{ExactParams, OPERAND_PARAMS};
use crate::units::{Family, Unit};
pub use qmulgen_rtl::tmr::{KIND_FLIP, KIND_STUCK0, KIND_STUCK1, SITE_BITS};
use serde::Deserialize;

pub static FAMILY: Family = Family {
    name: "tmr",
    summary: "three exact multipliers + bitwise majority voter, err = any disagreement (Pro-TMR)",
    params: &[
        OPERAND_PARAMS[0],
        OPERAND_PARAMS[1],
        OPERAND_PARAMS[2],
        OPERAND_PARAMS[3],
        OPERAND_PARAMS[4],
        OPERAND_PARAMS[5],
        ParamInfo {
            key: "fault_ports",
            range: "true/false",
            default: "false",
            help: "add fault_site/fault_kind inputs for fault-injection campaigns",
        },
    ],
    sweep: crate::units::sweep_ab,
    quantize: None,
    build: |m| Ok(Box::new(TmrParams::from_map(m)?)),
};

/// A single-bit fault, as `fault_kind` encodes it (shared by every unit with fault ports).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    Flip,
    StuckAt0,
    StuckAt1,
}

impl FaultKind {
    /// The fault a `fault_kind` port value selects (None: 3, no fault).
    pub fn from_port(kind: u64) -> Option<FaultKind> {
        match kind {
            KIND_FLIP => Some(FaultKind::Flip),
            KIND_STUCK0 => Some(FaultKind::StuckAt0),
            KIND_STUCK1 => Some(FaultKind::StuckAt1),
            _ => None,
        }
    }

    /// The faulty value of one bit.
    pub fn apply(self, bit: bool) -> bool {
        match self {
            FaultKind::Flip => !bit,
            FaultKind::StuckAt0 => false,
            FaultKind::StuckAt1 => true,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TmrParams {
    pub exact: ExactParams,
    pub fault_ports: bool,
}

impl TmrParams {
    fn from_map(map: &ParamMap) -> Result<TmrParams, SpecError> {
        #[derive(Deserialize)]
        struct Flags {
            #[serde(default)]
            fault_ports: bool,
        }
        let mut rest = map.clone();
        let mut flags = ParamMap::new();
        if let Some(v) = rest.remove("fault_ports") {
            flags.insert("fault_ports".into(), v);
        }
        let f: Flags = parse_params("tmr", &flags)?;
        Ok(TmrParams {
            exact: ExactParams::from_map("tmr", &rest)?,
            fault_ports: f.fault_ports,
        })
    }

    /// Golden model of one copy's output after an optional fault on one of its bits.
    pub fn faulty_copy(&self, copy: u64, product: u64, site: u64, kind: u64) -> u64 {
        let pw = self.exact.product_bits() as u64;
        let Some(kind) = FaultKind::from_port(kind) else {
            return product;
        };
        if site == 0 || (site - 1) / pw != copy {
            return product;
        }
        let bit = (site - 1) % pw;
        let faulty = kind.apply((product >> bit) & 1 == 1);
        (product & !(1 << bit)) | (u64::from(faulty) << bit)
    }
}

impl Unit for TmrParams {
    fn family(&self) -> &'static str {
        "tmr"
    }
    fn base_name(&self) -> String {
        let f = if self.fault_ports { "_f" } else { "" };
        format!("tmr_{}{f}", self.exact.name_part())
    }
    fn ports(&self) -> Vec<Port> {
        let mut ports = self.exact.ports();
        if self.fault_ports {
            ports.insert(2, Port::input("fault_site", SITE_BITS, false));
            ports.insert(3, Port::input("fault_kind", 2, false));
        }
        ports.push(Port::output("err", 1, false));
        ports
    }
    fn golden(&self, inputs: &[u64], outputs: &mut [u64]) {
        let product = self.exact.product(inputs[0], inputs[1]);
        let (site, kind) = if self.fault_ports {
            (inputs[2], inputs[3])
        } else {
            (0, 0)
        };
        let c: Vec<u64> = (0..3)
            .map(|k| self.faulty_copy(k, product, site, kind))
            .collect();
        outputs[0] = (c[0] & c[1]) | (c[0] & c[2]) | (c[1] & c[2]);
        outputs[1] = u64::from(c[0] != c[1] || c[0] != c[2]);
    }
    fn fault_site_names(&self) -> Vec<String> {
        if !self.fault_ports {
            return Vec::new();
        }
        let pw = self.exact.product_bits();
        (0..3)
            .flat_map(|copy| (0..pw).map(move |bit| format!("copy{copy}.p[{bit}]")))
            .collect()
    }
    /// The copies' blocks as exact's; the voter's majority LUT and its disagreement, an OR
    /// of the product bits' XORs; an injector's site decode and forcing LUT.
    fn leaf_ns(&self, path: &str) -> Option<f64> {
        use crate::timing::{reduce_ns, LUT_NS};
        let leaf = path.rsplit('$').next()?;
        if path.starts_with("voter") {
            Some(LUT_NS + reduce_ns(3 * self.exact.product_bits() as usize))
        } else if path.starts_with("injectors$") && leaf.parse::<u32>().is_ok() {
            Some(2.0 * LUT_NS)
        } else {
            self.exact.leaf_ns(path)
        }
    }
    fn rtl(&self) -> qmulgen_rtl::AnyBlock {
        let e = &self.exact;
        qmulgen_rtl::tmr::block(e.a_bits, e.b_bits, e.signedness(), self.fault_ports)
    }
    fn corner_cases(&self) -> Vec<Vec<u64>> {
        let base = self.exact.corner_cases();
        if !self.fault_ports {
            return base;
        }
        let sites = 3 * self.exact.product_bits() as u64;
        let mut out = Vec::new();
        for v in &base {
            for site in [0, 1, sites / 2, sites, sites + 1, mask(SITE_BITS)] {
                for kind in 0..4 {
                    out.push(vec![v[0], v[1], site, kind]);
                }
            }
        }
        out
    }
    fn redundant_blocks(&self) -> &'static [&'static str] {
        &qmulgen_rtl::tmr::REDUNDANT_BLOCKS
    }
    fn params(&self) -> serde_json::Value {
        let mut p = self.exact.params_json();
        p["fault_ports"] = self.fault_ports.into();
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmr(width: u32, fault_ports: bool) -> TmrParams {
        TmrParams {
            exact: ExactParams {
                a_bits: width,
                b_bits: width,
                a_signed: false,
                b_signed: false,
            },
            fault_ports,
        }
    }

    #[test]
    fn fault_free_tmr_is_the_exact_product_without_err() {
        let t = tmr(4, false);
        let mut out = [0u64; 2];
        for a in 0..16 {
            for b in 0..16 {
                t.golden(&[a, b], &mut out);
                assert_eq!(out, [a * b, 0]);
            }
        }
    }

    #[test]
    fn any_single_copy_fault_is_outvoted_and_flagged_when_it_changes_the_copy() {
        let t = tmr(4, true);
        let mut out = [0u64; 2];
        // 13 * 11 = 143 = 0b1000_1111 over P = 8 bits: sites 1..=24.
        for site in 1..=24u64 {
            let bit = (site - 1) % 8;
            let is_set = (143 >> bit) & 1 == 1;
            for (kind, changes) in [
                (KIND_FLIP, true),
                (KIND_STUCK0, is_set),
                (KIND_STUCK1, !is_set),
            ] {
                t.golden(&[13, 11, site, kind], &mut out);
                assert_eq!(out, [143, u64::from(changes)], "site {site} kind {kind}");
            }
        }
        // Site 0, a site past the last copy, and kind 3 inject nothing.
        for (site, kind) in [(0, KIND_FLIP), (25, KIND_FLIP), (5, 3)] {
            t.golden(&[13, 11, site, kind], &mut out);
            assert_eq!(out, [143, 0]);
        }
    }
}
