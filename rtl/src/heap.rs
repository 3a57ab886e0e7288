//! A bit heap (FloPoCo's `BitHeap`, brought to qmulgen): a sum of weighted bits (column =
//! weight) plus a constant, compressed by generalised parallel counters on LUT6s and on the
//! carry chain, then two-row adders, until one row is left (the sum, modulo 2^width).
//!
//! Lanes put their partial products here instead of into adders of their own: signs are folded
//! in as inverted bits plus one constant for the whole heap (two's complement: -v = ~v + 1),
//! so no row is ever sign-extended. Nothing here knows a family; a lane hands over bits
//! ([`Heap::add`], [`Heap::subtract`], [`Heap::add_signed_rows`]) or groups of products that
//! one table per bit counts ([`Heap::add_product_group`]).
//!
//! Which compressor goes where (the cost model, after FloPoCo's choice of compressors by
//! cost):
//! - a stage is one of three kinds: (1,3,5:4) chain counters ([`chain_positions`]: three LUTs
//!   on a carry chain, Preusser's atoms; from the lowest column up, one wherever a column still
//!   holds 4 bits), removing 5 bits for 3 LUTs at a LUT and a carry entry of delay; (6:3) and
//!   (1,5:3)/(5:3) counters (one LUT6 per output), removing 3 for 3 at a LUT of delay; or
//!   two-row adders (rows 0+1, 2+3, ...) on heaps up to [`MAX_ADDER_HEIGHT`] high, about a bit
//!   per LUT, their delay growing with their length;
//! - each compressor's LUTs are estimated as synthesis makes them ([`lut_estimate`]: within a
//!   few LUTs of Yosys for 16-lane heaps), and the sequence of stages with the fewest is
//!   searched exhaustively (memoised on the column heights), then the one with the fewest
//!   stages. Where each stage needs a register of its own, a stage costs
//!   [`REGISTERED_STAGE_LUTS`] more.
//!
//! Registers go between stages where the §5 path would exceed the clock period (all live bits
//! are registered there), and before the accumulator when its adder would not fit after the
//! last stage.

use crate::assembly::{bin, lit, not, sig, slice, Assembly, Expr, Instance, Wire};
use crate::timing::{adder_ns, LUT_NS};
use crate::AnyBlock;
use rust_hdl::prelude::ast::{VerilogOp, VerilogOpUnary};
use rust_hdl::prelude::*;

/// The tallest heap a stage of two-row adders may take.
pub const MAX_ADDER_HEIGHT: usize = 8;

/// The bits of a heap and its constant, all modulo 2^width.
pub struct Heap {
    pub width: usize,
    /// (column, the bit's expression over the module's signals).
    pub bits: Vec<(usize, Expr)>,
    constant: u128,
    cells: Cells,
}

/// The heap's cells: LUT tables and counters, each a module of its own marked to keep its
/// hierarchy through synthesis (module names end in [`KEPT`]), so that a cell maps to exactly
/// one LUT per output and no optimiser merges the heap's levels back into deeper logic. Each
/// distinct cell is written once and instantiated wherever it is used.
#[derive(Default)]
pub struct Cells {
    /// Key (what the cell computes) -> module name.
    modules: std::collections::BTreeMap<String, String>,
    instances: usize,
}

/// The last part of every cell module's name (`NAME__cell3__kept` after emission's renaming):
/// emission marks these modules keep_hierarchy.
pub const KEPT: &str = "kept";

impl Heap {
    pub fn new(width: usize) -> Self {
        assert!((1..=64).contains(&width), "heap width {width}");
        Heap {
            width,
            bits: Vec::new(),
            constant: 0,
            cells: Cells::default(),
        }
    }

    fn modulus_mask(&self) -> u128 {
        (1u128 << self.width) - 1
    }

    /// + bit·2^column (nothing at or above the width).
    pub fn add(&mut self, column: usize, bit: Expr) {
        if column < self.width {
            self.bits.push((column, bit));
        }
    }

    /// + value, modulo 2^width.
    pub fn add_constant(&mut self, value: i128) {
        self.constant = (self.constant as i128).wrapping_add(value) as u128 & self.modulus_mask();
    }

    /// − bit·2^column = (~bit)·2^column − 2^column.
    pub fn subtract(&mut self, column: usize, bit: Expr) {
        if column < self.width {
            self.add(column, not(bit));
            self.add_constant(-(1i128 << column));
        }
    }

    /// (−1)^sign · Σ_r R_r·2^low_r, rows sharing one sign, each given as (low, its bits already
    /// XORed with the sign: `row[j] ^ sign`). Σ_j (r_j ^ s)·2^(low+j) is R for s = 0 and
    /// 2^high − 2^low − R for s = 1 (high = low + row length), so −R = that + s·2^low −
    /// s·2^high. The rows' corrections add up to s·(L − H), L = Σ_r 2^low_r and H = Σ_r
    /// 2^high_r: a bit s per one of L and ~s (see [`Heap::subtract`]) per one of H, none where
    /// both have a one (a row ending where another starts). Binary, not a signed-digit form
    /// with fewer digits: that would put bits in columns past the rows and more of them ~s.
    /// An all-zero row (an inactive term) needs no gating: with s = 1 its bits add 2^high −
    /// 2^low, which its correction cancels.
    pub fn add_signed_rows(&mut self, sign: Expr, rows: Vec<(usize, Vec<Expr>)>) {
        let (mut lows, mut highs) = (0u128, 0u128);
        for (low, xored_row) in rows {
            let high = low + xored_row.len();
            for (j, bit) in xored_row.into_iter().enumerate() {
                self.add(low + j, bit);
            }
            for (sum, column) in [(&mut lows, low), (&mut highs, high)] {
                if column < self.width {
                    *sum += 1 << column;
                }
            }
        }
        let both = lows & highs;
        for column in 0..=self.width {
            if (lows & !both) >> column & 1 == 1 {
                self.add(column, sign.clone());
            }
            if (highs & !both) >> column & 1 == 1 {
                self.subtract(column, sign.clone());
            }
        }
    }

