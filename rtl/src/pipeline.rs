//! Pipelining of any unit: the unit's combinational rust-hdl block, cut into stages by the
//! ARITHMETIC.md §5 timing model (FloPoCo's way: every operator states its delay and the
//! framework places the registers), with input and output registers and an optional valid
//! pipeline. Nothing here knows a family: it reads the block's hierarchy and its update code.
//!
//! The block's direct children are the units of placement. Each child, with the statements of
//! the parent's update code that drive its inputs, is scheduled as early as the values it reads
//! allow (as soon as possible, in dataflow order); when the stage's path would exceed the
//! budget, the child moves to the next stage and every value it reads from the earlier stage is
//! registered. A child whose own path exceeds the budget is pipelined the same way inside its
//! own module (which keeps its name, so redundant blocks stay apart through synthesis). A
//! value read k stages after it is computed goes through k registers. The children's modules
//! are the ones rust-hdl wrote for the combinational block, unchanged.

use crate::assembly::{sig, Assembly, Expr, Instance, Wire};
use crate::timing::{adder_ns, LUT_NS};
use crate::AnyBlock;
use rust_hdl::prelude::ast::{
    VerilogBlock, VerilogBlockOrConditional, VerilogOp, VerilogOpUnary, VerilogStatement,
};
use rust_hdl::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// How to pipeline a unit.
pub struct Options<'a> {
    /// The longest combinational path allowed between registers, ns (the clock period less the
    /// §5 path overhead); `f64::INFINITY` gives the input and output registers only.
    pub budget_ns: f64,
    /// `rst`, `in_valid` and `out_valid`: a valid bit travels beside the data through every
    /// stage; `rst` (synchronous, active high) clears it. Data registers are not reset.
    pub valid: bool,
    /// The family's delay model: the §5 delay (ns) of a leaf block by its instance path, e.g.
    /// `operands$lod_a`; `None` for a block with children, whose delay follows from theirs.
    pub leaf_ns: &'a dyn Fn(&str) -> Option<f64>,
}

/// A pipelined unit.
pub struct Pipelined {
    /// Verilog, top module `top` (ports `clk`, `ce`, [`rst`, `in_valid`,] the unit's inputs,
    /// its outputs [, `out_valid`]).
    pub verilog: String,
    /// Clock cycles from inputs to outputs (2 with no internal stage).
    pub latency: u32,
    /// The planned worst path between registers under the §5 model, ns (without overhead).
    pub path_ns: f64,
}

/// Pipeline the combinational block `block` (top module `top`).
pub fn pipeline(block: AnyBlock, options: &Options) -> Pipelined {
    let mut snapshot = Snapshot::default();
    block.accept("top", &mut snapshot);
    let root = snapshot.root.expect("the block visits its own scope");
    let modules = split_modules(&block.verilog());
    let planner = Planner { options };
    let plan = planner.plan(&root, &BTreeMap::new(), true);
    let builder = Builder {
        modules: &modules,
        options,
    };
    let top = builder.build(&root, &plan, true);
    Pipelined {
        verilog: top.into_verilog("pipeline"),
        latency: plan.latency,
        path_ns: plan.worst_ns,
    }
}

/// A signal of a block: its name, width, kind and (constants) value.
#[derive(Clone)]
struct Sig {
    name: String,
    width: usize,
    kind: AtomKind,
    value: VerilogLiteral,
}

/// A block of the hierarchy as rust-hdl sees it: its update code, its atoms, its children.
struct Node {
    /// Instance path below the top, `$`-separated (empty for the top).
    path: String,
    /// Instance name in its parent.
    name: String,
    code: Verilog,
    atoms: Vec<Sig>,
    children: Vec<Node>,
}

impl Node {
    fn ports(&self) -> impl Iterator<Item = &Sig> {
        self.atoms.iter().filter(|a| a.kind.is_parameter())
    }
    /// The update code as rust-hdl prints it (see [`unroll`]).
    fn statements(&self) -> Vec<VerilogStatement> {
        let mut plain = Vec::new();
        if let Verilog::Combinatorial(code) = &self.code {
            unroll(code, &mut Vec::new(), &mut plain);
        }
        plain
    }
}

/// A probe that records the whole hierarchy (owned, so that it outlives the visit).
#[derive(Default)]
struct Snapshot {
    stack: Vec<Node>,
    root: Option<Node>,
}

