//! `make bench` density table (issue 19): 16-lane dot-product elements of every family at a
//! 400 MHz target, synthesised with the project's own flow (Yosys `synth_xilinx -family xcup
//! -nodsp`) and timed with the ARITHMETIC.md §5 model: LUTs, FFs, LUTs per MAC, path, fmax_est,
//! GOPS and GOPS per 1000 LUTs, beside FINN's LUT cost model of its MVAU (`lut_estimation`:
//! per lane (2·ceil((W+A)/6) − 1)·(W+A) LUTs for the multiplier plus (W+A)·(2N − 1)/N for the
//! adder tree). Also: generation time of dots up to 64 lanes and Verilator verification speed.

mod common;

use common::Targets;
use qmulgen::base::ParamMap;
use qmulgen::emit::{self, Generated};
use qmulgen::flows::verify::{self, DotStimulus};
use qmulgen::sim::Verilator;
use qmulgen::spec::UnitSpec;
use qmulgen::synth::{self, SynthResult, Yosys};
use std::time::Instant;

const LANES: usize = 16;
const TARGET_MHZ: f64 = 400.0;
/// ESB's reported density on a ZCU102 (Gong et al., IEEE TPDS 2022).
const ESB_GOPS_PER_KLUT: f64 = 10.95;

fn dot(lane: &str) -> UnitSpec {
    let yaml = format!("{{lanes: {LANES}, target_mhz: {TARGET_MHZ}, lane: {lane}}}");
    let params: ParamMap = serde_yaml::from_str(&yaml).expect("yaml");
    UnitSpec::from_params("dot", &params).expect("valid dot")
}

/// FINN's MVAU LUT estimate per MAC for W-bit weights and A-bit activations over N lanes.
fn finn_luts_per_mac(w: usize, a: usize, n: usize) -> f64 {
    let wa = (w + a) as f64;
    (2.0 * ((w + a) as f64 / 6.0).ceil() - 1.0) * wa + wa * (2 * n - 1) as f64 / n as f64
}

