//! `dot`: the dot-product processing element (ARITHMETIC.md §5): N lanes of one unit, a binary
//! adder tree, an accumulator, optionally behind AXI4-Stream. RTL: `rtl/src/dot.rs`.
//!
//! The lane is any family (its own parameters, as `gen` takes them, without `fault_ports`). The
//! golden model is built from the lane's golden model; [`Reference`] is the cycle-level meaning
//! of §5 (what appears on `out_valid`/`y`/`y_err` in which cycle), independent of how the RTL
//! is pipelined: only the latency L comes from the plan.

use crate::base::{
    check_range, parse_params, sign_extend, Dir, ParamInfo, ParamMap, Port, SpecError,
};
use crate::timing::{adder_ns, PATH_OVERHEAD_NS};
use crate::units::{self, Unit};
use qmulgen_rtl::dot::{DotConfig, LanePorts};
use serde::Deserialize;
use std::collections::VecDeque;

pub const MAX_LANES: u32 = 64;
/// The clock `target_mhz` defaults to: the design default of the Vivado hand-off.
pub const DEFAULT_TARGET_MHZ: f64 = 300.0;

/// The parameters `dot` takes (the lane's own go under `lane`).
pub const PARAMS: [ParamInfo; 6] = [
    ParamInfo {
        key: "lanes",
        range: "1..=64",
        default: "16",
        help: "number of lanes N",
    },
    ParamInfo {
        key: "lane",
        range: "a unit",
        default: "-",
        help: "the lane unit: {family: ..., its parameters} (CLI: --lane FAMILY and its flags)",
    },
    ParamInfo {
        key: "acc_bits",
        range: "sum bits..=64",
        default: "sum bits + 10",
        help: "accumulator width (sum bits = product bits + ceil(log2 N))",
    },
    ParamInfo {
        key: "target_mhz",
        range: "0 < f <= 775",
        default: "300",
        help: "clock the pipeline is planned for (ARITHMETIC.md §5 timing model)",
    },
    ParamInfo {
        key: "sum",
        range: "tree, heap",
        default: "the smaller as measured: heap for exact lanes, APoT from 8 lanes, ESB e <= 2, k >= 2 where the tree splits the lane (e = 3: from 8 lanes)",
        help: "how the lanes are summed: an adder tree of the lanes' products, or all lanes' partial products in one bit heap (exact, esb, apot, pot lanes)",
    },
    ParamInfo {
        key: "axis",
        range: "true/false",
        default: "false",
        help: "AXI4-Stream slave and master ports instead of in_*/out_*",
    },
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDot {
    #[serde(default = "default_lanes")]
    lanes: u32,
    lane: Option<ParamMap>,
    acc_bits: Option<u32>,
    #[serde(default = "default_target")]
    target_mhz: f64,
    #[serde(default)]
    axis: bool,
    sum: Option<String>,
}

/// How the lanes are summed (ARITHMETIC.md §5 leaves it to the implementation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sum {
    /// Each lane's product, then a binary adder tree.
    Tree,
    /// Every lane's partial products in one bit heap ([`qmulgen_rtl::heap`]).
    Heap,
}

impl Sum {
    pub fn name(self) -> &'static str {
        match self {
            Sum::Tree => "tree",
            Sum::Heap => "heap",
        }
    }
}

fn default_lanes() -> u32 {
    16
}

fn default_target() -> f64 {
    DEFAULT_TARGET_MHZ
}

/// A validated dot-product element.
pub struct Dot {
    pub lane: Box<dyn Unit>,
    pub lane_params: ParamMap,
    pub lanes: usize,
    pub acc_bits: usize,
    pub target_mhz: f64,
    pub axis: bool,
    pub config: DotConfig,
}

