//! The mapped netlist as Yosys writes it (`write_json`, flattened): cells, their types and
//! connections. Counts cells by kind and finds the longest combinational path.

use std::collections::{BTreeMap, HashMap};

/// One bit of a connection: a net or a constant (Yosys writes `x`/`z` as strings too; they
/// read as 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bit {
    Net(u64),
    Const(bool),
}

/// A named, directed group of bits: a cell's port or a module port.
#[derive(Clone, Debug)]
pub struct Pin {
    pub name: String,
    pub output: bool,
    pub bits: Vec<Bit>,
}

/// One cell: its type, its `INIT` parameter (LUTs) and its pins; `inputs`/`outputs` list the
/// nets of all input/output pins.
#[derive(Clone, Debug)]
pub struct Cell {
    pub name: String,
    pub kind: String,
    pub init: Option<String>,
    pub pins: Vec<Pin>,
    pub inputs: Vec<u64>,
    pub outputs: Vec<u64>,
}

impl Cell {
    /// The bits of pin `name` (empty when the cell has no such pin).
    pub fn pin(&self, name: &str) -> &[Bit] {
        self.pins
            .iter()
            .find(|p| p.name == name)
            .map_or(&[], |p| p.bits.as_slice())
    }
}

/// The top module of a flattened netlist.
#[derive(Clone, Debug)]
pub struct Netlist {
    pub cells: Vec<Cell>,
    /// The module's ports, in the netlist's order.
    pub ports: Vec<Pin>,
    /// Output ports whose every bit is a constant (logic that synthesis proved dead).
    pub constant_outputs: Vec<String>,
}

fn bits_of(value: &serde_json::Value) -> Vec<Bit> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| match b.as_u64() {
            Some(id) => Bit::Net(id),
            None => Bit::Const(b.as_str() == Some("1")),
        })
        .collect()
}

/// The net ids among `bits` (constants skipped).
pub fn nets(bits: &[Bit]) -> impl Iterator<Item = u64> + '_ {
    bits.iter().filter_map(|b| match b {
        Bit::Net(id) => Some(*id),
        Bit::Const(_) => None,
    })
}

/// Cell counts and depth of a netlist, as `synth` reports them.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NetlistStats {
    /// LUT1..LUT6 cells.
    pub lut: u64,
    pub lut_by_size: BTreeMap<String, u64>,
    /// Carry cells as mapped (Yosys maps CARRY4 even for UltraScale+).
    pub carry: u64,
    /// The same chains counted in CARRY8 cells (two CARRY4 per CARRY8, rounded up).
    pub carry8_equivalent: u64,
    pub muxf7: u64,
    pub muxf8: u64,
    /// Flip-flops (FDRE, FDSE, FDCE, FDPE).
    pub ff: u64,
    /// LUTs on the longest combinational path (inputs or FF outputs to outputs or FF inputs).
    pub depth_luts: u64,
    /// Cells (LUTs, carries, muxes) on the longest combinational path.
    pub depth_cells: u64,
    /// Outputs synthesis tied to constants (e.g. an `err` whose checker was optimised away).
    pub constant_outputs: Vec<String>,
    /// The worst register-to-register (or port) path under the ARITHMETIC.md §5 timing model,
    /// in ns: an estimate, not Vivado timing.
    pub path_ns: f64,
    /// `min(775, 1000 / path_ns)` MHz (§5; 775 MHz is the -2 global clock limit).
    pub fmax_est_mhz: f64,
}

pub use crate::timing::{fmax_est_mhz, CARRY_CHAIN_NS, CARRY_ENTRY_NS, LUT_NS, PATH_OVERHEAD_NS};

fn is_carry(kind: &str) -> bool {
    matches!(kind, "CARRY4" | "CARRY8")
}

fn is_ff(kind: &str) -> bool {
    matches!(kind, "FDRE" | "FDSE" | "FDCE" | "FDPE")
}

