//! The spine itself: every width lints clean, generation is deterministic, mismatches are
//! reported with inputs/expected/actual, Vivado scripts have the expected structure.

mod common;
use common::{spec, verilator};
use qmulgen::base::Port;
use qmulgen::emit::{self, Manifest};
use qmulgen::sim::{self, Corners, Exhaustive, Model};
use qmulgen::spec::UnitSpec;
use qmulgen::units::Unit;

/// Lint many specs on two threads; returns the failures.
fn lint_all(specs: Vec<String>, family: &str) -> Vec<String> {
    let chunks: Vec<Vec<String>> = specs
        .chunks(specs.len().div_ceil(2))
        .map(|c| c.to_vec())
        .collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    let mut bad = Vec::new();
                    for yaml in chunk {
                        let g = emit::generate(&spec(family, &yaml));
                        if let Err(r) = sim::lint(verilator(), &g) {
                            bad.push(format!("{}: {r}", g.name));
                        }
                    }
                    bad
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("lint thread"))
            .collect()
    })
}

#[test]
fn every_exact_and_tmr_width_lints_clean() {
    let mut exact = Vec::new();
    let mut tmr = Vec::new();
    for a in 2..=16 {
        for b in 2..=16 {
            for signed in [false, true] {
                exact.push(format!("{{a_bits: {a}, b_bits: {b}, signed: {signed}}}"));
                tmr.push(format!("{{a_bits: {a}, b_bits: {b}, signed: {signed}}}"));
            }
        }
        for extra in [
            "pipeline: true",
            "fault_ports: true",
            "fault_ports: true, pipeline: true",
        ] {
            tmr.push(format!("{{width: {a}, signed: true, {extra}}}"));
        }
        exact.push(format!(
            "{{a_bits: {a}, b_bits: {}, pipeline: true}}",
            18 - a
        ));
    }
    let mut bad = lint_all(exact, "exact");
    bad.extend(lint_all(tmr, "tmr"));
    assert!(bad.is_empty(), "lint failures:\n{}", bad.join("\n"));
}

#[test]
fn generation_is_deterministic_and_modules_are_prefixed() {
    for (family, yaml) in [
        ("exact", "{width: 7, signed: true}"),
        ("tmr", "{width: 9, fault_ports: true, pipeline: true}"),
    ] {
        let a = emit::generate(&spec(family, yaml));
        let b = emit::generate(&spec(family, yaml));
        assert_eq!(a.verilog, b.verilog);
        assert_eq!(a.manifest, b.manifest);
        for line in a.verilog.lines().filter(|l| l.starts_with("module ")) {
            assert!(
                line.starts_with(&format!("module {}(", a.name))
                    || line.starts_with(&format!("module {}__", a.name)),
                "module not prefixed with the unit name: {line}"
            );
        }
        assert_eq!(a.manifest.sha256, emit::sha256_hex(a.verilog.as_bytes()));
    }
}

#[test]
fn manifest_describes_ports_latency_and_clock() {
    let g = emit::generate(&spec(
        "tmr",
        "{a_bits: 6, b_bits: 10, signed: true, pipeline: true}",
    ));
    let m: Manifest = serde_json::from_str(&serde_json::to_string(&g.manifest).unwrap()).unwrap();
    assert_eq!(m.module, "tmr_s6x10_p");
    assert_eq!(m.latency, 2);
    assert_eq!(m.clock.as_deref(), Some("clk"));
    assert_eq!(m.clock_enable.as_deref(), Some("ce"));
    let ports: Vec<(String, String, usize, bool)> = m
        .ports
        .iter()
        .map(|p| (p.name.clone(), p.direction.clone(), p.width, p.signed))
        .collect();
    assert_eq!(
        ports,
        vec![
            ("a".into(), "input".into(), 6, true),
            ("b".into(), "input".into(), 10, true),
            ("p".into(), "output".into(), 16, true),
            ("err".into(), "output".into(), 1, false),
        ]
    );
    // Two's complement ports are declared `signed` in the top module (not in the modules
    // inside it, whose ports are plain bit vectors).
    for decl in [
        "input wire  clk;",
        "input wire  ce;",
        "input wire signed [5:0] a;",
        "output reg signed [15:0] p;",
        "output reg  err;",
    ] {
        assert!(g.verilog.contains(decl), "missing `{decl}`");
    }
}