    /// Adds Σ ±p·2^column over `products` (column, negative, factors), at most six distinct
    /// factors in all: one table of all of them per bit of their weighted count, a negative
    /// product counted as its NAND (its −1 in the constant). A product alone stays a bit of
    /// the heap (synthesis may merge it into the LUT that reads it).
    pub fn add_product_group(&mut self, m: &mut Assembly, products: &[(usize, bool, Vec<Expr>)]) {
        if let [(column, negated, factors)] = products {
            if *column < self.width {
                let and = (factors.iter().cloned())
                    .reduce(|a, b| op(a, VerilogOp::BitAnd, b))
                    .unwrap_or(lit(1, 1));
                self.add_constant(-(i128::from(*negated) << column));
                self.add(*column, invert_if(and, *negated));
            }
            return;
        }
        let Some(base) = products.iter().map(|(c, _, _)| *c).min() else {
            return;
        };
        let key = |e: &Expr| format!("{e:?}");
        let mut factors: Vec<(String, Expr)> = Vec::new();
        let mut terms: Vec<(u64, bool, Vec<usize>)> = Vec::new();
        for (column, negated, product) in products {
            if *negated {
                self.add_constant(-(1i128 << column));
            }
            let mut term = Vec::new();
            for f in product {
                let k = key(f);
                let at = match factors.iter().position(|(g, _)| *g == k) {
                    Some(at) => at,
                    None => {
                        factors.push((k, f.clone()));
                        factors.len() - 1
                    }
                };
                term.push(at);
            }
            terms.push((1 << (column - base), *negated, term));
        }
        assert!(
            factors.len() <= 6,
            "a product group reads at most six factors"
        );
        let factors: Vec<Expr> = factors.into_iter().map(|(_, f)| f).collect();
        // Every term at once bounds the count (with a negative term no input pattern may
        // reach it).
        let bits = 64 - terms.iter().map(|(w, _, _)| w).sum::<u64>().leading_zeros() as usize;
        let count = move |index: u32| {
            let on = |t: &Vec<usize>| t.iter().all(|&i| index >> i & 1 == 1);
            (terms.iter())
                .filter(|(_, n, t)| on(t) != *n)
                .map(|(w, _, _)| w)
                .sum::<u64>()
        };
        for k in 0..bits.min(self.width.saturating_sub(base)) {
            let table = self.lut(m, &factors, |i| count(i) >> k & 1 == 1);
            self.add(base + k, table);
        }
    }

    /// The columns of the heap's bits, then of the constant's ones (the plan's inputs).
    pub fn columns(&self) -> Vec<usize> {
        let mut columns: Vec<usize> = self.bits.iter().map(|(c, _)| *c).collect();
        columns.extend((0..self.width).filter(|c| self.constant >> c & 1 == 1));
        columns
    }

    /// The inputs' expressions in plan order (bits, then constant ones).
    fn input_exprs(&self) -> Vec<Expr> {
        let ones = (0..self.width).filter(|c| self.constant >> c & 1 == 1);
        let mut v: Vec<Expr> = self.bits.iter().map(|(_, b)| b.clone()).collect();
        v.extend(ones.map(|_| lit(1, 1)));
        v
    }
}

/// A bit of the plan: an input of the heap or an output of a compressor.
pub type BitId = usize;

/// What a compressor computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A generalised parallel counter (`high`, `low` : 3): `low` bits of its column and `high`
    /// bits of the next, summed into 3 bits (column, column+1, column+2); each output is one
    /// LUT6 of at most 6 inputs.
    Counter { low: usize, high: usize },
    /// A (1,3,5:4) counter on the carry chain ([`chain_positions`]): up to 5 bits of its column,
    /// 3 of the next and 1 of the one after, summed into 4 bits by three LUTs and a carry chain
    /// of three positions.
    Chain,
    /// Two rows added on the carry chain over `span` columns: span + 1 bits.
    Adder { span: usize },
}

/// One compressor: its inputs by column offset and its outputs (output k at column + k;
/// `None` at or above the heap's width, where the sum wraps).
#[derive(Clone, Debug)]
pub struct Compressor {
    pub kind: Kind,
    pub column: usize,
    /// Counters: inputs[k] at column + k. Adders: the two rows, one entry per column of the
    /// span (`None`: a zero).
    pub inputs: Vec<Vec<Option<BitId>>>,
    pub outputs: Vec<Option<BitId>>,
}

/// A stage: compressors side by side, after a register when `registered`.
#[derive(Clone, Debug)]
pub struct Stage {
    pub registered: bool,
    pub ns: f64,
    pub compressors: Vec<Compressor>,
}

/// The compression of a heap, independent of the bits' expressions.
#[derive(Clone, Debug)]
pub struct Plan {
    pub width: usize,
    /// The column of each input bit (ids 0..inputs).
    pub input_columns: Vec<usize>,
    pub stages: Vec<Stage>,
    /// The sum: at most one bit per column.
    pub result: Vec<Option<BitId>>,
    /// A register after the last stage (the accumulator's adder would not fit after it).
    pub result_registered: bool,
    /// The worst planned path between registers, ns (without the §5 overhead).
    pub path_ns: f64,
    /// Bit ids handed out (inputs and compressor outputs).
    pub bit_count: usize,
}

impl Plan {
    /// Registers inside the heap and after it: the clock cycles it adds.
    pub fn latency(&self) -> u32 {
        let inside = self.stages.iter().filter(|s| s.registered).count();
        (inside + usize::from(self.result_registered)) as u32
    }
}

