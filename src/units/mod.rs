//! What every unit family offers: validated parameters, a golden model, rust-hdl RTL and
//! standard test cases. Shared machinery (spec parsing, Verilog writing, the Verilator harness)
//! talks to units only through [`Unit`] and [`Family`].

pub mod esb;
pub mod exact;
pub mod tmr;

use crate::spec::{ParamMap, SpecError};

/// Direction of a port of a generated module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    Input,
    Output,
}

/// One port of a unit's combinational core (the registered wrapper adds `clk` and `ce`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Port {
    pub name: String,
    pub dir: Dir,
    pub width: usize,
    /// True when the value on the port is read as two's complement.
    pub signed: bool,
}

impl Port {
    pub fn input(name: &str, width: usize, signed: bool) -> Port {
        Port {
            name: name.into(),
            dir: Dir::Input,
            width,
            signed,
        }
    }
    pub fn output(name: &str, width: usize, signed: bool) -> Port {
        Port {
            name: name.into(),
            dir: Dir::Output,
            width,
            signed,
        }
    }
}

/// A fully parameterised unit. Values on ports are raw bit patterns (`u64`, low `width` bits).
pub trait Unit: Send + Sync {
    /// Family name, as used on the command line and in YAML.
    fn family(&self) -> &'static str;
    /// Deterministic module name without the pipeline suffix, e.g. `exact_u8x8`.
    fn base_name(&self) -> String;
    /// Ports of the combinational core, inputs first, in module order.
    fn ports(&self) -> Vec<Port>;
    /// Golden model: output values (in output-port order) for the given inputs (input order).
    fn golden(&self, inputs: &[u64], outputs: &mut [u64]);
    /// Verilog from rust-hdl, top module named `top` (renamed by the caller).
    fn verilog(&self, registered: bool) -> String;
    /// Standard corner cases (input vectors) checked before any random vectors.
    fn corner_cases(&self) -> Vec<Vec<u64>>;
    /// Parameters as they appear in YAML and in the manifest.
    fn params(&self) -> serde_json::Value;
}

/// Description of one parameter, used by `qmulgen list`, `--help` and error messages.
pub struct ParamInfo {
    pub key: &'static str,
    pub range: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

/// A family: its parameters and how to build a unit from them.
pub struct Family {
    pub name: &'static str,
    pub summary: &'static str,
    pub params: &'static [ParamInfo],
    pub build: fn(&ParamMap) -> Result<Box<dyn Unit>, SpecError>,
}

/// Every family qmulgen knows, in the order `qmulgen list` shows them.
pub const FAMILIES: &[&Family] = &[&exact::FAMILY, &tmr::FAMILY, &esb::FAMILY];

/// Look a family up by name.
pub fn family(name: &str) -> Option<&'static Family> {
    FAMILIES.iter().copied().find(|f| f.name == name)
}

/// All-ones mask of `width` bits.
pub fn mask(width: usize) -> u64 {
    if width >= 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    }
}

/// Read the low `width` bits of `raw` as two's complement.
pub fn sign_extend(raw: u64, width: usize) -> i64 {
    let shift = 64 - width as u32;
    ((raw << shift) as i64) >> shift
}

/// The low `width` bits of `value` as a raw two's-complement pattern.
pub fn to_raw(value: i64, width: usize) -> u64 {
    (value as u64) & mask(width)
}
