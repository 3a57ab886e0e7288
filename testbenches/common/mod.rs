//! Shared testbench helpers: build a unit from YAML-style parameters, generate its Verilog,
//! build (or reuse) the Verilator model and compare every vector with the golden model.
#![allow(dead_code)]

use qmulgen::base::ParamMap;
use qmulgen::emit::{self, Generated};
use qmulgen::sim::{self, CheckReport, Model, VectorSource, Verilator};
use qmulgen::spec::UnitSpec;
use std::sync::OnceLock;

pub fn verilator() -> &'static Verilator {
    static V: OnceLock<Verilator> = OnceLock::new();
    V.get_or_init(|| Verilator::locate().expect("Verilator is needed: run `make deps`"))
}

/// A spec from a family and a YAML flow mapping, e.g. `spec("exact", "{a_bits: 8, b_bits: 8}")`.
pub fn spec(family: &str, yaml: &str) -> UnitSpec {
    let params: ParamMap = serde_yaml::from_str(yaml).expect("test parameters are YAML");
    UnitSpec::from_params(family, &params).unwrap_or_else(|e| panic!("{e}"))
}

/// Generate, lint, build and run the given vector sources; panics naming the first mismatches.
pub fn verify(spec: &UnitSpec, sources: &[Box<dyn VectorSource>]) -> u64 {
    let g: Generated = emit::generate(spec);
    if let Err(report) = sim::lint(verilator(), &g) {
        panic!("{} fails verilator --lint-only -Wall:\n{report}", g.name);
    }
    let model = Model::build(verilator(), &g).unwrap_or_else(|e| panic!("{e}"));
    let mut total = 0;
    for src in sources {
        let r: CheckReport = sim::check(&model, spec.unit.as_ref(), src.as_ref())
            .unwrap_or_else(|e| panic!("{}: {e}", g.name));
        assert!(
            r.passed(),
            "{}: {} of {} vectors ({}) mismatch; first:\n  {}",
            g.name,
            r.mismatches,
            r.vectors,
            src.describe(),
            r.first_mismatches
                .iter()
                .map(|m| m.to_string())
                .collect::<Vec<_>>()
                .join("\n  ")
        );
        total += r.vectors;
    }
    eprintln!("{}: {total} vectors pass", g.name);
    total
}

/// Exhaustive when the input space is at most 2^24, else corner cases + `random` vectors.
pub fn verify_default(spec: &UnitSpec, random: u64) -> u64 {
    verify(spec, &sim::default_sources(spec.unit.as_ref(), random, 1))
}

/// Number of input bits of a spec's unit.
pub fn input_bits(spec: &UnitSpec) -> usize {
    qmulgen::units::input_widths(spec.unit.as_ref())
        .iter()
        .sum()
}
