//! What every unit family offers: validated parameters, a golden model, standard test cases,
//! and its RTL (in the `qmulgen-rtl` crate, `rtl/src/<family>.rs`, beside the model file here
//! by name). Shared machinery (spec parsing, Verilog writing, the Verilator harness) talks to
//! units only through [`Unit`] and [`Family`].

pub mod adam;
pub mod apot;
pub mod dot;
pub mod esb;
pub mod exact;
pub mod tiling;
pub mod tmr;

use crate::base::{param_map, Dir, ParamInfo, ParamMap, Port, SpecError};

/// A fully parameterised unit. Values on ports are raw bit patterns (`u64`, low `width` bits).
pub trait Unit: Send + Sync {
    /// Family name, as used on the command line and in YAML.
    fn family(&self) -> &'static str;
    /// Deterministic module name without the pipeline suffix, e.g. `exact_u8x8`.
    fn base_name(&self) -> String;
    /// Ports of the combinational core, inputs first, in module order.
    fn ports(&self) -> Vec<Port>;
    /// Golden model: output values (in output-port order) for the given inputs (input order).
    fn golden(&self, inputs: &[u64], outputs: &mut [u64]);
    /// The unit's combinational rust-hdl block; [`qmulgen_rtl::pipeline`] adds registers.
    fn rtl(&self) -> qmulgen_rtl::AnyBlock;
    /// The delay model of the unit's blocks for the pipeline planner
    /// ([`qmulgen_rtl::pipeline`]): the ARITHMETIC.md §5 delay (ns) of a block without
    /// children, by its instance path (`operands$lod_a`).
    fn leaf_ns(&self, _path: &str) -> Option<f64> {
        None
    }
    /// The block as a lane of a dot, when it differs from [`Unit::rtl`]: sign-magnitude units
    /// output `magnitude` and `negative` and leave the sign to the dot's sum, which inverts
    /// where the unit says the inversion is cheapest and adds the +1 as a carry input.
    fn lane_rtl(&self) -> Option<(qmulgen_rtl::AnyBlock, qmulgen_rtl::dot::Inversion)> {
        None
    }
    /// [`Unit::lane_rtl`] with one register inside (ports `clk` and `ce` first, latency 1),
    /// for clocks the whole lane would miss; families that have one also give
    /// [`Unit::lane_path_ns`].
    fn staged_lane_rtl(&self) -> Option<qmulgen_rtl::AnyBlock> {
        None
    }
    /// The §5-model estimate of the lane's combinational path (the operator's own delay
    /// model, as FloPoCo's operators have), which decides whether a dot stages the lane.
    fn lane_path_ns(&self) -> Option<f64> {
        None
    }
    /// The lane's partial products as bits of a dot's bit heap, for units whose product is a
    /// sum of shifted rows (exact, ESB, APoT, PoT); `None` keeps the adder tree.
    fn heap_rows(&self) -> Option<qmulgen_rtl::heap::LaneRows> {
        None
    }
    /// Standard corner cases (input vectors) checked before any random vectors.
    fn corner_cases(&self) -> Vec<Vec<u64>>;
    /// Parameters as they appear in YAML and in the manifest.
    fn params(&self) -> serde_json::Value;
    /// For approximate units: the exact value that output `p` approximates for these inputs
    /// (the reference of the error metrics, ARITHMETIC.md §3.4).
    fn exact_product(&self, _inputs: &[u64]) -> Option<i64> {
        None
    }
    /// rust-hdl instance names (inside the core) of the redundant parts that must stay apart
    /// through synthesis, such as TMR's copies; emission marks their modules keep_hierarchy.
    fn redundant_blocks(&self) -> &'static [&'static str] {
        &[]
    }
    /// With fault ports: the name of each architectural fault site, site `i + 1` being
    /// `[i]` (`fault_site` 0 selects no fault). Empty for units without fault ports.
    fn fault_site_names(&self) -> Vec<String> {
        Vec::new()
    }
    /// Warnings for the user (e.g. an experimental configuration).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A family: its parameters and how to build a unit from them.
