//! Modules assembled at run time from rust-hdl parts: the structure a const-generic
//! `#[hdl_gen]` block cannot have when it depends on run-time values (the dot's lane count, a
//! unit's pipeline plan). Children are rust-hdl blocks ([`AnyBlock`]) or instances of modules
//! already written ([`Instance`]), registers are rust-hdl `DFF`s, and the glue is a rust-hdl
//! Verilog AST (the `always @(*)` block rust-hdl prints for an `#[hdl_gen]` update). Signals
//! of run-time width are [`Wire`] atoms.

use crate::AnyBlock;
use rust_hdl::prelude::ast::{
    VerilogBlock, VerilogBlockOrConditional, VerilogConditional, VerilogExpression, VerilogOp,
    VerilogOpUnary, VerilogStatement,
};
use rust_hdl::prelude::*;

/// A signal of run-time width: a port or a local of the assembled module.
#[derive(Clone)]
pub struct Wire {
    pub width: usize,
    pub kind: AtomKind,
    /// The value of a constant (`localparam`); unused for other kinds.
    pub value: VerilogLiteral,
}

impl Wire {
    pub fn new(width: usize, kind: AtomKind) -> Self {
        Wire {
            width,
            kind,
            value: false.into(),
        }
    }
}

impl Atom for Wire {
    fn bits(&self) -> usize {
        self.width
    }
    fn connected(&self) -> bool {
        true
    }
    fn changed(&self) -> bool {
        false
    }
    fn kind(&self) -> AtomKind {
        self.kind
    }
    fn descriptor(&self) -> TypeDescriptor {
        TypeDescriptor {
            name: format!("Bits::<{}>", self.width),
            kind: TypeKind::Bits(self.width),
        }
    }
    fn vcd(&self) -> VCDValue {
        VCDValue::Vector(vec![])
    }
    fn id(&self) -> usize {
        0
    }
    fn verilog(&self) -> VerilogLiteral {
        self.value.clone()
    }
    fn constraints(&self) -> Vec<PinConstraint> {
        vec![]
    }
}

impl Logic for Wire {
    fn update(&mut self) {}
}

impl Block for Wire {
    fn connect_all(&mut self) {}
    fn update_all(&mut self) {}
    fn has_changed(&self) -> bool {
        false
    }
    fn accept(&self, name: &str, probe: &mut dyn Probe) {
        probe.visit_atom(name, self);
    }
}

/// An instance of a module whose Verilog is already written: `code` (rust-hdl prints it as
/// black-box code, so it is given to one instance only when several share the module) defines
/// `module`, whose ports are `ports`.
pub struct Instance {
    pub module: String,
    pub ports: Vec<(String, Wire)>,
    pub code: String,
}

impl Logic for Instance {
    fn update(&mut self) {}
    fn hdl(&self) -> Verilog {
        Verilog::Blackbox(BlackBox {
            code: self.code.clone(),
            name: self.module.clone(),
        })
    }
}

impl Block for Instance {
    fn connect_all(&mut self) {}
    fn update_all(&mut self) {}
    fn has_changed(&self) -> bool {
        false
    }
    fn accept(&self, name: &str, probe: &mut dyn Probe) {
        probe.visit_start_scope(name, self);
        for (n, w) in &self.ports {
            w.accept(n, probe);
        }
        probe.visit_end_scope(name, self);
    }
}

/// Every atom of a block with the depth of its scope (1: the block's own, 2: a child's) and,
/// below the top, the child's name: the ports of a lane and the inputs of the dot's children.
#[derive(Default)]
pub struct Atoms {
    scopes: Vec<String>,
    /// (depth, child, name, width, kind)
    pub atoms: Vec<(usize, String, String, usize, AtomKind)>,
}

impl Atoms {
    pub fn of(block: &dyn Block) -> Self {
        let mut probe = Atoms::default();
        block.accept("top", &mut probe);
        probe
    }
}

impl Probe for Atoms {
    fn visit_start_scope(&mut self, name: &str, _node: &dyn Block) {
        self.scopes.push(name.to_string());
    }
    fn visit_atom(&mut self, name: &str, signal: &dyn Atom) {
        let child = self.scopes.get(1).cloned().unwrap_or_default();
        let (depth, name) = (self.scopes.len(), name.to_string());
        self.atoms
            .push((depth, child, name, signal.bits(), signal.kind()));
    }
    fn visit_end_scope(&mut self, _name: &str, _node: &dyn Block) {
        self.scopes.pop();
    }
}

/// A module assembled at run time: named wires, named child blocks and one combinational
/// update block. Child ports are read and written as `child$port`, as rust-hdl names them.
#[derive(Default)]
pub struct Assembly {
    pub wires: Vec<(String, Wire)>,
    pub children: Vec<(String, AnyBlock)>,
    pub code: VerilogBlock,
}

