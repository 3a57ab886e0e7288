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
/// Every product of `grid` in exactly one group, no group reading more than six operand bits.
fn assert_partition(
    grid: &qmulgen::units::tiling::ProductGrid,
    groups: &[qmulgen::units::tiling::ProductGroup],
    what: &str,
) {
    let cols = grid.b_weights.len();
    let mut seen = vec![0; grid.rows * cols];
    for g in groups {
        let rows: std::collections::BTreeSet<_> = g.iter().map(|p| p.0).collect();
        let factors: std::collections::BTreeSet<_> = g.iter().map(|p| p.1).collect();
        assert!(
            rows.len() + factors.len() <= 6,
            "{what}: {g:?} reads more than 6 bits"
        );
        g.iter().for_each(|&(i, j)| seen[i * cols + j] += 1);
    }
    assert!(seen.iter().all(|&n| n == 1), "{what}: not a partition");
}

#[test]
fn exact_lanes_product_groups() {
    use qmulgen::units::tiling::{product_groups, ProductGrid};
    // Optima of the exact cover as an integer program (scipy's HiGHS MILP, offline) over
    // subsets of 3x3, 2x4, 4x2, 1x5, 5x1, 2x3, 3x2 and 2x2 windows and up to three products
    // of a column: (na, nb, bits).
    let optima = [
        (3, 3, 6),
        (4, 4, 11),
        (5, 5, 17),
        (6, 6, 24),
        (7, 7, 32),
        (8, 8, 42),
        (10, 10, 65),
        (2, 8, 12),
        (3, 8, 16),
        (3, 10, 20),
        (4, 6, 17),
        (4, 8, 22),
        (8, 4, 22),
        (5, 8, 27),
        (6, 8, 32),
    ];
    for (na, nb, bits) in optima {
        let grid = ProductGrid::multiplier(na, nb);
        let groups = product_groups(&grid);
        let total: usize = groups.iter().map(|g| grid.group_bits(g)).sum();
        assert_eq!(total, bits, "{na}x{nb}: {groups:?}");
    }
    for na in 1..=16 {
        for nb in 1..=16 {
            let grid = ProductGrid::multiplier(na, nb);
            let groups = product_groups(&grid);
            assert_partition(&grid, &groups, &format!("{na}x{nb}"));
            // Never more bits than counting each column alone (three products in 2 bits).
            let by_column: usize = (0..na + nb - 1)
                .map(|c| (0..na).filter(|&i| c >= i && c - i < nb).count())
                .map(|h| h / 3 * 2 + h % 3)
                .sum();
            let total: usize = groups.iter().map(|g| grid.group_bits(g)).sum();
            assert!(total <= by_column, "{na}x{nb}: {total} > {by_column}");
        }
    }
    // The weighted count's width: a 3x3 block 49 -> 6 bits, without its lowest product 5,
    // three products of a column and two of the next 3.
    let grid = ProductGrid::multiplier(3, 3);
    let block: Vec<_> = (0..3).flat_map(|i| (0..3).map(move |j| (i, j))).collect();
    assert_eq!(grid.group_bits(&block), 6);
    assert_eq!(grid.group_bits(&block[1..]), 5);
    assert_eq!(
        grid.group_bits(&[(0, 2), (1, 1), (2, 0), (1, 2), (2, 1)]),
        3
    );
}

#[test]
fn esb_lanes_product_groups_cover_every_format() {
    use qmulgen::units::tiling::{product_groups, ProductGrid};
    use qmulgen_rtl::esb::{heap_product_weights, EsbFormat};
    let mut formats: Vec<EsbFormat> = (2..=5u32)
        .flat_map(|e| (0..=15 - e).map(move |k| EsbFormat::Nonlinear { e, k }))
        .collect();
    formats.extend((2..=16).map(|b| EsbFormat::Linear { b }));
    for format in formats {
        for a in [2, 8, 16] {
            let (rows, b_weights) = heap_product_weights(format, a);
            let grid = ProductGrid { rows, b_weights };
            let groups = product_groups(&grid);
            assert_partition(&grid, &groups, &format!("{format:?} a{a}"));
        }
    }
}