impl Probe for Snapshot {
    fn visit_start_scope(&mut self, name: &str, node: &dyn Block) {
        let path = match self.stack.last() {
            None => String::new(),
            Some(p) if p.path.is_empty() => name.to_string(),
            Some(p) => format!("{}${name}", p.path),
        };
        self.stack.push(Node {
            path,
            name: name.to_string(),
            code: node.hdl(),
            atoms: Vec::new(),
            children: Vec::new(),
        });
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        if let Some(node) = self.stack.last_mut() {
            node.atoms.push(Sig {
                name: name.to_string(),
                width: signal.bits(),
                kind: signal.kind(),
                value: signal.verilog(),
            });
        }
    }
    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        let node = self.stack.pop().expect("scopes nest");
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(node),
            None => self.root = Some(node),
        }
    }
}

/// An update block as rust-hdl prints it: loops unrolled, names as in the Verilog
/// (`copies[k].a.next` at k = 0 is `copies$0$a`), loop variables as literals.
fn unroll(code: &VerilogBlock, loops: &mut Vec<(String, u64)>, out: &mut VerilogBlock) {
    for s in code {
        if let VerilogStatement::Loop(l) = s {
            for i in l.from.as_usize()..l.to.as_usize() {
                loops.push((l.index.clone(), i as u64));
                unroll(&l.block, loops, out);
                loops.pop();
            }
        } else {
            let mut s = s.clone();
            for_each_expr(&mut s, &mut |e, _| plain_names(e, loops));
            out.push(s);
        }
    }
}

/// rust-hdl's identifier fix-up (its Verilog printer's): `.` and `::` as `$`, no `$next`,
/// array indices `[k]` as `$value`; a loop variable becomes its value.
fn plain_names(e: &mut Expr, loops: &[(String, u64)]) {
    let value = |name: &str| -> Option<u64> {
        name.trim().parse().ok().or_else(|| {
            loops
                .iter()
                .rev()
                .find(|(v, _)| v == name.trim())
                .map(|l| l.1)
        })
    };
    for_each_signal(e, &mut |leaf| {
        let Expr::Signal(name) = leaf else { return };
        if let Some(v) = loops.iter().rev().find(|(v, _)| v == name).map(|l| l.1) {
            *leaf = crate::assembly::lit(32, v);
            return;
        }
        let mut x = name
            .trim_start_matches('.')
            .replace('.', "$")
            .replace("::", "$");
        if let Some(stripped) = x.strip_suffix("$next") {
            x = stripped.to_string();
        }
        while let (Some(open), Some(close)) = (x.find('['), x.find(']')) {
            let index = value(&x[open + 1..close])
                .unwrap_or_else(|| panic!("array index in `{name}` is not a loop variable"));
            x = format!("{}${index}{}", &x[..open], &x[close + 1..]);
        }
        *name = x;
    });
}

/// Apply `f` to every signal of an expression.
fn for_each_signal(e: &mut Expr, f: &mut dyn FnMut(&mut Expr)) {
    match e {
        Expr::Signal(_) => f(e),
        Expr::Literal(_) => {}
        Expr::Cast(a, _) | Expr::Signed(a) | Expr::Unsigned(a) | Expr::Paren(a) => {
            for_each_signal(a, f)
        }
        Expr::Unary(_, a) => for_each_signal(a, f),
        Expr::Binary(a, _, b) | Expr::Index(a, b) | Expr::Slice(a, _, b) => {
            for_each_signal(a, f);
            for_each_signal(b, f);
        }
        Expr::IndexReplace(a, b, c) => {
            for_each_signal(a, f);
            for_each_signal(b, f);
            for_each_signal(c, f);
        }
    }
}

/// What an expression is to the statement that holds it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// What is assigned (with its index or slice offset, which is read).
    Target,
    Read,
}

/// Apply `f` to every expression of a statement, saying which are assigned.
fn for_each_expr(s: &mut VerilogStatement, f: &mut dyn FnMut(&mut Expr, Role)) {
    let block = |b: &mut VerilogBlock, f: &mut dyn FnMut(&mut Expr, Role)| {
        b.iter_mut().for_each(|s| for_each_expr(s, f))
    };
    match s {
        VerilogStatement::Assignment(lhs, rhs) => {
            f(lhs, Role::Target);
            f(rhs, Role::Read);
        }
        VerilogStatement::SliceAssignment {
            base,
            offset,
            replacement,
            ..
        } => {
            f(base, Role::Target);
            f(offset, Role::Read);
            f(replacement, Role::Read);
        }
        VerilogStatement::If(c) => {
            f(&mut c.test, Role::Read);
            block(&mut c.then, f);
            match &mut c.otherwise {
                VerilogBlockOrConditional::Block(b) => block(b, f),
                VerilogBlockOrConditional::Conditional(s) => for_each_expr(s, f),
                VerilogBlockOrConditional::None => {}
            }
        }
        VerilogStatement::Match(m) => {
            f(&mut m.test, Role::Read);
            m.cases.iter_mut().for_each(|c| block(&mut c.block, f));
        }
        VerilogStatement::Loop(l) => block(&mut l.block, f),
        VerilogStatement::Comment(_) => {}
        VerilogStatement::Link(_) | VerilogStatement::Macro(_) => {
            panic!("pipelining does not support rust-hdl links or macros in an update")
        }
    }
}

