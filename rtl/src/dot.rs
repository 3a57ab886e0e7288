//! RTL of `dot` (model side: `src/units/dot.rs`): N lanes of one unit, a binary adder tree, an
//! accumulator, optionally behind AXI4-Stream (ARITHMETIC.md §5).
//!
//! The lane count, the lane's ports and the pipeline plan are run-time values, so this block is
//! assembled at run time: lanes are the families' own rust-hdl blocks ([`AnyBlock`]), registers
//! are rust-hdl `DFF`s, and the glue between them is a rust-hdl Verilog AST built here (the
//! `always @(*)` block rust-hdl prints for an `#[hdl_gen]` update). Signals of run-time width
//! (the N-lane operand ports) are [`Wire`] atoms. The sum never sees which family feeds it: it
//! adds two's complement or unsigned rows.
//!
//! Pipeline (every register loads only while `ce`, which is 1 without AXI4-Stream):
//! input registers per lane and port, then optionally a register after each lane's product,
//! then the adder tree with a register after every `tree_levels_per_stage`-th adder level
//! (the accumulator's adder counts as the level after the tree's last), then the accumulator
//! and `out_valid`. Control bits (`valid`, `last`, the OR of the lanes' `err`) travel
//! beside the data through the same stages.

use crate::assembly::{bin, gated, lit, not, sig, slice, Assembly, Atoms, Expr, Instance, Wire};
use crate::heap::{self, Heap, LaneRows, LaneSignals, Operand};
use crate::AnyBlock;
use rust_hdl::prelude::ast::VerilogOp;
use rust_hdl::prelude::*;

/// The lane module's name inside the dot (`NAME__lane` after emission's renaming).
const LANE_MODULE: &str = "top$lane";

/// The lane unit as the sum sees it: its input ports, its product, whether it has `err`.
#[derive(Clone, Debug)]
pub struct LanePorts {
    /// Input ports (name, width), in port order.
    pub inputs: Vec<(String, usize)>,
    /// Name and width of the product port.
    pub product: (String, usize),
    /// The product is two's complement.
    pub product_signed: bool,
    /// Name of the error port, for units that have one.
    pub err: Option<String>,
    /// For a sign-magnitude lane: the name of its sign port (the product port then being the
    /// magnitude, its top bit 0) and where ~m goes. The sum applies the sign as -m = ~m + 1,
    /// the +1 as the carry input of one adder of the tree or of the accumulator, which have
    /// exactly N carry inputs for the N lanes.
    pub negative: Option<(String, Inversion)>,
}

/// Where a sign-magnitude lane's ~m is computed: whichever LUTs it merges into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inversion {
    /// Right after the lane, before its register: for a magnitude that comes out of a mux
    /// (a shifter), whose LUTs take the inversion for free.
    InLane,
    /// In the LUTs of the first adder of the sum: for a magnitude that comes out of an adder,
    /// where an inversion of its own would cost a LUT per bit.
    InSum,
}

/// Everything the RTL needs, already validated by the model side.
#[derive(Clone, Debug)]
pub struct DotConfig {
    pub lanes: usize,
    pub lane: LanePorts,
    pub acc_bits: usize,
    /// The lane block has a register inside (ports `clk` and `ce`, latency 1).
    pub lane_staged: bool,
    /// A register after each lane's product.
    pub lane_register: bool,
    /// Adder levels between tree registers (0: no register inside the tree).
    pub tree_levels_per_stage: usize,
    /// AXI4-Stream slave and master instead of the plain ports.
    pub axis: bool,
    /// The sum of the lanes: `None`, each lane's product into the adder tree; or every lane's
    /// partial products in one bit heap ([`crate::heap`]), set by [`DotConfig::set_heap`].
    pub heap: Option<LaneRows>,
    /// The heap's compression plan, made once with the heap.
    pub heap_plan: Option<heap::Plan>,
    /// The §5 path allowed between registers, ns (the heap's registers are placed by it).
    pub budget_ns: f64,
}

impl DotConfig {
    /// Adder levels of the tree (0 for one lane).
    pub fn tree_levels(&self) -> usize {
        self.lanes.next_power_of_two().trailing_zeros() as usize
    }

