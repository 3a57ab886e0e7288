//! Fault instrumentation of a mapped netlist: every observed output of every logic cell (LUT
//! outputs, MUXF7/F8 outputs, each CARRY4 sum and carry-out) becomes a fault site that a
//! `fault_site`/`fault_kind` input pair forces to flip, 0 or 1 (the encoding of the units' own
//! fault ports). The result is plain Verilog (rendered from `templates/faulty_netlist.v`) that
//! evaluates 64 operand pairs at once, bit-sliced: every net is 64 bits wide, lane l holding
//! pair l, and port bit i of the unit's port `x` is the 64-bit port `x_i` (see [`lane_port`]).
//! LUTs become their Shannon expansions (folded where INIT allows), so one evaluation costs
//! about what one scalar evaluation does. Run in Verilator like any unit; knows units only
//! through the manifest and the netlist.
//!
//! Configuration-memory upsets: each INIT bit of each observed LUT is a site too (numbered after
//! the output sites, `2^n` numbers per n-input LUT, [`Instrumented::init_sites`] lists the bits
//! its inputs can reach: an input tied to a constant, or two inputs on one net, rule bits out).
//! Selecting one flips the LUT's output for the input combinations that read that bit, whatever
//! `fault_kind` says.

use super::netlist::{nets, Bit, Cell, Netlist};
use crate::emit::{Generated, Manifest, ManifestPort};
use askama::Template;
use std::collections::HashSet;

/// The instrumented model and the names of its sites (site `i + 1` is `sites[i]`).
pub struct Instrumented {
    pub generated: Generated,
    pub sites: Vec<String>,
    /// INIT-bit sites: (site number, name `LUTn cell INIT[k]`), in site order.
    pub init_sites: Vec<(u64, String)>,
}

struct Assign {
    net: String,
    expr: String,
    site: Option<usize>,
    what: String,
    /// For a LUT: its input expressions, to flip one INIT bit.
    lut_inputs: Option<Vec<String>>,
}

/// The INIT bits of a LUT whose inputs `pins` can reach: every k that agrees with the
/// constant inputs and gives inputs on one net the same value.
fn reachable_init_bits(pins: &[Bit]) -> Vec<usize> {
    (0..1usize << pins.len())
        .filter(|&k| {
            pins.iter().enumerate().all(|(i, p)| {
                let v = (k >> i) & 1 == 1;
                match p {
                    Bit::Const(c) => *c == v,
                    Bit::Net(id) => pins[..i]
                        .iter()
                        .enumerate()
                        .all(|(j, q)| *q != Bit::Net(*id) || ((k >> j) & 1 == 1) == v),
                }
            })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "faulty_netlist.v", escape = "none")]
struct FaultyNetlist<'a> {
    unit: &'a str,
    module: &'a str,
    inputs: Vec<String>,
    outputs: Vec<String>,
    site_bits: usize,
    sites: usize,
    assigns: Vec<Assign>,
    drives: Vec<(String, String)>,
}

fn net(id: u64) -> String {
    format!("n{id}")
}

const ZERO: &str = "64'd0";
const ONES: &str = "~64'd0";

fn expr(bit: Bit) -> String {
    match bit {
        Bit::Net(id) => net(id),
        Bit::Const(false) => ZERO.into(),
        Bit::Const(true) => ONES.into(),
    }
}

/// The 64-lane port carrying bit `bit` of the unit's port `port`.
pub fn lane_port(port: &str, bit: usize) -> String {
    format!("{port}_{bit}")
}

/// `s ? one : zero`, bitwise over the lanes, with the constant cases folded.
fn mux(s: &str, one: &str, zero: &str) -> String {
    match (one, zero) {
        (a, b) if a == b => a.to_string(),
        (ONES, ZERO) => s.to_string(),
        (ZERO, ONES) => format!("~{s}"),
        (a, ZERO) => format!("({s} & {a})"),
        (ZERO, b) => format!("(~{s} & {b})"),
        (ONES, b) => format!("({s} | {b})"),
        (a, ONES) => format!("(~{s} | {a})"),
        (a, b) => format!("(({s} & {a}) | (~{s} & {b}))"),
    }
}