/// Module texts of a rust-hdl Verilog file by module name.
fn split_modules(verilog: &str) -> BTreeMap<String, String> {
    let mut modules = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in verilog.lines() {
        if let Some(rest) = line.strip_prefix("module ") {
            let name: String = rest.chars().take_while(|c| *c != '(').collect();
            current = Some((name.trim().to_string(), String::new()));
        }
        if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
        if line.starts_with("endmodule") {
            if let Some((name, text)) = current.take() {
                modules.insert(name, text);
            }
        }
    }
    modules
}

/// Who computes a signal of a block's update code.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Owner {
    /// The block's local signal, or the input port of a child (by statement group).
    Group(usize),
    /// An output of child `i`.
    Child(usize),
    Input,
    Constant,
}

/// The statements that compute one thing: a child's inputs (with the child), a local, or the
/// block's outputs; they share a stage.
#[derive(Default, Clone)]
struct Group {
    statements: Vec<usize>,
    children: Vec<usize>,
    outputs: bool,
}

/// How a child is placed.
#[derive(Clone)]
enum Placement {
    /// Its module as rust-hdl wrote it, combinational.
    Whole,
    /// Pipelined inside its own module (ports `clk` and `ce` added).
    Pipelined(Box<Plan>),
}

/// The pipeline plan of one block.
#[derive(Clone)]
struct Plan {
    /// Stage of each statement group.
    group_stage: Vec<i32>,
    children: Vec<Placement>,
    /// Cycles from inputs to outputs (the top: including its input and output registers).
    latency: u32,
    /// Arrival of the outputs within the last stage, ns (for a pipelined child).
    out_ns: f64,
    /// The longest path of any stage, ns.
    worst_ns: f64,
}

/// The dataflow of a block's update code.
struct Flow {
    /// The update code, as rust-hdl prints it.
    statements: Vec<VerilogStatement>,
    groups: Vec<Group>,
    /// Groups in dataflow order.
    order: Vec<usize>,
    /// Per statement: signals read and written.
    reads: Vec<Vec<String>>,
    writes: Vec<Vec<String>>,
    widths: BTreeMap<String, usize>,
    /// Values of the block's constants (those that fit 64 bits).
    constants: BTreeMap<String, u64>,
    /// Group of each child.
    child_group: Vec<usize>,
}

