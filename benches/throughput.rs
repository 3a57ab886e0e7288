//! `make bench`: generation time, Verilator model build time and end-to-end verification
//! throughput (real harness, golden compare) as a table. Targets: >= 10 M vectors/s for a
//! 16×16 unit on one core; exhaustive 12×12 (16.7 M vectors) in under 5 s. Also AdAM at
//! n = 12 and 16 and the golden metrics of a 12-bit unit.

mod common;

use qmulgen::base::ParamMap;
use qmulgen::emit;
use qmulgen::sim::{self, Exhaustive, Model, Random, VectorSource, Verilator};
use qmulgen::spec::UnitSpec;
use std::time::Instant;

fn spec(family: &str, yaml: &str) -> UnitSpec {
    let params: ParamMap = serde_yaml::from_str(yaml).expect("yaml");
    UnitSpec::from_params(family, &params).expect("valid spec")
}

fn main() {
    let verilator = Verilator::locate().expect("Verilator: run make deps");
    let mut rows: Vec<(String, String)> = Vec::new();

    let start = Instant::now();
    let mut bytes = 0;
    for a in 2..=16 {
        for b in 2..=16 {
            bytes += emit::generate(&spec("exact", &format!("{{a_bits: {a}, b_bits: {b}}}")))
                .verilog
                .len();
        }
    }
    rows.push((
        "generate all exact widths 2..16 × 2..16 (225 modules)".into(),
        format!(
            "{:.1} ms ({} kB of Verilog)",
            start.elapsed().as_secs_f64() * 1e3,
            bytes / 1000
        ),
    ));

    // A fresh cache so that the build is really timed.
    let cache = std::env::temp_dir().join(format!("qmulgen-bench-{}", std::process::id()));
    std::env::set_var("QMULGEN_CACHE", &cache);
    let s16 = spec("exact", "{width: 16}");
    let g16 = emit::generate(&s16);
    let m16 = Model::build(&verilator, &g16).expect("build");
    rows.push((
        "Verilator build of one model (exact_u16x16, -O3, 2 jobs)".into(),
        format!(
            "{:.2} s",
            m16.build_time.map(|t| t.as_secs_f64()).unwrap_or(0.0)
        ),
    ));

    let mut targets = common::Targets::default();
    let mut run = |label: &str, s: &UnitSpec, model: &Model, src: &dyn VectorSource| {
        let r = sim::check(model, s.unit.as_ref(), src).expect("check");
        assert!(r.passed(), "{label}: mismatches");
        rows.push((
            format!("{label}: {}", src.describe()),
            format!(
                "{:.3} s, {:.1} M vectors/s",
                r.elapsed.as_secs_f64(),
                r.vectors_per_second() / 1e6
            ),
        ));
        r
    };
    let s8 = spec("exact", "{width: 8}");
    let m8 = Model::build(&verilator, &emit::generate(&s8)).expect("build");
    run(
        "exact_u8x8 exhaustive",
        &s8,
        &m8,
        &Exhaustive::new(vec![8, 8]),
    );
    let s12 = spec("exact", "{width: 12}");
    let m12 = Model::build(&verilator, &emit::generate(&s12)).expect("build");
    let r12 = run(
        "exact_u12x12 exhaustive",
        &s12,
        &m12,
        &Exhaustive::new(vec![12, 12]),
    );
    let r16 = run(
        "exact_u16x16 random",
        &s16,
        &m16,
        &Random::new(vec![16, 16], 20_000_000, 1),
    );
    let st = spec("tmr", "{width: 16}");
    let mt = Model::build(&verilator, &emit::generate(&st)).expect("build");
    run(
        "tmr_u16x16 random",
        &st,
        &mt,
        &Random::new(vec![16, 16], 10_000_000, 1),
    );
    let sa = spec("adam", "{width: 12}");
    let ma = Model::build(&verilator, &emit::generate(&sa)).expect("build");
    run(
        "adam_u12_t11 exhaustive",
        &sa,
        &ma,
        &Exhaustive::new(vec![12, 12]),
    );
    let sa16 = spec("adam", "{width: 16, fault_ports: true}");
    let ma16 = Model::build(&verilator, &emit::generate(&sa16)).expect("build");
    run(
        "adam_u16_t15_f random (fault ports)",
        &sa16,
        &ma16,
        &Random::new(vec![16, 16, 8, 2], 10_000_000, 1),
    );
    let (pairs, _) =
        qmulgen::flows::metrics::operand_pairs(sa.unit.as_ref(), None, 1).expect("pairs");
    let start = Instant::now();
    qmulgen::flows::metrics::golden_metrics(sa.unit.as_ref(), pairs.as_ref());
    rows.push((
        "metrics adam_u12_t11, golden model, 16,777,216 pairs".into(),
        format!("{:.2} s", start.elapsed().as_secs_f64()),
    ));
    let _ = std::fs::remove_dir_all(&cache);
    targets.check(
        format!(
            "exact_u16x16 random: {:.1} M vectors/s (target >= 10 M/s, one model process)",
            r16.vectors_per_second() / 1e6
        ),
        r16.vectors_per_second() >= 10e6,
    );
    targets.check(
        format!(
            "exact_u12x12 exhaustive (16.7 M vectors): {:.2} s (target < 5 s)",
            r12.elapsed.as_secs_f64()
        ),
        r12.elapsed.as_secs_f64() < 5.0,
    );

    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    println!("\n| {:w$} | result |", "benchmark");
    println!("|{}|--------|", "-".repeat(w + 2));
    for (k, v) in rows {
        println!("| {k:w$} | {v} |");
    }
    targets.print("throughput");
}