/// A unit with its golden model edited, to show that the harness catches it.
struct Edited {
    unit: Box<dyn Unit>,
    golden: fn(&[u64], &mut [u64]),
}

impl Unit for Edited {
    fn family(&self) -> &'static str {
        self.unit.family()
    }
    fn base_name(&self) -> String {
        self.unit.base_name()
    }
    fn ports(&self) -> Vec<Port> {
        self.unit.ports()
    }
    fn golden(&self, inputs: &[u64], outputs: &mut [u64]) {
        self.unit.golden(inputs, outputs);
        (self.golden)(inputs, outputs);
    }
    fn rtl(&self) -> qmulgen_rtl::AnyBlock {
        self.unit.rtl()
    }
    fn corner_cases(&self) -> Vec<Vec<u64>> {
        self.unit.corner_cases()
    }
    fn params(&self) -> serde_json::Value {
        self.unit.params()
    }
}

/// The golden model is wrong for one input pair.
fn wrong_golden(unit: Box<dyn Unit>) -> Box<dyn Unit> {
    Box::new(Edited {
        unit,
        golden: |inputs, outputs| {
            if inputs == [3, 5] {
                outputs[0] = 16;
            }
        },
    })
}

#[test]
fn a_mismatch_names_inputs_expected_and_actual() {
    for pipeline in [false, true] {
        let good = spec("exact", &format!("{{width: 4, pipeline: {pipeline}}}"));
        let bad = UnitSpec {
            unit: wrong_golden(good.unit),
            pipeline: good.pipeline,
            name: None,
            dot: None,
        };
        let g = emit::generate(&bad);
        let model = Model::build(verilator(), &g).unwrap();
        let r = sim::check(&model, bad.unit.as_ref(), &Exhaustive::new(vec![4, 4])).unwrap();
        assert_eq!(r.vectors, 256);
        assert_eq!(r.mismatches, 1);
        assert!(!r.passed());
        assert_eq!(
            r.first_mismatches[0].to_string(),
            "inputs a=3 b=5: expected p=16, got p=15"
        );
        let r = sim::check(&model, bad.unit.as_ref(), &Corners::new(vec![vec![1, 1]])).unwrap();
        assert!(r.passed());
    }
}

#[test]
fn an_output_register_that_ignores_ce_is_caught() {
    let good = spec("exact", "{width: 4, pipeline: true}");
    // The output register loads whatever ce is: its outputs are right after every ce = 1
    // clock, so only the hold check can see it.
    let mut bad = emit::generate(&good);
    let held = "p_r__d = p_r__q;";
    assert!(
        bad.verilog.contains(held),
        "the output register has changed shape"
    );
    bad.verilog = bad.verilog.replace(held, "p_r__d = p_next;");
    bad.name.push_str("_noce");
    bad.verilog = bad.verilog.replace("exact_u4x4_p", "exact_u4x4_p_noce");
    bad.manifest.module = bad.name.clone();
    let model = Model::build(verilator(), &bad).unwrap();
    let err = sim::check(&model, good.unit.as_ref(), &Exhaustive::new(vec![4, 4]))
        .expect_err("the hold check must fail");
    let msg = err.to_string();
    // Vector k = a + 16 b, a ce = 0 clock before every k = 3 (mod 7). Before vector 24 the
    // output register holds the product of vector 22 (6 x 1); ignoring ce = 0, it takes that
    // of vector 23 (7 x 1) from the input registers. The earlier ce = 0 clocks (k = 3, 10, 17)
    // come where both products are 0, so the change is invisible there.
    assert!(
        msg.ends_with(
            "outputs changed during a clock with ce = 0 before vector 24 (an output register ignores ce): inputs a=8 b=1: held p=6, became p=7"
        ),
        "{msg}"
    );
    // The unedited unit holds its outputs through every ce = 0 clock.
    let good = spec("exact", "{width: 4, pipeline: true}");
    let model = Model::build(verilator(), &emit::generate(&good)).unwrap();
    let r = sim::check(&model, good.unit.as_ref(), &Exhaustive::new(vec![4, 4])).unwrap();
    assert!(r.passed());
}