impl Flow {
    fn of(node: &Node) -> Flow {
        let statements = node.statements();
        let mut widths = BTreeMap::new();
        let mut kind = BTreeMap::new();
        let mut constants = BTreeMap::new();
        for a in &node.atoms {
            if a.kind == AtomKind::Constant && a.width <= 64 {
                if let Some(v) = literal_value(&a.value) {
                    constants.insert(a.name.clone(), v);
                }
            }
            widths.insert(a.name.clone(), a.width);
            kind.insert(a.name.clone(), a.kind);
        }
        let mut child_inputs = BTreeMap::new();
        for (i, c) in node.children.iter().enumerate() {
            for p in c.ports() {
                let name = format!("{}${}", c.name, p.name);
                widths.insert(name.clone(), p.width);
                if p.kind == AtomKind::InputParameter {
                    child_inputs.insert(name, i);
                }
            }
        }
        let reads: Vec<Vec<String>> = statements
            .iter()
            .map(|s| {
                let mut v = statement_reads(s);
                v.retain(|n| widths.contains_key(n));
                v.sort();
                v.dedup();
                v
            })
            .collect();
        let writes: Vec<Vec<String>> = statements
            .iter()
            .map(|s| {
                let mut v = statement_writes(s);
                v.sort();
                v.dedup();
                v
            })
            .collect();

        // Union statements with what they write: a child (through its inputs), a local, or
        // the outputs.
        let n = statements.len();
        let mut parent: Vec<usize> = (0..n + node.children.len() + 1).collect();
        fn find(p: &mut [usize], x: usize) -> usize {
            let mut r = x;
            while p[r] != r {
                r = p[r];
            }
            p[x] = r;
            r
        }
        let outputs_key = n + node.children.len();
        let mut local_key: BTreeMap<String, usize> = BTreeMap::new();
        for (i, w) in writes.iter().enumerate() {
            for t in w {
                let key = if let Some(&c) = child_inputs.get(t) {
                    n + c
                } else if kind.get(t) == Some(&AtomKind::OutputParameter) {
                    outputs_key
                } else {
                    *local_key.entry(t.clone()).or_insert(i)
                };
                let (a, b) = (find(&mut parent, i), find(&mut parent, key));
                parent[a] = b;
            }
        }
        let mut group_of_root: BTreeMap<usize, usize> = BTreeMap::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut group_index = |root: usize, groups: &mut Vec<Group>| {
            *group_of_root.entry(root).or_insert_with(|| {
                groups.push(Group::default());
                groups.len() - 1
            })
        };
        for i in 0..n {
            let g = group_index(find(&mut parent, i), &mut groups);
            groups[g].statements.push(i);
        }
        let mut child_group = Vec::new();
        for c in 0..node.children.len() {
            let g = group_index(find(&mut parent, n + c), &mut groups);
            groups[g].children.push(c);
            child_group.push(g);
        }
        let out_root = find(&mut parent, outputs_key);
        if let Some(&g) = group_of_root.get(&out_root) {
            groups[g].outputs = true;
        }

        let mut owner = BTreeMap::new();
        for (name, k) in &kind {
            let o = match k {
                AtomKind::InputParameter => Owner::Input,
                AtomKind::Constant => Owner::Constant,
                _ => continue,
            };
            owner.insert(name.clone(), o);
        }
        for (g, group) in groups.iter().enumerate() {
            for &s in &group.statements {
                for t in &writes[s] {
                    owner.insert(t.clone(), Owner::Group(g));
                }
            }
        }
        for (i, c) in node.children.iter().enumerate() {
            for p in c.ports() {
                if p.kind == AtomKind::OutputParameter {
                    owner.insert(format!("{}${}", c.name, p.name), Owner::Child(i));
                }
            }
        }

        // Dataflow order (Kahn's algorithm, earliest statement first).
        let depends = |g: usize| -> BTreeSet<usize> {
            groups[g]
                .statements
                .iter()
                .flat_map(|&s| reads[s].iter())
                .filter_map(|r| match owner.get(r) {
                    Some(Owner::Group(h)) if *h != g => Some(*h),
                    Some(Owner::Child(c)) if child_group[*c] != g => Some(child_group[*c]),
                    _ => None,
                })
                .collect()
        };
        let deps: Vec<BTreeSet<usize>> = (0..groups.len()).map(depends).collect();
        let mut order = Vec::new();
        let mut done = vec![false; groups.len()];
        while order.len() < groups.len() {
            let next = (0..groups.len())
                .find(|&g| !done[g] && deps[g].iter().all(|&h| done[h]))
                .expect("a combinational block's dataflow has no cycle");
            done[next] = true;
            order.push(next);
        }
        Flow {
            statements,
            groups,
            order,
            reads,
            writes,
            widths,
            constants,
            child_group,
        }
    }
}

/// Every signal a statement reads (targets' indices and slice offsets included).
fn statement_reads(s: &VerilogStatement) -> Vec<String> {
    let mut out = Vec::new();
    let mut collect = |e: &mut Expr| {
        for_each_signal(e, &mut |leaf| {
            if let Expr::Signal(n) = leaf {
                out.push(n.clone());
            }
        })
    };
    for_each_expr(&mut s.clone(), &mut |e, role| match (role, e) {
        (Role::Read, e) => collect(e),
        (Role::Target, Expr::Index(_, i) | Expr::Slice(_, _, i)) => collect(i),
        (Role::Target, _) => {}
    });
    out
}

/// Every signal a statement assigns.
fn statement_writes(s: &VerilogStatement) -> Vec<String> {
    let mut out = Vec::new();
    for_each_expr(&mut s.clone(), &mut |e, role| {
        if role == Role::Target {
            out.extend(base_name(e));
        }
    });
    out
}

fn base_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Signal(n) => Some(n.clone()),
        Expr::Index(b, _) | Expr::Slice(b, _, _) => base_name(b),
        _ => None,
    }
}

/// Rename the signals an expression reads.
fn rename_expr(e: &mut Expr, f: &dyn Fn(&str) -> Option<String>) {
    for_each_signal(e, &mut |leaf| {
        if let Expr::Signal(n) = leaf {
            if let Some(m) = f(n) {
                *n = m;
            }
        }
    });
}

