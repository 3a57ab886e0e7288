//! From a unit spec to files: width dispatch helpers, the registered wrapper, module renaming,
//! manifests and atomic writes. Knows nothing about any unit's insides.

use crate::spec::UnitSpec;
use crate::units::{Dir, Port};
use rust_hdl::prelude::*;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Verilog of a rust-hdl block (top module `top`), after rust-hdl's own checks.
pub fn verilog_of<B: Block>(mut block: B) -> String {
    block.connect_all();
    generate_verilog(&block)
}

/// Width dispatch: monomorphize `$f::<W, AA, P>(args)` for a run-time first parameter `BB` in
/// `LO..=HI` and a run-time second parameter `AA` in 2..=16 (values checked by the spec before).
/// `W` and `P` are token expressions over the literal names `BB` and `AA`, e.g.
/// `dispatch_wxp!(a in 2..=16, b, W = (BB), P = (BB + AA), exact_for(signed))`.
#[macro_export]
macro_rules! dispatch_wxp {
    ($bb:expr, $lo:literal ..= $hi:literal, $aa:expr, W = ($($w:tt)*), P = ($($p:tt)*),
     $f:ident ( $($arg:expr),* )) => {
        seq_macro::seq!(BB in $lo..=$hi {
            match $bb {
                #( #[allow(clippy::identity_op)] BB => $crate::dispatch_wxp_second!($aa, W = ($($w)*), P = ($($p)*), $f($($arg),*)), )*
                other => unreachable!("width parameter {other} passed validation"),
            }
        })
    };
}

