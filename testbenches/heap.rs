//! The bit-heap compressor generator (`rtl/src/heap.rs`, issue 23) against the integer sum:
//! every counter against its truth table, and compression plans evaluated on every input
//! pattern of small heaps (up to 2^20) and on random patterns of large ones. The plan is
//! evaluated here from what each compressor means (a counter outputs the binary count of its
//! weighted inputs, an adder the sum of its two rows), independently of how it is printed;
//! the printed Verilog is checked in Verilator by the dot testbenches.

use qmulgen_rtl::heap::{chain_positions, counter, plan, Kind, Plan};

/// The value of the plan's result for input bits `input` (bit i of the heap = input(i)).
fn evaluate(plan: &Plan, input: impl Fn(usize) -> bool) -> u128 {
    let mut value = vec![false; plan.bit_count];
    for (i, v) in value.iter_mut().enumerate().take(plan.input_columns.len()) {
        *v = input(i);
    }
    for stage in &plan.stages {
        for c in &stage.compressors {
            let bit = |id: &Option<usize>| id.is_some_and(|id| value[id]);
            let total: u128 = match c.kind {
                Kind::Counter { .. } | Kind::Chain => c
                    .inputs
                    .iter()
                    .enumerate()
                    .map(|(w, col)| col.iter().filter(|b| bit(b)).count() as u128 * (1 << w))
                    .sum(),
                Kind::Adder { .. } => c
                    .inputs
                    .iter()
                    .map(|row| {
                        row.iter()
                            .enumerate()
                            .map(|(j, b)| (bit(b) as u128) << j)
                            .sum::<u128>()
                    })
                    .sum(),
            };
            let outputs = c.outputs.len();
            assert!(
                total < 1 << outputs,
                "compressor at column {} overflows its {outputs} outputs",
                c.column
            );
            for (k, o) in c.outputs.iter().enumerate() {
                if let Some(o) = o {
                    value[*o] = total >> k & 1 == 1;
                }
            }
        }
    }
    let mask = (1u128 << plan.width) - 1;
    plan.result
        .iter()
        .enumerate()
        .map(|(c, id)| (id.is_some_and(|id| value[id]) as u128) << c)
        .sum::<u128>()
        & mask
}

fn expected(columns: &[usize], width: usize, input: impl Fn(usize) -> bool) -> u128 {
    let mask = (1u128 << width) - 1;
    columns
        .iter()
        .enumerate()
        .filter(|(i, _)| input(*i))
        .map(|(_, c)| 1u128 << c)
        .sum::<u128>()
        & mask
}

/// Every pattern of `columns` (at most 20 bits).
fn exhaustive(columns: &[usize], width: usize, budget_ns: f64) {
    assert!(columns.len() <= 20);
    let p = plan(columns, width, 0.45, budget_ns, 0.8);
    for pattern in 0u64..1 << columns.len() {
        let input = |i: usize| pattern >> i & 1 == 1;
        let (want, got) = (expected(columns, width, input), evaluate(&p, input));
        assert_eq!(
            got, want,
            "heap {columns:?} width {width}: pattern {pattern:#x}: expected {want}, got {got}"
        );
    }
}

#[test]
fn counters_match_their_truth_tables() {
    for (low, high) in [(6, 0), (5, 1), (5, 0), (4, 0), (3, 0), (4, 1), (3, 1)] {
        for pattern in 0u32..1 << (low + high) {
            let bits: Vec<bool> = (0..low + high).map(|i| pattern >> i & 1 == 1).collect();
            let want = bits[..low].iter().filter(|b| **b).count()
                + 2 * bits[low..].iter().filter(|b| **b).count();
            let out = counter(&bits[..low], &bits[low..]);
            let got = out
                .iter()
                .enumerate()
                .map(|(k, b)| (*b as usize) << k)
                .sum::<usize>();
            assert_eq!(got, want, "({high},{low}:3) counter, inputs {bits:?}");
        }
    }
}