/// A shift register in a LUT (Yosys maps a chain of registers without logic between them to
/// one): a LUT of the device (Vivado counts it in "CLB LUTs", as memory), and clocked, so
/// paths start and end at it like at a flip-flop.
fn is_srl(kind: &str) -> bool {
    kind.starts_with("SRL")
}

fn is_clocked(kind: &str) -> bool {
    is_ff(kind) || is_srl(kind)
}

/// A LUT cell; Yosys' `INV` is a LUT1 on the device.
fn is_lut(kind: &str) -> bool {
    kind == "INV" || (kind.len() == 4 && kind.starts_with("LUT"))
}

impl Netlist {
    pub fn parse(text: &str, module: &str) -> Result<Netlist, String> {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not a Yosys JSON netlist: {e}"))?;
        let cells = json["modules"][module]["cells"]
            .as_object()
            .ok_or_else(|| format!("no module `{module}` with cells in the netlist"))?;
        let mut out = Vec::new();
        for (name, cell) in cells {
            let kind = cell["type"].as_str().unwrap_or_default().to_string();
            let dirs = cell["port_directions"].as_object();
            let pins: Vec<Pin> = cell["connections"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(port, bits)| Pin {
                    name: port.clone(),
                    output: dirs.and_then(|d| d.get(port)).and_then(|d| d.as_str())
                        == Some("output"),
                    bits: bits_of(bits),
                })
                .collect();
            let collect = |output: bool| -> Vec<u64> {
                pins.iter()
                    .filter(|p| p.output == output)
                    .flat_map(|p| nets(&p.bits))
                    .collect()
            };
            out.push(Cell {
                name: name.clone(),
                init: cell["parameters"]["INIT"].as_str().map(String::from),
                inputs: collect(false),
                outputs: collect(true),
                kind,
                pins,
            });
        }
        let ports: Vec<Pin> = json["modules"][module]["ports"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, p)| Pin {
                name: name.clone(),
                output: p["direction"] == "output",
                bits: bits_of(&p["bits"]),
            })
            .collect();
        let constant_outputs = ports
            .iter()
            .filter(|p| p.output && p.bits.iter().all(|b| matches!(b, Bit::Const(_))))
            .map(|p| p.name.clone())
            .collect();
        Ok(Netlist {
            cells: out,
            ports,
            constant_outputs,
        })
    }

    pub fn stats(&self) -> NetlistStats {
        let mut s = NetlistStats::default();
        let mut carry4 = 0;
        let mut carry8 = 0;
        for c in &self.cells {
            let k = c.kind.as_str();
            if is_lut(k) {
                s.lut += 1;
                let size = if k == "INV" { "LUT1" } else { k };
                *s.lut_by_size.entry(size.to_string()).or_default() += 1;
            } else if is_ff(k) {
                s.ff += 1;
            } else if is_srl(k) {
                s.lut += 1;
                *s.lut_by_size.entry(k.to_string()).or_default() += 1;
            }
            match k {
                "CARRY4" => carry4 += 1,
                "CARRY8" => carry8 += 1,
                "MUXF7" => s.muxf7 += 1,
                "MUXF8" => s.muxf8 += 1,
                _ => {}
            }
        }
        s.carry = carry4 + carry8;
        s.carry8_equivalent = carry8 + carry4.div_ceil(2);
        let paths = self.paths();
        (s.depth_luts, s.depth_cells) = (paths.luts, paths.cells);
        s.path_ns = paths.ns;
        s.fmax_est_mhz = fmax_est_mhz(paths.ns);
        s.constant_outputs = self.constant_outputs.clone();
        s
    }

    /// The longest combinational paths. Paths start at module inputs and FF outputs and end
    /// at module outputs and FF inputs. For the depth every input of a cell is taken to reach
    /// every output (exact for LUTs, conservative for carry chains); the delay follows the §5
    /// model pin by pin (a carry chain's CI is the cheap input).
    pub fn paths(&self) -> Paths {
        let mut driver: HashMap<u64, usize> = HashMap::new();
        for (i, c) in self.cells.iter().enumerate() {
            if !is_clocked(&c.kind) {
                for &o in &c.outputs {
                    driver.insert(o, i);
                }
            }
        }
        // At each combinational cell's outputs: (LUTs, cells, ns), computed once per cell
        // (iteratively: carry chains are long). FF outputs and ports start at 0.
        let mut memo: Vec<Option<(u64, u64, f64)>> = vec![None; self.cells.len()];
        for start in 0..self.cells.len() {
            if is_clocked(&self.cells[start].kind) {
                continue;
            }
            let mut stack = vec![(start, false)];
            while let Some((i, expanded)) = stack.pop() {
                if memo[i].is_some() {
                    continue;
                }
                let cell = &self.cells[i];
                if !expanded {
                    stack.push((i, true));
                    stack.extend(
                        cell.inputs
                            .iter()
                            .filter_map(|b| driver.get(b))
                            .filter(|&&p| memo[p].is_none())
                            .map(|&p| (p, false)),
                    );
                    continue;
                }
                // A cycle (none in a mapped combinational netlist) would leave a driver unset.
                let at = |net: &u64| driver.get(net).and_then(|&p| memo[p]);
                let (mut luts, mut cells, mut ns) = (0, 0, 0.0f64);
                for pin in cell.pins.iter().filter(|p| !p.output) {
                    let step = if !is_carry(&cell.kind) {
                        if is_lut(&cell.kind) || cell.kind.starts_with("MUXF") {
                            LUT_NS
                        } else {
                            0.0 // I/O buffers and constant drivers
                        }
                    } else if pin.name == "CI" || pin.name == "CI_TOP" {
                        CARRY_CHAIN_NS
                    } else {
                        CARRY_ENTRY_NS
                    };
                    for (l, c, t) in nets(&pin.bits).filter_map(|n| at(&n)) {
                        luts = luts.max(l);
                        cells = cells.max(c);
                        ns = ns.max(t + step);
                    }
                    // A pin driven by a port, an FF or a constant enters at time 0.
                    if nets(&pin.bits).next().is_some() {
                        ns = ns.max(step);
                    }
                }
                let own = u64::from(is_lut(&cell.kind));
                memo[i] = Some((luts + own, cells + 1, ns));
            }
        }
        let mut best = Paths::default();
        for (l, c, _) in memo.iter().flatten() {
            best.luts = best.luts.max(*l);
            best.cells = best.cells.max(*c);
        }
        // Endpoints: the nets read by FFs (all their inputs but the clock) and output ports.
        let ends = self
            .cells
            .iter()
            .filter(|c| is_clocked(&c.kind))
            .flat_map(|c| {
                c.pins
                    .iter()
                    .filter(|p| !p.output && p.name != "C" && p.name != "CLK")
            })
            .chain(self.ports.iter().filter(|p| p.output))
            .flat_map(|p| nets(&p.bits));
        let worst = ends
            .filter_map(|n| driver.get(&n).and_then(|&d| memo[d]))
            .map(|(_, _, ns)| ns)
            .fold(0.0, f64::max);
        best.ns = worst + PATH_OVERHEAD_NS;
        best
    }
}