fn main() {
    let yosys = Yosys::locate().expect("Yosys: run `make deps`");
    let rows: Vec<(&str, &str)> = vec![
        (
            "ESB e2k2 a8",
            "{family: esb, exp_bits: 2, frac_bits: 2, act_bits: 8}",
        ),
        (
            "ESB e3k2 a8",
            "{family: esb, exp_bits: 3, frac_bits: 2, act_bits: 8}",
        ),
        ("APoT B4 a8", "{family: apot, mag_bits: 4, act_bits: 8}"),
        ("PoT B3 a8", "{family: pot, mag_bits: 3, act_bits: 8}"),
        ("exact u8x8", "{family: exact, width: 8}"),
        ("exact s8x8", "{family: exact, width: 8, signed: true}"),
        (
            "Mitchell n8 t7",
            "{family: mitchell, width: 8, frac_bits: 7}",
        ),
        ("AdAM n8 t7", "{family: adam, width: 8, frac_bits: 7}"),
        ("TMR 8x8", "{family: tmr, width: 8}"),
    ];
    let specs: Vec<UnitSpec> = rows.iter().map(|(_, lane)| dot(lane)).collect();
    let generated: Vec<Generated> = specs.iter().map(emit::generate).collect();
    let results: Vec<SynthResult> = generated
        .iter()
        .map(|g| {
            let (r, cached) = synth::synthesize(&yosys, g).expect("synthesis");
            eprintln!(
                "{}: {} LUTs{}",
                g.name,
                r.stats.lut,
                if cached { " (cached)" } else { "" }
            );
            r.with_throughput(g)
        })
        .collect();

    println!(
        "\nDot-product density, N = {LANES} lanes, --target-mhz {TARGET_MHZ} (Yosys synth_xilinx -family xcup -nodsp; §5 timing model, an estimate)"
    );
    println!(
        "{:<16} {:>6} {:>5} {:>8} {:>7} {:>8} {:>7} {:>9} {:>9} {:>7}",
        "lane",
        "LUTs",
        "FFs",
        "LUT/MAC",
        "path",
        "fmax",
        "GOPS",
        "GOPS/kLUT",
        "FINN/MAC",
        "ours/FINN"
    );
    let mut by_name = std::collections::BTreeMap::new();
    for ((label, _), (r, (s, g))) in rows
        .iter()
        .zip(results.iter().zip(specs.iter().zip(&generated)))
    {
        let t = r.throughput.as_ref().expect("a dot has throughput");
        let widths = qmulgen::units::input_widths(s.unit.as_ref());
        let finn = finn_luts_per_mac(widths[0], widths[1], LANES);
        println!(
            "{:<16} {:>6} {:>5} {:>8.1} {:>6.2}n {:>5.0}MHz {:>7.2} {:>9.2} {:>9.1} {:>6.2}x",
            label,
            r.stats.lut,
            r.stats.ff,
            t.luts_per_mac,
            r.stats.path_ns,
            r.stats.fmax_est_mhz,
            t.gops,
            t.gops_per_klut,
            finn,
            t.luts_per_mac / finn
        );
        by_name.insert(*label, (r.clone(), g.manifest.latency));
    }
    println!(
        "(FINN/MAC: FINN's MVAU lut_estimation for the lane's W + A bits; fmax capped at 775 MHz)"
    );

    let mut targets = Targets::default();
    let fmax = |l: &str| by_name[l].0.stats.fmax_est_mhz;
    for (label, want) in [
        ("ESB e2k2 a8", 400.0),
        ("APoT B4 a8", 400.0),
        ("PoT B3 a8", 400.0),
        ("exact u8x8", 350.0),
    ] {
        targets.check(
            format!(
                "{label} dot fmax_est {:.0} MHz >= {want:.0} MHz",
                fmax(label)
            ),
            fmax(label) >= want,
        );
    }
    let esb = by_name["ESB e2k2 a8"]
        .0
        .throughput
        .clone()
        .expect("throughput");
    targets.check(
        format!(
            "ESB e2k2 a8 dot {:.2} GOPS/kLUT > ESB's {ESB_GOPS_PER_KLUT}",
            esb.gops_per_klut
        ),
        esb.gops_per_klut > ESB_GOPS_PER_KLUT,
    );
    for label in ["TMR 8x8", "AdAM n8 t7"] {
        let live = by_name[label].0.stats.constant_outputs.is_empty();
        targets.check(format!("{label} dot: y_err live after synthesis"), live);
    }
    let (adam, tmr) = (
        by_name["AdAM n8 t7"].0.stats.lut,
        by_name["TMR 8x8"].0.stats.lut,
    );
    targets.check(
        format!(
            "AdAM n8 t7 dot {adam} LUTs <= 0.45x TMR dot {tmr} ({:.2}x)",
            adam as f64 / tmr as f64
        ),
        adam as f64 <= 0.45 * tmr as f64,
    );

    // Generation of the largest dots.
    let mut slowest = 0.0f64;
    for lane in [
        "{family: exact, width: 16}",
        "{family: tmr, width: 16}",
        "{family: adam, width: 16, frac_bits: 15}",
        "{family: esb, exp_bits: 3, frac_bits: 4, act_bits: 12}",
    ] {
        let yaml = format!("{{lanes: 64, target_mhz: 400, lane: {lane}}}");
        let params: ParamMap = serde_yaml::from_str(&yaml).expect("yaml");
        let start = Instant::now();
        let spec = UnitSpec::from_params("dot", &params).expect("valid dot");
        let g = emit::generate(&spec);
        let t = start.elapsed().as_secs_f64();
        eprintln!(
            "generated {} ({} bytes) in {t:.3} s",
            g.name,
            g.verilog.len()
        );
        slowest = slowest.max(t);
    }
    targets.check(
        format!("generation of a 64-lane dot in {slowest:.3} s < 1 s (slowest of exact/TMR/AdAM 16-bit, ESB e3k4 a12)"),
        slowest < 1.0,
    );

    // Verification speed: 10^6 vectors of the 16-lane ESB dot (model build excluded).
    let verilator = Verilator::locate().expect("Verilator: run `make deps`");
    let report = verify::verify_dot(
        &verilator,
        &specs[0],
        &DotStimulus::random(1_000_000, 1),
        &mut |_| {},
    )
    .expect("verification runs");
    assert!(report.passed(), "{}", report.summary());
    let rate = report.vectors as f64 / report.seconds / 1e6;
    println!("\n{}", report.summary());
    targets.check(
        format!(
            "verification of 10^6 vectors of the ESB 16-lane dot at {rate:.2} M vectors/s >= 2"
        ),
        rate >= 2.0,
    );
    targets.print("density");
}