pub struct Family {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamInfo],
    pub build: fn(&ParamMap) -> Result<Box<dyn Unit>, SpecError>,
    /// Every configuration `verify --all` checks (exhaustively up to 2^24 input combinations).
    pub sweep: fn() -> Vec<ParamMap>,
    /// Weight quantizer for `qmulgen quantize`, where the family has one.
    pub quantize: Option<QuantizeFn>,
}

/// Quantize real weights for a unit given by its parameters, with an optional scale alpha.
pub type QuantizeFn = fn(&ParamMap, &[f64], Option<f64>) -> Result<Quantized, SpecError>;

/// Real weights quantized to codes of a unit's weight port.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized {
    /// Width of a code (bits of the `w` port).
    pub code_bits: u32,
    pub codes: Vec<u64>,
    /// Dequantized values (level × step × alpha), one per weight.
    pub values: Vec<f64>,
    pub alpha: f64,
    /// The real value of one unit of the integer level the unit multiplies by (the weight
    /// factor of the per-layer scale, ARITHMETIC.md §6): values = level × step.
    pub step: f64,
    /// Weights whose |w/alpha| exceeded the largest level.
    pub clipped: usize,
}

impl Quantized {
    pub fn mse(&self, weights: &[f64]) -> f64 {
        let n = weights.len().max(1) as f64;
        weights
            .iter()
            .zip(&self.values)
            .map(|(w, v)| (w - v) * (w - v))
            .sum::<f64>()
            / n
    }
    pub fn max_abs_error(&self, weights: &[f64]) -> f64 {
        weights
            .iter()
            .zip(&self.values)
            .map(|(w, v)| (w - v).abs())
            .fold(0.0, f64::max)
    }
    /// `$readmemh` text: one code per line, zero-padded hex.
    pub fn readmemh(&self) -> String {
        let digits = self.code_bits.div_ceil(4) as usize;
        self.codes
            .iter()
            .map(|c| format!("{c:0digits$x}\n"))
            .collect()
    }
}

/// Operand pairs (a, b) in 2..=16 with a + b <= 24, unsigned and signed.
pub fn sweep_ab() -> Vec<ParamMap> {
    let mut v = Vec::new();
    for signed in [false, true] {
        for a in 2..=16u32 {
            for b in 2..=16u32.min(24 - a) {
                v.push(param_map([
                    ("a_bits", a.into()),
                    ("b_bits", b.into()),
                    ("signed", signed.into()),
                ]));
            }
        }
    }
    v
}

/// Every family qmulgen knows, in the order `qmulgen list` shows them.
pub const FAMILIES: &[&Family] = &[
    &exact::FAMILY,
    &tmr::FAMILY,
    &esb::FAMILY,
    &apot::APOT,
    &apot::POT,
    &adam::MITCHELL,
    &adam::ADAM,
];

/// Build a unit of `family` from its parameters; every key is checked against the family's
/// table (plus `also_allowed`, the options the caller takes itself), so the allowed list in the
/// error is complete whatever the family parses.
pub fn build(
    family: &str,
    params: &ParamMap,
    also_allowed: &[&str],
) -> Result<Box<dyn Unit>, SpecError> {
    let fam = self::family(family).ok_or_else(|| {
        let known: Vec<&str> = FAMILIES.iter().map(|f| f.name).chain(["dot"]).collect();
        SpecError(format!(
            "unknown family `{family}`, expected one of: {}",
            known.join(", ")
        ))
    })?;
    if let Some(key) = params
        .keys()
        .find(|k| !fam.params.iter().any(|p| p.key == k.as_str()))
    {
        let allowed: Vec<&str> = fam
            .params
            .iter()
            .map(|p| p.key)
            .chain(also_allowed.iter().copied())
            .collect();
        return Err(SpecError(format!(
            "{family}: unknown key `{key}`, allowed: {}",
            allowed.join(", ")
        )));
    }
    (fam.build)(params)
}

/// Look a family up by name.
pub fn family(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().copied().find(|f| f.name == name)
}

/// Widths of a unit's input ports, in port order.
pub fn input_widths(unit: &dyn Unit) -> Vec<usize> {
    unit.ports()
        .iter()
        .filter(|p| p.dir == Dir::Input)
        .map(|p| p.width)
        .collect()
}
