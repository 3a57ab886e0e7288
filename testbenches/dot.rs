//! Verilator testbenches for the `dot` family (ARITHMETIC.md §5): every lane family, streams
//! with gaps, random `in_last` and resets, accumulator wrap-around, ports wider than 64 bits,
//! exhaustive one-lane runs, AXI4-Stream back-pressure, and a checker that catches a wrong dot.

mod common;
use common::{spec, verilator};
use qmulgen::emit;
use qmulgen::flows::verify::{self, DotStimulus, UnitReport};
use qmulgen::sim::Model;
use qmulgen::spec::UnitSpec;

fn dot(yaml: &str) -> UnitSpec {
    spec("dot", yaml)
}

fn run(s: &UnitSpec, stimulus: &DotStimulus) -> UnitReport {
    let r = verify::verify_dot(verilator(), s, stimulus, &mut |_| {})
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        r.passed(),
        "{}: {} mismatches; first:\n  {}",
        r.module,
        r.mismatches,
        r.first_mismatches
            .iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    eprintln!("{}", r.summary());
    r
}

#[test]
fn every_lane_family_in_random_streams_with_gaps_last_and_resets() {
    for yaml in [
        "{lanes: 16, lane: {family: esb, exp_bits: 2, frac_bits: 2, act_bits: 8}, target_mhz: 400}",
        "{lanes: 5, lane: {family: esb, linear: true, weight_bits: 4, act_bits: 6}}",
        "{lanes: 16, lane: {family: apot, mag_bits: 4, act_bits: 8}, target_mhz: 400}",
        "{lanes: 3, lane: {family: pot, mag_bits: 3, act_bits: 8}}",
        "{lanes: 16, lane: {family: exact, width: 8}, target_mhz: 350}",
        "{lanes: 9, lane: {family: exact, a_bits: 8, b_bits: 4, signed: true}}",
        "{lanes: 4, lane: {family: tmr, width: 8}}",
        "{lanes: 6, lane: {family: mitchell, width: 8, frac_bits: 7, signed: true}}",
        "{lanes: 8, lane: {family: adam, width: 8, frac_bits: 7}, target_mhz: 500}",
        // The other sum of each family that has both (the defaults above: heap for exact, and
        // for ESB e2k2 at 400 MHz; tree for APoT, PoT, ESB linear and ESB e >= 3).
        "{lanes: 4, lane: {family: esb, exp_bits: 2, frac_bits: 2, act_bits: 8}, sum: tree}",
        "{lanes: 5, lane: {family: esb, exp_bits: 3, frac_bits: 2, act_bits: 5}, sum: heap, target_mhz: 700}",
        "{lanes: 6, lane: {family: apot, mag_bits: 5, act_bits: 6}, sum: heap, target_mhz: 775}",
        // Registers one bit past a multiple of 64 after its first stage (a 1-bit register).
        "{lanes: 4, lane: {family: pot, mag_bits: 3, act_bits: 8}, sum: heap, target_mhz: 400}",
        "{lanes: 4, lane: {family: exact, width: 6, signed: true}, sum: tree}",
    ] {
        let mut stimulus = DotStimulus::random(40_000, 3);
        // A few resets in the middle of dot products.
        stimulus.reset_every = 5_000;
        let r = run(&dot(yaml), &stimulus);
        assert!(r.vectors >= 40_000);
    }
}

#[test]
fn the_accumulator_wraps_modulo_2_to_the_acc_bits() {
    // 16 lanes of 8x8: S has 20 bits and up to 16·255² ≈ 2^20: long dot products wrap a
    // 20-bit accumulator every few vectors; signed lanes wrap through negative values too.
    for yaml in [
        "{lanes: 16, lane: {family: exact, width: 8}, acc_bits: 20}",
        "{lanes: 4, lane: {family: exact, width: 6, signed: true}, acc_bits: 14}",
    ] {
        let mut stimulus = DotStimulus::random(20_000, 5);
        stimulus.mean_length = 500;
        stimulus.valid_percent = 100;
        run(&dot(yaml), &stimulus);
    }
}

#[test]
fn one_lane_exhaustive() {
    for yaml in [
        "{lanes: 1, lane: {family: exact, width: 6, signed: true}}",
        "{lanes: 1, lane: {family: esb, exp_bits: 2, frac_bits: 1, act_bits: 6}}",
    ] {
        let s = dot(yaml);
        let bits: usize = qmulgen::units::input_widths(s.unit.as_ref()).iter().sum();
        let mut stimulus = DotStimulus::random(1 << bits, 1);
        stimulus.exhaustive = true;
        assert_eq!(run(&s, &stimulus).vectors, 1 << bits);
    }
}

#[test]
fn axi4_stream_back_pressure_loses_and_duplicates_nothing() {
    for yaml in [
        "{lanes: 16, lane: {family: esb, exp_bits: 2, frac_bits: 2, act_bits: 8}, axis: true, target_mhz: 400}",
        "{lanes: 3, lane: {family: exact, width: 5, signed: true}, axis: true}",
        "{lanes: 3, lane: {family: apot, mag_bits: 4, act_bits: 5}, axis: true, sum: heap}",
        "{lanes: 4, lane: {family: adam, width: 8, frac_bits: 5}, axis: true}",
    ] {
        let mut stimulus = DotStimulus::random(30_000, 9);
        stimulus.mean_length = 3;
        let r = run(&dot(yaml), &stimulus);
        assert!(r.vectors > 20_000, "{}", r.vectors);
    }
}