/// The lane's product port (named `p` by every family) and its optional `err`.
fn lane_ports(lane: &dyn Unit) -> LanePorts {
    let ports = lane.ports();
    let inputs = ports
        .iter()
        .filter(|p| p.dir == Dir::Input)
        .map(|p| (p.name.clone(), p.width))
        .collect();
    let outputs: Vec<&Port> = ports.iter().filter(|p| p.dir == Dir::Output).collect();
    // A sign-magnitude lane block outputs `magnitude` and `negative` instead of `p`.
    let inversion = lane.lane_rtl().map(|(_, inversion)| inversion);
    let sign_magnitude = inversion.is_some();
    LanePorts {
        inputs,
        product: (
            if sign_magnitude {
                "magnitude".into()
            } else {
                outputs[0].name.clone()
            },
            outputs[0].width,
        ),
        product_signed: outputs[0].signed,
        err: outputs.get(1).map(|p| p.name.clone()),
        negative: inversion.map(|i| ("negative".to_string(), i)),
    }
}

impl Dot {
    pub fn from_map(map: &ParamMap) -> Result<Dot, SpecError> {
        if let Some(key) = map
            .keys()
            .find(|k| !PARAMS.iter().any(|p| p.key == k.as_str()))
        {
            let allowed: Vec<&str> = PARAMS.iter().map(|p| p.key).chain(["name"]).collect();
            return Err(SpecError(format!(
                "dot: unknown key `{key}`, allowed: {}; the lane's own parameters go under `lane` (CLI: --lane FAMILY, then its flags)",
                allowed.join(", ")
            )));
        }
        let raw: RawDot = parse_params("dot", map)?;
        check_range("dot", "lanes", raw.lanes, 1, MAX_LANES)?;
        if !(raw.target_mhz.is_finite() && raw.target_mhz > 0.0 && raw.target_mhz <= 775.0) {
            return Err(SpecError(format!(
                "dot: target_mhz = {} is out of range, allowed 0 < target_mhz <= 775 (the -2 global clock limit)",
                raw.target_mhz
            )));
        }
        let mut lane_params = raw
            .lane
            .ok_or_else(|| SpecError("dot: no `lane` given: the lane unit, e.g. lane: {family: esb, exp_bits: 2, frac_bits: 2, act_bits: 8} (CLI: --lane esb ...)".into()))?;
        let family = match lane_params.remove("family") {
            Some(serde_yaml::Value::String(s)) => s,
            Some(_) => return Err(SpecError("dot: lane.family must be a string".into())),
            None => return Err(SpecError("dot: lane has no `family` key".into())),
        };
        if family == "dot" {
            return Err(SpecError(
                "dot: lane.family = dot: a lane is a single unit".into(),
            ));
        }
        for key in ["pipeline", "name", "fault_ports"] {
            if lane_params.contains_key(key) {
                return Err(SpecError(format!(
                    "dot: lane.{key} is not allowed: the dot has its own registers and name, and lanes have no fault ports"
                )));
            }
        }
        let lane = units::build(&family, &lane_params, &[])
            .map_err(|e| SpecError(format!("dot: lane: {e}")))?;
        lane_params.insert("family".into(), family.clone().into());
        let ports = lane_ports(lane.as_ref());
        let lanes = raw.lanes as usize;
        let sum_bits = ports.product.1 + tree_levels(lanes);
        let acc_bits = match raw.acc_bits {
            Some(a) => {
                check_range("dot", "acc_bits", a, sum_bits as u32, 64)?;
                a as usize
            }
            None => (sum_bits + 10).min(64),
        };
        if sum_bits > 64 {
            return Err(SpecError(format!(
                "dot: the vector sum needs {sum_bits} bits, more than the 64 an accumulator may have; use fewer lanes or narrower operands"
            )));
        }
        let rows = lane.heap_rows();
        let mut config = plan(
            lanes,
            ports,
            acc_bits,
            raw.target_mhz,
            raw.axis,
            lane.lane_path_ns(),
        );
        let heap_smaller = (rows.as_ref()).is_some_and(|r| r.smaller.heap(lanes, raw.target_mhz));
        let sum = match raw.sum.as_deref() {
            None if heap_smaller => Sum::Heap,
            None | Some("tree") => Sum::Tree,
            Some("heap") if rows.is_some() => Sum::Heap,
            Some("heap") => {
                return Err(SpecError(format!(
                    "dot: sum = heap needs a lane whose product is a sum of rows (exact, esb, apot, pot); a {family} lane keeps sum = tree"
                )))
            }
            Some(other) => {
                return Err(SpecError(format!(
                    "dot: sum = {other} is not a sum, allowed: tree, heap"
                )))
            }
        };
        if let Some(rows) = rows.filter(|_| sum == Sum::Heap) {
            config.set_heap(rows);
        }
        Ok(Dot {
            lane,
            lane_params,
            lanes,
            acc_bits,
            target_mhz: raw.target_mhz,
            axis: raw.axis,
            config,
        })
    }

