//! The fault model at work: injections as vectors for the model (a target = a site and a
//! `fault_kind` value; operand pairs scalar or 64 at a time bit-sliced), the pairs a campaign
//! draws (every pair, seeded random, or from the `--inputs` data), and faulty product tables.

use super::*;

/// Every injection of one slice: target-major ((site, kind port value)), then operand pair.
pub(crate) struct Injections<'a> {
    pub(crate) pairs: &'a dyn VectorSource,
    pub(crate) n_pairs: u64,
    pub(crate) targets: Vec<(u64, u64)>,
}

impl VectorSource for Injections<'_> {
    fn len(&self) -> u64 {
        self.n_pairs * self.targets.len() as u64
    }
    fn fill(&self, index: u64, out: &mut [u64]) {
        let (pair, sk) = (index % self.n_pairs, index / self.n_pairs);
        let n = out.len();
        self.pairs.fill(pair, &mut out[..n - 2]);
        (out[n - 2], out[n - 1]) = self.targets[sk as usize];
    }
    fn describe(&self) -> String {
        format!("{} injections", self.len())
    }
}

/// How often each operand value occurs in the two `--inputs` files (integers, one per line or
/// comma separated; signed units take negative values), keyed by the raw port pattern.
pub(crate) type OperandFrequencies = Vec<std::collections::HashMap<u64, u128>>;

pub(crate) fn operand_frequencies(
    files: &[std::path::PathBuf; 2],
    unit: &dyn Unit,
) -> Result<OperandFrequencies, Failure> {
    let ports: Vec<_> = unit
        .ports()
        .into_iter()
        .filter(|p| p.dir == crate::base::Dir::Input)
        .collect();
    let mut freq = Vec::new();
    for (file, port) in files.iter().zip(&ports) {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Failure::BadInput(format!("--inputs {}: {e}", file.display())))?;
        let (lo, hi) = if port.signed {
            (-(1i64 << (port.width - 1)), (1i64 << (port.width - 1)) - 1)
        } else {
            (0, (1i64 << port.width) - 1)
        };
        let mut f = std::collections::HashMap::new();
        for (line, fields) in crate::base::comma_fields(&text) {
            for tok in fields {
                let v: i64 = tok.parse().map_err(|_| {
                    Failure::BadInput(format!(
                        "--inputs {} line {line}: `{tok}` is not an integer",
                        file.display()
                    ))
                })?;
                if v < lo || v > hi {
                    return Err(Failure::BadInput(format!(
                        "--inputs {} line {line}: {v} does not fit port {} ({lo}..={hi})",
                        file.display(),
                        port.name
                    )));
                }
                *f.entry(crate::base::to_raw(v, port.width)).or_insert(0) += 1;
            }
        }
        if f.is_empty() {
            return Err(Failure::BadInput(format!(
                "--inputs {}: no values",
                file.display()
            )));
        }
        freq.push(f);
    }
    Ok(freq)
}

/// Per-pair weights: the product of the two operands' frequencies.
pub(crate) fn pair_weights(freq: &OperandFrequencies, pairs: &dyn VectorSource) -> Vec<u128> {
    let mut pair = vec![0u64; 2];
    (0..pairs.len())
        .map(|i| {
            pairs.fill(i, &mut pair);
            let w = |k: usize| freq[k].get(&pair[k]).copied().unwrap_or(0);
            w(0) * w(1)
        })
        .collect()
}

/// The 64-lane words of every block of 64 operand pairs (see [`crate::synth::instrument`]):
/// per block, one word per operand bit, operand after operand. Lanes past the last pair repeat
/// pair 0 and are masked out of the counts.
pub(crate) fn pack_pairs(pairs: &dyn VectorSource, widths: &[usize]) -> Vec<u64> {
    let words: usize = widths.iter().sum();
    let n = pairs.len();
    let blocks = n.div_ceil(64) as usize;
    let mut packed = vec![0u64; blocks * words];
    let mut v = vec![0u64; widths.len()];
    for k in 0..blocks as u64 * 64 {
        pairs.fill(if k < n { k } else { 0 }, &mut v);
        let (block, lane) = ((k / 64) as usize, k % 64);
        let mut w = block * words;
        for (x, &width) in v.iter().zip(widths) {
            for bit in 0..width {
                packed[w] |= ((x >> bit) & 1) << lane;
                w += 1;
            }
        }
    }
    packed
}

/// Injections of the 64-lane model: per (site, kind port value) target every block of pairs.
pub(crate) struct PackedInjections<'a> {
    pub packed: &'a [u64],
    pub words: usize,
    pub blocks: u64,
    pub targets: Vec<(u64, u64)>,
}

impl VectorSource for PackedInjections<'_> {
    fn len(&self) -> u64 {
        self.blocks * self.targets.len() as u64
    }
    fn fill(&self, index: u64, out: &mut [u64]) {
        let (block, sk) = ((index % self.blocks) as usize, index / self.blocks);
        out[..self.words].copy_from_slice(&self.packed[block * self.words..][..self.words]);
        (out[self.words], out[self.words + 1]) = self.targets[sk as usize];
    }
    fn describe(&self) -> String {
        format!("{} blocks of 64 injections", self.len())
    }
}

/// The value of lane `lane` of a bit-sliced output (`words[i]` holds bit i).
pub(crate) fn lane_value(words: &[u64], lane: u32) -> u64 {
    words
        .iter()
        .enumerate()
        .fold(0, |v, (i, w)| v | (((w >> lane) & 1) << i))
}

