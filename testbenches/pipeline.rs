//! Units pipelined for a target clock (`--target-mhz`) and with a valid pipeline (`--valid`):
//! every family, cut into stages by the §5 model, matches its golden model in Verilator with
//! its latency, and the valid bit travels beside the data.

mod common;

use common::{spec, verify_default, verilator};
use qmulgen::emit;
use qmulgen::sim::{self, Exhaustive, Model};

/// One unit of every family (signed, per-operand and fault-port variants included).
const UNITS: &[(&str, &str)] = &[
    ("exact", "width: 12"),
    ("exact", "a_bits: 8, b_bits: 6, a_signed: true"),
    ("tmr", "width: 10, fault_ports: true"),
    ("esb", "exp_bits: 3, frac_bits: 3, act_bits: 10"),
    ("esb", "linear: true, weight_bits: 5, act_bits: 8"),
    ("apot", "mag_bits: 6, act_bits: 10"),
    ("pot", "mag_bits: 4, act_bits: 12"),
    ("mitchell", "width: 12, frac_bits: 8, operands: normalize"),
    ("mitchell", "width: 9, frac_bits: 5, operands: lod-left"),
    ("adam", "width: 10, signed: true, operands: lod-right"),
    ("adam", "width: 8, frac_bits: 5, fault_ports: true"),
];

/// At 500 MHz every family has registers inside (a model build per unit, so one clock here;
/// `make verify-all`-style sweeps over clocks belong to the command line).
#[test]
fn every_family_pipelined_for_a_clock_matches_its_golden_model() {
    for (family, params) in UNITS {
        let s = spec(family, &format!("{{{params}, target_mhz: 500}}"));
        assert!(
            s.rtl().latency > 2,
            "{family} {params}: no stage inside at 500 MHz"
        );
        verify_default(&s, 20_000);
    }
}

/// The planner keeps every stage within the period (at clocks where no single block is
/// slower than the period), and a faster clock never needs fewer stages.
#[test]
fn planned_stages_fit_the_period() {
    for (family, params) in UNITS {
        let mut latencies = Vec::new();
        for mhz in [200.0, 250.0, 500.0, 775.0] {
            let s = spec(family, &format!("{{{params}, target_mhz: {mhz}}}"));
            let rtl = s.rtl();
            let path = rtl.path_ns.expect("a target clock gives a planned path");
            if mhz <= 250.0 {
                assert!(
                    path <= 1000.0 / mhz + 1e-9,
                    "{family} {params} at {mhz} MHz: planned path {path:.2} ns"
                );
            }
            latencies.push(rtl.latency);
        }
        assert!(
            latencies.windows(2).all(|w| w[0] <= w[1]),
            "{family} {params}: {latencies:?}"
        );
    }
    let plain = spec("adam", "{width: 16, pipeline: true}").rtl();
    let fast = spec("adam", "{width: 16, target_mhz: 300}").rtl();
    assert_eq!(plain.latency, 2);
    assert!(
        fast.latency > 2,
        "adam n = 16 needs stages inside at 300 MHz"
    );
    assert!(plain.path_ns.is_none());
}

#[test]
fn a_valid_pipeline_travels_beside_the_data() {
    for (family, params) in [UNITS[2], UNITS[8]] {
        let s = spec(
            family,
            &format!("{{{params}, target_mhz: 500, valid: true}}"),
        );
        let g = emit::generate(&s);
        let valid = g
            .manifest
            .valid
            .as_ref()
            .expect("the manifest names the valid ports");
        assert_eq!(
            (
                valid.reset.as_str(),
                valid.input.as_str(),
                valid.output.as_str()
            ),
            ("rst", "in_valid", "out_valid")
        );
        assert!(
            g.verilog
                .lines()
                .nth(2)
                .is_some_and(|l| l.contains("(clk,ce,rst,in_valid,")),
            "{}",
            g.verilog.lines().nth(2).unwrap_or_default()
        );
        verify_default(&s, 20_000);
    }
}

/// A valid pipeline one register short is caught: out_valid then leads the data.
#[test]
fn a_valid_pipeline_of_the_wrong_length_is_caught() {
    let good = spec("exact", "{width: 4, valid: true}");
    let mut bad = emit::generate(&good);
    let last = "out_valid = valid_s1__q;";
    assert!(
        bad.verilog.contains(last),
        "the valid pipeline has changed shape"
    );
    bad.verilog = bad
        .verilog
        .replace(last, "out_valid = valid_s0__q;")
        .replace("exact_u4x4_pv", "exact_u4x4_pv_short");
    bad.name = "exact_u4x4_pv_short".into();
    bad.manifest.module = bad.name.clone();
    let model = Model::build(verilator(), &bad).unwrap();
    let err = sim::check(&model, good.unit.as_ref(), &Exhaustive::new(vec![4, 4]))
        .expect_err("out_valid one clock early must fail");
    assert!(
        err.to_string()
            .contains("exact_u4x4_pv_short: out_valid is"),
        "{err}"
    );
}