    /// Another instance of the lane unit (for flows that take the lane on its own).
    pub fn lane_unit(&self) -> Result<Box<dyn Unit>, SpecError> {
        let mut params = self.lane_params.clone();
        let family = match params.remove("family") {
            Some(serde_yaml::Value::String(f)) => f,
            _ => self.lane.family().to_string(),
        };
        units::build(&family, &params, &[])
    }

    /// Module name, e.g. `dot16_esb_e2k2_a8`.
    pub fn base_name(&self) -> String {
        format!(
            "dot{}_{}{}",
            self.lanes,
            self.lane.base_name(),
            if self.axis { "_axis" } else { "" }
        )
    }

    pub fn latency(&self) -> u32 {
        self.config.latency()
    }

    /// How the lanes are summed.
    pub fn sum(&self) -> Sum {
        match self.config.heap {
            Some(_) => Sum::Heap,
            None => Sum::Tree,
        }
    }

    /// Width of the vector sum S.
    pub fn sum_bits(&self) -> usize {
        self.config.sum_bits()
    }

    /// Vectors of full-scale products (the extremes the lane's `p` port can hold) that the
    /// accumulator takes without overflow: unsigned, floor((2^acc - 1) / (N·(2^P - 1)));
    /// two's complement, the fewer of floor(2^(acc-1) / (N·2^(P-1))) at the negative end and
    /// floor((2^(acc-1) - 1) / (N·(2^(P-1) - 1))) at the positive end.
    pub fn overflow_free_vectors(&self) -> u64 {
        let (p, signed) = (self.config.lane.product.1, self.config.lane.product_signed);
        let n = self.lanes as u128;
        let count = if signed {
            let half = 1u128 << (self.acc_bits - 1);
            let negative = half / (n << (p - 1));
            let largest = (1u128 << (p - 1)) - 1;
            let positive = (half - 1).checked_div(n * largest).unwrap_or(u128::MAX);
            negative.min(positive)
        } else {
            ((1u128 << self.acc_bits) - 1) / (n * ((1u128 << p) - 1))
        };
        count.min(u64::MAX as u128) as u64
    }

    /// Ports in module order (`clk` is the manifest's clock).
    pub fn ports(&self) -> Vec<Port> {
        let mut v = vec![Port::input("rst", 1, false)];
        let c = &self.config;
        if self.axis {
            v.extend([
                Port::input("s_axis_tdata", c.s_tdata_bits(), false),
                Port::input("s_axis_tvalid", 1, false),
                Port::output("s_axis_tready", 1, false),
                Port::input("s_axis_tlast", 1, false),
                Port::output("m_axis_tdata", c.m_tdata_bits(), true),
                Port::output("m_axis_tvalid", 1, false),
                Port::input("m_axis_tready", 1, false),
            ]);
            if c.lane.err.is_some() {
                v.push(Port::output("m_axis_tuser", 1, false));
            }
        } else {
            v.extend([
                Port::input("in_valid", 1, false),
                Port::input("in_last", 1, false),
            ]);
            for p in self.lane.ports().iter().filter(|p| p.dir == Dir::Input) {
                v.push(Port::input(&p.name, p.width * self.lanes, false));
            }
            v.extend([
                Port::output("out_valid", 1, false),
                Port::output("y", self.acc_bits, true),
            ]);
            if c.lane.err.is_some() {
                v.push(Port::output("y_err", 1, false));
            }
        }
        // Module order: inputs first, as the other units' manifests have them.
        v.sort_by_key(|p| p.dir == Dir::Output);
        v
    }

    pub fn verilog(&self) -> String {
        let staged = self.config.lane_staged.then(|| self.lane.staged_lane_rtl());
        let lane = staged
            .flatten()
            .or_else(|| self.lane.lane_rtl().map(|(block, _)| block))
            .unwrap_or_else(|| self.lane.rtl());
        qmulgen_rtl::dot::verilog(&self.config, lane)
    }