/// Plan the compression of bits in `columns` (width `width`), the first stage's inputs
/// arriving `first_ns` after a register, registers placed for `budget_ns` per stage; the
/// accumulator's adder (`acc_ns`) follows the result.
pub fn plan(columns: &[usize], width: usize, first_ns: f64, budget_ns: f64, acc_ns: f64) -> Plan {
    let mut live: Vec<Vec<BitId>> = vec![Vec::new(); width];
    for (id, &c) in columns.iter().enumerate() {
        live[c].push(id);
    }
    let heights: Vec<usize> = live.iter().map(Vec::len).collect();
    let mut search = Search {
        memo: Default::default(),
        stage_luts: match 2.0 * adder_ns(4) <= budget_ns {
            true => 0,
            false => REGISTERED_STAGE_LUTS,
        },
    };
    search.best(&heights, width);
    let mut ids = Ids(columns.len());
    let mut stages = Vec::new();
    let mut path = first_ns;
    let mut worst: f64 = 0.0;
    loop {
        let heights: Vec<usize> = live.iter().map(Vec::len).collect();
        let Some(step) = search.memo.get(&heights).and_then(|b| b.step) else {
            break;
        };
        let (next, compressors, ns) = step
            .apply(&live, width, &mut ids)
            .expect("the search only keeps steps that apply");
        let registered = path > 0.0 && path + ns > budget_ns;
        if registered {
            worst = worst.max(path);
            path = 0.0;
        }
        path += ns;
        stages.push(Stage {
            registered,
            ns,
            compressors,
        });
        live = next;
    }
    let result_registered = path > 0.0 && path + acc_ns > budget_ns;
    if result_registered {
        worst = worst.max(path);
        path = 0.0;
    }
    Plan {
        width,
        input_columns: columns.to_vec(),
        stages,
        result: live.into_iter().map(|c| c.first().copied()).collect(),
        result_registered,
        path_ns: worst.max(path + acc_ns),
        bit_count: ids.0,
    }
}

/// LUTs a compressor takes after synthesis, as estimated for the planner: a counter one per
/// output; a chain counter one per position whose LUT reads two inputs or more (one input
/// passes through) and one more where positions 1 and 2 have no DI bit (Yosys makes that
/// chain's carry a LUT); an adder one per column with two bits (a lone bit is its own sum on
/// the chain).
fn lut_estimate(c: &Compressor) -> usize {
    let n = |r: usize| c.inputs.get(r).map_or(0, |r| r.iter().flatten().count());
    match c.kind {
        Kind::Counter { .. } => c.outputs.iter().flatten().count(),
        Kind::Chain => {
            let (low, mid, top) = (n(0), n(1), n(2));
            let reads = [low.min(4), low.min(3) + mid, low.min(3) + mid.min(2) + top];
            let luts = reads.iter().filter(|&&k| k >= 2).count();
            luts + usize::from(mid < 3 && top == 0)
        }
        Kind::Adder { .. } => (0..c.inputs[0].len())
            .filter(|&k| c.inputs[0][k].is_some() && c.inputs[1][k].is_some())
            .count(),
    }
}

/// What a stage behind a register of its own costs beyond its compressors, in LUTs, where the
/// clock leaves room for one stage per register: the planner's cheapest sequences then took
/// two stages more than the fewest for 3 LUTs fewer (estimated), and synthesised 8 to 17 LUTs
/// larger (16 lanes at 775 MHz: APoT B4 a8 737 against 727, ESB e2k2 843/829, e3k2
/// 1332/1315, exact u8x8 1149/1139). Measured the same from 2 to 8.
const REGISTERED_STAGE_LUTS: usize = 4;

/// A stage the planner may choose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Chains,
    Counters,
    Adders,
}

impl Step {
    /// The stage on `live`: the bits after it, its compressors and its delay; `None` when it
    /// would neither lower the heap nor remove bits.
    fn apply(
        self,
        live: &[Vec<BitId>],
        width: usize,
        ids: &mut Ids,
    ) -> Option<(Vec<Vec<BitId>>, Vec<Compressor>, f64)> {
        let height = live.iter().map(Vec::len).max().unwrap_or(0);
        let bits = |v: &[Vec<BitId>]| v.iter().map(Vec::len).sum::<usize>();
        let (next, compressors, ns) = match self {
            Step::Chains => {
                let (next, compressors) = chain_stage(live, width, ids);
                // A chain whose positions 1 and 2 have no DI bit carries only out of position
                // 0: Yosys turns it into a LUT after the positions' LUTs (measured: 0.2 ns more
                // on the path of a 16-lane exact u8x8 heap).
                let lut_only = compressors
                    .iter()
                    .any(|c| c.inputs[1].len() < 3 && c.inputs[2].is_empty());
                let ns = if lut_only { 2.0 * LUT_NS } else { adder_ns(4) };
                (next, compressors, ns)
            }
            Step::Counters => {
                let (next, compressors) = counter_stage(live, width, ids);
                (next, compressors, LUT_NS)
            }
            Step::Adders if height <= MAX_ADDER_HEIGHT => adder_stage(live, width, height, ids),
            Step::Adders => return None,
        };
        let lower = next.iter().map(Vec::len).max().unwrap_or(0) < height;
        (lower || bits(&next) < bits(live)).then_some((next, compressors, ns))
    }
}

/// The cheapest way on from a heap's column heights: estimated LUTs, stages, the first step.
#[derive(Clone, Copy)]
struct Best {
    luts: usize,
    stages: usize,
    step: Option<Step>,
}

/// Every sequence of stages, memoised on column heights (a stage's outcome depends on them
/// alone): the fewest estimated LUTs, then the fewest stages.
struct Search {
    memo: std::collections::HashMap<Vec<usize>, Best>,
    /// LUTs charged per stage ([`REGISTERED_STAGE_LUTS`] or 0).
    stage_luts: usize,
}

impl Search {
    fn best(&mut self, heights: &[usize], width: usize) -> Best {
        if let Some(b) = self.memo.get(heights) {
            return *b;
        }
        let mut best = Best {
            luts: usize::MAX,
            stages: 0,
            step: None,
        };
        if heights.iter().all(|&h| h <= 1) {
            best.luts = 0;
        } else {
            let live: Vec<Vec<BitId>> = heights.iter().map(|&h| vec![0; h]).collect();
            for step in [Step::Chains, Step::Counters, Step::Adders] {
                let Some((next, compressors, _)) = step.apply(&live, width, &mut Ids(0)) else {
                    continue;
                };
                let next: Vec<usize> = next.iter().map(Vec::len).collect();
                let rest = self.best(&next, width);
                if rest.luts == usize::MAX {
                    continue;
                }
                let own: usize = compressors.iter().map(lut_estimate).sum();
                let luts = rest.luts + self.stage_luts + own;
                if (luts, rest.stages + 1) < (best.luts, best.stages) {
                    best = Best {
                        luts,
                        stages: rest.stages + 1,
                        step: Some(step),
                    };
                }
            }
        }
        self.memo.insert(heights.to_vec(), best);
        best
    }
}

