//! Verilator testbenches for the `exact` family: unsigned and signed, exhaustive where the
//! input space is at most 2^24, seeded random up to 16×16, combinational and pipelined.

mod common;
use common::{input_bits, spec, verify_default};

#[test]
fn unsigned_exhaustive_small_and_asymmetric_widths() {
    for (a, b) in [(2, 2), (2, 16), (5, 3), (8, 8), (16, 8)] {
        let s = spec("exact", &format!("{{a_bits: {a}, b_bits: {b}}}"));
        assert!(input_bits(&s) <= 24);
        assert_eq!(verify_default(&s, 0), 1 << (a + b));
    }
}

#[test]
fn unsigned_exhaustive_12x12() {
    let s = spec("exact", "{width: 12}");
    assert_eq!(verify_default(&s, 0), 1 << 24);
}

#[test]
fn signed_exhaustive() {
    for (a, b) in [(2, 2), (3, 7), (8, 8), (12, 12)] {
        let s = spec(
            "exact",
            &format!("{{a_bits: {a}, b_bits: {b}, signed: true}}"),
        );
        assert_eq!(verify_default(&s, 0), 1 << (a + b));
    }
}

#[test]
fn random_16x16_unsigned_and_signed() {
    for signed in [false, true] {
        let s = spec("exact", &format!("{{width: 16, signed: {signed}}}"));
        let n = verify_default(&s, 1_000_000);
        assert!(n > 1_000_000, "corner cases plus random vectors");
    }
    let s = spec("exact", "{a_bits: 13, b_bits: 15, signed: true}");
    verify_default(&s, 200_000);
}

#[test]
fn pipelined_variants() {
    for yaml in [
        "{width: 8, pipeline: true}",
        "{a_bits: 5, b_bits: 9, signed: true, pipeline: true}",
        "{width: 16, signed: true, pipeline: true}",
    ] {
        let s = spec("exact", yaml);
        assert_eq!(s.rtl().latency, 2);
        verify_default(&s, 300_000);
    }
}

#[test]
fn mixed_signedness_exhaustive() {
    // int8 weight x uint8 activation and the reverse, asymmetric widths both ways (the
    // narrower operand selects the partial products, signed or not).
    for yaml in [
        "{width: 8, a_signed: true}",
        "{width: 8, b_signed: true}",
        "{a_bits: 5, b_bits: 11, a_signed: true}",
        "{a_bits: 5, b_bits: 11, b_signed: true}",
        "{a_bits: 12, b_bits: 3, b_signed: true}",
    ] {
        let s = spec("exact", yaml);
        let bits = input_bits(&s);
        assert_eq!(verify_default(&s, 0), 1 << bits, "{yaml}");
    }
}