/// The LUT's function of its inputs (`inputs[i]` is `Ii`) from its truth table (`table[k]`
/// the output for input combination k, I0 least significant): Shannon expansion on the
/// highest input, constant halves folded.
fn lut_expr(table: &[bool], inputs: &[String]) -> String {
    match inputs.split_last() {
        None => if table[0] { ONES } else { ZERO }.to_string(),
        Some((top, rest)) => {
            let half = table.len() / 2;
            mux(
                top,
                &lut_expr(&table[half..], rest),
                &lut_expr(&table[..half], rest),
            )
        }
    }
}

/// Builds the assigns cell by cell, numbering sites as it goes.
struct Builder<'a> {
    /// Nets read by a cell input or an output port.
    read: &'a HashSet<u64>,
    assigns: Vec<Assign>,
    sites: Vec<String>,
}

impl Builder<'_> {
    fn observed(&self, bit: Option<&Bit>) -> bool {
        matches!(bit, Some(Bit::Net(id)) if self.read.contains(id))
    }

    /// Drive `out` (a net of this cell, or an internal name when `None`) with `value`; a site
    /// when `site` is set.
    fn drive(
        &mut self,
        cell: &Cell,
        out: Option<&Bit>,
        internal: String,
        value: String,
        pin: &str,
        site: bool,
    ) -> String {
        let name = match out {
            Some(Bit::Net(id)) => net(*id),
            _ => internal,
        };
        let what = format!("{} {} {pin}", cell.kind, cell.name);
        let site = site.then(|| {
            self.sites.push(what.clone());
            self.sites.len()
        });
        self.assigns.push(Assign {
            net: name.clone(),
            expr: value,
            site,
            what,
            lut_inputs: None,
        });
        name
    }
}