/// Width dispatch over one run-time operand width `n` in 2..=16: `$f::<N, {2 N}>(args)`,
/// for units with two n-bit operands and a 2n-bit product.
#[macro_export]
macro_rules! dispatch_n_2n {
    ($n:expr, $f:ident ( $($arg:expr),* )) => {
        seq_macro::seq!(NN in 2..=16 {
            match $n {
                #( NN => $f::<NN, { 2 * NN }>($($arg),*), )*
                other => unreachable!("width parameter {other} passed validation"),
            }
        })
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! dispatch_wxp_second {
    ($aa:expr, W = ($($w:tt)*), P = ($($p:tt)*), $f:ident ( $($arg:expr),* )) => {
        seq_macro::seq!(AA in 2..=16 {
            match $aa {
                // `W` expressions such as `3 + BB` are `3 + 0` for BB = 0.
                #( #[allow(clippy::identity_op)] AA => $f::<{ $($w)* }, AA, { $($p)* }>($($arg),*), )*
                other => unreachable!("width parameter {other} passed validation"),
            }
        })
    };
}

/// Defines a registered wrapper around a combinational core: every input and every output
/// goes through a D flip-flop clocked by `clk` and loaded when `ce` is high (latency 2).
/// `$core::new` style construction is left to the caller, who passes the core in.
#[macro_export]
macro_rules! registered_wrapper {
    ($name:ident < $($g:ident),* >, $core:ty,
     inputs [$($i:ident / $ir:ident : $it:ty),*],
     outputs [$($o:ident / $or:ident : $ot:ty),*]) => {
        /// Registered wrapper: input and output registers with clock enable, latency 2.
        #[derive(LogicBlock)]
        pub struct $name<$(const $g: usize),*> {
            pub clk: Signal<In, Clock>,
            pub ce: Signal<In, Bit>,
            $(pub $i: Signal<In, $it>,)*
            $(pub $o: Signal<Out, $ot>,)*
            core: $core,
            $($ir: DFF<$it>,)*
            $($or: DFF<$ot>,)*
        }

        impl<$(const $g: usize),*> $name<$($g),*> {
            pub fn new(core: $core) -> Self {
                Self {
                    clk: Default::default(),
                    ce: Default::default(),
                    $($i: Default::default(),)*
                    $($o: Default::default(),)*
                    core,
                    $($ir: Default::default(),)*
                    $($or: Default::default(),)*
                }
            }
        }

        impl<$(const $g: usize),*> Logic for $name<$($g),*> {
            #[hdl_gen]
            fn update(&mut self) {
                $(self.$ir.clock.next = self.clk.val();)*
                $(self.$or.clock.next = self.clk.val();)*
                $(self.$ir.d.next = self.$ir.q.val();)*
                $(self.$or.d.next = self.$or.q.val();)*
                if self.ce.val() {
                    $(self.$ir.d.next = self.$i.val();)*
                    $(self.$or.d.next = self.core.$o.val();)*
                }
                $(self.core.$i.next = self.$ir.q.val();)*
                $(self.$o.next = self.$or.q.val();)*
            }
        }
    };
}

/// Defines a weight × activation unit with exact port widths (`w` [W], `x` [X], `p` [P]) that
/// zero-extends both inputs into a core generic over P only, with ports `w`, `x`, `p` of P
/// bits. Keeping the datapath generic over P alone means the hundreds of (W, X, P) port
/// combinations share a few dozen core instances, which keeps compile time in check.
/// Also defines `$registered`, the shell inside input and output registers.
#[macro_export]
macro_rules! weight_activation_shell {
    ($(#[$doc:meta])* $name:ident, $registered:ident, $core:ident, $config:ty) => {
        $(#[$doc])*
        #[derive(LogicBlock)]
        pub struct $name<const W: usize, const X: usize, const P: usize> {
            pub w: Signal<In, Bits<W>>,
            pub x: Signal<In, Bits<X>>,
            pub p: Signal<Out, Bits<P>>,
            core: $core<P>,
        }

        impl<const W: usize, const X: usize, const P: usize> $name<W, X, P> {
            pub fn new(config: $config) -> Self {
                Self {
                    w: Default::default(),
                    x: Default::default(),
                    p: Default::default(),
                    core: $core::new(config),
                }
            }
        }

        impl<const W: usize, const X: usize, const P: usize> Logic for $name<W, X, P> {
            #[hdl_gen]
            fn update(&mut self) {
                self.core.w.next = bit_cast::<P, W>(self.w.val());
                self.core.x.next = bit_cast::<P, X>(self.x.val());
                self.p.next = self.core.p.val();
            }
        }

        $crate::registered_wrapper!(
            $registered<W, X, P>,
            $name<W, X, P>,
            inputs [w / w_reg: Bits<W>, x / x_reg: Bits<X>],
            outputs [p / p_reg: Bits<P>]
        );
    };
}

/// Rename rust-hdl's `top` / `top$child` modules to `NAME` / `NAME__child`, so that several
/// units can share one Vivado project without two modules of the same name.
pub fn rename_modules(verilog: &str, name: &str) -> String {
    let mut renames = BTreeMap::new();
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
            None => out.push_str(ident),
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

/// Everything generated for one unit, in memory.
pub struct Generated {
    pub name: String,
    pub verilog: String,
    pub manifest: Manifest,
}

/// Machine-readable description of a generated module (`NAME.json`).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct Manifest {
    pub module: String,
    pub family: String,
    pub params: serde_json::Value,
    pub ports: Vec<ManifestPort>,
    /// Clock cycles from inputs to outputs (0 = combinational).
    pub latency: u32,
    pub clock: Option<String>,
    pub clock_enable: Option<String>,
    pub sha256: String,
    pub qmulgen_version: String,
}

#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct ManifestPort {
    pub name: String,
    pub direction: String,
    pub width: usize,
    pub signed: bool,
}

impl From<&Port> for ManifestPort {
    fn from(p: &Port) -> Self {
        ManifestPort {
            name: p.name.clone(),
            direction: match p.dir {
                Dir::Input => "input".into(),
                Dir::Output => "output".into(),
            },
            width: p.width,
            signed: p.signed,
        }
    }
}

impl Manifest {
    pub fn inputs(&self) -> impl Iterator<Item = &ManifestPort> {
        self.ports.iter().filter(|p| p.direction == "input")
    }
    pub fn outputs(&self) -> impl Iterator<Item = &ManifestPort> {
        self.ports.iter().filter(|p| p.direction == "output")
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Generate one unit's Verilog and manifest (nothing is written).
pub fn generate(spec: &UnitSpec) -> Generated {
    let name = spec.module_name();
    let header = format!(
        "// {name}: generated by qmulgen {} from rust-hdl; do not edit.\n// family {} params {}\n",
        env!("CARGO_PKG_VERSION"),
        spec.unit.family(),
        spec.unit.params()
    );
    let body = rename_modules(&spec.unit.verilog(spec.pipeline), &name);
    let verilog = format!("{header}{}\n", body.trim());
    let manifest = Manifest {
        module: name.clone(),
        family: spec.unit.family().into(),
        params: spec.unit.params(),
        ports: spec.unit.ports().iter().map(ManifestPort::from).collect(),
        latency: spec.latency(),
        clock: spec.pipeline.then(|| "clk".to_string()),
        clock_enable: spec.pipeline.then(|| "ce".to_string()),
        sha256: sha256_hex(verilog.as_bytes()),
        qmulgen_version: env!("CARGO_PKG_VERSION").into(),
    };
    Generated {
        name,
        verilog,
        manifest,
    }
}

/// Files to write: all are written to temporaries first and renamed only when every write
/// succeeded, so a failure leaves no partial set behind.
pub fn write_files_atomically(
    dir: &Path,
    files: &[(String, String)],
) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut temps = Vec::new();
    let result = (|| {
        for (name, text) in files {
            let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
            temps.push((tmp.clone(), dir.join(name)));
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        for (tmp, _) in &temps {
            let _ = std::fs::remove_file(tmp);
        }
        return Err(e);
    }
    let mut written = Vec::new();
    for (tmp, dst) in temps {
        std::fs::rename(&tmp, &dst)?;
        written.push(dst);
    }
    Ok(written)
}
