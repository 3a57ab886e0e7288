//! Verilator testbenches for the `esb` family: every "useful point" of ARITHMETIC.md §1.3 at
//! A = 4, 8, 16 exhaustively, the corners K = 0, E = 5, A = 2, A = 16, b = 16, linear mode and
//! the pipelined variant; every (e, k) lints clean.

mod common;
use common::{input_bits, spec, verify_default};

const USEFUL_POINTS: [(u32, u32); 6] = [(2, 1), (3, 0), (2, 2), (3, 2), (3, 4), (4, 3)];

#[test]
fn useful_points_exhaustive_at_a4_a8_a16() {
    for (e, k) in USEFUL_POINTS {
        for a in [4, 8, 16] {
            let s = spec(
                "esb",
                &format!("{{exp_bits: {e}, frac_bits: {k}, act_bits: {a}}}"),
            );
            let bits = input_bits(&s);
            assert!(bits <= 24, "{bits}");
            assert_eq!(verify_default(&s, 0), 1 << bits);
        }
    }
}

#[test]
fn corners_k0_e5_a2_b16() {
    for yaml in [
        "{exp_bits: 5, frac_bits: 0, act_bits: 8}", // K = 0: a pure shifter, shifts up to 30
        "{exp_bits: 5, frac_bits: 2, act_bits: 16}", // E = 5, A = 16
        "{exp_bits: 2, frac_bits: 2, act_bits: 2}", // A = 2
        "{exp_bits: 2, frac_bits: 13, act_bits: 8}", // b = 16, e = 2
        "{exp_bits: 5, frac_bits: 10, act_bits: 8}", // b = 16, widest product (p: 47 bits)
        "{exp_bits: 4, frac_bits: 11, act_bits: 16}", // b = 16, A = 16: random
    ] {
        verify_default(&spec("esb", yaml), 1_000_000);
    }
}

#[test]
fn linear_mode() {
    for (b, a) in [(2, 2), (4, 4), (6, 6), (8, 16), (16, 8), (16, 16)] {
        let s = spec(
            "esb",
            &format!("{{linear: true, weight_bits: {b}, act_bits: {a}}}"),
        );
        verify_default(&s, 500_000);
    }
}

#[test]
fn pipelined() {
    verify_default(
        &spec(
            "esb",
            "{exp_bits: 2, frac_bits: 2, act_bits: 8, pipeline: true}",
        ),
        0,
    );
    verify_default(
        &spec(
            "esb",
            "{exp_bits: 4, frac_bits: 3, act_bits: 16, pipeline: true}",
        ),
        0,
    );
    verify_default(
        &spec(
            "esb",
            "{linear: true, weight_bits: 5, act_bits: 7, pipeline: true}",
        ),
        0,
    );
}

#[test]
fn every_exp_frac_pair_lints_clean_at_a2_a8_a16() {
    let mut bad = Vec::new();
    for e in 2..=5u32 {
        for k in 0..=(15 - e) {
            for a in [2, 8, 16] {
                let s = spec(
                    "esb",
                    &format!("{{exp_bits: {e}, frac_bits: {k}, act_bits: {a}}}"),
                );
                let g = qmulgen::emit::generate(&s);
                if let Err(r) = qmulgen::sim::lint(common::verilator(), &g) {
                    bad.push(format!("{}: {r}", g.name));
                }
            }
        }
    }
    for b in 2..=16 {
        for extra in ["", ", pipeline: true"] {
            let s = spec(
                "esb",
                &format!(
                    "{{linear: true, weight_bits: {b}, act_bits: {}{extra}}}",
                    18 - b
                ),
            );
            if let Err(r) = qmulgen::sim::lint(common::verilator(), &qmulgen::emit::generate(&s)) {
                bad.push(r);
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