/// Rename what a statement reads (`reads`) and what it writes (`writes`).
fn rename_statement(
    s: &mut VerilogStatement,
    reads: &dyn Fn(&str) -> Option<String>,
    writes: &dyn Fn(&str) -> Option<String>,
) {
    for_each_expr(s, &mut |e, role| match (role, e) {
        (Role::Read, e) => rename_expr(e, reads),
        (Role::Target, Expr::Index(b, i) | Expr::Slice(b, _, i)) => {
            rename_expr(b, writes);
            rename_expr(i, reads);
        }
        (Role::Target, e) => rename_expr(e, writes),
    });
}

/// The §5 delay of a statement of glue logic: nothing for wiring, a carry chain as wide as
/// its widest operand for arithmetic or a comparison (plus a LUT for a conditional), a LUT
/// level for other logic (consecutive logic merges into LUT6s). Operations with a constant
/// (masks, constant shifts, inversions) are wiring, and a conditional whose test is a
/// constant 0 (a disabled option) costs nothing.
fn glue_ns(s: &VerilogStatement, flow: &Flow, reads: &[String]) -> f64 {
    let mut cost = Cost::default();
    cost.statement(s, &flow.constants);
    let width = reads
        .iter()
        .filter(|r| !flow.constants.contains_key(*r))
        .filter_map(|r| flow.widths.get(r))
        .max()
        .copied()
        .unwrap_or(1);
    match (cost.arith, cost.logic) {
        // Every output bit of a sum or comparison of 3-bit values is one LUT6's function.
        (true, _) if width <= 3 => LUT_NS,
        (true, true) => adder_ns(width) + LUT_NS,
        (true, false) => adder_ns(width),
        (false, true) => LUT_NS,
        (false, false) => 0.0,
    }
}

/// What kinds of logic a statement has.
#[derive(Default)]
struct Cost {
    arith: bool,
    logic: bool,
}

impl Cost {
    fn statement(&mut self, s: &VerilogStatement, constants: &BTreeMap<String, u64>) {
        match s {
            VerilogStatement::Assignment(_, rhs) => self.expr(rhs, constants),
            VerilogStatement::SliceAssignment { replacement, .. } => {
                self.expr(replacement, constants)
            }
            VerilogStatement::If(c) => {
                if constant_value(&c.test, constants) == Some(0) {
                    if let VerilogBlockOrConditional::Block(b) = &c.otherwise {
                        b.iter().for_each(|s| self.statement(s, constants));
                    }
                    return;
                }
                self.logic = true;
                self.expr(&c.test, constants);
                c.then.iter().for_each(|s| self.statement(s, constants));
                match &c.otherwise {
                    VerilogBlockOrConditional::Block(b) => {
                        b.iter().for_each(|s| self.statement(s, constants))
                    }
                    VerilogBlockOrConditional::Conditional(s) => self.statement(s, constants),
                    VerilogBlockOrConditional::None => {}
                }
            }
            VerilogStatement::Match(_) | VerilogStatement::Loop(_) => self.logic = true,
            _ => {}
        }
    }

    fn expr(&mut self, e: &Expr, constants: &BTreeMap<String, u64>) {
        let constant = |x: &Expr| constant_value(x, constants).is_some();
        match e {
            Expr::Signal(_) | Expr::Literal(_) => {}
            Expr::Cast(a, _) | Expr::Signed(a) | Expr::Unsigned(a) | Expr::Paren(a) => {
                self.expr(a, constants)
            }
            Expr::Slice(a, _, i) | Expr::Index(a, i) => {
                if !constant(i) {
                    self.logic = true;
                }
                self.expr(a, constants)
            }
            Expr::Unary(op, a) => {
                if !matches!(op, VerilogOpUnary::Not | VerilogOpUnary::Neg) {
                    self.logic = true;
                }
                if matches!(op, VerilogOpUnary::Neg) {
                    self.arith = true;
                }
                self.expr(a, constants)
            }
            Expr::Binary(a, op, b) => {
                let with_constant = constant(a) || constant(b);
                match op {
                    VerilogOp::Add
                    | VerilogOp::Sub
                    | VerilogOp::Mul
                    | VerilogOp::Lt
                    | VerilogOp::Le
                    | VerilogOp::Gt
                    | VerilogOp::Ge => self.arith = true,
                    VerilogOp::Shl | VerilogOp::Shr if constant(b) => {}
                    VerilogOp::BitAnd | VerilogOp::BitOr | VerilogOp::BitXor if with_constant => {}
                    _ => self.logic = true,
                }
                self.expr(a, constants);
                self.expr(b, constants);
            }
            Expr::IndexReplace(..) => self.logic = true,
        }
    }
}