    /// Whether a register follows adder level `level` (1-based; `tree_levels() + 1` is the
    /// accumulator, which is always registered).
    pub fn registered_after(&self, level: usize) -> bool {
        let k = self.tree_levels_per_stage;
        level > self.tree_levels() || (k > 0 && level.is_multiple_of(k))
    }

    /// Clock cycles from a vector's cycle to its result: the input registers, the lane
    /// register, the tree registers, the accumulator.
    pub fn latency(&self) -> u32 {
        if let Some(plan) = &self.heap_plan {
            return 2 + plan.latency();
        }
        let tree = (1..=self.tree_levels())
            .filter(|&l| self.registered_after(l))
            .count();
        (2 + usize::from(self.lane_staged) + usize::from(self.lane_register) + tree) as u32
    }

    /// Width of the vector sum S: the product grown by one bit per tree level.
    pub fn sum_bits(&self) -> usize {
        self.lane.product.1 + self.tree_levels()
    }

    /// The lanes' bits in one heap, made of the input registers' outputs (logic the lanes add,
    /// such as tables, goes into `m`).
    pub fn heap_bits(&self, rows: &LaneRows, m: &mut Assembly) -> Heap {
        let mut h = Heap::new(self.sum_bits());
        self.add_lane_bits(rows, m, &mut h);
        h
    }

    /// Every lane's bits into `h`.
    fn add_lane_bits(&self, rows: &LaneRows, m: &mut Assembly, h: &mut Heap) {
        for i in 0..self.lanes {
            let signals = LaneSignals {
                operands: (self.lane.inputs.iter())
                    .map(|(port, _)| Operand {
                        signal: format!("lane_{i}_{port}_r$q"),
                        offset: 0,
                    })
                    .collect(),
                registered: (rows.registered.iter())
                    .map(|(name, _, _)| format!("lane_{i}_{name}_r$q"))
                    .collect(),
            };
            (rows.add)(h, m, &signals);
        }
    }

    /// Sum the lanes in a heap of `rows`, planning its compression (the accumulator's adder
    /// follows the heap's result).
    pub fn set_heap(&mut self, rows: LaneRows) {
        let heap = self.heap_bits(&rows, &mut Assembly::default());
        let acc_ns = crate::timing::adder_ns(self.acc_bits);
        let plan = heap::plan(&heap.columns(), heap.width, rows.ns, self.budget_ns, acc_ns);
        self.heap = Some(rows);
        self.heap_plan = Some(plan);
    }

    /// Width of the AXI4-Stream slave data: the operand ports, padded to whole bytes.
    pub fn s_tdata_bits(&self) -> usize {
        let bits: usize = self.lane.inputs.iter().map(|(_, w)| w * self.lanes).sum();
        bits.div_ceil(8) * 8
    }

    /// Width of the AXI4-Stream master data: `y` sign-extended to whole bytes.
    pub fn m_tdata_bits(&self) -> usize {
        self.acc_bits.div_ceil(8) * 8
    }
}

/// The control bits that travel with a vector.
struct Control {
    valid: String,
    last: String,
    err: Option<String>,
}

impl Control {
    /// The next stage's registers.
    fn stage(&self, m: &mut Assembly, stage: usize, ce: &Option<Expr>) -> Control {
        Control {
            valid: m.control(&format!("valid_{stage}"), sig(&self.valid), ce),
            last: m.register(&format!("last_{stage}"), 1, sig(&self.last), ce),
            err: self
                .err
                .as_ref()
                .map(|e| m.register(&format!("err_{stage}"), 1, sig(e), ce)),
        }
    }
}