/// Bit ids handed out so far (the next one to hand out).
struct Ids(usize);

impl Ids {
    fn take(&mut self) -> BitId {
        self.0 += 1;
        self.0 - 1
    }
}

/// The live bits of each column after a stage, and the stage's compressors.
type StageOut = (Vec<Vec<BitId>>, Vec<Compressor>);

/// A compressor at `column` of `inputs` (see [`Compressor::inputs`]) with `outputs` output
/// bits (none at or above the width), its outputs added to `next`.
fn place(
    kind: Kind,
    column: usize,
    inputs: Vec<Vec<Option<BitId>>>,
    outputs: usize,
    width: usize,
    ids: &mut Ids,
    next: &mut [Vec<BitId>],
) -> Compressor {
    let outputs: Vec<Option<BitId>> = (0..outputs)
        .map(|k| (column + k < width).then(|| ids.take()))
        .collect();
    for (k, o) in outputs.iter().enumerate() {
        if let Some(o) = o {
            next[column + k].push(*o);
        }
    }
    Compressor {
        kind,
        column,
        inputs,
        outputs,
    }
}

/// Counter inputs by column offset, every one present.
fn present(columns: Vec<Vec<BitId>>) -> Vec<Vec<Option<BitId>>> {
    (columns.into_iter())
        .map(|col| col.into_iter().map(Some).collect())
        .collect()
}

/// A stage of (1,3,5:4) chain counters: from the lowest column up, while a column holds at
/// least 4 bits, a counter takes 5 of them (or 4), up to 3 of the next column and 1 of the one
/// after; fewer bits pass unchanged.
fn chain_stage(live: &[Vec<BitId>], width: usize, ids: &mut Ids) -> StageOut {
    let mut left: Vec<Vec<BitId>> = live.to_vec();
    let mut next: Vec<Vec<BitId>> = vec![Vec::new(); width];
    let mut compressors = Vec::new();
    let take = |left: &mut Vec<Vec<BitId>>, c: usize, n: usize| match left.get_mut(c) {
        Some(bits) => bits.drain(..n.min(bits.len())).collect(),
        None => Vec::new(),
    };
    for c in 0..width {
        while left[c].len() >= 4 {
            let inputs = present(vec![
                take(&mut left, c, 5),
                take(&mut left, c + 1, 3),
                take(&mut left, c + 2, 1),
            ]);
            compressors.push(place(Kind::Chain, c, inputs, 4, width, ids, &mut next));
        }
        next[c].append(&mut left[c]);
    }
    (next, compressors)
}

/// A stage of counters (one LUT level): every column with as many (6:3) as fit, and five
/// leftover bits with a (1,5:3) (borrowing a bit of the next column) or a (5:3).
fn counter_stage(live: &[Vec<BitId>], width: usize, ids: &mut Ids) -> StageOut {
    let mut next: Vec<Vec<BitId>> = vec![Vec::new(); width];
    let mut compressors = Vec::new();
    // Bits of column c+1 borrowed by a (1,5:3) of column c.
    let mut borrowed = 0;
    for c in 0..width {
        let mut bits: Vec<BitId> = live[c][borrowed..].to_vec();
        borrowed = 0;
        let mut groups = Vec::new();
        while bits.len() >= 6 {
            groups.push((bits.drain(..6).collect::<Vec<_>>(), Vec::new()));
        }
        if bits.len() == 5 {
            let high = match live.get(c + 1) {
                Some(up) if !up.is_empty() => {
                    borrowed = 1;
                    vec![up[0]]
                }
                _ => Vec::new(),
            };
            groups.push((std::mem::take(&mut bits), high));
        }
        next[c].extend(bits);
        for (low, high) in groups {
            let kind = Kind::Counter {
                low: low.len(),
                high: high.len(),
            };
            let inputs = present(vec![low, high]);
            compressors.push(place(kind, c, inputs, 3, width, ids, &mut next));
        }
    }
    (next, compressors)
}

/// A stage of two-row adders on the carry chain (rows 0+1, 2+3, ...), with its delay.
fn adder_stage(
    live: &[Vec<BitId>],
    width: usize,
    height: usize,
    ids: &mut Ids,
) -> (Vec<Vec<BitId>>, Vec<Compressor>, f64) {
    let mut next: Vec<Vec<BitId>> = vec![Vec::new(); width];
    let mut compressors = Vec::new();
    let mut longest = 0;
    for pair in 0..height.div_ceil(2) {
        let (r0, r1) = (2 * pair, 2 * pair + 1);
        let in_row = |r: usize| (0..width).filter(move |&c| live[c].len() > r);
        let Some(low) = in_row(r1).next() else {
            for c in in_row(r0) {
                next[c].push(live[c][r0]);
            }
            continue;
        };
        let high = in_row(r0).next_back().unwrap_or(low);
        for c in in_row(r0).filter(|&c| c < low) {
            next[c].push(live[c][r0]);
        }
        let span = high - low + 1;
        let rows = [r0, r1].map(|r| (low..=high).map(|c| live[c].get(r).copied()).collect());
        longest = longest.max(span);
        let kind = Kind::Adder { span };
        compressors.push(place(
            kind,
            low,
            rows.into(),
            span + 1,
            width,
            ids,
            &mut next,
        ));
    }
    (next, compressors, adder_ns(longest))
}