impl Logic for Assembly {
    fn update(&mut self) {}
    fn hdl(&self) -> Verilog {
        Verilog::Combinatorial(self.code.clone())
    }
}

impl Block for Assembly {
    fn connect_all(&mut self) {
        for (_, c) in &mut self.children {
            c.connect_all();
        }
    }
    fn update_all(&mut self) {}
    fn has_changed(&self) -> bool {
        false
    }
    fn accept(&self, name: &str, probe: &mut dyn Probe) {
        probe.visit_start_scope(name, self);
        for (n, w) in &self.wires {
            w.accept(n, probe);
        }
        for (n, c) in &self.children {
            c.accept(n, probe);
        }
        probe.visit_end_scope(name, self);
    }
}

pub type Expr = VerilogExpression;

pub fn sig(name: &str) -> Expr {
    Expr::Signal(name.to_string())
}

/// A `width`-bit literal (width 1..=64).
pub fn lit(width: usize, value: u64) -> Expr {
    seq_macro::seq!(N in 1..=64 {
        match width {
            #( N => Expr::Literal(Bits::<N>::from(value).into()), )*
            other => unreachable!("literal width {other}"),
        }
    })
}

/// `name[offset +: width]`.
pub fn slice(name: &str, offset: usize, width: usize) -> Expr {
    Expr::Slice(Box::new(sig(name)), width, Box::new(lit(32, offset as u64)))
}

pub fn bin(a: Expr, op: VerilogOp, b: Expr) -> Expr {
    Expr::Binary(Box::new(a), op, Box::new(b))
}

/// `x`, and-ed with the clock enable when there is one.
pub fn gated(ce: &Option<Expr>, x: Expr) -> Expr {
    match ce {
        Some(ce) => bin(ce.clone(), VerilogOp::BitAnd, x),
        None => x,
    }
}

pub fn not(a: Expr) -> Expr {
    Expr::Unary(VerilogOpUnary::Not, Box::new(a))
}

/// A rust-hdl flip-flop of `width` bits (1..=64).
pub fn dff(width: usize) -> AnyBlock {
    seq_macro::seq!(N in 1..=64 {
        match width {
            #( N => AnyBlock::new(DFF::<Bits<N>>::default()), )*
            other => unreachable!("register width {other}"),
        }
    })
}

impl Assembly {
    pub fn wire(&mut self, name: &str, width: usize, kind: AtomKind) -> Expr {
        self.wires.push((name.to_string(), Wire::new(width, kind)));
        sig(name)
    }

    pub fn assign(&mut self, lhs: &str, rhs: Expr) {
        self.code.push(VerilogStatement::Assignment(sig(lhs), rhs));
    }

    pub fn assign_slice(&mut self, lhs: &str, offset: usize, width: usize, rhs: Expr) {
        self.code.push(VerilogStatement::SliceAssignment {
            base: sig(lhs),
            width,
            offset: lit(32, offset as u64),
            replacement: rhs,
        });
    }

    /// Bit `j` of `lhs`, a signal of `width` bits (a 1-bit signal is assigned whole: Verilog
    /// has no bit select of a scalar).
    pub fn assign_bit(&mut self, lhs: &str, width: usize, j: usize, rhs: Expr) {
        match width {
            1 => self.assign(lhs, rhs),
            _ => self.assign_slice(lhs, j, 1, rhs),
        }
    }

    /// A local `name` of `width` bits: `bits` (low first) from bit 0, zeros above them.
    pub fn zero_padded(&mut self, name: &str, width: usize, bits: impl IntoIterator<Item = Expr>) {
        self.wire(name, width, AtomKind::LocalSignal);
        self.assign(name, lit(width, 0));
        for (j, b) in bits.into_iter().enumerate() {
            self.assign_bit(name, width, j, b);
        }
    }

    /// `if (test) lhs = rhs;` after the assignments before it.
    pub fn when(&mut self, test: Expr, lhs: &str, rhs: Expr) {
        self.code.push(VerilogStatement::If(VerilogConditional {
            test,
            then: vec![VerilogStatement::Assignment(sig(lhs), rhs)],
            otherwise: VerilogBlockOrConditional::None,
        }));
    }

    /// `lhs = test ? then : otherwise` as an if/else.
    pub fn select(&mut self, lhs: &str, test: Expr, then: Expr, otherwise: Expr) {
        self.code.push(VerilogStatement::If(VerilogConditional {
            test,
            then: vec![VerilogStatement::Assignment(sig(lhs), then)],
            otherwise: VerilogBlockOrConditional::Block(vec![VerilogStatement::Assignment(
                sig(lhs),
                otherwise,
            )]),
        }));
    }