/// The `dot` assembly around N instances of the lane module (its Verilog, top module
/// `top$lane`, and its ports).
fn block_assembly(
    config: &DotConfig,
    lane_verilog: &str,
    lane_ports: &[(String, Wire)],
) -> Assembly {
    let c = config;
    let n = c.lanes;
    let mut m = Assembly::default();
    m.wire("clk", 1, AtomKind::InputParameter);
    m.wire("rst", 1, AtomKind::InputParameter);

    // The operand source, the accept condition and the clock enable of every register.
    let (ce, in_valid, in_last) = if c.axis {
        m.wire("s_axis_tdata", c.s_tdata_bits(), AtomKind::InputParameter);
        m.wire("s_axis_tvalid", 1, AtomKind::InputParameter);
        m.wire("s_axis_tready", 1, AtomKind::OutputParameter);
        m.wire("s_axis_tlast", 1, AtomKind::InputParameter);
        m.wire("m_axis_tdata", c.m_tdata_bits(), AtomKind::OutputParameter);
        m.wire("m_axis_tvalid", 1, AtomKind::OutputParameter);
        m.wire("m_axis_tready", 1, AtomKind::InputParameter);
        if c.lane.err.is_some() {
            m.wire("m_axis_tuser", 1, AtomKind::OutputParameter);
        }
        // The whole pipeline advances unless a result waits for a master that is not ready.
        m.wire("ce", 1, AtomKind::LocalSignal);
        m.assign(
            "ce",
            bin(
                not(sig("out_valid_r$q")),
                VerilogOp::BitOr,
                sig("m_axis_tready"),
            ),
        );
        m.assign("s_axis_tready", sig("ce"));
        (Some(sig("ce")), "s_axis_tvalid", "s_axis_tlast")
    } else {
        m.wire("in_valid", 1, AtomKind::InputParameter);
        m.wire("in_last", 1, AtomKind::InputParameter);
        for (name, w) in &c.lane.inputs {
            m.wire(name, w * n, AtomKind::InputParameter);
        }
        m.wire("out_valid", 1, AtomKind::OutputParameter);
        m.wire("y", c.acc_bits, AtomKind::OutputParameter);
        if c.lane.err.is_some() {
            m.wire("y_err", 1, AtomKind::OutputParameter);
        }
        (None, "in_valid", "in_last")
    };

    // Stage 0: input registers, then the lanes.
    let mut ctl = Control {
        valid: m.control("valid_0", sig(in_valid), &ce),
        last: m.register("last_0", 1, sig(in_last), &ce),
        err: None,
    };
    // Each lane's slice of each operand port, or of the AXI4-Stream data.
    let mut offset = 0;
    let mut raw: Vec<Vec<Operand>> = vec![Vec::new(); n];
    for (port, w) in &c.lane.inputs {
        for (i, lane) in raw.iter_mut().enumerate() {
            lane.push(match c.axis {
                true => Operand {
                    signal: "s_axis_tdata".into(),
                    offset: offset + i * w,
                },
                false => Operand {
                    signal: port.clone(),
                    offset: i * w,
                },
            });
        }
        offset += w * n;
    }
    for (p, (port, w)) in c.lane.inputs.iter().enumerate() {
        for (i, lane) in raw.iter().enumerate() {
            let src = lane[p].range(0, *w);
            match &c.heap {
                None => {
                    let q = m.register(&format!("lane_{i}_{port}_r"), *w, src, &ce);
                    m.assign(&format!("lane_{i}${port}"), sig(&q));
                }
                Some(rows) if rows.unregistered.contains(&p) => {}
                Some(_) => {
                    m.register(&format!("lane_{i}_{port}_r"), *w, src, &ce);
                }
            }
        }
    }
    // Signals a heap lane registers beside its operands, from the raw operands (their LUT
    // cells are the heap's, so the heap exists from here).
    let mut cells = c.heap.as_ref().map(|_| Heap::new(c.sum_bits()));
    for (i, raw) in raw.iter().enumerate() {
        let Some(rows) = &c.heap else { break };
        for (name, width, f) in &rows.registered {
            let d = format!("lane_{i}_{name}");
            m.wire(&d, *width, AtomKind::LocalSignal);
            let h = cells.as_mut().expect("a heap lane");
            for (j, b) in f(h, &mut m, raw).into_iter().enumerate() {
                m.assign_bit(&d, *width, j, b);
            }
            m.register(&format!("{d}_r"), *width, sig(&d), &ce);
        }
    }
    if c.axis && offset < c.s_tdata_bits() {
        // Padding to whole bytes carries no operand; Verilator's `*unused*` convention.
        let pad = c.s_tdata_bits() - offset;
        m.wire("unused_tdata_padding", pad, AtomKind::LocalSignal);
        m.assign("unused_tdata_padding", slice("s_axis_tdata", offset, pad));
    }
    let (sum_row, width, sum_sign, carry) = match &c.heap {
        Some(rows) => {
            let mut h = cells.take().expect("a heap lane");
            c.add_lane_bits(rows, &mut m, &mut h);
            let plan = c.heap_plan.as_ref().expect("set with the heap");
            let mut stage = 0;
            let sum = heap::render(&mut m, &mut h, plan, "heap", &ce, |m| {
                stage += 1;
                ctl = ctl.stage(m, stage, &ce);
            });
            (sum, c.sum_bits(), None, None)
        }
        None => tree_sum(&mut m, c, lane_verilog, lane_ports, &ce, &mut ctl),
    };

    // The accumulator: acc <- acc + S for every valid vector. A vector with in_last also loads
    // acc + S into the output register and clears acc (as rst does), so that the next dot
    // product starts from 0 with no gate in the accumulator's loop: the adder's LUTs read acc
    // and S only.
    let acc = c.acc_bits;
    let signed = c.lane.product_signed;
    let sum = m.widen("vector_sum", &sum_row, width, acc, signed, &sum_sign);
    m.wire("acc_next", acc, AtomKind::LocalSignal);
    let acc_sum = bin(sig(&sum), VerilogOp::Add, sig("acc_r$q"));
    let acc_sum = m.plus_carry(acc_sum, carry, "acc", acc);
    m.assign("acc_next", acc_sum);
    let load = Some(gated(&ce, sig(&ctl.valid)));
    m.wire("done", 1, AtomKind::LocalSignal);
    let ends = bin(sig(&ctl.valid), VerilogOp::BitAnd, sig(&ctl.last));
    m.assign("done", gated(&ce, ends.clone()));
    let clear = bin(sig("rst"), VerilogOp::BitOr, sig("done"));
    m.register("acc_r", acc, sig("acc_next"), &load);
    m.when(clear.clone(), "acc_r$d", lit(acc, 0));
    let y = m.register("y_r", acc, sig("acc_next"), &Some(sig("done")));
    let out_valid = m.control("out_valid_r", ends, &ce);
    let y_err = ctl.err.as_ref().map(|err| {
        m.wire("err_next", 1, AtomKind::LocalSignal);
        m.assign(
            "err_next",
            bin(sig(err), VerilogOp::BitOr, sig("acc_err_r$q")),
        );
        m.register("acc_err_r", 1, sig("err_next"), &load);
        m.when(clear, "acc_err_r$d", lit(1, 0));
        m.register("y_err_r", 1, sig("err_next"), &Some(sig("done")))
    });

    if c.axis {
        let y_ext = m.extend("y_extended", &y, acc, c.m_tdata_bits(), true);
        m.assign("m_axis_tdata", sig(&y_ext));
        m.assign("m_axis_tvalid", sig(&out_valid));
        if let Some(e) = y_err {
            m.assign("m_axis_tuser", sig(&e));
        }
    } else {
        m.assign("y", sig(&y));
        m.assign("out_valid", sig(&out_valid));
        if let Some(e) = y_err {
            m.assign("y_err", sig(&e));
        }
    }
    m
}