impl Heap {
    /// An instance of the cell `key` (its module built by `module` the first time: ports `i`
    /// and `o`) reading `inputs`: its `outputs` output bits.
    pub fn cell(
        &mut self,
        m: &mut Assembly,
        key: String,
        module: impl FnOnce() -> Assembly,
        inputs: &[Expr],
        outputs: usize,
    ) -> Vec<Expr> {
        let cells = &mut self.cells;
        let (name, code) = match cells.modules.get(&key) {
            Some(name) => (name.clone(), String::new()),
            None => {
                let name = format!("top$cell{}${KEPT}", cells.modules.len());
                let code = crate::rename_modules(&module().into_verilog("heap cell"), &name);
                cells.modules.insert(key, name.clone());
                (name, code)
            }
        };
        let instance = format!("heap_cell_{}", cells.instances);
        cells.instances += 1;
        let ports = vec![
            (
                "i".to_string(),
                Wire::new(inputs.len(), AtomKind::InputParameter),
            ),
            (
                "o".to_string(),
                Wire::new(outputs, AtomKind::OutputParameter),
            ),
        ];
        let block = Instance {
            module: name,
            ports,
            code,
        };
        m.children.push((instance.clone(), AnyBlock::new(block)));
        let (i, o) = (format!("{instance}$i"), format!("{instance}$o"));
        for (j, e) in inputs.iter().enumerate() {
            m.assign_bit(&i, inputs.len(), j, e.clone());
        }
        (0..outputs).map(|j| bit_of(&o, outputs, j)).collect()
    }

    /// A function of at most six bits as one LUT: a cell whose output is `truth[i]`, the
    /// truth table a constant holding f(i) at bit i (input 0 the index's least significant bit).
    /// An inverted input (`~e`) is read as `e`, the table inverting it (an inverter before a
    /// kept cell would be a LUT of its own).
    pub fn lut(&mut self, m: &mut Assembly, inputs: &[Expr], f: impl Fn(u32) -> bool) -> Expr {
        let k = inputs.len();
        assert!((1..=6).contains(&k), "a LUT of {k} inputs");
        let (inputs, inverted) = uninverted(inputs);
        let table: u64 = (0..1u32 << k)
            .filter(|&i| f(i ^ inverted as u32))
            .map(|i| 1u64 << i)
            .sum();
        let module = || {
            let mut c = Assembly::default();
            c.wire("i", k, AtomKind::InputParameter);
            c.wire("o", 1, AtomKind::OutputParameter);
            let mut constant = Wire::new(1 << k, AtomKind::Constant);
            constant.value = match k {
                1 => Bits::<2>::from(table).into(),
                2 => Bits::<4>::from(table).into(),
                3 => Bits::<8>::from(table).into(),
                4 => Bits::<16>::from(table).into(),
                5 => Bits::<32>::from(table).into(),
                _ => Bits::<64>::from(table).into(),
            };
            c.wires.push(("truth".to_string(), constant));
            c.assign("o", Expr::Index(Box::new(sig("truth")), Box::new(sig("i"))));
            c
        };
        let key = format!("lut{k}_{table:x}");
        self.cell(m, key, module, &inputs, 1).remove(0)
    }

    /// A counter cell: `low` bits of weight 1 and `high` of weight 2 into 3 bits (inverted
    /// inputs read uninverted, as in [`Heap::lut`]).
    fn counter_cell(&mut self, m: &mut Assembly, low: &[Expr], high: &[Expr]) -> Vec<Expr> {
        let (nl, nh) = (low.len(), high.len());
        let all: Vec<Expr> = low.iter().chain(high).cloned().collect();
        let (inputs, inverted) = uninverted(&all);
        let module = || {
            let mut c = Assembly::default();
            c.wire("i", nl + nh, AtomKind::InputParameter);
            c.wire("o", 3, AtomKind::OutputParameter);
            let bits: Vec<Expr> = (0..nl + nh)
                .map(|j| invert_if(slice("i", j, 1), inverted >> j & 1 == 1))
                .collect();
            c.assign("o", lit(3, 0));
            for (j, e) in counter(&bits[..nl], &bits[nl..]).into_iter().enumerate() {
                c.assign_slice("o", j, 1, e);
            }
            c
        };
        let key = format!("counter_{nh}_{nl}_{inverted:x}");
        self.cell(m, key, module, &inputs, 3)
    }

    /// A (1,3,5:4) chain counter named `node`: its positions' LUTs (cells), then
    /// X + (P ^ X), which synthesis maps to one carry chain with S = P (the XORs with X
    /// cancel) and DI = X: three LUTs. Written `X - ~(P ^ X)` (the same bits above the cin
    /// position, see below): a sum's operands may be swapped by Yosys, and with P ^ X first
    /// its DI needs a LUT per position (one more on the path: heaps planned for 300 MHz came
    /// out at 276); a difference keeps X first. `bits` of the 4 outputs are kept (the rest
    /// wrap).
    fn chain_counter(
        &mut self,
        m: &mut Assembly,
        node: &str,
        ins: &[Vec<Expr>],
        bits: usize,
    ) -> Vec<Expr> {
        let sizes = [ins[0].len(), ins[1].len(), ins[2].len()];
        // Slot k of the 9 (low 0..5, mid 5..8, top 8): its expression, if the input exists.
        let slot = |k: usize| {
            let (col, j) = match k {
                0..=4 => (0, k),
                5..=7 => (1, k - 5),
                _ => (2, 0),
            };
            ins[col].get(j).cloned()
        };
        let mut p = Vec::new();
        let mut x = Vec::new();
        for (position, reads) in CHAIN_LUT_INPUTS.iter().enumerate() {
            let present: Vec<usize> = reads
                .iter()
                .copied()
                .filter(|&k| slot(k).is_some())
                .collect();
            let inputs: Vec<Expr> = present.iter().filter_map(|&k| slot(k)).collect();
            let f = |index: u32| {
                let value = |k: usize| {
                    present
                        .iter()
                        .position(|&q| q == k)
                        .is_some_and(|i| index >> i & 1 == 1)
                };
                let column =
                    |from: usize, n: usize| (from..from + n).map(value).collect::<Vec<bool>>();
                let (p, _) = chain_positions(
                    &column(0, sizes[0]),
                    &column(5, sizes[1]),
                    &column(8, sizes[2]),
                )[position];
                p
            };
            p.push(match inputs.len() {
                0 => lit(1, 0),
                _ => self.lut(m, &inputs, f),
            });
            x.push(slot([3, 7, 8][position]).unwrap_or_else(|| lit(1, 0)));
        }
        // cin enters as a fourth, lowest position of both operands (X holds cin there, P a 0,
        // so P ^ X holds it too): its S = cin ^ cin = 0 and its DI = cin make the carry into
        // position 0. A third operand would be a `$macc`, which Yosys maps with P ^ X as DI:
        // a LUT more on the path. X − ~Y = X + Y + 1 (mod 2^5): the +1 (the chain's carry-in)
        // lands on that position's even cin + cin and changes only its bit 0, unused.
        let cin = slot(4).unwrap_or_else(|| lit(1, 0));
        let (xs, ps, sum) = (
            format!("{node}_x"),
            format!("{node}_p"),
            format!("{node}_sum"),
        );
        for (name, row, low) in [(&xs, x, cin), (&ps, p, lit(1, 0))] {
            m.zero_padded(name, 5, std::iter::once(low).chain(row));
        }
        m.wire(&sum, 5, AtomKind::LocalSignal);
        let y = op(sig(&ps), VerilogOp::BitXor, sig(&xs));
        m.assign(&sum, bin(sig(&xs), VerilogOp::Sub, not(y)));
        // The sum's bit 0 (and bits past the heap's width) are not outputs: read here under
        // Verilator's `*unused*` naming convention.
        let unused = format!("{node}_unused");
        m.wire(&unused, 5, AtomKind::LocalSignal);
        m.assign(&unused, sig(&sum));
        m.wire(node, bits, AtomKind::LocalSignal);
        m.assign(node, slice(&sum, 1, bits));
        (0..bits).map(|j| bit_of(node, bits, j)).collect()
    }
}