    pub fn params(&self) -> serde_json::Value {
        let lane: serde_json::Value =
            serde_json::to_value(&self.lane_params).unwrap_or(serde_json::Value::Null);
        serde_json::json!({
            "lanes": self.lanes,
            "lane": lane,
            "acc_bits": self.acc_bits,
            "target_mhz": self.target_mhz,
            "axis": self.axis,
            "sum": self.sum().name(),
        })
    }

    /// The lane's product for one lane's operands, read as the unit's port says, and its err.
    pub fn lane_product(&self, operands: &[u64], outputs: &mut [u64]) -> (i64, bool) {
        self.lane.golden(operands, outputs);
        let (_, p) = &self.config.lane.product;
        let value = if self.config.lane.product_signed {
            sign_extend(outputs[0], *p)
        } else {
            outputs[0] as i64
        };
        (value, outputs.get(1).is_some_and(|e| *e != 0))
    }

    /// S and the OR of the lanes' err for one vector: `operands[port][lane]`.
    pub fn vector_sum(&self, operands: &[Vec<u64>]) -> (i64, bool) {
        // Lane units without fault ports have two inputs and at most two outputs.
        let mut outputs = [0u64; 2];
        let mut lane_ops = [0u64; 2];
        let lane_ops = &mut lane_ops[..operands.len()];
        let mut sum = 0i64;
        let mut err = false;
        for i in 0..self.lanes {
            for (k, port) in operands.iter().enumerate() {
                lane_ops[k] = port[i];
            }
            let (p, e) = self.lane_product(lane_ops, &mut outputs);
            sum += p;
            err |= e;
        }
        (sum, err)
    }
}

/// Adder levels of a binary tree over `lanes` rows.
pub fn tree_levels(lanes: usize) -> usize {
    lanes.next_power_of_two().trailing_zeros() as usize
}

/// The pipeline for a target under the §5 model: a register after every lane; a register
/// inside the lane where the family has one and its estimated path (`lane_path_ns`) exceeds
/// the clock period (other lanes' paths are what they are: `synth` reports the result); inside
/// the adder tree as few registers as keep every stage of adders within the period (a heap,
/// set afterwards, places its own registers by the same budget).
pub fn plan(
    lanes: usize,
    lane: LanePorts,
    acc_bits: usize,
    target_mhz: f64,
    axis: bool,
    lane_path_ns: Option<f64>,
) -> DotConfig {
    let budget = 1000.0 / target_mhz - PATH_OVERHEAD_NS;
    let lane_staged = lane_path_ns.is_some_and(|ns| ns > budget);
    // Every level is costed at the accumulator's width, the widest adder of the path.
    let per_stage = (budget / adder_ns(acc_bits)).floor().max(1.0) as usize;
    let levels = tree_levels(lanes);
    DotConfig {
        lanes,
        lane,
        acc_bits,
        lane_staged,
        lane_register: true,
        // The accumulator's adder is the level after the tree's last.
        tree_levels_per_stage: if per_stage > levels { 0 } else { per_stage },
        axis,
        heap: None,
        heap_plan: None,
        budget_ns: budget,
    }
}

/// One cycle of the plain (not AXI4-Stream) ports, operands as `[port][lane]`.
#[derive(Clone, Debug, Default)]
pub struct Cycle {
    pub rst: bool,
    pub valid: bool,
    pub last: bool,
    pub operands: Vec<Vec<u64>>,
}

/// What the outputs show during one cycle: `Some((y, y_err))` when out_valid = 1.
pub type Shown = Option<(u64, bool)>;

/// The cycle-level meaning of ARITHMETIC.md §5: a vector accepted in cycle k that ends a dot
/// product shows its result during cycle k + L; `rst` in cycle r empties the pipeline (nothing
/// accepted in r shows, and neither does anything due after r) and the next vector is a first.
pub struct Reference<'a> {
    dot: &'a Dot,
    due: VecDeque<Shown>,
    first: bool,
    acc: i64,
    err: bool,
}

