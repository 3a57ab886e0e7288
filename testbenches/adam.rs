//! Verilator testbenches for `mitchell` and `adam` (ARITHMETIC.md §3): the CI grid n = 4, 8
//! (unsigned and signed, t = n-1 and two smaller t) and n = 12 (t = 11 unsigned, t = 5 signed)
//! exhaustively
//! (`make verify-all` covers every (n, t)), n = 16 random, every
//! fault site × kind over every operand pair for n = 4, 6, 8 (every t) and over random pairs
//! for n = 12, 16, the pipelined variants, and lint of every (n, t) with and without fault
//! ports.

mod common;
use common::{spec, verify, verify_default};
use qmulgen::sim::{splitmix64, Corners, Exhaustive, VectorSource};
use qmulgen::units::adam::OperandStructure;

/// t = n-1 and smaller fraction widths per n (n = 12: two, each 2^24 pairs).
const GRID: [(u32, &[u32]); 3] = [(4, &[3, 2, 1]), (8, &[7, 5, 3]), (12, &[11, 5])];

fn grid(family: &str, n: u32) {
    let ts = GRID.iter().find(|g| g.0 == n).expect("n in GRID").1;
    for signed in [false, true] {
        for (i, &t) in ts.iter().enumerate() {
            // n = 12 (2^24 pairs each): t = 11 unsigned and t = 5 signed only, to keep CI
            // short; `make verify-all` runs every (n, t, signed).
            if n == 12 && (i == 0) == signed {
                continue;
            }
            let s = spec(
                family,
                &format!("{{width: {n}, frac_bits: {t}, signed: {signed}}}"),
            );
            assert_eq!(verify_default(&s, 0), 1 << (2 * n));
        }
    }
}

#[test]
fn mitchell_n4_n8_exhaustive() {
    grid("mitchell", 4);
    grid("mitchell", 8);
}

#[test]
fn mitchell_n12_exhaustive() {
    grid("mitchell", 12);
}

#[test]
fn adam_n4_n8_exhaustive() {
    grid("adam", 4);
    grid("adam", 8);
}

#[test]
fn adam_n12_exhaustive() {
    grid("adam", 12);
}

#[test]
fn n16_random() {
    for family in ["mitchell", "adam"] {
        for (t, signed) in [(15, false), (15, true), (9, false)] {
            let s = spec(
                family,
                &format!("{{width: 16, frac_bits: {t}, signed: {signed}}}"),
            );
            verify_default(&s, 1_000_000);
        }
    }
}

/// Each of the four operand structures (leading-one detector with a right or a left aligner,
/// a normaliser, or a priority encoder with the right aligner; the default picks one per
/// (n, t)) exhaustively at n = 9 (every leading-one position and fraction of a
/// non-power-of-two width), Mitchell unsigned and AdAM signed (the signed magnitudes are the
/// same logic before every structure, checked with the defaults above); the normaliser also at
/// its smallest width, n = 4.
#[test]
fn every_operand_structure_exhaustive() {
    let mut configs: Vec<(&str, u32, u32)> = (OperandStructure::ALL.iter())
        .map(|o| (o.name(), 9, 5))
        .collect();
    configs.push(("normalize", 4, 3));
    for (operands, n, t) in configs {
        for (family, signed) in [("mitchell", false), ("adam", true)] {
            let s = spec(
                family,
                &format!("{{width: {n}, frac_bits: {t}, signed: {signed}, operands: {operands}}}"),
            );
            assert_eq!(verify_default(&s, 0), 1 << (2 * n));
        }
    }
}

/// Fault-port inputs: every operand pair × sites 0..=t+3 (none, s_0..s_{t-1}, c, c', one
/// past the last) × kinds 0..=3 (flip, stuck-at-0, stuck-at-1, none).
fn every_fault(n: u32, t: u32) -> Exhaustive {
    Exhaustive::grid(vec![1 << n, 1 << n, u64::from(t) + 4, 4])
}

fn fault_spec(n: u32, t: u32, extra: &str) -> qmulgen::spec::UnitSpec {
    spec(
        "adam",
        &format!("{{width: {n}, frac_bits: {t}, fault_ports: true{extra}}}"),
    )
}

#[test]
fn every_fault_site_and_kind_n4_n6() {
    let mut total = 0;
    for n in [4, 6] {
        for t in 1..n {
            for extra in ["", ", signed: true"] {
                total += verify(&fault_spec(n, t, extra), &[Box::new(every_fault(n, t))]);
            }
        }
    }
    eprintln!("adam fault ports n = 4, 6 (every t, unsigned and signed): {total} vectors pass");
}

