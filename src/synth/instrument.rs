//! Fault instrumentation of a mapped netlist: every observed output of every logic cell (LUT
//! outputs, MUXF7/F8 outputs, each CARRY4 sum and carry-out) becomes a fault site that a
//! `fault_site`/`fault_kind` input pair forces to flip, 0 or 1 (the encoding of the units' own
//! fault ports). The result is plain Verilog (rendered from `templates/faulty_netlist.v`)
//! with the unit's ports plus the two fault inputs, run in Verilator like any unit. Knows
//! units only through the manifest and the netlist.

use super::netlist::{nets, Bit, Cell, Netlist};
use crate::emit::{Generated, Manifest, ManifestPort};
use askama::Template;
use std::collections::HashSet;

/// The instrumented model and the names of its sites (site `i + 1` is `sites[i]`).
pub struct Instrumented {
    pub generated: Generated,
    pub sites: Vec<String>,
}

struct Assign {
    net: String,
    expr: String,
    site: Option<usize>,
    what: String,
}

#[derive(Template)]
#[template(path = "faulty_netlist.v", escape = "none")]
struct FaultyNetlist<'a> {
    unit: &'a str,
    module: &'a str,
    inputs: Vec<&'a ManifestPort>,
    outputs: Vec<&'a ManifestPort>,
    site_bits: usize,
    sites: usize,
    assigns: Vec<Assign>,
    drives: Vec<(String, String)>,
}

fn net(id: u64) -> String {
    format!("n{id}")
}

fn expr(bit: Bit) -> String {
    match bit {
        Bit::Net(id) => net(id),
        Bit::Const(b) => format!("1'b{}", u8::from(b)),
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
        });
        name
    }
}

/// Instrument the flattened netlist of the unit described by `manifest`.
pub fn instrument(netlist: &Netlist, manifest: &Manifest) -> Result<Instrumented, String> {
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
    for p in netlist.ports.iter().filter(|p| !p.output) {
        for (i, bit) in p.bits.iter().enumerate() {
            if let Bit::Net(id) = bit {
                b.assigns.push(Assign {
                    net: net(*id),
                    expr: format!("{}[{i}]", p.name),
                    site: None,
                    what: format!("input {}[{i}]", p.name),
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
            "MUXF7" | "MUXF8" => {
                let value = format!("{} ? {} : {}", expr(pin("S")), expr(pin("I1")), expr(pin("I0")));
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
                // INIT is written MSB first; the inputs select a bit, I0 least significant.
                let select: Vec<String> = (0..n).rev().map(|i| expr(pin(&format!("I{i}")))).collect();
                let w = 1 << n;
                let value = format!("(({w}'b{init} >> {{{}}}) & {w}'d1) != {w}'d0", select.join(", "));
                let o = cell.pin("O").first();
                let site = b.observed(o);
                b.drive(cell, o, String::new(), value, "O", site);
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
                let mut carry = format!("({} | {})", expr(pin("CI")), expr(pin("CYINIT")));
                for (j, &(o_seen, co_seen)) in observed.iter().enumerate() {
                    let (sj, dj) = (expr(bit(s, j)), expr(bit(di, j)));
                    b.drive(cell, o.get(j), format!("c{index}_o{j}"), format!("{sj} ^ {carry}"), &format!("O[{j}]"), o_seen);
                    carry = b.drive(
                    cell,
                        co.get(j),
                        format!("c{index}_co{j}"),
                        format!("{sj} ? {carry} : {dj}"),
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
    let Builder { assigns, sites, .. } = b;
    let mut drives = Vec::new();
    for p in netlist.ports.iter().filter(|p| p.output) {
        for (i, bit) in p.bits.iter().enumerate() {
            drives.push((format!("{}[{i}]", p.name), expr(*bit)));
        }
    }
    let site_bits = (u64::BITS - (sites.len() as u64).leading_zeros()).max(1) as usize;
    let module = format!("{unit}_faulty");
    let mut ports: Vec<ManifestPort> = manifest.inputs().cloned().collect();
    for (name, width) in [("fault_site", site_bits), ("fault_kind", 2)] {
        ports.push(ManifestPort {
            name: name.into(),
            direction: "input".into(),
            width,
            signed: false,
        });
    }
    ports.extend(manifest.outputs().cloned());
    let verilog = FaultyNetlist {
        unit,
        module: &module,
        inputs: manifest.inputs().collect(),
        outputs: manifest.outputs().collect(),
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
                sha256: crate::emit::sha256_hex(verilog.as_bytes()),
                ..manifest.clone()
            },
            verilog,
        },
        sites,
    })
}