/// The lanes and the adder tree after the input registers: the sum's row, its width, its sign
/// when it is still a sign-magnitude row, and the carry left for the accumulator's adder.
fn tree_sum(
    m: &mut Assembly,
    c: &DotConfig,
    lane_verilog: &str,
    lane_ports: &[(String, Wire)],
    ce: &Option<Expr>,
    ctl: &mut Control,
) -> (String, usize, Option<String>, Option<String>) {
    let n = c.lanes;
    for i in 0..n {
        // The lane's Verilog is written once, as the first instance's black-box code: the file
        // and the time to write it do not grow with N copies of the lane.
        let instance = Instance {
            module: LANE_MODULE.into(),
            ports: lane_ports.to_vec(),
            code: if i == 0 {
                lane_verilog.to_string()
            } else {
                String::new()
            },
        };
        m.children
            .push((format!("lane_{i}"), AnyBlock::new(instance)));
        if c.lane_staged {
            m.assign(&format!("lane_{i}$clk"), sig("clk"));
            m.assign(&format!("lane_{i}$ce"), ce.clone().unwrap_or(lit(1, 1)));
        }
    }
    let mut stage = 0;
    if c.lane_staged {
        // The lanes' own register: their outputs belong to the vector of the stage before.
        stage += 1;
        *ctl = ctl.stage(m, stage, ce);
    }
    let (pname, pbits) = (&c.lane.product.0, c.lane.product.1);
    let mut rows: Vec<String> = (0..n).map(|i| format!("lane_{i}${pname}")).collect();
    // Sign-magnitude lanes: each row's sign, then the +1s not yet added.
    let mut signs: Vec<String> = match &c.lane.negative {
        Some((port, _)) => (0..n).map(|i| format!("lane_{i}${port}")).collect(),
        None => Vec::new(),
    };
    let invert_in_sum = matches!(c.lane.negative, Some((_, Inversion::InSum)));
    if matches!(c.lane.negative, Some((_, Inversion::InLane))) {
        rows = rows
            .iter()
            .zip(&signs)
            .enumerate()
            .map(|(i, (r, neg))| {
                m.widen(
                    &format!("lane_{i}_ones"),
                    r,
                    pbits,
                    pbits,
                    false,
                    &Some(neg.clone()),
                )
            })
            .collect();
    }
    if let Some(err) = &c.lane.err {
        let any = (1..n).fold(sig(&format!("lane_0${err}")), |acc, i| {
            bin(acc, VerilogOp::BitOr, sig(&format!("lane_{i}${err}")))
        });
        m.wire("lanes_err", 1, AtomKind::LocalSignal);
        m.assign("lanes_err", any);
        ctl.err = Some("lanes_err".into());
    }
    if c.lane_register {
        stage += 1;
        rows = rows
            .iter()
            .enumerate()
            .map(|(i, r)| m.register(&format!("lane_{i}_{pname}_r"), pbits, sig(r), ce))
            .collect();
        signs = m.register_all(&signs, "lane_sign", ce);
        *ctl = ctl.stage(m, stage, ce);
    }
    // How each row is widened: the first time, by its sign (sign-magnitude lanes) or as the
    // lane's product reads; later rows are two's complement.
    let mut row_signs: Vec<Option<String>> = match invert_in_sum {
        true => signs.iter().cloned().map(Some).collect(),
        false => vec![None; n],
    };
    let mut carries = signs;
    let signed = c.lane.product_signed;

    // The adder tree: level l adds pairs of (P + l - 1)-bit rows into (P + l)-bit rows; an
    // unpaired row is only extended.
    let mut width = pbits;
    for level in 1..=c.tree_levels() {
        let mut next = Vec::new();
        for (j, (pair, pair_signs)) in rows.chunks(2).zip(row_signs.chunks(2)).enumerate() {
            let node = format!("sum_{level}_{j}");
            let a = m.widen(
                &format!("{node}_a"),
                &pair[0],
                width,
                width + 1,
                signed,
                &pair_signs[0],
            );
            m.wire(&node, width + 1, AtomKind::LocalSignal);
            match pair.get(1) {
                Some(b) => {
                    let b = m.widen(
                        &format!("{node}_b"),
                        b,
                        width,
                        width + 1,
                        signed,
                        &pair_signs[1],
                    );
                    let sum = bin(sig(&a), VerilogOp::Add, sig(&b));
                    let sum = m.plus_carry(sum, carries.pop(), &node, width + 1);
                    m.assign(&node, sum);
                }
                None => m.assign(&node, sig(&a)),
            }
            next.push(node);
        }
        width += 1;
        rows = next;
        row_signs = vec![None; rows.len()];
        if c.registered_after(level) {
            stage += 1;
            rows = rows
                .iter()
                .map(|r| m.register(&format!("{r}_r"), width, sig(r), ce))
                .collect();
            carries = m.register_all(&carries, &format!("level_{level}_carry"), ce);
            *ctl = ctl.stage(m, stage, ce);
        }
    }

    let carry = carries.pop();
    assert!(carries.is_empty(), "N adders take the N lanes' carries");
    (rows.swap_remove(0), width, row_signs.swap_remove(0), carry)
}

/// Verilog of a `dot` (top module `top`).
pub fn verilog(config: &DotConfig, lane: AnyBlock) -> String {
    let ports: Vec<(String, Wire)> = Atoms::of(&lane)
        .atoms
        .into_iter()
        .filter(|(depth, _, _, _, kind)| *depth == 1 && kind.is_parameter())
        .map(|(_, _, name, width, kind)| (name, Wire::new(width, kind)))
        .collect();
    // The lane as a unit of its own (rust-hdl's checks included), its modules renamed into
    // the dot's name space.
    let lane_verilog = crate::rename_modules(&lane.verilog(), LANE_MODULE);
    block_assembly(config, &lane_verilog, &ports).into_verilog("dot")
}
