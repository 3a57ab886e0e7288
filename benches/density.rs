//! `make bench` density table (issues 19 and 23): 16-lane dot-product elements of every family
//! at a 400 MHz target, with an adder tree and, for the lanes whose products are sums of rows,
//! with a bit heap (also planned for 775 MHz, the clock limit, where the heap's stages of one
//! or two LUTs can run and the tree's lanes cannot), synthesised with the project's own flow (Yosys `synth_xilinx -family xcup
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
use qmulgen::units::dot::Sum;
use std::time::Instant;

const LANES: usize = 16;
const TARGET_MHZ: f64 = 400.0;
/// ESB's reported density on a ZCU102 (Gong et al., IEEE TPDS 2022).
const ESB_GOPS_PER_KLUT: f64 = 10.95;

/// The -2 speed grade's clock limit: a heap planned for it.
const LIMIT_MHZ: f64 = 775.0;

fn dot(lane: &str, sum: &str, target_mhz: f64) -> UnitSpec {
    dot_of(LANES, lane, sum, target_mhz)
}

/// A dot with `sum` (`default`: none given).
fn dot_of(lanes: usize, lane: &str, sum: &str, target_mhz: f64) -> UnitSpec {
    let sum = match sum {
        "default" => String::new(),
        s => format!("sum: {s}, "),
    };
    let yaml = format!("{{lanes: {lanes}, target_mhz: {target_mhz}, {sum}lane: {lane}}}");
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
    let esb22 = "{family: esb, exp_bits: 2, frac_bits: 2, act_bits: 8}";
    let esb32 = "{family: esb, exp_bits: 3, frac_bits: 2, act_bits: 8}";
    let apot4 = "{family: apot, mag_bits: 4, act_bits: 8}";
    let pot3 = "{family: pot, mag_bits: 3, act_bits: 8}";
    let u8x8 = "{family: exact, width: 8}";
    let s8x8 = "{family: exact, width: 8, signed: true}";
    // (label, lane, sum, target MHz): the tree at 400 MHz (as before issue 23), the heap at 400
    // MHz beside it, and the heap planned for the clock limit.
    let mut rows: Vec<(String, &str, &str, f64)> = Vec::new();
    for (label, lane) in [
        ("ESB e2k2 a8", esb22),
        ("ESB e3k2 a8", esb32),
        ("APoT B4 a8", apot4),
        ("PoT B3 a8", pot3),
        ("exact u8x8", u8x8),
        ("exact s8x8", s8x8),
    ] {
        rows.push((label.to_string(), lane, "tree", TARGET_MHZ));
        rows.push((format!("{label} heap"), lane, "heap", TARGET_MHZ));
        rows.push((format!("{label} heap@775"), lane, "heap", LIMIT_MHZ));
    }
    for (label, lane) in [
        (
            "Mitchell n8 t7",
            "{family: mitchell, width: 8, frac_bits: 7}",
        ),
        ("AdAM n8 t7", "{family: adam, width: 8, frac_bits: 7}"),
        ("TMR 8x8", "{family: tmr, width: 8}"),
    ] {
        rows.push((label.to_string(), lane, "tree", TARGET_MHZ));
    }
    let specs: Vec<UnitSpec> = (rows.iter())
        .map(|(_, lane, sum, mhz)| dot(lane, sum, *mhz))
        .collect();
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
        "{:<20} {:>6} {:>5} {:>8} {:>7} {:>8} {:>7} {:>9} {:>9} {:>9} {:>9}",
        "lane",
        "LUTs",
        "FFs",
        "LUT/MAC",
        "path",
        "fmax",
        "GOPS",
        "GOPS/kLUT",
        "FINN/MAC",
        "ours/FINN",
        "heap/tree"
    );
    let mut by_name = std::collections::BTreeMap::new();
    for ((label, ..), (r, (s, g))) in rows
        .iter()
        .zip(results.iter().zip(specs.iter().zip(&generated)))
    {
        let t = r.throughput.as_ref().expect("a dot has throughput");
        let widths = qmulgen::units::input_widths(s.unit.as_ref());
        let finn = finn_luts_per_mac(widths[0], widths[1], LANES);
        // A heap row's LUTs against the tree of the same lane (at 400 MHz).
        let tree = label.split(" heap").next().and_then(|l| by_name.get(l));
        let ratio = match (label.contains(" heap"), tree) {
            (true, Some((tree, _))) => {
                let tree: &SynthResult = tree;
                format!("{:.2}x", r.stats.lut as f64 / tree.stats.lut as f64)
            }
            _ => String::new(),
        };
        println!(
            "{:<20} {:>6} {:>5} {:>8.1} {:>6.2}n {:>5.0}MHz {:>7.2} {:>9.2} {:>9.1} {:>8.2}x {:>9}",
            label,
            r.stats.lut,
            r.stats.ff,
            t.luts_per_mac,
            r.stats.path_ns,
            r.stats.fmax_est_mhz,
            t.gops,
            t.gops_per_klut,
            finn,
            t.luts_per_mac / finn,
            ratio
        );
        by_name.insert(label.clone(), (r.clone(), g.manifest.latency));
    }
    println!(
        "(FINN/MAC: FINN's MVAU lut_estimation for the lane's W + A bits; fmax capped at 775 MHz; heap@775: the heap planned for the clock limit)"
    );

    let mut targets = Targets::default();
    let fmax = |l: &str| by_name[l].0.stats.fmax_est_mhz;
    let density = |l: &str| {
        let t = by_name[l].0.throughput.as_ref().expect("throughput");
        t.gops_per_klut
    };
    for (label, want) in [
        ("ESB e2k2 a8", 400.0),
        ("APoT B4 a8", 400.0),
        ("PoT B3 a8", 400.0),
        ("exact u8x8", 350.0),
        ("ESB e2k2 a8 heap", 400.0),
        ("exact u8x8 heap", 350.0),
    ] {
        targets.check(
            format!(
                "{label} dot fmax_est {:.0} MHz >= {want:.0} MHz",
                fmax(label)
            ),
            fmax(label) >= want,
        );
    }
    // Issue 23: the heap's density, at whichever target suits it best.
    let best = |lane: &str| {
        [format!("{lane} heap"), format!("{lane} heap@775")]
            .into_iter()
            .map(|l| (density(&l), l))
            .fold((0.0, String::new()), |a, b| if b.0 > a.0 { b } else { a })
    };
    for (lane, want) in [
        ("ESB e2k2 a8", 20.0),
        ("ESB e3k2 a8", 15.0),
        ("APoT B4 a8", 15.0),
    ] {
        let (d, l) = best(lane);
        targets.check(
            format!(
                "{l}: {d:.2} GOPS/kLUT >= {want} at fmax_est {:.0} MHz (>= 400)",
                fmax(&l)
            ),
            d >= want && fmax(&l) >= 400.0,
        );
    }
    let exact = by_name["exact u8x8 heap"]
        .0
        .throughput
        .clone()
        .expect("throughput");
    let finn = finn_luts_per_mac(8, 8, LANES);
    targets.check(
        format!(
            "exact u8x8 heap: {:.1} LUTs per MAC <= 0.65x FINN's {finn:.1} ({:.2}x)",
            exact.luts_per_mac,
            exact.luts_per_mac / finn
        ),
        exact.luts_per_mac <= 0.65 * finn,
    );
    // The default sum is the smaller one: check it at N = 4, 8, 16, at 400 MHz and, for the
    // ESB lanes whose choice follows the target, at 300 MHz (where the tree does not split them).
    let esb21 = "{family: esb, exp_bits: 2, frac_bits: 1, act_bits: 8}";
    for (label, lane, mhz) in [
        ("ESB e2k2 a8", esb22, TARGET_MHZ),
        ("ESB e2k2 a8", esb22, 300.0),
        ("ESB e2k1 a8", esb21, TARGET_MHZ),
        ("ESB e3k2 a8", esb32, TARGET_MHZ),
        ("APoT B4 a8", apot4, TARGET_MHZ),
        ("PoT B3 a8", pot3, TARGET_MHZ),
        ("exact u8x8", u8x8, TARGET_MHZ),
        ("exact s8x8", s8x8, TARGET_MHZ),
    ] {
        // (N, the default sum at N, heap LUTs, tree LUTs), and the heaps' slowest fmax_est (the
        // heap's planner places its registers from its own estimate of each stage).
        let mut slowest_heap = f64::INFINITY;
        let luts: Vec<(usize, Sum, u64, u64)> = [4, 8, LANES]
            .into_iter()
            .map(|n| {
                let stats = |sum: &str| {
                    let g = emit::generate(&dot_of(n, lane, sum, mhz));
                    synth::synthesize(&yosys, &g).expect("synthesis").0.stats
                };
                let (heap, tree) = (stats("heap"), stats("tree"));
                slowest_heap = slowest_heap.min(heap.fmax_est_mhz);
                let default = dot_of(n, lane, "default", mhz).dot.expect("a dot").sum();
                (n, default, heap.lut, tree.lut)
            })
            .collect();
        targets.check(
            format!("{label} at {mhz:.0} MHz: the heap at N = 4, 8, {LANES} meets the clock (slowest fmax_est {slowest_heap:.0} MHz)"),
            slowest_heap >= mhz,
        );
        let shown: Vec<String> = (luts.iter())
            .map(|(n, d, h, t)| format!("N={n} {} {h}/{t}", d.name()))
            .collect();
        targets.check(
            format!(
                "{label} at {mhz:.0} MHz: the default sum is the smaller at each N (default, heap/tree LUTs: {})",
                shown.join(", ")
            ),
            luts.iter().all(|(_, d, h, t)| match d {
                Sum::Heap => h <= t,
                Sum::Tree => t <= h,
            }),
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
        "{family: esb, exp_bits: 2, frac_bits: 2, act_bits: 8}",
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
        format!("generation of a 64-lane dot in {slowest:.3} s < 2 s (slowest of exact 16-bit (a heap of 16,384 partial products), TMR/AdAM 16-bit, ESB e3k4 a12, ESB e2k2 a8 (a heap))"),
        slowest < 2.0,
    );

    // Verification speed: 10^6 vectors of the 16-lane ESB dot, its heap (model build excluded).
    let verilator = Verilator::locate().expect("Verilator: run `make deps`");
    let report = verify::verify_dot(
        &verilator,
        &specs[1],
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