/// Instrument the flattened netlist of the unit described by `manifest`; with `init`, the
/// LUTs' INIT bits are sites too.
pub fn instrument(
    netlist: &Netlist,
    manifest: &Manifest,
    with_init: bool,
) -> Result<Instrumented, String> {
    let unit = &manifest.module;
    let mut read: HashSet<u64> = netlist
        .cells
        .iter()
        .flat_map(|c| c.inputs.iter().copied())
        .collect();
    for p in netlist.ports.iter().filter(|p| p.output) {
        read.extend(nets(&p.bits));
    }
    let mut b = Builder {
        read: &read,
        assigns: Vec::new(),
        sites: Vec::new(),
    };
    // Observed LUTs: (assign index, reachable INIT bits).
    let mut luts: Vec<(usize, Vec<usize>)> = Vec::new();
    for p in netlist.ports.iter().filter(|p| !p.output) {
        for (i, bit) in p.bits.iter().enumerate() {
            if let Bit::Net(id) = bit {
                b.assigns.push(Assign {
                    net: net(*id),
                    expr: lane_port(&p.name, i),
                    site: None,
                    what: format!("input {}[{i}]", p.name),
                    lut_inputs: None,
                });
            }
        }
    }
    for (index, cell) in netlist.cells.iter().enumerate() {
        let pin = |name: &str| cell.pin(name).first().copied().unwrap_or(Bit::Const(false));
        let kind = cell.kind.as_str();
        match kind {
            "$scopeinfo" => {}
            // I/O buffers are artefacts of synthesising the unit as a top level: wires here.
            "IBUF" | "OBUF" | "BUF" => {
                b.drive(cell, cell.pin("O").first(), String::new(), expr(pin("I")), "O", false);
            }
            // An inverter is a LUT1: a fault site of its own.
            "INV" => {
                let o = cell.pin("O").first();
                let site = b.observed(o);
                b.drive(cell, o, String::new(), format!("~{}", expr(pin("I"))), "O", site);
            }
            "MUXF7" | "MUXF8" => {
                let value = mux(&expr(pin("S")), &expr(pin("I1")), &expr(pin("I0")));
                let o = cell.pin("O").first();
                let site = b.observed(o);
                b.drive(cell, o, String::new(), value, "O", site);
            }
            k if k.len() == 4 && k.starts_with("LUT") => {
                let n: usize = k[3..].parse().map_err(|_| format!("unknown cell {k}"))?;
                let init = cell
                    .init
                    .as_deref()
                    .filter(|i| i.len() == 1 << n && i.bytes().all(|c| c == b'0' || c == b'1'))
                    .ok_or_else(|| format!("{k} {} has no {}-bit INIT", cell.name, 1 << n))?;
                // INIT is written MSB first: character 2^n - 1 - k is the output for input
                // combination k (I0 least significant).
                let table: Vec<bool> = init.bytes().rev().map(|c| c == b'1').collect();
                let inputs: Vec<String> = (0..n).map(|i| expr(pin(&format!("I{i}")))).collect();
                let value = lut_expr(&table, &inputs);
                let o = cell.pin("O").first();
                let site = b.observed(o);
                b.drive(cell, o, String::new(), value, "O", site);
                if site && with_init {
                    let pins: Vec<Bit> = (0..n).map(|i| pin(&format!("I{i}"))).collect();
                    if let Some(a) = b.assigns.last_mut() {
                        a.lut_inputs = Some(inputs);
                    }
                    luts.push((b.assigns.len() - 1, reachable_init_bits(&pins)));
                }
            }
            "CARRY4" => {
                let (co, o, s, di) = (cell.pin("CO"), cell.pin("O"), cell.pin("S"), cell.pin("DI"));
                let bit = |v: &[Bit], j: usize| v.get(j).copied().unwrap_or(Bit::Const(false));
                // CO[j] also feeds the sum and carry of position j + 1.
                let mut observed = [(false, false); 4];
                for j in (0..4).rev() {
                    let later = j < 3 && (observed[j + 1].0 || observed[j + 1].1);
                    observed[j] = (b.observed(o.get(j)), b.observed(co.get(j)) || later);
                }
                let (ci, cyinit) = (expr(pin("CI")), expr(pin("CYINIT")));
                let mut carry = match (ci.as_str(), cyinit.as_str()) {
                    (ZERO, x) | (x, ZERO) => x.to_string(),
                    _ => format!("({ci} | {cyinit})"),
                };
                for (j, &(o_seen, co_seen)) in observed.iter().enumerate() {
                    let (sj, dj) = (expr(bit(s, j)), expr(bit(di, j)));
                    let sum = format!("({sj} ^ {carry})");
                    let o_name = format!("O[{j}]");
                    b.drive(cell, o.get(j), format!("c{index}_o{j}"), sum, &o_name, o_seen);
                    carry = b.drive(
                    cell,
                        co.get(j),
                        format!("c{index}_co{j}"),
                        mux(&sj, &carry, &dj),
                        &format!("CO[{j}]"),
                        co_seen,
                    );
                }
            }
            other => {
                return Err(format!(
                    "{unit}: cell {other} ({}) cannot be instrumented: fault campaigns take combinational units (no pipeline)",
                    cell.name
                ))
            }
        }
    }
    let Builder {
        mut assigns, sites, ..
    } = b;
    // INIT sites after the output sites: 2^n numbers per LUT, from `base`.
    let init_total: usize = luts
        .iter()
        .map(|(a, _)| 1usize << assigns[*a].lut_inputs.as_ref().map_or(0, Vec::len))
        .sum();
    // Wide enough for the end of the last range (one past the last site).
    let last = sites.len() + init_total + usize::from(init_total > 0);
    let site_bits = (u64::BITS - (last as u64).leading_zeros()).max(1) as usize;
    let mut init_sites = Vec::new();
    let mut base = sites.len() + 1;
    for (a, bits) in &luts {
        let a = &mut assigns[*a];
        let inputs = a.lut_inputs.clone().unwrap_or_default();
        let end = base + (1 << inputs.len());
        // Lanes whose inputs read bit k = fault_site - base: every input equals bit i of k.
        let k = format!("(fault_site - {site_bits}'d{base})");
        let reads: Vec<String> = inputs
            .iter()
            .enumerate()
            .map(|(i, x)| {
                format!("({{64{{(({k} >> {i}) & {site_bits}'d1) == {site_bits}'d1}}}} ~^ {x})")
            })
            .collect();
        a.expr = format!(
            "({}) ^ ({{64{{fault_site >= {site_bits}'d{base} && fault_site < {site_bits}'d{end}}}}} & {})",
            a.expr,
            reads.join(" & ")
        );
        for &bit in bits {
            init_sites.push((
                (base + bit) as u64,
                format!("{} INIT[{bit}]", a.what.trim_end_matches(" O")),
            ));
        }
        base = end;
    }
    let mut drives = Vec::new();
    for p in netlist.ports.iter().filter(|p| p.output) {
        for (i, bit) in p.bits.iter().enumerate() {
            drives.push((lane_port(&p.name, i), expr(*bit)));
        }
    }
    let module = format!("{unit}_faulty");
    let lanes = |p: &ManifestPort| -> Vec<ManifestPort> {
        (0..p.width)
            .map(|i| ManifestPort {
                name: lane_port(&p.name, i),
                direction: p.direction.clone(),
                width: 64,
                signed: false,
            })
            .collect()
    };
    let lane_inputs: Vec<ManifestPort> = manifest.inputs().flat_map(lanes).collect();
    let lane_outputs: Vec<ManifestPort> = manifest.outputs().flat_map(lanes).collect();
    let fault_inputs =
        [("fault_site", site_bits), ("fault_kind", 2)].map(|(name, width)| ManifestPort {
            name: name.into(),
            direction: "input".into(),
            width,
            signed: false,
        });
    let names = |ports: &[ManifestPort]| ports.iter().map(|p| p.name.clone()).collect();
    let (inputs, outputs) = (names(&lane_inputs), names(&lane_outputs));
    let ports: Vec<ManifestPort> = lane_inputs
        .into_iter()
        .chain(fault_inputs)
        .chain(lane_outputs)
        .collect();
    let verilog = FaultyNetlist {
        unit,
        module: &module,
        inputs,
        outputs,
        site_bits,
        sites: sites.len(),
        assigns,
        drives,
    }
    .render()
    .map_err(|e| format!("cannot render the instrumented netlist: {e}"))?;
    Ok(Instrumented {
        generated: Generated {
            name: module.clone(),
            manifest: Manifest {
                module,
                ports,
                latency: 0,
                clock: None,
                clock_enable: None,
                valid: None,
                pipeline: None,
                sha256: crate::emit::sha256_hex(verilog.as_bytes()),
                ..manifest.clone()
            },
            verilog,
        },
        sites,
        init_sites,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lut(init: &str, inputs: &[&str]) -> String {
        let table: Vec<bool> = init.bytes().rev().map(|c| c == b'1').collect();
        let inputs: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
        lut_expr(&table, &inputs)
    }

    /// INIT strings are MSB first (character 0 is the output for all inputs 1).
    #[test]
    fn luts_become_folded_shannon_expansions() {
        assert_eq!(lut("0110", &["x", "y"]), "((y & ~x) | (~y & x))"); // XOR
        assert_eq!(lut("1000", &["x", "y"]), "(y & x)"); // AND
        assert_eq!(lut("1110", &["x", "y"]), "(y | x)"); // OR
        assert_eq!(lut("01", &["x"]), "~x"); // NOT
        assert_eq!(lut("1100", &["x", "y"]), "y"); // I1 only
        assert_eq!(lut("0000", &["x", "y"]), ZERO);
        assert_eq!(lut("11111111", &["x", "y", "z"]), ONES);
        // MUX: I2 ? I1 : I0.
        assert_eq!(lut("11001010", &["a", "b", "s"]), "((s & b) | (~s & a))");
    }

    #[test]
    fn init_bits_are_those_the_inputs_can_reach() {
        let (x, y) = (Bit::Net(7), Bit::Net(8));
        assert_eq!(reachable_init_bits(&[x, y]), vec![0, 1, 2, 3]);
        // I1 tied to 1: only k with bit 1 set.
        assert_eq!(reachable_init_bits(&[x, Bit::Const(true)]), vec![2, 3]);
        // I0 and I2 on one net: bits 0 and 2 of k agree.
        assert_eq!(reachable_init_bits(&[x, y, x]), vec![0, 2, 5, 7]);
    }
}