/// Operand pairs drawn from the two operands' empirical distributions (the `--inputs` files),
/// independently, seeded.
pub(crate) struct DataPairs {
    /// Per operand: values and cumulative counts.
    pub(crate) tables: Vec<(Vec<u64>, Vec<u128>)>,
    pub(crate) count: u64,
    pub(crate) seed: u64,
}

impl DataPairs {
    pub(crate) fn new(freq: &OperandFrequencies, count: u64, seed: u64) -> DataPairs {
        let tables = freq
            .iter()
            .map(|f| {
                let mut values: Vec<(u64, u128)> = f.iter().map(|(&v, &n)| (v, n)).collect();
                values.sort_unstable();
                let mut acc = 0u128;
                let cumulative = values
                    .iter()
                    .map(|(_, n)| {
                        acc += n;
                        acc
                    })
                    .collect();
                (values.into_iter().map(|(v, _)| v).collect(), cumulative)
            })
            .collect();
        DataPairs {
            tables,
            count,
            seed,
        }
    }
}

impl VectorSource for DataPairs {
    fn len(&self) -> u64 {
        self.count
    }
    fn fill(&self, index: u64, out: &mut [u64]) {
        for (k, (values, cumulative)) in self.tables.iter().enumerate() {
            let r = sim::splitmix64(self.seed ^ sim::splitmix64(index * 2 + k as u64));
            let total = cumulative.last().copied().unwrap_or(1);
            let target = u128::from(r) % total;
            let i = cumulative.partition_point(|&c| c <= target);
            out[k] = values[i.min(values.len() - 1)];
        }
    }
    fn describe(&self) -> String {
        format!("{} pairs drawn from the --inputs distributions", self.count)
    }
}

/// A unit's product function under one fault, over every operand pair (index a + b·2^wa,
/// the first operand fastest): the raw `p` and `err`.
pub type FaultyTable = (Vec<u64>, Vec<bool>);

/// The tables of `t` under each of `faults` ((site, `fault_kind` value); site 0 with kind 3
/// is the fault-free unit), for units of at most 8 + 8 operand bits: the instrumented netlist
/// in Verilator, 64 pairs per evaluation, or the unit's golden fault model for port sites.
pub fn faulty_tables(t: &Target, faults: &[(u64, u64)]) -> Result<Vec<FaultyTable>, Failure> {
    let unit = t.plain.unit.as_ref();
    let widths = crate::units::input_widths(unit);
    let bits: usize = widths.iter().sum();
    if widths.len() != 2 || bits > 16 {
        return Err(Failure::BadInput(format!(
            "{}: faulty product tables take two operands of at most 8 + 8 bits",
            t.plain.module_name()
        )));
    }
    let n_pairs = 1usize << bits;
    let wa = widths[0];
    if let Some(spec) = &t.ports_unit {
        let mut out = vec![0u64; 2];
        return Ok(faults
            .iter()
            .map(|&(site, kind)| {
                let (mut p, mut err) = (vec![0; n_pairs], vec![false; n_pairs]);
                for pair in 0..n_pairs {
                    let (a, b) = (pair as u64 & ((1 << wa) - 1), pair as u64 >> wa);
                    spec.unit.golden(&[a, b, site, kind], &mut out);
                    (p[pair], err[pair]) = (out[0], out[1] != 0);
                }
                (p, err)
            })
            .collect());
    }
    let outputs: Vec<_> = unit
        .ports()
        .into_iter()
        .filter(|p| p.dir == crate::base::Dir::Output)
        .collect();
    let p_width = outputs
        .iter()
        .find(|p| p.name == "p")
        .map_or(0, |p| p.width);
    let has_err = outputs.iter().any(|p| p.name == "err");
    let pairs = sim::Exhaustive::new(widths.clone());
    let packed = pack_pairs(&pairs, &widths);
    let blocks = n_pairs.div_ceil(64);
    let source = PackedInjections {
        packed: &packed,
        words: bits,
        blocks: blocks as u64,
        targets: faults.to_vec(),
    };
    let mut tables: Vec<FaultyTable> = vec![(vec![0; n_pairs], vec![false; n_pairs]); faults.len()];
    let mut v = 0usize;
    sim::stream(&t.model, &source, |_, out| {
        let (f, block) = (v / blocks, v % blocks);
        v += 1;
        let (p, err) = &mut tables[f];
        for lane in 0..64usize.min(n_pairs - block * 64) {
            let pair = block * 64 + lane;
            p[pair] = lane_value(&out[..p_width], lane as u32);
            err[pair] = has_err && (out[p_width] >> lane) & 1 == 1;
        }
    })
    .map_err(|e| Failure::Failed(format!("{}: {e}", t.model.manifest().module)))?;
    Ok(tables)
}

/// The fault-free table of `t` must be the golden model's, pair by pair.
pub fn check_fault_free_tables(t: &Target) -> Result<(), Failure> {
    if t.ports_unit.is_some() {
        return Ok(());
    }
    let unit = t.plain.unit.as_ref();
    let wa = crate::units::input_widths(unit)[0];
    let (p, err) = faulty_tables(t, &[(0, KIND_NONE)])?
        .pop()
        .unwrap_or_default();
    let mut golden = vec![0u64; 2];
    for (pair, (&pv, &ev)) in p.iter().zip(&err).enumerate() {
        let (a, b) = (pair as u64 & ((1 << wa) - 1), pair as u64 >> wa);
        unit.golden(&[a, b], &mut golden);
        if golden[0] != pv || (golden.get(1).is_some_and(|&e| e != 0) != ev) {
            return Err(Failure::Failed(format!(
                "{}: the fault-free netlist differs from the golden model at a = {a}, b = {b}: golden p = {}, netlist p = {pv}",
                t.plain.module_name(),
                golden[0]
            )));
        }
    }
    Ok(())
}
