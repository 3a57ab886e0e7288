//! qmulgen-rtl: the rust-hdl descriptions of every qmulgen unit, one file per family beside
//! its model by name (`rtl/src/esb.rs` here, `src/units/esb.rs` in the main crate: parameters,
//! golden model, tests). This crate is compiled without optimisation (see the workspace
//! `Cargo.toml`): it is ~2,000 monomorphized blocks whose only job is to print Verilog, in
//! milliseconds, while LLVM would spend minutes optimising them.
//!
//! Each family exposes `verilog(...)`: the unit's Verilog for plain parameters (already
//! validated by the main crate), top module `top`, sub-modules `top$child`.

pub mod adam;
pub mod apot;
pub mod assembly;
pub mod dot;
pub mod esb;
pub mod exact;
pub mod heap;
pub mod pipeline;
pub mod timing;
pub mod tmr;

use rust_hdl::prelude::*;

/// Rename rust-hdl's `top` / `top$child` modules to `NAME` / `NAME__child`, so that several
/// units can share one Vivado project without two modules of the same name, and write every
/// `$` of an identifier (rust-hdl's `inst$port` nets and `copies$0` instances) as `__`: Tcl
/// reads an unbraced `$` as a variable, so `get_cells u0/core/copies__0` must need no quoting.
#[inline] // runs on whole files; this crate is compiled without optimisation
pub fn rename_modules(verilog: &str, name: &str) -> String {
    let mut renames = std::collections::BTreeMap::new();
    for line in verilog.lines() {
        if let Some(rest) = line.trim_start().strip_prefix("module ") {
            let old: String = rest.chars().take_while(|c| *c != '(').collect();
            let old = old.trim().to_string();
            if let Some(child) = old.strip_prefix("top") {
                renames.insert(old.clone(), format!("{name}{}", child.replace('$', "__")));
            }
        }
    }
    let mut out = String::with_capacity(verilog.len() + 64);
    let mut ident = String::new();
    let flush = |ident: &mut String, out: &mut String| {
        match renames.get(ident.as_str()) {
            Some(new) => out.push_str(new),
            None => out.push_str(&ident.replace('$', "__")),
        }
        ident.clear();
    };
    for c in verilog.chars() {
        let starts = c.is_ascii_alphabetic() || c == '_';
        if (ident.is_empty() && starts)
            || (!ident.is_empty() && (starts || c.is_ascii_digit() || c == '$'))
        {
            ident.push(c);
        } else {
            flush(&mut ident, &mut out);
            out.push(c);
        }
    }
    flush(&mut ident, &mut out);
    out
}

/// Which operands of a two-operand unit are two's complement (the product is when either is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signedness {
    pub a: bool,
    pub b: bool,
}

/// Which block of a unit: the unit itself (combinational; [`pipeline`] adds registers), or as
/// a lane of a dot (for the sign-magnitude families: magnitude and sign, the sign applied by
/// the dot's sum).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Unit,
    Lane,
    /// A lane with a register inside (ports `clk` and `ce` first, latency 1), for the
    /// families that have one (ESB).
    StagedLane,
}

/// Any rust-hdl block, its concrete type erased: what a family hands out for a run-time
/// configuration (the width dispatch picks the type), as a unit of its own or as a lane of a
/// `dot`. It is transparent: probes see the block inside.
pub struct AnyBlock(Box<dyn Block>);

impl AnyBlock {
    pub fn new<B: Block + 'static>(block: B) -> Self {
        AnyBlock(Box::new(block))
    }

    /// Verilog of the block as a module of its own (top module `top`), after rust-hdl's checks.
    pub fn verilog(mut self) -> String {
        self.0.connect_all();
        generate_verilog(&self)
    }
}

impl Logic for AnyBlock {
    fn update(&mut self) {
        self.0.update()
    }
    fn connect(&mut self) {
        self.0.connect()
    }
    fn hdl(&self) -> Verilog {
        self.0.hdl()
    }
}