/// The longest combinational paths of a netlist (see [`Netlist::paths`]).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Paths {
    /// LUTs on the path with most LUTs.
    pub luts: u64,
    /// Cells (LUTs, carries, muxes) on the path with most cells.
    pub cells: u64,
    /// The slowest path under the §5 timing model, overhead included.
    pub ns: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// a -> LUT2 -> CARRY4 -> LUT1 -> FF -> LUT3 -> p: the longest path has 2 LUTs and 3 cells.
    #[test]
    fn counts_and_depth_of_a_small_netlist() {
        let text = r#"{"modules": {"top": {
          "ports": {"a": {"direction": "input", "bits": [2, 3]},
                    "p": {"direction": "output", "bits": [17]},
                    "err": {"direction": "output", "bits": ["0"]}},
          "cells": {
            "l1": {"type": "LUT2", "port_directions": {"I0": "input", "I1": "input", "O": "output"},
                   "connections": {"I0": [2], "I1": [3], "O": [10]}},
            "c1": {"type": "CARRY4", "port_directions": {"S": "input", "CO": "output"},
                   "connections": {"S": [10, "0", "0", "0"], "CO": [11, 12, 13, 14]}},
            "l2": {"type": "LUT1", "port_directions": {"I0": "input", "O": "output"},
                   "connections": {"I0": [14], "O": [15]}},
            "f1": {"type": "FDRE", "port_directions": {"D": "input", "Q": "output"},
                   "connections": {"D": [15], "Q": [16]}},
            "l3": {"type": "LUT3", "port_directions": {"I0": "input", "I1": "input", "I2": "input", "O": "output"},
                   "connections": {"I0": [16], "I1": [2], "I2": [3], "O": [17]}}
        }}}}"#;
        let n = Netlist::parse(text, "top").unwrap();
        let s = n.stats();
        assert_eq!((s.lut, s.carry, s.carry8_equivalent, s.ff), (3, 1, 1, 1));
        assert_eq!(s.lut_by_size["LUT2"], 1);
        assert_eq!((s.depth_luts, s.depth_cells), (2, 3));
        assert_eq!(n.constant_outputs, vec!["err".to_string()]);
        assert!(Netlist::parse(text, "other").is_err());
        // §5: a -> LUT2 0.45 -> CARRY4 (entered at S) 0.25 -> LUT1 0.45 -> FF, plus 0.25 once;
        // the FF -> LUT3 -> p path is 0.45 + 0.25.
        assert!((s.path_ns - 1.40).abs() < 1e-9, "{}", s.path_ns);
        assert!((s.fmax_est_mhz - 1000.0 / 1.40).abs() < 1e-9);
    }

    /// A carry chain entered at the first cell's S and left at the third cell's CO: 0.25 for
    /// the entry and 0.02 per further cell (§5); a lone LUT is capped at 775 MHz.
    #[test]
    fn the_timing_model_follows_carry_chains_and_caps_fmax() {
        let text = r#"{"modules": {"top": {
          "ports": {"a": {"direction": "input", "bits": [2]},
                    "p": {"direction": "output", "bits": [22]}},
          "cells": {
            "c1": {"type": "CARRY4", "port_directions": {"S": "input", "DI": "input", "CI": "input", "CO": "output", "O": "output"},
                   "connections": {"S": [2, "0", "0", "0"], "DI": ["0", "0", "0", "0"], "CI": ["0"], "CO": [10, 11, 12, 13], "O": [14, 15, 16, 17]}},
            "c2": {"type": "CARRY4", "port_directions": {"S": "input", "DI": "input", "CI": "input", "CO": "output", "O": "output"},
                   "connections": {"S": ["1", "1", "1", "1"], "DI": ["0", "0", "0", "0"], "CI": [13], "CO": [18, 19, 20, 21], "O": [40, 41, 42, 43]}},
            "c3": {"type": "CARRY4", "port_directions": {"S": "input", "DI": "input", "CI": "input", "CO": "output", "O": "output"},
                   "connections": {"S": ["1", "1", "1", "1"], "DI": ["0", "0", "0", "0"], "CI": [21], "CO": [50, 51, 52, 53], "O": [22, 23, 24, 25]}}
        }}}}"#;
        let s = Netlist::parse(text, "top").unwrap().stats();
        assert!(
            (s.path_ns - (0.25 + 2.0 * 0.02 + 0.25)).abs() < 1e-9,
            "{}",
            s.path_ns
        );
        assert_eq!((s.depth_luts, s.depth_cells), (0, 3));
        let lone = r#"{"modules": {"top": {
          "ports": {"a": {"direction": "input", "bits": [2]}, "q": {"direction": "output", "bits": [3]}},
          "cells": {"l1": {"type": "LUT1", "port_directions": {"I0": "input", "O": "output"},
                           "connections": {"I0": [2], "O": [3]}}}}}}"#;
        let s = Netlist::parse(lone, "top").unwrap().stats();
        assert!((s.path_ns - 0.70).abs() < 1e-9);
        assert_eq!(s.fmax_est_mhz, 775.0);
    }
}