/// A chain counter's positions, run as the carry chain runs them (X + (P ^ X) + cin), against
/// the weighted count of its inputs, for every pattern of every input count it is used with.
#[test]
fn chain_counters_match_their_truth_tables() {
    for low in 0..=5 {
        for mid in 0..=3 {
            for top in 0..=1 {
                let n = low + mid + top;
                for pattern in 0u32..1 << n {
                    let bits: Vec<bool> = (0..n).map(|i| pattern >> i & 1 == 1).collect();
                    let (l, rest) = bits.split_at(low);
                    let (m, t) = rest.split_at(mid);
                    let count = |v: &[bool]| v.iter().filter(|b| **b).count();
                    let want = count(l) + 2 * count(m) + 4 * count(t);
                    let positions = chain_positions(l, m, t);
                    let (mut sum, cin) = (0, usize::from(l.get(4) == Some(&true)));
                    for (i, (p, x)) in positions.iter().enumerate() {
                        sum += (usize::from(*x) + usize::from(p ^ x)) << i;
                    }
                    assert_eq!(
                        sum + cin,
                        want,
                        "(1,3,5:4) chain counter with {low}, {mid}, {top} inputs: {bits:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn small_heaps_every_pattern() {
    // Tall columns (counters), a staircase (adders), one column, wrap-around at the width.
    exhaustive(&[0; 13], 5, 10.0);
    exhaustive(
        &[0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3],
        6,
        10.0,
    );
    exhaustive(&(0..20).map(|i| i % 5).collect::<Vec<_>>(), 6, 0.5);
    exhaustive(&(0..18).map(|i| i / 3 + i % 3).collect::<Vec<_>>(), 8, 1.0);
    exhaustive(&[3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 4], 5, 10.0);
}

/// The heaps of real dots (every lane's bits, the constant's ones) on random patterns.
#[test]
fn dot_heaps_on_random_patterns() {
    use qmulgen::spec::UnitSpec;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    for (yaml, budget) in [
        (
            "{lanes: 16, lane: {family: esb, exp_bits: 2, frac_bits: 2, act_bits: 8}, sum: heap}",
            1.04,
        ),
        (
            "{lanes: 64, lane: {family: exact, width: 8, signed: true}, sum: heap}",
            2.25,
        ),
        (
            "{lanes: 7, lane: {family: apot, mag_bits: 5, act_bits: 6}, sum: heap}",
            10.0,
        ),
    ] {
        let params: qmulgen::base::ParamMap = serde_yaml::from_str(yaml).expect("yaml");
        let spec = UnitSpec::from_params("dot", &params).expect("a valid dot");
        let dot = spec.dot.as_ref().expect("a dot");
        let rows = dot.config.heap.clone().expect("a heap");
        let heap = dot.config.heap_bits(&rows, &mut Default::default());
        let columns = heap.columns();
        let p = plan(&columns, heap.width, rows.ns, budget, 0.8);
        assert!(p.stages.len() > 2, "{yaml}: a real compression");
        // Registers keep every stage (and the accumulator's adder after the last) in budget.
        assert!(
            p.path_ns <= budget,
            "{yaml}: planned path {} ns over {budget}",
            p.path_ns
        );
        for _ in 0..2_000 {
            let pattern: Vec<bool> = (0..columns.len())
                .map(|_| {
                    rng ^= rng << 13;
                    rng ^= rng >> 7;
                    rng ^= rng << 17;
                    rng & 1 == 1
                })
                .collect();
            let input = |i: usize| pattern[i];
            let (want, got) = (expected(&columns, heap.width, input), evaluate(&p, input));
            assert_eq!(got, want, "{yaml}: expected {want}, got {got}");
        }
    }
}

/// The exact lanes' 3x3 product blocks: disjoint, among the positive products (no sign bit),
/// never more heap bits than none; an 8x8 lane's 64 products in 44 bits (four blocks of 9 in 6
/// bits each, the other 28 products counted per column in 20), where per column alone they
/// take 48 (heights 1..8..1: a bit per product left over past each three).
#[test]
fn exact_lanes_product_blocks() {
    use qmulgen_rtl::exact::{heap_bits_with_blocks, product_blocks};
    for na in 2..=10 {
        for nb in 2..=10 {
            for (sa, sb) in [(false, false), (true, true), (true, false)] {
                let (rows, cols) = (na - usize::from(sa), nb - usize::from(sb));
                let blocks = product_blocks(na, nb, rows, cols);
                for &(i, j) in &blocks {
                    assert!(
                        i + 3 <= rows && j + 3 <= cols,
                        "{na}x{nb}: block at ({i}, {j})"
                    );
                }
                let with = heap_bits_with_blocks(na, nb, &blocks).expect("disjoint blocks");
                let without = heap_bits_with_blocks(na, nb, &[]).expect("no blocks");
                assert!(with <= without, "{na}x{nb}: {with:?} > {without:?}");
            }
        }
    }
    assert_eq!(heap_bits_with_blocks(8, 8, &[]).map(|b| b.0), Some(48));
    let blocks = product_blocks(8, 8, 8, 8);
    assert_eq!(blocks.len(), 4);
    assert_eq!(heap_bits_with_blocks(8, 8, &blocks).map(|b| b.0), Some(44));
    assert_eq!(heap_bits_with_blocks(8, 8, &[(0, 0), (2, 2)]), None);
}