/// A literal's value, when it fits 64 bits.
fn literal_value(l: &VerilogLiteral) -> Option<u64> {
    let text = format!("{l:x}");
    let digits = text.split_once("'h")?.1;
    u64::from_str_radix(digits, 16).ok()
}

/// The value of an expression made of constants and literals (through casts, masks and
/// `&` with a constant 0), if it has one.
fn constant_value(e: &Expr, constants: &BTreeMap<String, u64>) -> Option<u64> {
    match e {
        Expr::Signal(n) => constants.get(n).copied(),
        Expr::Literal(l) => literal_value(l),
        Expr::Cast(a, _) | Expr::Signed(a) | Expr::Unsigned(a) | Expr::Paren(a) => {
            constant_value(a, constants)
        }
        Expr::Binary(a, VerilogOp::BitAnd | VerilogOp::LogicalAnd, b) => {
            match (constant_value(a, constants), constant_value(b, constants)) {
                (Some(0), _) | (_, Some(0)) => Some(0),
                (Some(x), Some(y)) => Some(x & y),
                _ => None,
            }
        }
        _ => None,
    }
}

/// When a value is ready: its stage and its arrival within that stage, ns. Inputs of the top
/// are at stage -1 (before the input registers).
type Ready = BTreeMap<String, (i32, f64)>;

struct Planner<'a> {
    options: &'a Options<'a>,
}

/// Slack for rounding in the comparisons with the budget.
const EPS_NS: f64 = 1e-9;

impl Planner<'_> {
    /// The §5 delay of a block as one combinational stage: the family's model of it, else
    /// what its children and its own code add up to.
    fn combinational_ns(&self, node: &Node) -> f64 {
        if let Some(ns) = (self.options.leaf_ns)(&node.path) {
            return ns;
        }
        if node.children.is_empty() {
            return self.leaf_ns(node);
        }
        let unlimited = Options {
            budget_ns: f64::INFINITY,
            valid: false,
            leaf_ns: self.options.leaf_ns,
        };
        Planner {
            options: &unlimited,
        }
        .plan(node, &BTreeMap::new(), false)
        .out_ns
    }

    fn leaf_ns(&self, node: &Node) -> f64 {
        match (self.options.leaf_ns)(&node.path) {
            Some(ns) => ns,
            // Only the input and output registers: delays play no part.
            None if self.options.budget_ns.is_infinite() => 0.0,
            None => panic!("no delay model for the leaf block `{}`", node.path),
        }
    }

    /// Plan a block whose inputs arrive at `start` (ns by port, 0 if absent; `top`: inputs
    /// and outputs registered).
    fn plan(&self, node: &Node, start: &BTreeMap<String, f64>, top: bool) -> Plan {
        let flow = Flow::of(node);
        let budget = self.options.budget_ns;
        let mut ready: Ready = BTreeMap::new();
        for p in node.ports().filter(|p| p.kind == AtomKind::InputParameter) {
            let at = match top {
                true => (-1, 0.0),
                false => (0, start.get(&p.name).copied().unwrap_or(0.0)),
            };
            ready.insert(p.name.clone(), at);
        }
        let mut group_stage = vec![0; flow.groups.len()];
        let mut children = vec![Placement::Whole; node.children.len()];
        let (mut out_stage, mut out_ns, mut worst) = (0, 0.0, 0.0f64);
        for &g in &flow.order {
            let group = &flow.groups[g];
            let external: Vec<(i32, f64)> = group
                .statements
                .iter()
                .flat_map(|&s| flow.reads[s].iter())
                .filter_map(|r| ready.get(r).copied())
                .collect();
            let mut stage = external.iter().map(|r| r.0).max().unwrap_or(0).max(0);
            let result = loop {
                let result = self.evaluate(node, &flow, g, stage, &ready);
                let late = external.iter().any(|&(s, ns)| s == stage && ns > EPS_NS);
                if result.max_ns <= budget + EPS_NS || !late {
                    break result;
                }
                stage += 1;
            };
            worst = worst.max(result.max_ns);
            group_stage[g] = stage;
            for (name, ns) in result.values {
                ready.insert(name, (stage, ns));
            }
            for (c, placement, latency, ns) in result.children {
                for p in node.children[c].ports() {
                    if p.kind == AtomKind::OutputParameter {
                        let name = format!("{}${}", node.children[c].name, p.name);
                        ready.insert(name, (stage + latency as i32, ns));
                    }
                }
                if let Placement::Pipelined(plan) = &placement {
                    worst = worst.max(plan.worst_ns);
                }
                children[c] = placement;
            }
            if group.outputs {
                out_stage = stage;
                out_ns = result.max_ns;
            }
        }
        Plan {
            group_stage,
            children,
            latency: if top {
                out_stage as u32 + 2
            } else {
                out_stage as u32
            },
            out_ns,
            worst_ns: worst,
        }
    }

    /// Arrivals in group `g` at `stage`: values read from earlier stages come from registers.
    fn evaluate(&self, node: &Node, flow: &Flow, g: usize, stage: i32, ready: &Ready) -> Eval {
        let group = &flow.groups[g];
        let budget = self.options.budget_ns;
        let mut values: BTreeMap<String, f64> = BTreeMap::new();
        let arrival = |r: &str, values: &BTreeMap<String, f64>| -> f64 {
            if let Some(ns) = values.get(r) {
                return *ns;
            }
            match ready.get(r) {
                Some(&(s, ns)) if s == stage => ns,
                _ => 0.0,
            }
        };
        for &s in &group.statements {
            let statement = &flow.statements[s];
            let a = flow.reads[s]
                .iter()
                .map(|r| arrival(r, &values))
                .fold(0.0, f64::max)
                + glue_ns(statement, flow, &flow.reads[s]);
            for t in &flow.writes[s] {
                let e = values.entry(t.clone()).or_insert(0.0);
                *e = e.max(a);
            }
        }
        let mut max_ns = values.values().copied().fold(0.0, f64::max);
        let mut children = Vec::new();
        for &c in &group.children {
            let child = &node.children[c];
            let start: BTreeMap<String, f64> = child
                .ports()
                .filter(|p| p.kind == AtomKind::InputParameter)
                .map(|p| {
                    let at = arrival(&format!("{}${}", child.name, p.name), &values);
                    (p.name.clone(), at)
                })
                .collect();
            let a_in = start.values().copied().fold(0.0, f64::max);
            let own = self.combinational_ns(child);
            let whole = a_in + own;
            // A child that misses the stage is split when it has parts and its outputs come
            // sooner that way than whole in the next stage (where the group would move).
            let split = (whole > budget + EPS_NS && !child.children.is_empty())
                .then(|| self.plan(child, &start, false))
                .filter(|p| {
                    p.latency > 0 && (own > budget + EPS_NS || (p.latency, p.out_ns) < (1, own))
                });
            match split {
                None => {
                    max_ns = max_ns.max(whole);
                    children.push((c, Placement::Whole, 0, whole));
                }
                Some(plan) => {
                    max_ns = max_ns.max(a_in);
                    let (latency, ns) = (plan.latency, plan.out_ns);
                    children.push((c, Placement::Pipelined(Box::new(plan)), latency, ns));
                }
            }
        }
        Eval {
            max_ns,
            values: values.into_iter().collect(),
            children,
        }
    }
}