/// `e'` when `e` is `~e'`.
fn inner_of_not(e: &Expr) -> Option<&Expr> {
    match e {
        Expr::Unary(VerilogOpUnary::Not, inner) => Some(inner),
        _ => None,
    }
}

/// Whether `e` is `~e'`.
fn inverted(e: &Expr) -> bool {
    inner_of_not(e).is_some()
}

/// `e`, inverted when `invert`.
fn invert_if(e: Expr, invert: bool) -> Expr {
    if invert {
        not(e)
    } else {
        e
    }
}

/// `inputs` with each `~e` replaced by `e`, and the mask of those replaced (bit j: input j).
fn uninverted(inputs: &[Expr]) -> (Vec<Expr>, u64) {
    let mut mask = 0;
    let plain = (inputs.iter().enumerate())
        .map(|(j, e)| match inner_of_not(e) {
            Some(inner) => {
                mask |= 1 << j;
                inner.clone()
            }
            None => e.clone(),
        })
        .collect();
    (plain, mask)
}

/// The logic a compressor is made of, over any carrier: Verilog expressions to print, or
/// booleans to check against a truth table.
pub trait Gates: Clone {
    fn xor(&self, other: &Self) -> Self;
    fn and(&self, other: &Self) -> Self;
    fn or(&self, other: &Self) -> Self;
    fn zero() -> Self;
}

impl Gates for bool {
    fn xor(&self, other: &Self) -> Self {
        self ^ other
    }
    fn and(&self, other: &Self) -> Self {
        self & other
    }
    fn or(&self, other: &Self) -> Self {
        self | other
    }
    fn zero() -> Self {
        false
    }
}

impl Gates for Expr {
    fn xor(&self, other: &Self) -> Self {
        op(self.clone(), VerilogOp::BitXor, other.clone())
    }
    fn and(&self, other: &Self) -> Self {
        op(self.clone(), VerilogOp::BitAnd, other.clone())
    }
    fn or(&self, other: &Self) -> Self {
        op(self.clone(), VerilogOp::BitOr, other.clone())
    }
    fn zero() -> Self {
        lit(1, 0)
    }
}

/// Sum and carry of three bits.
fn full_adder<G: Gates>(a: &G, b: &G, c: &G) -> (G, G) {
    let carry = a.and(b).or(&a.and(c)).or(&b.and(c));
    (a.xor(b).xor(c), carry)
}

/// The 3-bit sum of a counter: `low` (at most 6) bits of weight 1 and `high` (at most 1, and
/// only with at most 5 low bits) of weight 2. Written as full adders; each output depends on
/// at most 6 inputs, so a LUT6 maps it whole.
pub fn counter<G: Gates>(low: &[G], high: &[G]) -> [G; 3] {
    assert!(low.len() <= 6 && high.len() <= 1 && low.len() + 2 * high.len() <= 7);
    let bit = |v: &[G], i: usize| v.get(i).cloned().unwrap_or_else(G::zero);
    let (s1, c1) = full_adder(&bit(low, 0), &bit(low, 1), &bit(low, 2));
    let (o0, c2, k) = if low.len() == 6 {
        let (s2, c2) = full_adder(&bit(low, 3), &bit(low, 4), &bit(low, 5));
        (s1.xor(&s2), c2, s1.and(&s2))
    } else {
        let (o0, c2) = full_adder(&bit(low, 3), &bit(low, 4), &s1);
        (o0, c2, bit(high, 0))
    };
    // Weight 2: c1 + c2 + k <= 3.
    let (o1, o2) = full_adder(&c1, &c2, &k);
    [o0, o1, o2]
}

/// The three carry-chain positions of a (1,3,5:4) chain counter over `low` (at most 5 bits of
/// weight 1), `mid` (3, weight 2) and `top` (1, weight 4): per position (p, x), the chain
/// computing X + Y + cin with Y = P ^ X, cin = low[4]. Position i adds the digit x_i + y_i:
/// y_0 = a0 ^ a1 ^ a2 (a = low[0..3]), whose remainder maj(a) moves up; y_1 = maj(a) ^ b0 ^ b1
/// (b = mid[0..2]), remainder maj(maj(a), b0, b1) = y_2. Each p is one LUT of at most six
/// inputs, x is a heap bit itself: the chain's DI, so no LUT makes it (Preusser's atoms, with
/// the digit's second bit a plain input where an atom uses a LUT's O5).
pub fn chain_positions<G: Gates>(low: &[G], mid: &[G], top: &[G]) -> [(G, G); 3] {
    assert!(low.len() <= 5 && mid.len() <= 3 && top.len() <= 1);
    let bit = |v: &[G], i: usize| v.get(i).cloned().unwrap_or_else(G::zero);
    let (y0, m) = full_adder(&bit(low, 0), &bit(low, 1), &bit(low, 2));
    let (y1, y2) = full_adder(&m, &bit(mid, 0), &bit(mid, 1));
    let (x0, x1, x2) = (bit(low, 3), bit(mid, 2), bit(top, 0));
    [(y0.xor(&x0), x0), (y1.xor(&x1), x1), (y2.xor(&x2), x2)]
}