#[test]
fn the_checker_reports_a_wrong_dot_with_cycle_vector_and_lanes() {
    // The model of an unsigned dot checked against the meaning of a signed one.
    // (At 100 MHz neither lane is split: the two pipelines have the same latency.)
    let unsigned =
        dot("{lanes: 2, lane: {family: exact, width: 4}, acc_bits: 12, target_mhz: 100}");
    let signed = dot(
        "{lanes: 2, lane: {family: exact, width: 4, signed: true}, acc_bits: 12, target_mhz: 100}",
    );
    let model = Model::build(verilator(), &emit::generate(&unsigned)).expect("model");
    let r = verify::check_dot(
        &model,
        signed.dot.as_ref().expect("a dot"),
        &DotStimulus::random(2_000, 1),
    )
    .expect("runs");
    assert!(r.mismatches > 0);
    let first = r.first_mismatches[0].to_string();
    for part in [
        "cycle=",
        "vector=",
        "a[0]=",
        "b[1]=",
        "expected out_valid=1 y=",
        "got out_valid=1 y=",
    ] {
        assert!(first.contains(part), "{first}");
    }
}

#[test]
fn generation_is_deterministic_and_lint_clean_with_wide_ports() {
    let s = dot("{lanes: 64, lane: {family: exact, width: 16}, target_mhz: 400, sum: tree}");
    let (a, b) = (emit::generate(&s), emit::generate(&s));
    assert_eq!(a.verilog, b.verilog);
    assert!(a.verilog.contains("input wire  [1023:0] a;"));
    qmulgen::sim::lint(verilator(), &a).unwrap_or_else(|e| panic!("{e}"));
    let m = &a.manifest;
    let d = m.dot.as_ref().expect("dot manifest");
    assert_eq!((d.lanes, d.sum_bits, d.acc_bits), (64, 38, 48));
    // In, the multiplier's own register, lane, tree after levels 2, 4, 6 (400 MHz), acc.
    assert_eq!(m.latency, 2 + 1 + 1 + 3);
    assert_eq!(m.clock.as_deref(), Some("clk"));
    // A 64-lane heap: its cells are written once each and kept apart through synthesis.
    let s = dot(
        "{lanes: 64, lane: {family: esb, exp_bits: 2, frac_bits: 2, act_bits: 8}, target_mhz: 600}",
    );
    let (a, b) = (emit::generate(&s), emit::generate(&s));
    assert_eq!(a.verilog, b.verilog);
    qmulgen::sim::lint(verilator(), &a).unwrap_or_else(|e| panic!("{e}"));
    let kept = a.verilog.matches("(* keep_hierarchy").count();
    let cells = a.verilog.matches("module dot64_esb_e2k2_a8__cell").count();
    assert!(
        cells > 3 && kept == cells,
        "{cells} cell modules, {kept} kept"
    );
    let d = a.manifest.dot.as_ref().expect("dot manifest");
    assert_eq!(d.sum, "heap");
    assert_eq!(a.manifest.latency, 2 + d.heap_registers);
}

fn qmulgen(args: &[&str], out: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_qmulgen"))
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .expect("qmulgen runs")
}

#[test]
fn gen_writes_a_dot_constrained_at_its_target_and_refuses_bad_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = [
        "gen",
        "dot",
        "--lanes",
        "16",
        "--lane",
        "esb",
        "--exp-bits",
        "2",
        "--frac-bits",
        "2",
        "--act-bits",
        "8",
        "--target-mhz",
        "400",
        "--sum",
        "tree",
    ];
    let o = qmulgen(&args, dir.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let xdc = std::fs::read_to_string(dir.path().join("dot16_esb_e2k2_a8_ooc.xdc")).unwrap();
    assert!(
        xdc.contains("create_clock -name clk -period 2.500 [get_ports clk]"),
        "{xdc}"
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("dot16_esb_e2k2_a8.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["family"], "dot");
    assert_eq!(manifest["dot"]["acc_bits"], 28);
    assert_eq!(manifest["dot"]["overflow_free_vectors"], 1024);
    assert_eq!(manifest["latency"], 6); // in, ESB's own register, lane, tree 2 and 4, acc
    assert_eq!(manifest["dot"]["sum"], "tree");
    assert_eq!(manifest["params"]["sum"], "tree");
    // The default for this lane is the heap: in, its registers, acc.
    let o = qmulgen(&args[..args.len() - 2], dir.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("dot16_esb_e2k2_a8.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(manifest["dot"]["sum"], "heap");
    let registers = manifest["dot"]["heap_registers"].as_u64().unwrap();
    assert_eq!(manifest["latency"].as_u64(), Some(2 + registers));
    for (bad, says) in [
        (
            vec!["--lanes", "65", "--lane", "exact"],
            "lanes = 65 is out of range, allowed 1..=64",
        ),
        (
            vec!["--lanes", "4", "--lane", "tmr", "--fault-ports"],
            "fault_ports",
        ),
        (
            vec!["--lanes", "16", "--lane", "exact", "--acc-bits", "12"],
            "acc_bits = 12 is out of range, allowed 20..=64",
        ),
        (
            vec![
                "--lanes", "4", "--lane", "mitchell", "--width", "8", "--sum", "heap",
            ],
            "sum = heap needs a lane whose product is a sum of rows",
        ),
        (
            vec!["--lanes", "4", "--lane", "nope"],
            "unknown family `nope`",
        ),
        (vec!["--lanes", "4", "--width", "8"], "unknown key `width`"),
        (vec!["--lanes", "4"], "no `lane` given"),
        (
            vec!["--lanes", "4", "--lane", "exact", "--target-mhz", "900"],
            "target_mhz = 900",
        ),
    ] {
        let empty = tempfile::tempdir().expect("temp dir");
        let mut args = vec!["gen", "dot"];
        args.extend(bad);
        let o = qmulgen(&args, empty.path());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert_eq!(
            std::fs::read_dir(empty.path()).unwrap().count(),
            0,
            "{args:?} wrote files"
        );
    }
}
