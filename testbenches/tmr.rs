//! Verilator testbenches for the `tmr` family, including fault injection on one copy.

mod common;
use common::{spec, verify, verify_default};
use qmulgen::sim::{Exhaustive, Random, VectorSource};
use qmulgen::units::tmr::{KIND_FLIP, KIND_STUCK0, KIND_STUCK1};

#[test]
fn tmr_exhaustive_and_random() {
    assert_eq!(verify_default(&spec("tmr", "{width: 8}"), 0), 1 << 16);
    assert_eq!(
        verify_default(&spec("tmr", "{a_bits: 10, b_bits: 12, signed: true}"), 0),
        1 << 22
    );
    verify_default(&spec("tmr", "{width: 16, signed: true}"), 500_000);
}

#[test]
fn tmr_pipelined() {
    verify_default(&spec("tmr", "{width: 6, pipeline: true}"), 0);
    verify_default(&spec("tmr", "{width: 16, pipeline: true}"), 200_000);
}

/// Every fault site of every copy, every kind, every operand pair at 5×5 (2^20 vectors),
/// compared with the golden model; and the golden model itself checked for what TMR must do.
#[test]
fn one_faulty_copy_is_outvoted_and_flagged() {
    let s = spec("tmr", "{width: 5, fault_ports: true}");
    let inputs: Vec<usize> = vec![5, 5, 8, 2];
    // The golden model is independent of the RTL; check its TMR properties directly.
    let mut out = [0u64; 2];
    let all = Exhaustive::new(inputs.clone());
    let mut v = [0u64; 4];
    let mut flagged = 0u64;
    for i in 0..all.len() {
        all.fill(i, &mut v);
        s.unit.golden(&v, &mut out);
        assert_eq!(
            out[0],
            v[0] * v[1],
            "p must stay correct under one fault: {v:?}"
        );
        let (site, kind) = (v[2], v[3]);
        let product = v[0] * v[1];
        let expect_err = if (1..=30).contains(&site) {
            let bit = (product >> ((site - 1) % 10)) & 1;
            match kind {
                KIND_FLIP => true,
                KIND_STUCK0 => bit == 1,
                KIND_STUCK1 => bit == 0,
                _ => false,
            }
        } else {
            false
        };
        assert_eq!(out[1], u64::from(expect_err), "err for {v:?}");
        flagged += out[1];
    }
    assert!(flagged > 0);
    // And the Verilog does the same, for all 2^20 combinations.
    assert_eq!(verify(&s, &[Box::new(Exhaustive::new(inputs))]), 1 << 20);
}

#[test]
fn faulty_copy_random_16x16_signed_pipelined() {
    let s = spec(
        "tmr",
        "{width: 16, signed: true, fault_ports: true, pipeline: true}",
    );
    verify(
        &s,
        &[
            Box::new(qmulgen::sim::Corners::new(s.unit.corner_cases())),
            Box::new(Random::new(vec![16, 16, 8, 2], 500_000, 3)),
        ],
    );
}

#[test]
fn mixed_signedness_exhaustive() {
    for yaml in [
        "{width: 8, a_signed: true}",
        "{a_bits: 6, b_bits: 9, b_signed: true}",
    ] {
        let s = spec("tmr", yaml);
        let bits: usize = qmulgen::units::input_widths(s.unit.as_ref()).iter().sum();
        assert_eq!(verify_default(&s, 0), 1 << bits, "{yaml}");
    }
}