    /// A local `name` of `to` bits holding `src` (`from` bits) extended by sign or zeros.
    pub fn extend(
        &mut self,
        name: &str,
        src: &str,
        from: usize,
        to: usize,
        signed: bool,
    ) -> String {
        self.wire(name, to, AtomKind::LocalSignal);
        self.assign(name, lit(to, 0));
        self.assign_slice(name, 0, from, sig(src));
        if signed {
            for k in from..to {
                self.assign_slice(name, k, 1, slice(src, from - 1, 1));
            }
        }
        name.to_string()
    }

    /// A flip-flop `name` of `width` bits loading `d` while `ce`: returns its output `name$q`.
    pub fn register(&mut self, name: &str, width: usize, d: Expr, ce: &Option<Expr>) -> String {
        self.children.push((name.to_string(), dff(width)));
        self.assign(&format!("{name}$clock"), sig("clk"));
        let q = format!("{name}$q");
        match ce {
            Some(ce) => self.select(&format!("{name}$d"), ce.clone(), d, sig(&q)),
            None => self.assign(&format!("{name}$d"), d),
        }
        q
    }

    /// `sum + carry` when there is a carry to add (a 1-bit carry input of the same adder).
    pub fn plus_carry(
        &mut self,
        sum: Expr,
        carry: Option<String>,
        node: &str,
        width: usize,
    ) -> Expr {
        match carry {
            Some(c) => {
                let c = self.extend(&format!("{node}_carry"), &c, 1, width, false);
                bin(sum, VerilogOp::Add, sig(&c))
            }
            None => sum,
        }
    }

    /// Registers for 1-bit signals (`prefix_j_r`), returning their outputs.
    pub fn register_all(
        &mut self,
        bits: &[String],
        prefix: &str,
        ce: &Option<Expr>,
    ) -> Vec<String> {
        bits.iter()
            .enumerate()
            .map(|(j, b)| self.register(&format!("{prefix}_{j}_r"), 1, sig(b), ce))
            .collect()
    }

    /// [`Assembly::extend`], or for a magnitude with a sign: zero-extended, then inverted
    /// when negative (~m; the +1 is a carry input elsewhere). The inversion sits in the LUTs
    /// of the adder that takes the row.
    pub fn widen(
        &mut self,
        name: &str,
        src: &str,
        from: usize,
        to: usize,
        signed: bool,
        negative: &Option<String>,
    ) -> String {
        match negative {
            None => self.extend(name, src, from, to, signed),
            Some(neg) => {
                self.extend(name, src, from, to, false);
                let inverted = bin(sig(name), VerilogOp::BitXor, lit(to, crate::mask(to)));
                self.when(sig(neg), name, inverted);
                name.to_string()
            }
        }
    }

    /// A control flip-flop cleared by `rst`.
    pub fn control(&mut self, name: &str, d: Expr, ce: &Option<Expr>) -> String {
        let q = self.register(name, 1, d, ce);
        self.when(sig("rst"), &format!("{name}$d"), lit(1, 0));
        q
    }
}

impl Assembly {
    /// Verilog of the assembly (top module `top`). rust-hdl's own connection check needs typed
    /// access to every child's inputs, which an assembly of type-erased blocks does not have;
    /// instead every input port of every child is checked to be assigned by the update code
    /// (each block inside was checked by rust-hdl on its own, and Verilator's `-Wall` lint
    /// checks the whole module).
    pub fn into_verilog(mut self, what: &str) -> String {
        self.connect_all();
        let assigned: std::collections::BTreeSet<String> =
            self.code.iter().flat_map(assigned_names).collect();
        let open = Atoms::of(&self)
            .atoms
            .into_iter()
            .find(|(depth, child, name, _, kind)| {
                *depth == 2
                    && *kind == AtomKind::InputParameter
                    && !assigned.contains(&format!("{child}${name}"))
            });
        if let Some((_, child, name, _, _)) = open {
            panic!("{what} assembly leaves the input {child}${name} unassigned");
        }
        generate_verilog_unchecked(&self)
    }
}

/// Names assigned by a statement (and the statements inside it).
pub fn assigned_names(s: &VerilogStatement) -> Vec<String> {
    let block = |b: &VerilogBlock| b.iter().flat_map(assigned_names).collect::<Vec<_>>();
    match s {
        VerilogStatement::Assignment(Expr::Signal(n), _) => vec![n.clone()],
        VerilogStatement::SliceAssignment {
            base: Expr::Signal(n),
            ..
        } => vec![n.clone()],
        VerilogStatement::If(c) => {
            let mut v = block(&c.then);
            match &c.otherwise {
                VerilogBlockOrConditional::Block(b) => v.extend(block(b)),
                VerilogBlockOrConditional::Conditional(s) => v.extend(assigned_names(s)),
                VerilogBlockOrConditional::None => {}
            }
            v
        }
        _ => vec![],
    }
}
