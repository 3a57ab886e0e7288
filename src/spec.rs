//! Unit specifications: family + validated parameters, from CLI flags or a YAML design file.
//! The layer above the families: it knows the family table, and nothing about emission.

use crate::base::{ParamMap, SpecError};
use crate::timing::{FMAX_LIMIT_MHZ, PATH_OVERHEAD_NS};
use crate::units::dot::Dot;
use crate::units::{self, Unit};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// One unit to generate: the parameterised unit plus options every family shares.
pub struct UnitSpec {
    pub unit: Box<dyn Unit>,
    /// Registers around the unit (`clk`, `ce`) and, with a target clock, inside it.
    pub pipeline: Option<Pipeline>,
    /// Module name chosen by the user; otherwise derived from the parameters.
    pub name: Option<String>,
    /// A dot-product element (ARITHMETIC.md §5); `unit` is then its lane unit.
    pub dot: Option<Dot>,
}

impl UnitSpec {
    /// Build a spec from a family name and its parameters (`name` and `pipeline` included).
    pub fn from_params(family: &str, params: &ParamMap) -> Result<UnitSpec, SpecError> {
        let mut rest = params.clone();
        let name = match rest.remove("name") {
            None => None,
            Some(serde_yaml::Value::String(s)) => {
                check_module_name(&s)?;
                Some(s)
            }
            Some(other) => {
                return Err(SpecError(format!(
                    "{family}: name must be a string, got {}",
                    yaml_inline(&other)
                )))
            }
        };
        let flag = |rest: &mut ParamMap, key: &str| match rest.remove(key) {
            None => Ok(false),
            Some(serde_yaml::Value::Bool(b)) => Ok(b),
            Some(other) => Err(SpecError(format!(
                "{family}: {key} must be true or false, got {}",
                yaml_inline(&other)
            ))),
        };
        if family == "dot" {
            for key in ["pipeline", "valid"] {
                if rest.contains_key(key) {
                    return Err(SpecError(format!(
                        "dot: {key} is not a dot option: its registers follow target_mhz and it always has in_valid/out_valid"
                    )));
                }
            }
            let dot = Dot::from_map(&rest)?;
            return Ok(UnitSpec {
                unit: dot.lane_unit()?,
                pipeline: None,
                name,
                dot: Some(dot),
            });
        }
        let registered = flag(&mut rest, "pipeline")?;
        let valid = flag(&mut rest, "valid")?;
        let target_mhz = match rest.remove("target_mhz") {
            None => None,
            Some(v) => Some(target_mhz(family, &v)?),
        };
        let pipeline =
            (registered || valid || target_mhz.is_some()).then_some(Pipeline { target_mhz, valid });
        let unit = units::build(family, &rest, &["pipeline", "target_mhz", "valid", "name"])?;
        Ok(UnitSpec {
            unit,
            pipeline,
            name,
            dot: None,
        })
    }

    /// Refuse a dot for a command that works on single units.
    pub fn single_unit(&self, command: &str) -> Result<&dyn Unit, SpecError> {
        match &self.dot {
            Some(_) => Err(not_for_a_dot(command)),
            None => Ok(self.unit.as_ref()),
        }
    }

    /// The Verilog module (and file) name.
    pub fn module_name(&self) -> String {
        match (&self.name, &self.dot) {
            (Some(n), _) => n.clone(),
            (None, Some(dot)) => dot.base_name(),
            (None, None) => match &self.pipeline {
                None => self.unit.base_name(),
                Some(p) => format!("{}_p{}", self.unit.base_name(), p.suffix()),
            },
        }
    }

    /// The Verilog (top module `top`) and its latency in clock cycles.
    pub fn rtl(&self) -> Rtl {
        if let Some(dot) = &self.dot {
            return Rtl {
                verilog: dot.verilog(),
                latency: dot.latency(),
                path_ns: None,
            };
        }
        let Some(p) = &self.pipeline else {
            return Rtl {
                verilog: self.unit.rtl().verilog(),
                latency: 0,
                path_ns: None,
            };
        };
        let leaf_ns = |path: &str| self.unit.leaf_ns(path);
        let pipelined = qmulgen_rtl::pipeline::pipeline(
            self.unit.rtl(),
            &qmulgen_rtl::pipeline::Options {
                budget_ns: p.budget_ns(),
                valid: p.valid,
                leaf_ns: &leaf_ns,
            },
        );
        Rtl {
            verilog: pipelined.verilog,
            latency: pipelined.latency,
            path_ns: p.target_mhz.map(|_| pipelined.path_ns + PATH_OVERHEAD_NS),
        }
    }
}