/// Which inputs of a chain counter (`low` bits 0..5, then `mid` 0..3, then `top`) each
/// position's LUT reads: p_0 the a's and x_0, p_1 and p_2 the a's, b's and their x.
const CHAIN_LUT_INPUTS: [&[usize]; 3] = [&[0, 1, 2, 3], &[0, 1, 2, 5, 6, 7], &[0, 1, 2, 5, 6, 8]];

/// Render `plan` of `heap` into the assembly: registers load while `ce`. Returns the sum's
/// signal (`prefix`_sum, `heap.width` bits) and calls `stage` at every register so the
/// caller's control bits travel beside the data.
pub fn render(
    m: &mut Assembly,
    heap: &mut Heap,
    plan: &Plan,
    prefix: &str,
    ce: &Option<Expr>,
    mut stage: impl FnMut(&mut Assembly),
) -> String {
    let mut value: Vec<Option<Expr>> = vec![None; plan.bit_count];
    let inputs = heap.input_exprs();
    assert_eq!(
        inputs.len(),
        plan.input_columns.len(),
        "plan of another heap"
    );
    for (id, e) in inputs.into_iter().enumerate() {
        value[id] = Some(e);
    }
    let bit = |value: &[Option<Expr>], id: &Option<BitId>| match id {
        Some(id) => value[*id]
            .clone()
            .expect("a bit is computed before it is read"),
        None => lit(1, 0),
    };
    // The last stage that reads each bit (the result: one past the last stage).
    let mut read_at = vec![0usize; plan.bit_count];
    for (s, st) in plan.stages.iter().enumerate() {
        for id in st
            .compressors
            .iter()
            .flat_map(|c| c.inputs.iter().flatten().flatten())
        {
            read_at[*id] = s;
        }
    }
    for id in plan.result.iter().flatten() {
        read_at[*id] = plan.stages.len();
    }
    for (s, st) in plan.stages.iter().enumerate() {
        if st.registered {
            // Constant bits (the constant's ones not yet compressed) need no register.
            let live: Vec<BitId> = (0..plan.bit_count)
                .filter(|&id| read_at[id] >= s)
                .filter(|&id| {
                    value[id]
                        .as_ref()
                        .is_some_and(|e| !matches!(e, Expr::Literal(_)))
                })
                .collect();
            register_live(m, &mut value, &live, &format!("{prefix}_s{s}"), ce);
            stage(m);
        }
        for (k, comp) in st.compressors.iter().enumerate() {
            let node = format!("{prefix}_s{s}_c{k}");
            let mut ins: Vec<Vec<Expr>> = comp
                .inputs
                .iter()
                .map(|row| row.iter().map(|b| bit(&value, b)).collect())
                .collect();
            // Inverted bits go where only LUTs read them (their tables invert for free), plain
            // ones where the carry chain's DI does: a chain's x and cin slots are last in their
            // columns, an adder's DI is its first row.
            match comp.kind {
                Kind::Chain => ins.iter_mut().for_each(|c| c.sort_by_key(|e| !inverted(e))),
                Kind::Adder { .. } => {
                    for c in 0..ins[0].len() {
                        if inverted(&ins[0][c]) && !inverted(&ins[1][c]) {
                            let (first, second) = ins.split_at_mut(1);
                            std::mem::swap(&mut first[0][c], &mut second[0][c]);
                        }
                    }
                }
                Kind::Counter { .. } => {}
            }
            // Outputs at or above the heap's width (the top carry) wrap away.
            let bits = comp.outputs.iter().flatten().count();
            let outs: Vec<Expr> = match comp.kind {
                Kind::Counter { .. } => heap.counter_cell(m, &ins[0], &ins[1]),
                Kind::Chain => heap.chain_counter(m, &node, &ins, bits),
                Kind::Adder { .. } => {
                    let rows: Vec<String> = (ins.iter().enumerate())
                        .map(|(r, row)| {
                            let name = format!("{node}_row{r}");
                            m.zero_padded(&name, bits, row.iter().cloned());
                            name
                        })
                        .collect();
                    m.wire(&node, bits, AtomKind::LocalSignal);
                    m.assign(&node, bin(sig(&rows[0]), VerilogOp::Add, sig(&rows[1])));
                    (0..bits).map(|j| slice(&node, j, 1)).collect()
                }
            };
            for (id, e) in comp.outputs.iter().zip(outs) {
                if let Some(id) = id {
                    value[*id] = Some(e);
                }
            }
        }
    }
    let sum = format!("{prefix}_sum");
    m.wire(&sum, plan.width, AtomKind::LocalSignal);
    m.assign(&sum, lit(plan.width, 0));
    for (c, id) in plan.result.iter().enumerate() {
        if id.is_some() {
            m.assign_slice(&sum, c, 1, bit(&value, id));
        }
    }
    if plan.result_registered {
        stage(m);
        return m.register(&format!("{sum}_r"), plan.width, sig(&sum), ce);
    }
    sum
}

/// Register the `live` bits, packed into registers of at most 64 bits; afterwards they are
/// read from the registers.
fn register_live(
    m: &mut Assembly,
    value: &mut [Option<Expr>],
    live: &[BitId],
    name: &str,
    ce: &Option<Expr>,
) {
    for (r, chunk) in live.chunks(64).enumerate() {
        let d = format!("{name}_d{r}");
        m.wire(&d, chunk.len(), AtomKind::LocalSignal);
        // An inverted bit is registered uninverted and read inverted: the inversion moves on
        // into the LUT that reads it instead of costing one before the register.
        let (plain, inverted) = uninverted(
            &chunk
                .iter()
                .map(|&id| value[id].clone().expect("live"))
                .collect::<Vec<_>>(),
        );
        for (j, e) in plain.into_iter().enumerate() {
            m.assign_bit(&d, chunk.len(), j, e);
        }
        let q = m.register(&format!("{name}_r{r}"), chunk.len(), sig(&d), ce);
        for (j, &id) in chunk.iter().enumerate() {
            value[id] = Some(invert_if(
                bit_of(&q, chunk.len(), j),
                inverted >> j & 1 == 1,
            ));
        }
    }
}