struct Eval {
    max_ns: f64,
    values: Vec<(String, f64)>,
    /// (child, placement, latency, arrival of its outputs)
    children: Vec<(usize, Placement, u32, f64)>,
}

struct Builder<'a> {
    modules: &'a BTreeMap<String, String>,
    options: &'a Options<'a>,
}

impl Builder<'_> {
    /// The assembly of `node` for `plan`: its children (whole or pipelined), its update code
    /// with every late read renamed to a register, the registers, and for the top the input
    /// and output registers and the valid pipeline.
    fn build(&self, node: &Node, plan: &Plan, top: bool) -> Assembly {
        let flow = Flow::of(node);
        let mut m = Assembly::default();
        let ce = Some(sig("ce"));
        m.wire("clk", 1, AtomKind::InputParameter);
        m.wire("ce", 1, AtomKind::InputParameter);
        let valid = top && self.options.valid;
        if valid {
            m.wire("rst", 1, AtomKind::InputParameter);
            m.wire("in_valid", 1, AtomKind::InputParameter);
        }
        // The top's outputs are computed into `<port>_next` and registered.
        let next = |o: &str| format!("{o}_next");
        let outputs: Vec<&Sig> = node
            .ports()
            .filter(|p| p.kind == AtomKind::OutputParameter)
            .collect();
        for a in &node.atoms {
            if top && a.kind == AtomKind::OutputParameter {
                m.wire(&next(&a.name), a.width, AtomKind::LocalSignal);
            }
            let mut w = Wire::new(a.width, a.kind);
            w.value = a.value.clone();
            m.wires.push((a.name.clone(), w));
        }
        if valid {
            m.wire("out_valid", 1, AtomKind::OutputParameter);
        }

        // When each value is ready.
        let mut ready: BTreeMap<String, i32> = BTreeMap::new();
        for p in node.ports().filter(|p| p.kind == AtomKind::InputParameter) {
            ready.insert(p.name.clone(), if top { -1 } else { 0 });
        }
        for (g, group) in flow.groups.iter().enumerate() {
            for &s in &group.statements {
                for t in &flow.writes[s] {
                    ready.insert(t.clone(), plan.group_stage[g]);
                }
            }
        }
        for (c, child) in node.children.iter().enumerate() {
            let stage = plan.group_stage[flow.child_group[c]];
            let latency = match &plan.children[c] {
                Placement::Whole => 0,
                Placement::Pipelined(p) => p.latency as i32,
            };
            for p in child
                .ports()
                .filter(|p| p.kind == AtomKind::OutputParameter)
            {
                ready.insert(format!("{}${}", child.name, p.name), stage + latency);
            }
        }

        // Children.
        for (c, child) in node.children.iter().enumerate() {
            match &plan.children[c] {
                Placement::Whole => {
                    let module = format!("top${}", child.path);
                    let code: String = self
                        .modules
                        .range(module.clone()..)
                        .take_while(|(name, _)| {
                            *name == &module || name.starts_with(&format!("{module}$"))
                        })
                        .map(|(_, text)| format!("\n{text}"))
                        .collect();
                    let ports = child
                        .ports()
                        .map(|p| (p.name.clone(), Wire::new(p.width, p.kind)))
                        .collect();
                    m.children.push((
                        child.name.clone(),
                        AnyBlock::new(Instance {
                            module,
                            ports,
                            code,
                        }),
                    ));
                }
                Placement::Pipelined(p) => {
                    let inner = self.build(child, p, false);
                    m.children.push((child.name.clone(), AnyBlock::new(inner)));
                    m.assign(&format!("{}$clk", child.name), sig("clk"));
                    m.assign(&format!("{}$ce", child.name), sig("ce"));
                }
            }
        }

        // The update code, each statement at its group's stage.
        let mut delays: BTreeSet<(String, i32)> = BTreeSet::new();
        let mut stage_of_statement = vec![0; flow.statements.len()];
        for (g, group) in flow.groups.iter().enumerate() {
            for &s in &group.statements {
                stage_of_statement[s] = plan.group_stage[g];
            }
        }
        let outputs_named: BTreeSet<String> = outputs.iter().map(|o| o.name.clone()).collect();
        for (s, statement) in flow.statements.iter().enumerate() {
            let stage = stage_of_statement[s];
            let mut statement = statement.clone();
            let late = |r: &str| -> Option<String> {
                match ready.get(r) {
                    Some(&at) if at < stage => Some(delayed_name(r, stage)),
                    _ if top && outputs_named.contains(r) => Some(next(r)),
                    _ => None,
                }
            };
            let written =
                |w: &str| -> Option<String> { (top && outputs_named.contains(w)).then(|| next(w)) };
            for r in &flow.reads[s] {
                if let Some(&at) = ready.get(r) {
                    if at < stage {
                        delays.insert((r.clone(), stage));
                    }
                }
            }
            rename_statement(&mut statement, &late, &written);
            m.code.push(statement);
        }
        // Register chains: value `r` seen at stage `k` is `r` from stage k-1, registered.
        let mut made: BTreeSet<(String, i32)> = BTreeSet::new();
        for (r, stage) in &delays {
            let from = ready[r];
            for k in (from + 1)..=*stage {
                if !made.insert((r.clone(), k)) {
                    continue;
                }
                let d = if k == from + 1 {
                    sig(r)
                } else {
                    sig(&delayed_name(r, k - 1))
                };
                m.register(&register_name(r, k), flow.widths[r], d, &ce);
            }
        }
        if top {
            for o in &outputs {
                let q = m.register(&format!("{}_r", o.name), o.width, sig(&next(&o.name)), &ce);
                m.assign(&o.name, sig(&q));
            }
        }
        if valid {
            let mut v = m.control("valid_s0", sig("in_valid"), &ce);
            for k in 1..plan.latency {
                v = m.control(&format!("valid_s{k}"), sig(&v), &ce);
            }
            m.assign("out_valid", sig(&v));
        }
        m
    }
}

/// Value `r` as stage `k` sees it: the output of its register into stage k (a child's output
/// is never assigned by the update code, so no statement reads a value before it is set).
fn delayed_name(r: &str, k: i32) -> String {
    format!("{}$q", register_name(r, k))
}

/// The register that carries value `r` into stage `k`.
fn register_name(r: &str, k: i32) -> String {
    format!("{}_s{k}", r.replace('$', "_"))
}
