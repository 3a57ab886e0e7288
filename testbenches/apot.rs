//! Verilator testbenches for `apot` and `pot`: B = 1..8 at A = 4 and 8 exhaustively, B = 4 at
//! A = 16 (random), PoT B = 1..4 at A = 8, pipelined variants, lint of every (B, A) corner.

mod common;
use common::{input_bits, spec, verify_default};

#[test]
fn apot_b1_to_b8_at_a4_and_a8_exhaustive() {
    for b in 1..=8 {
        for a in [4, 8] {
            let s = spec("apot", &format!("{{mag_bits: {b}, act_bits: {a}}}"));
            assert_eq!(verify_default(&s, 0), 1 << input_bits(&s));
        }
    }
}

#[test]
fn apot_b4_a16_random_and_experimental_b12() {
    verify_default(&spec("apot", "{mag_bits: 4, act_bits: 16}"), 1_000_000);
    verify_default(&spec("apot", "{mag_bits: 12, act_bits: 10}"), 500_000);
}

#[test]
fn pot_b1_to_b4_at_a8_exhaustive() {
    for b in 1..=4 {
        let s = spec("pot", &format!("{{mag_bits: {b}, act_bits: 8}}"));
        assert_eq!(verify_default(&s, 0), 1 << input_bits(&s));
    }
}

#[test]
fn pipelined() {
    verify_default(
        &spec("apot", "{mag_bits: 5, act_bits: 8, pipeline: true}"),
        0,
    );
    verify_default(
        &spec("pot", "{mag_bits: 4, act_bits: 16, pipeline: true}"),
        0,
    );
}

#[test]
fn every_mag_bits_lints_clean_at_a2_and_a16() {
    let mut bad = Vec::new();
    for (family, max_b) in [("apot", 15), ("pot", 4)] {
        for b in 1..=max_b {
            for yaml in [
                format!("{{mag_bits: {b}, act_bits: 2}}"),
                format!("{{mag_bits: {b}, act_bits: 16, pipeline: true}}"),
            ] {
                let g = qmulgen::emit::generate(&spec(family, &yaml));
                if let Err(r) = qmulgen::sim::lint(common::verilator(), &g) {
                    bad.push(format!("{}: {r}", g.name));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