#[test]
fn vivado_scripts_name_the_part_every_source_and_the_reports() {
    let design = qmulgen::spec::Design::from_yaml(
        "clock_mhz: 250\nunits:\n  - {family: exact, width: 8}\n  - {family: tmr, width: 8, pipeline: true}\n",
        "test.yaml",
    )
    .unwrap();
    let (gens, files) = qmulgen::emit::design_files(&design);
    let file = |n: &str| -> &str {
        &files
            .iter()
            .find(|(name, _)| name == n)
            .unwrap_or_else(|| panic!("no {n}"))
            .1
    };
    for g in &gens {
        let tcl = file(&format!("{}_ooc.tcl", g.name));
        for needle in [
            "set part xczu9eg-ffvb1156-2-e".to_string(),
            format!("read_verilog [file join $here {}.v]", g.name),
            format!(
                "read_xdc -mode out_of_context [file join $here {}_ooc.xdc]",
                g.name
            ),
            format!(
                "set_property USED_IN {{synthesis implementation out_of_context}} [get_files {}_ooc.xdc]",
                g.name
            ),
            format!("set top {}", g.name),
            "synth_design -top $top -part $part -mode out_of_context".to_string(),
            "place_design".to_string(),
            "route_design".to_string(),
            "report_utilization".to_string(),
            "report_timing_summary".to_string(),
        ] {
            assert!(tcl.contains(&needle), "{} lacks `{needle}`", g.name);
        }
    }
    let xdc = file("tmr_u8x8_p_ooc.xdc");
    assert!(
        xdc.contains("create_clock -name clk -period 4.000 [get_ports clk]"),
        "{xdc}"
    );
    // A registered unit's ports are timed against its clock.
    assert!(
        xdc.contains(
            "set_input_delay -clock clk 0.000 [get_ports -filter {DIRECTION == IN && NAME != clk}]"
        ) && xdc.contains("set_output_delay -clock clk 0.000 [all_outputs]"),
        "{xdc}"
    );
    let xdc = file("exact_u8x8_ooc.xdc");
    assert!(
        xdc.contains("create_clock -name vclk -period 4.000"),
        "{xdc}"
    );
    assert!(xdc.contains("set_input_delay -clock vclk 0.000 [all_inputs]"));
    // Every generated text file ends with exactly one newline; no identifier has a `$`.
    for (name, text) in &files {
        assert!(
            text.ends_with('\n') && !text.ends_with("\n\n"),
            "{name} does not end with one newline"
        );
    }
    for g in &gens {
        assert!(!g.verilog.contains('$'), "{} has a `$`", g.name);
    }
    // The part comes from the design file, validated.
    let other = qmulgen::spec::Design::from_yaml(
        "part: xc7a35tcpg236-1\nunits:\n  - {family: exact, width: 4}\n",
        "a7.yaml",
    )
    .unwrap();
    let (_, files) = qmulgen::emit::design_files(&other);
    assert!(files
        .iter()
        .any(|(n, t)| n == "exact_u4x4_ooc.tcl" && t.contains("set part xc7a35tcpg236-1\n")));
    let bad =
        qmulgen::spec::Design::from_yaml("part: virtex\nunits:\n  - {family: exact}\n", "bad.yaml");
    assert!(bad
        .err()
        .unwrap()
        .0
        .starts_with("bad.yaml: part `virtex` is not a Xilinx part name"));
}