impl<'a> Reference<'a> {
    /// The state after power-up, before any `rst`: the first vector is not a first one unless
    /// `rst` came before it, so tests begin with a reset cycle.
    pub fn new(dot: &'a Dot) -> Self {
        Reference {
            dot,
            due: std::iter::repeat_n(None, dot.latency() as usize).collect(),
            first: false,
            acc: 0,
            err: false,
        }
    }

    /// The outputs during this cycle, then the cycle's inputs take effect at its clock edge.
    pub fn step(&mut self, c: &Cycle) -> Shown {
        let shown = self.due.pop_front().flatten();
        if c.rst {
            self.due.iter_mut().for_each(|d| *d = None);
            self.due.push_back(None);
            self.first = true;
            return shown;
        }
        let mut result = None;
        if c.valid {
            let (s, e) = self.dot.vector_sum(&c.operands);
            let modulus = self.dot.acc_bits;
            (self.acc, self.err) = if self.first {
                (s, e)
            } else {
                (self.acc.wrapping_add(s), self.err | e)
            };
            // Two's complement modulo 2^acc_bits, kept as the raw pattern's value.
            self.acc = sign_extend(self.acc as u64, modulus);
            self.first = c.last;
            if c.last {
                result = Some((crate::base::to_raw(self.acc, modulus), self.err));
            }
        }
        self.due.push_back(result);
        shown
    }
}

/// One port's lane values of `width` bits into 64-bit words from bit `offset` on, lane i at
/// bits [offset + i·w, offset + (i+1)·w): the layout of the N-lane ports (§5).
pub fn put_lanes(words: &mut [u64], offset: usize, width: usize, values: &[u64]) {
    for (i, v) in values.iter().enumerate() {
        crate::base::put_bits(words, offset + i * width, width, *v);
    }
}