/// How a lane puts its product into a heap.
#[derive(Clone)]
pub struct LaneRows {
    /// Signals of the lane computed from its operands before the input registers and
    /// registered beside them (e.g. a flag that keeps a later function within six inputs):
    /// (name, width, its expression over the raw operands).
    pub registered: Vec<Registered>,
    /// Input ports (indices) the lane reads only through its registered signals: not
    /// registered themselves.
    pub unregistered: Vec<usize>,
    /// Add the lane's bits to the heap; extra logic (tables) goes into the assembly.
    pub add: std::sync::Arc<AddBits>,
    /// The §5 delay from the registers to the heap's bits, ns.
    pub ns: f64,
    /// When the heap is the smaller sum for this lane (measured: `make bench`'s density table),
    /// so that a dot takes it unless told otherwise.
    pub smaller: Smaller,
}

/// When a lane's heap is smaller than its tree.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Smaller {
    Always,
    /// From this many lanes on (fewer lanes leave the heap's fixed part, its constant's ones
    /// and final adders over the whole width, less to share), at this clock (MHz) or faster.
    FromLanesAt {
        lanes: usize,
        mhz: f64,
    },
    Never,
}

impl Smaller {
    /// Whether the heap is the smaller sum of `lanes` lanes at `target_mhz`.
    pub fn heap(self, lanes: usize, target_mhz: f64) -> bool {
        match self {
            Smaller::Always => true,
            Smaller::FromLanesAt { lanes: n, mhz } => lanes >= n && target_mhz >= mhz,
            Smaller::Never => false,
        }
    }
}

/// How a lane adds its bits: (heap, the module's assembly, the lane's signals).
pub type AddBits = dyn Fn(&mut Heap, &mut Assembly, &LaneSignals) + Send + Sync;

/// A signal registered beside the operands: (name, width, its bits (low first) as expressions
/// over the raw operands, which may use the heap's LUT cells).
pub type Registered = (String, usize, std::sync::Arc<RegisteredBits>);

/// How a registered signal's bits are made: (heap, the module's assembly, the raw operands).
pub type RegisteredBits = dyn Fn(&mut Heap, &mut Assembly, &[Operand]) -> Vec<Expr> + Send + Sync;

/// An operand as a range of a wider signal (a lane's slice of a port or of AXI4-Stream data).
#[derive(Clone, Debug)]
pub struct Operand {
    pub signal: String,
    pub offset: usize,
}

impl Operand {
    pub fn bit(&self, i: usize) -> Expr {
        bit(&self.signal, self.offset + i)
    }
    pub fn range(&self, i: usize, width: usize) -> Expr {
        slice(&self.signal, self.offset + i, width)
    }
    /// Its bits `i..i + width`, least significant first.
    pub fn bits(&self, i: usize, width: usize) -> Vec<Expr> {
        (i..i + width).map(|j| self.bit(j)).collect()
    }
}

/// What a lane's bits are made of: its registered operands (port order) and its registered
/// extra signals ([`LaneRows::registered`] order).
pub struct LaneSignals {
    pub operands: Vec<Operand>,
    pub registered: Vec<String>,
}

impl std::fmt::Debug for LaneRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LaneRows {{ ns: {} }}", self.ns)
    }
}

/// `(a op b)`: rust-hdl prints a binary expression without parentheses, so nested ones must
/// carry their own.
pub fn op(a: Expr, operator: VerilogOp, b: Expr) -> Expr {
    Expr::Paren(Box::new(bin(a, operator, b)))
}

/// Bit `i` of signal `name`.
pub fn bit(name: &str, i: usize) -> Expr {
    slice(name, i, 1)
}

/// Bit `i` of signal `name` of `width` bits (a 1-bit signal is not indexed).
pub fn bit_of(name: &str, width: usize, i: usize) -> Expr {
    match width {
        1 => sig(name),
        _ => bit(name, i),
    }
}

/// `bits << shift` at column `column`, one of several shifts chosen by the bits `select` (least
/// significant first): `choices` gives (select value, shift); a value not listed gives 0, and
/// so does a position shifted in from below or beyond `bits`.
/// Written as a mux tree on the select bits, top bit first: the form the LUT mapper turns into
/// 4:1 muxes per LUT6 (an OR of `select == value` terms maps deeper).
pub fn shifted_bit(
    bits: &[Expr],
    column: usize,
    select: &[Expr],
    choices: &[(u64, usize)],
) -> Expr {
    let leaf = |value: u64| {
        let (_, shift) = choices.iter().find(|(v, _)| *v == value)?;
        column
            .checked_sub(*shift)
            .and_then(|j| bits.get(j))
            .cloned()
    };
    mux_tree(select, 0, &leaf).unwrap_or_else(|| lit(1, 0))
}

/// The mux over `select` (the bits still to decide; `prefix` the value of those above) of
/// `leaf(value)`, `None` standing for a constant 0.
fn mux_tree(select: &[Expr], prefix: u64, leaf: &dyn Fn(u64) -> Option<Expr>) -> Option<Expr> {
    let Some((s, below)) = select.split_last() else {
        return leaf(prefix);
    };
    let bit = below.len();
    let zero = mux_tree(below, prefix, leaf);
    let one = mux_tree(below, prefix | 1 << bit, leaf);
    let and = |a: Expr, b: Expr| op(a, VerilogOp::BitAnd, b);
    match (zero, one) {
        (None, None) => None,
        (Some(z), None) => Some(and(not(s.clone()), z)),
        (None, Some(o)) => Some(and(s.clone(), o)),
        (Some(z), Some(o)) => Some(op(
            and(s.clone(), o),
            VerilogOp::BitOr,
            and(not(s.clone()), z),
        )),
    }
}