/// A unit's Verilog as [`UnitSpec::rtl`] plans it.
pub struct Rtl {
    pub verilog: String,
    pub latency: u32,
    /// With a target clock: the planned worst path under the §5 model, overhead included.
    pub path_ns: Option<f64>,
}

/// Registers of a single unit: at its inputs and outputs, inside it where its path would miss
/// `target_mhz` (ARITHMETIC.md §5 model), and an optional valid pipeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    pub target_mhz: Option<f64>,
    /// `rst`, `in_valid`, `out_valid`.
    pub valid: bool,
}

impl Pipeline {
    /// The longest path allowed between registers, ns.
    pub fn budget_ns(&self) -> f64 {
        self.target_mhz
            .map_or(f64::INFINITY, |f| 1000.0 / f - PATH_OVERHEAD_NS)
    }

    /// Module-name suffix after `_p`: the target clock and `v` for the valid pipeline, e.g.
    /// `exact_u16x16_p300v`.
    fn suffix(&self) -> String {
        let clock = self.target_mhz.map(|f| format!("{f}")).unwrap_or_default();
        format!(
            "{}{}",
            clock.replace('.', "_"),
            if self.valid { "v" } else { "" }
        )
    }
}

/// A single unit's target clock: at most what the §5 model can reach.
fn target_mhz(family: &str, v: &serde_yaml::Value) -> Result<f64, SpecError> {
    let f = v
        .as_f64()
        .filter(|f| f.is_finite() && *f > 0.0 && *f <= FMAX_LIMIT_MHZ);
    f.ok_or_else(|| {
        SpecError(format!(
            "{family}: target_mhz must be a number in (0, {FMAX_LIMIT_MHZ}], got {}",
            yaml_inline(v)
        ))
    })
}

/// The error of a command that works on single units when it is given a dot.
pub fn not_for_a_dot(command: &str) -> SpecError {
    SpecError(format!(
        "dot: `qmulgen {command}` works on single units, not on a dot; give its lane unit"
    ))
}