#[test]
fn every_fault_site_and_kind_n8() {
    let mut total = 0;
    for t in 1..8 {
        total += verify(&fault_spec(8, t, ""), &[Box::new(every_fault(8, t))]);
    }
    eprintln!("adam fault ports n = 8 (every t): {total} vectors pass");
}

/// Seeded random operand pairs, each with every fault site (0..=t+3) and kind (0..=3).
struct RandomPairsEveryFault {
    n: u32,
    pairs: u64,
    seed: u64,
    sites: u64,
}

impl VectorSource for RandomPairsEveryFault {
    fn len(&self) -> u64 {
        self.pairs * self.sites * 4
    }
    fn fill(&self, index: u64, out: &mut [u64]) {
        let pair = index / (self.sites * 4);
        let r = splitmix64(self.seed ^ pair.wrapping_mul(0x9e37_79b9));
        let m = (1u64 << self.n) - 1;
        out[0] = r & m;
        out[1] = (r >> 32) & m;
        out[2] = (index / 4) % self.sites;
        out[3] = index % 4;
    }
    fn describe(&self) -> String {
        format!(
            "{} random pairs (seed {}) × {} sites × 4 kinds",
            self.pairs, self.seed, self.sites
        )
    }
}

#[test]
fn fault_sites_random_pairs_n12_n16() {
    let mut total = 0;
    for (n, t, signed) in [
        (12, 11, false),
        (12, 6, true),
        (16, 15, false),
        (16, 10, true),
    ] {
        let s = fault_spec(n, t, &format!(", signed: {signed}"));
        total += verify(
            &s,
            &[
                Box::new(Corners::new(s.unit.corner_cases())),
                Box::new(RandomPairsEveryFault {
                    n,
                    pairs: 20_000,
                    seed: 7,
                    sites: u64::from(t) + 4,
                }),
            ],
        );
    }
    eprintln!("adam fault ports n = 12, 16 (random pairs): {total} vectors pass");
}

#[test]
fn pipelined() {
    verify_default(
        &spec("mitchell", "{width: 6, frac_bits: 4, pipeline: true}"),
        0,
    );
    verify_default(&spec("adam", "{width: 8, signed: true, pipeline: true}"), 0);
    verify(
        &fault_spec(8, 5, ", pipeline: true"),
        &[Box::new(every_fault(8, 5))],
    );
    verify_default(
        &spec(
            "adam",
            "{width: 16, signed: true, fault_ports: true, pipeline: true}",
        ),
        300_000,
    );
}

/// Every (n, t) lints clean: Mitchell and AdAM signed, AdAM with fault ports unsigned, and
/// AdAM signed in the structures that are not the usual default (lod-left, normalize,
/// priority-right).
#[test]
fn every_width_and_fraction_lints_clean() {
    let mut bad = Vec::new();
    for n in 2..=16u32 {
        for t in 1..n {
            for (family, extra) in [
                ("mitchell", "signed: true"),
                ("adam", "signed: true"),
                ("adam", "fault_ports: true"),
                ("adam", "signed: true, operands: lod-left"),
                ("adam", "signed: true, operands: normalize"),
                ("adam", "signed: true, operands: priority-right"),
            ] {
                if n < 4 && extra.ends_with("normalize") {
                    continue;
                }
                let s = spec(family, &format!("{{width: {n}, frac_bits: {t}, {extra}}}"));
                let g = qmulgen::emit::generate(&s);
                if let Err(r) = qmulgen::sim::lint(common::verilator(), &g) {
                    bad.push(format!("{}: {r}", g.name));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Without `fault_ports` the Verilog has no trace of fault injection.
#[test]
fn fault_ports_leave_no_trace_when_off() {
    // The header comment lists the parameters (fault_ports: false); the hardware follows.
    let body = |s| {
        qmulgen::emit::generate(&s)
            .verilog
            .lines()
            .filter(|l| !l.starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let plain = body(spec("adam", "{width: 8}"));
    let faulty = body(fault_spec(8, 7, ""));
    for word in ["fault", "injector", "site", "kind"] {
        assert!(!plain.contains(word), "adam_u8_t7 mentions `{word}`");
        assert!(faulty.contains(word), "adam_u8_t7_f lacks `{word}`");
    }
}

#[test]
fn one_signed_operand_exhaustive() {
    for (family, yaml) in [
        ("mitchell", "{width: 8, a_signed: true}"),
        ("mitchell", "{width: 8, frac_bits: 5, b_signed: true}"),
        ("adam", "{width: 8, a_signed: true}"),
        (
            "adam",
            "{width: 6, frac_bits: 3, b_signed: true, fault_ports: true}",
        ),
    ] {
        let s = spec(family, yaml);
        assert!(verify_default(&s, 0) > 0, "{family} {yaml}");
    }
}
