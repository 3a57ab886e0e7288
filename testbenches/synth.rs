//! Yosys synthesis of generated units: the redundancy of TMR and AdAM survives
//! `synth_xilinx -family xcup -nodsp -flatten` of the emitted Verilog alone.

use qmulgen::base::ParamMap;
use qmulgen::emit;
use qmulgen::spec::UnitSpec;
use qmulgen::synth::{self, NetlistStats, Yosys};

fn stats(family: &str, yaml: &str) -> NetlistStats {
    let params: ParamMap = serde_yaml::from_str(yaml).expect("yaml");
    let spec = UnitSpec::from_params(family, &params).expect("spec");
    let yosys = Yosys::locate().expect("Yosys: run `make deps`");
    let (r, _) = synth::synthesize(&yosys, &emit::generate(&spec)).expect("synthesis");
    r.stats
}

#[test]
fn tmr_keeps_three_copies_and_a_live_err() {
    let exact = stats("exact", "{width: 6}");
    let tmr = stats("tmr", "{width: 6}");
    assert!(exact.constant_outputs.is_empty(), "{exact:?}");
    assert!(
        tmr.constant_outputs.is_empty(),
        "err must stay live: {tmr:?}"
    );
    assert!(
        tmr.lut as f64 >= 2.9 * exact.lut as f64,
        "TMR {} LUTs vs exact {}: copies were merged",
        tmr.lut,
        exact.lut
    );
}

#[test]
fn adam_keeps_its_checker_and_a_live_err() {
    let mitchell = stats("mitchell", "{width: 8}");
    let adam = stats("adam", "{width: 8}");
    assert!(
        adam.constant_outputs.is_empty(),
        "err must stay live: {adam:?}"
    );
    assert!(adam.lut > mitchell.lut, "{} vs {}", adam.lut, mitchell.lut);
}

#[test]
fn registered_units_count_their_flip_flops() {
    // Input registers 4 + 4, output registers 8.
    let s = stats("exact", "{width: 4, pipeline: true}");
    assert_eq!(s.ff, 16);
}

/// The §5 estimate is bounded by the shapes of the paths: at least the LUT-deepest path's
/// LUTs at 0.45 ns, at most every cell of the cell-deepest path at 0.45 ns, 0.25 ns added once.
/// Registers cut the path: the registered unit's worst path is the core's, without the ports.
#[test]
fn the_timing_estimate_is_bounded_by_the_path_shapes() {
    for (family, yaml) in [
        ("exact", "{width: 8}"),
        ("adam", "{width: 8}"),
        ("esb", "{exp_bits: 2, frac_bits: 2, pipeline: true}"),
    ] {
        let s = stats(family, yaml);
        let lower = 0.25 + 0.45 * s.depth_luts as f64;
        let upper = 0.25 + 0.45 * s.depth_cells as f64;
        assert!(
            s.path_ns >= lower - 1e-9 && s.path_ns <= upper + 1e-9,
            "{family} {yaml}: {} ns outside [{lower}, {upper}]",
            s.path_ns
        );
        assert!((s.fmax_est_mhz - (1000.0 / s.path_ns).min(775.0)).abs() < 1e-9);
    }
}

/// `explore` writes the CSV (columns named after the metrics), JSON and SVG, with the Pareto
/// rows marked: for Mitchell n = 4 more fraction bits cost LUTs and cut the error.
#[test]
fn explore_writes_csv_json_and_a_plot() {
    let dir = std::env::temp_dir().join(format!("qmulgen-explore-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (csv, json, svg) = (dir.join("m.csv"), dir.join("m.json"), dir.join("m.svg"));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_qmulgen"))
        .args(["explore", "mitchell", "--width", "4", "--csv"])
        .arg(&csv)
        .arg("--json")
        .arg(&json)
        .arg("--plot")
        .arg(&svg)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(&csv).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    for c in ["module", "lut", "mred", "wce", "pareto"] {
        assert!(header.contains(&c), "{header:?}");
    }
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    // §3.3 / exhaustive: n = 4, t = 3 has MED 2.1758.
    let t3 = rows
        .iter()
        .find(|r| r["module"] == "mitchell_u4_t3")
        .unwrap();
    assert!((t3["med"].as_f64().unwrap() - 2.1758).abs() < 1e-4, "{t3}");
    assert!(rows.iter().any(|r| r["pareto"] == true));
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
}

/// A dot of TMR lanes keeps every lane's three copies and its `y_err` through synthesis, and
/// the AdAM dot keeps its checkers: both `y_err` outputs are live.
#[test]
fn dots_keep_their_lanes_redundancy_and_a_live_y_err() {
    let exact = stats("dot", "{lanes: 2, lane: {family: exact, width: 6}}");
    let tmr = stats("dot", "{lanes: 2, lane: {family: tmr, width: 6}}");
    let adam = stats("dot", "{lanes: 2, lane: {family: adam, width: 8}}");
    assert!(
        tmr.constant_outputs.is_empty(),
        "y_err must stay live: {tmr:?}"
    );
    assert!(
        adam.constant_outputs.is_empty(),
        "y_err must stay live: {adam:?}"
    );
    // The copies are 3 · 2 exact multipliers beside the same sum and accumulator.
    assert!(
        tmr.lut as f64 >= 2.0 * exact.lut as f64,
        "TMR dot {} LUTs vs exact dot {}: copies were merged",
        tmr.lut,
        exact.lut
    );
}

/// designs/default.yaml's 16-bit units are pipelined for its 300 MHz and meet it under the
/// §5 model on the mapped netlist; the pipeline keeps TMR's three copies and AdAM's live `err`.
#[test]
fn the_default_designs_pipelined_units_meet_their_clock() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/designs/default.yaml");
    let text = std::fs::read_to_string(path).expect("the default design");
    let design = qmulgen::spec::Design::from_yaml(&text, path).expect("it parses");
    let yosys = Yosys::locate().expect("Yosys: run `make deps`");
    let mut luts = std::collections::BTreeMap::new();
    for spec in design.units.iter().filter(|s| s.pipeline.is_some()) {
        let target = spec
            .pipeline
            .as_ref()
            .and_then(|p| p.target_mhz)
            .expect("a clock");
        let g = emit::generate(spec);
        let (r, _) = synth::synthesize(&yosys, &g).expect("synthesis");
        assert!(
            r.stats.fmax_est_mhz >= target,
            "{}: {:.0} MHz (path {:.2} ns) misses {target} MHz",
            g.name,
            r.stats.fmax_est_mhz,
            r.stats.path_ns
        );
        assert!(g.manifest.latency > 2, "{}: no stage inside", g.name);
        assert!(
            r.stats.constant_outputs.is_empty(),
            "{}: {:?}",
            g.name,
            r.stats
        );
        luts.insert(spec.unit.family(), r.stats.lut);
    }
    assert!(
        luts["tmr"] as f64 >= 2.9 * luts["exact"] as f64,
        "TMR's copies were merged: {luts:?}"
    );
}