fn yaml_inline(v: &serde_yaml::Value) -> String {
    serde_yaml::to_string(v)
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A module name must be a plain Verilog-2001 identifier (letters, digits, `_`; not a digit
/// first; no `$`, which Tcl reads as a variable) that is not a Verilog or SystemVerilog keyword.
pub fn check_module_name(name: &str) -> Result<(), SpecError> {
    let mut chars = name.chars();
    let ok = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64;
    if !ok {
        return Err(SpecError(format!(
            "name `{name}` is not a Verilog identifier: use letters, digits and _ (not a digit first), at most 64 characters"
        )));
    }
    if KEYWORDS.binary_search(&name).is_ok() {
        return Err(SpecError(format!(
            "name `{name}` is a Verilog/SystemVerilog keyword; choose another module name"
        )));
    }
    Ok(())
}

/// The reserved words of IEEE 1800-2017 (SystemVerilog, a superset of Verilog-2001's), sorted.
const KEYWORDS: &[&str] = &[
    "accept_on",
    "alias",
    "always",
    "always_comb",
    "always_ff",
    "always_latch",
    "and",
    "assert",
    "assign",
    "assume",
    "automatic",
    "before",
    "begin",
    "bind",
    "bins",
    "binsof",
    "bit",
    "break",
    "buf",
    "bufif0",
    "bufif1",
    "byte",
    "case",
    "casex",
    "casez",
    "cell",
    "chandle",
    "checker",
    "class",
    "clocking",
    "cmos",
    "config",
    "const",
    "constraint",
    "context",
    "continue",
    "cover",
    "covergroup",
    "coverpoint",
    "cross",
    "deassign",
    "default",
    "defparam",
    "design",
    "disable",
    "dist",
    "do",
    "edge",
    "else",
    "end",
    "endcase",
    "endchecker",
    "endclass",
    "endclocking",
    "endconfig",
    "endfunction",
    "endgenerate",
    "endgroup",
    "endinterface",
    "endmodule",
    "endpackage",
    "endprimitive",
    "endprogram",
    "endproperty",
    "endsequence",
    "endspecify",
    "endtable",
    "endtask",
    "enum",
    "event",
    "eventually",
    "expect",
    "export",
    "extends",
    "extern",
    "final",
    "first_match",
    "for",
    "force",
    "foreach",
    "forever",
    "fork",
    "forkjoin",
    "function",
    "generate",
    "genvar",
    "global",
    "highz0",
    "highz1",
    "if",
    "iff",
    "ifnone",
    "ignore_bins",
    "illegal_bins",
    "implements",
    "implies",
    "import",
    "incdir",
    "include",
    "initial",
    "inout",
    "input",
    "inside",
    "instance",
    "int",
    "integer",
    "interconnect",
    "interface",
    "intersect",
    "join",
    "join_any",
    "join_none",
    "large",
    "let",
    "liblist",
    "library",
    "local",
    "localparam",
    "logic",
    "longint",
    "macromodule",
    "matches",
    "medium",
    "modport",
    "module",
    "nand",
    "negedge",
    "nettype",
    "new",
    "nexttime",
    "nmos",
    "nor",
    "noshowcancelled",
    "not",
    "notif0",
    "notif1",
    "null",
    "or",
    "output",
    "package",
    "packed",
    "parameter",
    "pmos",
    "posedge",
    "primitive",
    "priority",
    "program",
    "property",
    "protected",
    "pull0",
    "pull1",
    "pulldown",
    "pullup",
    "pulsestyle_ondetect",
    "pulsestyle_onevent",
    "pure",
    "rand",
    "randc",
    "randcase",
    "randsequence",
    "rcmos",
    "real",
    "realtime",
    "ref",
    "reg",
    "reject_on",
    "release",
    "repeat",
    "restrict",
    "return",
    "rnmos",
    "rpmos",
    "rtran",
    "rtranif0",
    "rtranif1",
    "s_always",
    "s_eventually",
    "s_nexttime",
    "s_until",
    "s_until_with",
    "scalared",
    "sequence",
    "shortint",
    "shortreal",
    "showcancelled",
    "signed",
    "small",
    "soft",
    "solve",
    "specify",
    "specparam",
    "static",
    "string",
    "strong",
    "strong0",
    "strong1",
    "struct",
    "super",
    "supply0",
    "supply1",
    "sync_accept_on",
    "sync_reject_on",
    "table",
    "tagged",
    "task",
    "this",
    "throughout",
    "time",
    "timeprecision",
    "timeunit",
    "tran",
    "tranif0",
    "tranif1",
    "tri",
    "tri0",
    "tri1",
    "triand",
    "trior",
    "trireg",
    "type",
    "typedef",
    "union",
    "unique",
    "unique0",
    "unsigned",
    "until",
    "until_with",
    "untyped",
    "use",
    "uwire",
    "var",
    "vectored",
    "virtual",
    "void",
    "wait",
    "wait_order",
    "wand",
    "weak",
    "weak0",
    "weak1",
    "while",
    "wildcard",
    "wire",
    "with",
    "within",
    "wor",
    "xnor",
    "xor",
];

/// A YAML design file: a clock and a part for the Vivado hand-off and a list of units.
pub struct Design {
    pub clock_mhz: f64,
    /// The Xilinx part the Vivado scripts target.
    pub part: String,
    pub units: Vec<UnitSpec>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DesignFile {
    #[serde(default = "default_clock")]
    clock_mhz: f64,
    #[serde(default = "default_part")]
    part: String,
    units: Vec<ParamMap>,
}

fn default_clock() -> f64 {
    300.0
}

fn default_part() -> String {
    crate::vivado::PART.to_string()
}

/// The clock of the Vivado constraints must be a frequency Vivado can be asked for; `field`
/// names it as the user gave it (`clock_mhz` in YAML, `--clock-mhz` on the command line).
pub fn check_clock_mhz(field: &str, clock_mhz: f64) -> Result<(), SpecError> {
    if clock_mhz.is_finite() && clock_mhz > 0.0 && clock_mhz <= 1000.0 {
        Ok(())
    } else {
        Err(SpecError(format!(
            "{field} = {clock_mhz} is out of range, allowed 0 < {field} <= 1000"
        )))
    }
}

/// A Xilinx part name as Vivado's `-part` takes it: `xc`, the device, then `-`-separated
/// package, speed grade and temperature fields (`xczu9eg-ffvb1156-2-e`, `xc7a35tcpg236-1`,
/// `xcvu9p-flga2104-2L-e`): letters and digits, one to three dashes, lower-case device.
pub fn check_part(part: &str) -> Result<(), SpecError> {
    let fields: Vec<&str> = part.split('-').collect();
    let ok = part.starts_with("xc")
        && (2..=4).contains(&fields.len())
        && fields
            .iter()
            .all(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_alphanumeric()))
        && fields[0].chars().all(|c| !c.is_ascii_uppercase())
        && fields[0].len() > 2;
    if ok {
        Ok(())
    } else {
        Err(SpecError(format!(
            "part `{part}` is not a Xilinx part name: expected e.g. xczu9eg-ffvb1156-2-e (xc<device>-<package>-<speed>[-<temperature>])"
        )))
    }
}

impl Design {
    /// Parse and validate a design; every error names the unit and the field.
    pub fn from_yaml(text: &str, origin: &str) -> Result<Design, SpecError> {
        let file: DesignFile =
            serde_yaml::from_str(text).map_err(|e| SpecError(format!("{origin}: {e}")))?;
        check_clock_mhz("clock_mhz", file.clock_mhz)
            .map_err(|e| SpecError(format!("{origin}: {e}")))?;
        check_part(&file.part).map_err(|e| SpecError(format!("{origin}: {e}")))?;
        if file.units.is_empty() {
            return Err(SpecError(format!(
                "{origin}: units is empty, list at least one unit"
            )));
        }
        let mut units = Vec::new();
        let mut seen = BTreeMap::new();
        for (i, raw) in file.units.iter().enumerate() {
            let mut params = raw.clone();
            let family = match params.remove("family") {
                Some(serde_yaml::Value::String(s)) => s,
                Some(other) => {
                    return Err(SpecError(format!(
                        "{origin}: units[{i}].family must be a string, got {}",
                        yaml_inline(&other)
                    )))
                }
                None => {
                    return Err(SpecError(format!(
                        "{origin}: units[{i}] has no `family` key"
                    )))
                }
            };
            let spec = UnitSpec::from_params(&family, &params)
                .map_err(|e| SpecError(format!("{origin}: units[{i}]: {e}")))?;
            if let Some(j) = seen.insert(spec.module_name(), i) {
                return Err(SpecError(format!(
                    "{origin}: units[{i}] and units[{j}] are both named `{}`; give one a different `name`",
                    spec.module_name()
                )));
            }
            units.push(spec);
        }
        Ok(Design {
            clock_mhz: file.clock_mhz,
            part: file.part,
            units,
        })
    }

    /// Read a design file from disk.
    pub fn load(path: &Path) -> Result<Design, SpecError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SpecError(format!("cannot read {}: {e}", path.display())))?;
        Design::from_yaml(&text, &path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_follow_the_xilinx_pattern() {
        for ok in [
            "xczu9eg-ffvb1156-2-e",
            "xc7a35tcpg236-1",
            "xcvu9p-flga2104-2L-e",
            "xczu3eg-sbva484-1-e",
        ] {
            assert!(check_part(ok).is_ok(), "{ok}");
        }
        for bad in [
            "zu9eg-ffvb1156-2-e",
            "xczu9eg",
            "xczu9eg--2",
            "xc-a-b",
            "xczu9eg-ffvb1156-2-e-x-y",
            "xczu9eg ffvb",
        ] {
            assert!(check_part(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn module_names_are_identifiers_that_are_not_keywords() {
        assert!(
            KEYWORDS.windows(2).all(|w| w[0] < w[1]),
            "sorted for binary search"
        );
        for ok in ["exact_u8x8", "_x", "Module", "mult8", "a"] {
            assert!(check_module_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "module",
            "reg",
            "wire",
            "logic",
            "always_ff",
            "8bit",
            "a$b",
            "",
            "a-b",
            "a b",
        ] {
            assert!(check_module_name(bad).is_err(), "{bad}");
        }
    }
}