impl Block for AnyBlock {
    fn connect_all(&mut self) {
        self.0.connect_all()
    }
    fn update_all(&mut self) {
        self.0.update_all()
    }
    fn has_changed(&self) -> bool {
        self.0.has_changed()
    }
    fn accept(&self, name: &str, probe: &mut dyn Probe) {
        self.0.accept(name, probe)
    }
}

/// Width dispatch: monomorphize `$f::<W, AA, P>(args)` for a run-time first parameter `BB` in
/// `LO..=HI` and a run-time second parameter `AA` in 2..=16 (values checked by the spec before).
/// `W`, `P` and the optional trailing `S` (a fourth const parameter) are token expressions over
/// the literal names `BB` and `AA`, e.g.
/// `dispatch_wxp!(a in 2..=16, b, W = (BB), P = (BB + AA), exact_for(signed))`.
#[macro_export]
macro_rules! dispatch_wxp {
    ($bb:expr, $lo:literal ..= $hi:literal, $aa:expr, W = ($($w:tt)*), P = ($($p:tt)*),
     $f:ident ( $($arg:expr),* ) $(, S = ($($s:tt)*))?) => {
        seq_macro::seq!(BB in $lo..=$hi {
            match $bb {
                #( #[allow(clippy::identity_op)] BB => $crate::dispatch_wxp_second!($aa, W = ($($w)*), P = ($($p)*), $f($($arg),*) $(, S = ($($s)*))?), )*
                other => unreachable!("width parameter {other} passed validation"),
            }
        })
    };
}