/// Input widths of the lane unit, in port order.
pub fn lane_input_widths(dot: &Dot) -> Vec<usize> {
    units::input_widths(dot.lane.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::param_map;

    fn dot(lanes: u32, lane: ParamMap, extra: &[(&str, serde_yaml::Value)]) -> Dot {
        let mut m = param_map([("lanes", lanes.into())]);
        m.insert(
            "lane".into(),
            serde_yaml::to_value(&lane).expect("lane map"),
        );
        for (k, v) in extra {
            m.insert(k.to_string(), v.clone());
        }
        Dot::from_map(&m).expect("valid dot")
    }

    fn exact(width: u32, signed: bool) -> ParamMap {
        param_map([
            ("family", "exact".into()),
            ("width", width.into()),
            ("signed", signed.into()),
        ])
    }

    fn vector(d: &Dot, a: &[u64], b: &[u64], valid: bool, last: bool) -> Cycle {
        let _ = d;
        Cycle {
            rst: false,
            valid,
            last,
            operands: vec![a.to_vec(), b.to_vec()],
        }
    }

    #[test]
    fn widths_follow_section_5() {
        // 8x8 unsigned: P = 16, N = 16: S has 20 bits, acc 30 by default.
        let d = dot(16, exact(8, false), &[]);
        assert_eq!((d.sum_bits(), d.acc_bits), (20, 30));
        // 3 lanes: two tree levels.
        let d = dot(3, exact(4, true), &[]);
        assert_eq!(d.sum_bits(), 8 + 2);
        // 1024 full-scale vectors fit the default accumulator (10 spare bits), as §5 says:
        // (2^30 - 1) / (16 · (2^16 - 1)) = 1024.
        let d = dot(16, exact(8, false), &[]);
        assert_eq!(d.overflow_free_vectors(), 1024);
        // Signed 4x4 (P = 8), 3 lanes, acc 10: -128·3·k >= -512 for k <= 1, and
        // 127·3·k <= 511 for k <= 1.
        let d = dot(3, exact(4, true), &[("acc_bits", 10u32.into())]);
        assert_eq!(d.overflow_free_vectors(), 1);
        // Signed with the default accumulator: 1024, both ends (16 lanes, P = 16, acc 30).
        let d = dot(16, exact(8, true), &[]);
        assert_eq!(d.overflow_free_vectors(), 1024);
    }

    #[test]
    fn a_dot_product_over_vectors_in_the_reference() {
        // Two lanes of 4x4 unsigned: (1·2 + 3·4) + (5·6 + 7·1) = 14 + 37 = 51.
        let d = dot(2, exact(4, false), &[]);
        let l = d.latency() as usize;
        let mut r = Reference::new(&d);
        let mut shown = vec![r.step(&Cycle {
            rst: true,
            ..Default::default()
        })];
        shown.push(r.step(&vector(&d, &[1, 3], &[2, 4], true, false)));
        shown.push(r.step(&vector(&d, &[0, 0], &[0, 0], false, false)));
        shown.push(r.step(&vector(&d, &[5, 7], &[6, 1], true, true)));
        for _ in 0..l + 1 {
            shown.push(r.step(&vector(&d, &[0, 0], &[0, 0], false, false)));
        }
        // The last vector came in cycle 3: its result shows in cycle 3 + L, and only there.
        for (k, s) in shown.iter().enumerate() {
            assert_eq!(*s, (k == 3 + l).then_some((51, false)), "cycle {k}");
        }
    }

    #[test]
    fn signed_sums_wrap_modulo_the_accumulator() {
        // Signed 4x4, one lane: (-8)·(-8) = 64 repeated; acc_bits = 8 (the minimum).
        let d = dot(1, exact(4, true), &[("acc_bits", 8u32.into())]);
        assert_eq!(d.acc_bits, 8);
        let mut r = Reference::new(&d);
        r.step(&Cycle {
            rst: true,
            ..Default::default()
        });
        // 64 + 64 = 128 = -128 as 8-bit two's complement: raw 0x80.
        r.step(&vector(&d, &[8], &[8], true, false));
        r.step(&vector(&d, &[8], &[8], true, true));
        let l = d.latency() as usize;
        let shown: Vec<Shown> = (0..l)
            .map(|_| r.step(&vector(&d, &[0], &[0], false, false)))
            .collect();
        // The last vector came in cycle 2; `shown` starts at cycle 3.
        assert_eq!(shown[l - 1], Some((0x80, false)));
    }

    #[test]
    fn reset_drops_what_is_in_flight() {
        let d = dot(1, exact(4, false), &[]);
        let mut r = Reference::new(&d);
        r.step(&Cycle {
            rst: true,
            ..Default::default()
        });
        r.step(&vector(&d, &[3], &[3], true, true));
        let mut shown = vec![r.step(&Cycle {
            rst: true,
            ..Default::default()
        })];
        for _ in 0..d.latency() + 2 {
            shown.push(r.step(&vector(&d, &[0], &[0], false, false)));
        }
        assert!(shown.iter().all(Option::is_none), "{shown:?}");
    }

    #[test]
    fn the_plan_registers_the_tree_only_where_the_target_needs_it() {
        // 16 lanes, acc 30 bits: an adder level is 0.45 + 0.25 + 0.02·7 = 0.84 ns.
        assert!((adder_ns(30) - 0.84).abs() < 1e-9);
        let ports = lane_ports(dot(1, exact(8, false), &[]).lane.as_ref());
        // 400 MHz: 2.25 ns per stage after the 0.25 ns overhead -> two levels per stage.
        let c = plan(16, ports.clone(), 30, 400.0, false, None);
        assert_eq!(c.tree_levels_per_stage, 2);
        // In, lane, after levels 2 and 4, acc.
        assert_eq!(c.latency(), 2 + 1 + 2);
        // 100 MHz: the whole tree and the accumulator fit one stage.
        let c = plan(16, ports.clone(), 30, 100.0, false, None);
        assert_eq!(c.tree_levels_per_stage, 0);
        assert_eq!(c.latency(), 3);
        // A lane whose estimated path exceeds the period is staged, one that fits is not.
        assert!(plan(16, ports.clone(), 30, 400.0, false, Some(2.4)).lane_staged);
        let c = plan(16, ports, 30, 400.0, false, Some(2.2));
        assert!(!c.lane_staged);
    }

    #[test]
    fn the_default_sum_follows_the_measured_rule() {
        let sum = |yaml: &str| {
            let m: ParamMap = serde_yaml::from_str(yaml).expect("yaml");
            Dot::from_map(&m).expect("valid dot").sum().name()
        };
        let apot = "lane: {family: apot, mag_bits: 4, act_bits: 8}";
        assert_eq!(sum(&format!("{{lanes: 4, {apot}}}")), "heap");
        // PoT: from 16 lanes at 400 MHz, not at the default 300.
        let pot = "lane: {family: pot, mag_bits: 3, act_bits: 8}";
        assert_eq!(sum(&format!("{{lanes: 16, {pot}}}")), "tree");
        assert_eq!(
            sum(&format!("{{lanes: 16, target_mhz: 400, {pot}}}")),
            "heap"
        );
        assert_eq!(
            sum(&format!("{{lanes: 8, target_mhz: 400, {pot}}}")),
            "tree"
        );
        // ESB: up to e = 3 with k >= 1, at any lane count and clock.
        for (e, k) in [(2, 2), (3, 2), (2, 1)] {
            let esb = format!("lane: {{family: esb, exp_bits: {e}, frac_bits: {k}, act_bits: 8}}");
            assert_eq!(sum(&format!("{{lanes: 4, {esb}}}")), "heap");
            assert_eq!(
                sum(&format!("{{lanes: 16, target_mhz: 400, {esb}}}")),
                "heap"
            );
        }
        let e4 = "lane: {family: esb, exp_bits: 4, frac_bits: 2, act_bits: 8}";
        assert_eq!(sum(&format!("{{lanes: 16, {e4}}}")), "tree");
        assert_eq!(sum("{lanes: 4, lane: {family: exact, width: 8}}"), "heap");
    }

    #[test]
    fn bad_parameters_name_the_field() {
        let bad = |m: ParamMap| Dot::from_map(&m).err().expect("refused").0;
        let lane = serde_yaml::to_value(exact(8, false)).expect("map");
        let e = bad(param_map([("lanes", 65u32.into()), ("lane", lane.clone())]));
        assert!(e.contains("lanes = 65") && e.contains("1..=64"), "{e}");
        let e = bad(param_map([("lanes", 4u32.into())]));
        assert!(e.contains("lane"), "{e}");
        let e = bad(param_map([
            ("lane", lane.clone()),
            ("acc_bits", 10u32.into()),
        ]));
        assert!(e.contains("acc_bits = 10") && e.contains("20..=64"), "{e}");
        let mut faulty = exact(8, false);
        faulty.insert("family".into(), "tmr".into());
        faulty.insert("fault_ports".into(), true.into());
        let faulty = serde_yaml::to_value(faulty).expect("map");
        let e = bad(param_map([("lane", faulty)]));
        assert!(e.contains("fault_ports"), "{e}");
        let unknown = serde_yaml::to_value(param_map([("family", "nope".into())])).expect("map");
        let e = bad(param_map([("lane", unknown)]));
        assert!(e.contains("unknown family `nope`"), "{e}");
    }

    #[test]
    fn packing_places_lane_i_at_i_times_w() {
        for (offset, width) in [(0, 64), (60, 8), (63, 2), (64, 13), (100, 28)] {
            let mut words = vec![0u64; 3];
            crate::base::put_bits(&mut words, offset, width, 0xdead_beef_cafe_f00d);
            assert_eq!(
                crate::base::get_bits(&words, offset, width),
                0xdead_beef_cafe_f00d & crate::base::mask(width)
            );
            assert_eq!(
                words.iter().map(|w| w.count_ones()).sum::<u32>(),
                (0xdead_beef_cafe_f00du64 & crate::base::mask(width)).count_ones()
            );
        }
        let mut words = vec![0u64; 1];
        put_lanes(&mut words, 0, 5, &[0x1f, 0x00, 0x15]);
        assert_eq!(words, vec![0x1f | 0x15 << 10]);
        let mut wide = vec![0u64; 2];
        put_lanes(&mut wide, 0, 8, &[0xff; 9]);
        assert_eq!(crate::base::get_bits(&wide, 64, 8), 0xff);
        assert_eq!(crate::base::get_bits(&wide, 60, 8), 0xff);
    }
}