/// Width dispatch over one run-time operand width `n` in 2..=16: `$f::<N, {2 N}, {3 N}>(args)`,
/// for units with two n-bit operands, a 2n-bit product and (log units) a 3n-bit antilog
/// intermediate.
#[macro_export]
macro_rules! dispatch_n_2n_3n {
    ($n:expr, $f:ident ( $($arg:expr),* )) => {
        seq_macro::seq!(NN in 2..=16 {
            match $n {
                #( NN => $f::<NN, { 2 * NN }, { 3 * NN }>($($arg),*), )*
                other => unreachable!("width parameter {other} passed validation"),
            }
        })
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! dispatch_wxp_second {
    ($aa:expr, W = ($($w:tt)*), P = ($($p:tt)*), $f:ident ( $($arg:expr),* ) $(, S = ($($s:tt)*))?) => {
        seq_macro::seq!(AA in 2..=16 {
            match $aa {
                // `W` expressions such as `3 + BB` are `3 + 0` for BB = 0.
                #( #[allow(clippy::identity_op)] AA => $f::<{ $($w)* }, AA, { $($p)* } $(, { $($s)* })?>($($arg),*), )*
                other => unreachable!("width parameter {other} passed validation"),
            }
        })
    };
}

/// Defines a weight × activation unit with exact port widths (`w` [W], `x` [X], `p` [P]) that
/// zero-extends both inputs into a sign-magnitude core generic over P only, with ports `w`,
/// `x`, `magnitude` (P bits) and `negative`, and applies the sign last. `$lane` is the same
/// unit as a lane of a dot: it outputs `magnitude` and `negative` and leaves the sign to the
/// dot's sum, where ~m sits in an adder's LUTs and the +1 is a carry input. Keeping the
/// datapath generic over P alone means the hundreds of (W, X, P) port combinations share a
/// few dozen core instances, which keeps compile time in check.
#[macro_export]
macro_rules! weight_activation_shell {
    ($(#[$doc:meta])* $name:ident, $lane:ident, $core:ident, $config:ty) => {
        $(#[$doc])*
        #[derive(LogicBlock)]
        pub struct $name<const W: usize, const X: usize, const P: usize> {
            pub w: Signal<In, Bits<W>>,
            pub x: Signal<In, Bits<X>>,
            pub p: Signal<Out, Bits<P>>,
            core: $core<P>,
            sign: $crate::ApplySign<P>,
        }

        impl<const W: usize, const X: usize, const P: usize> $name<W, X, P> {
            pub fn new(config: $config) -> Self {
                Self {
                    w: Default::default(),
                    x: Default::default(),
                    p: Default::default(),
                    core: $core::new(config),
                    sign: Default::default(),
                }
            }
        }

        impl<const W: usize, const X: usize, const P: usize> Logic for $name<W, X, P> {
            #[hdl_gen]
            fn update(&mut self) {
                self.core.w.next = bit_cast::<P, W>(self.w.val());
                self.core.x.next = bit_cast::<P, X>(self.x.val());
                self.sign.magnitude.next = self.core.magnitude.val();
                self.sign.negative.next = self.core.negative.val();
                self.p.next = self.sign.p.val();
            }
        }

        /// The unit as a lane of a dot: the product is `negative ? -magnitude : magnitude`.
        #[derive(LogicBlock)]
        pub struct $lane<const W: usize, const X: usize, const P: usize> {
            pub w: Signal<In, Bits<W>>,
            pub x: Signal<In, Bits<X>>,
            pub magnitude: Signal<Out, Bits<P>>,
            pub negative: Signal<Out, Bit>,
            core: $core<P>,
        }

        impl<const W: usize, const X: usize, const P: usize> $lane<W, X, P> {
            pub fn new(config: $config) -> Self {
                Self {
                    w: Default::default(),
                    x: Default::default(),
                    magnitude: Default::default(),
                    negative: Default::default(),
                    core: $core::new(config),
                }
            }
        }

        impl<const W: usize, const X: usize, const P: usize> Logic for $lane<W, X, P> {
            #[hdl_gen]
            fn update(&mut self) {
                self.core.w.next = bit_cast::<P, W>(self.w.val());
                self.core.x.next = bit_cast::<P, X>(self.x.val());
                self.magnitude.next = self.core.magnitude.val();
                self.negative.next = self.core.negative.val();
            }
        }
    };
}

/// All-ones mask of `width` bits. (`#[inline]`: the golden models call it in their inner loops, and
/// this crate is compiled without optimisation.)
#[inline]
pub const fn mask(width: usize) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// Bit length: `floor(log2 v) + 1`, 0 for 0.
#[inline]
pub const fn bitlen(v: u64) -> u32 {
    64 - v.leading_zeros()
}

/// Applies a sign last: `p = negative ? -magnitude : magnitude` in two's complement (a
/// negative zero comes out as 0). Used by the sign-magnitude weight families.
#[derive(LogicBlock)]
pub struct ApplySign<const P: usize> {
    pub magnitude: Signal<In, Bits<P>>,
    pub negative: Signal<In, Bit>,
    pub p: Signal<Out, Bits<P>>,
    /// All ones when negative, else 0.
    flip: Signal<Local, Bits<P>>,
    /// 1 when negative, else 0.
    carry: Signal<Local, Bits<P>>,
    zero: Constant<Bits<P>>,
    one: Constant<Bits<P>>,
}

impl<const P: usize> Default for ApplySign<P> {
    fn default() -> Self {
        Self {
            magnitude: Default::default(),
            negative: Default::default(),
            p: Default::default(),
            flip: Default::default(),
            carry: Default::default(),
            zero: Constant::new(0u64.into()),
            one: Constant::new(1u64.into()),
        }
    }
}

impl<const P: usize> Logic for ApplySign<P> {
    #[hdl_gen]
    fn update(&mut self) {
        // -m = ~m + 1 as one adder, (m ^ flip) + carry, whose inversion sits in the adder's
        // LUTs; a mux between m and ~m + 1 costs a LUT per bit more.
        self.flip.next = self.zero.val();
        self.carry.next = self.zero.val();
        if self.negative.val() {
            self.flip.next = !self.zero.val();
            self.carry.next = self.one.val();
        }
        self.p.next = (self.magnitude.val() ^ self.flip.val()) + self.carry.val();
    }
}
