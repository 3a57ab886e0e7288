//! The `faults` flow: single-fault campaigns (flip, stuck-at-0, stuck-at-1, one at a time, at
//! every site, over every operand pair or seeded random pairs), classified against the unit's
//! own fault-free output: masked (err = 0, p equal), detected (err = 1), SDC (err = 0, p
//! different). Sites are the architectural fault ports of `tmr`/`adam` (classified by the
//! golden fault models, every injection confirmed in Verilator) or every observed cell output
//! of the Yosys-mapped netlist of any unit (instrumented, run in Verilator). Campaigns split
//! into shards by site and merge back exactly.

mod campaign;
mod classify;
mod model;
pub mod network;
mod report;
mod sites;

pub use campaign::*;
pub use classify::*;
pub(crate) use model::*;
pub use model::{check_fault_free_tables, faulty_tables, FaultyTable};
pub use report::*;
pub use sites::*;

use crate::base::{sign_extend, ParamMap};

use crate::emit;

use crate::flows::Failure;

use crate::sim::{self, Model, VectorSource, Verilator};

use crate::spec::UnitSpec;

use crate::synth::{self, Yosys};

use crate::units::Unit;

use serde::{Deserialize, Serialize};

use std::path::Path;

/// Fault kinds and their `fault_kind` port values; `init` (a flipped LUT INIT bit, netlist
/// sites only) selects its own sites, whatever the kind port says.
pub const KINDS: [(&str, u64); 4] = [("flip", 0), ("sa0", 1), ("sa1", 2), ("init", 0)];

/// Index of `init` in [`KINDS`].
pub const INIT: usize = 3;

const KIND_NONE: u64 = 3;

/// Campaigns up to this many injections run over every operand pair (every n <= 8 unit).
pub const EXHAUSTIVE_MAX_INJECTIONS: u64 = 1 << 32;

/// Random operand pairs of a sampled campaign when `--vectors` is not given.
pub const DEFAULT_SAMPLED_PAIRS: u64 = 8192;

/// Most pairs of a sampled campaign: its margins keep counts per pair (12 bytes per pair and
/// kind, per thread).
pub const MAX_SAMPLED_PAIRS: u64 = 1 << 20;

/// Parse `flip,sa0,sa1` (any subset, in any order) into indices of [`KINDS`].
pub fn parse_kinds(s: &str) -> Result<Vec<usize>, Failure> {
    let mut kinds = Vec::new();
    for k in s.split(',').map(str::trim) {
        let i = KINDS
            .iter()
            .position(|(name, _)| *name == k)
            .ok_or_else(|| {
                Failure::BadInput(format!(
                    "--kinds: unknown fault kind `{k}`, allowed: flip, sa0, sa1, init"
                ))
            })?;
        if !kinds.contains(&i) {
            kinds.push(i);
        }
    }
    kinds.sort_unstable();
    Ok(kinds)
}

/// Parse `--shard i/N` (1-based i).
pub fn parse_shard(s: &str) -> Result<(u64, u64), Failure> {
    let bad = || Failure::BadInput(format!("--shard `{s}`: expected i/N with 1 <= i <= N"));
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let (i, n): (u64, u64) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// What to run.
pub struct Options {
    pub universe: SiteUniverse,
    /// Indices into [`KINDS`].
    pub kinds: Vec<usize>,
    pub vectors: Option<u64>,
    pub seed: u64,
    pub shard: Option<(u64, u64)>,
    /// Weight files for the two operands.
    pub inputs: Option<[std::path::PathBuf; 2]>,
}

impl Options {
    /// flip, sa0 and sa1 at every site of `universe`, over every pair (or the default
    /// sample), seed 1.
    pub fn new(universe: SiteUniverse) -> Options {
        Options {
            universe,
            kinds: vec![0, 1, 2],
            vectors: None,
            seed: 1,
            shard: None,
            inputs: None,
        }
    }
}

/// Bad input is reported before any synthesis or model build.
fn check_options(options: &Options) -> Result<(), Failure> {
    if options.vectors == Some(0) {
        return Err(Failure::BadInput("--vectors must be at least 1".into()));
    }
    if let Some(v) = options.vectors.filter(|&v| v > MAX_SAMPLED_PAIRS) {
        return Err(Failure::BadInput(format!(
            "--vectors {v} is more than {MAX_SAMPLED_PAIRS} (2^20) pairs: a sampled campaign keeps counts per pair; run several seeds or shards instead"
        )));
    }
    if options.kinds.contains(&INIT) && options.universe == SiteUniverse::Ports {
        return Err(Failure::BadInput(
            "--kinds init flips LUT INIT bits of the mapped netlist: use --sites netlist".into(),
        ));
    }
    Ok(())
}

/// The operand pairs of a campaign and how they reach the model: scalar, one pair per
/// vector, or bit-sliced, 64 pairs per vector (the instrumented netlist).
struct Stimulus {
    pairs: Box<dyn VectorSource>,
    n_pairs: u64,
    /// The bit-sliced pairs, for the netlist model.
    packed: Option<Vec<u64>>,
    words_in: usize,
}

impl Stimulus {
    fn new(pairs: Box<dyn VectorSource>, widths: &[usize], bit_sliced: bool) -> Stimulus {
        let n_pairs = pairs.len();
        let packed = bit_sliced.then(|| pack_pairs(pairs.as_ref(), widths));
        Stimulus {
            n_pairs,
            words_in: if bit_sliced { widths.iter().sum() } else { 2 },
            packed,
            pairs,
        }
    }

    /// Model vectors per (site, kind) target.
    fn per_target(&self) -> u64 {
        match self.packed {
            Some(_) => self.n_pairs.div_ceil(64),
            None => self.n_pairs,
        }
    }

    /// The valid lanes of bit-sliced vector `block`.
    fn lanes_of(&self, block: u64) -> u64 {
        match (self.n_pairs - block * 64).min(64) {
            64 => u64::MAX,
            n => (1u64 << n) - 1,
        }
    }

    /// Every injection of `targets` ((site, `fault_kind` value)), target-major.
    fn source(&self, targets: Vec<(u64, u64)>) -> Box<dyn VectorSource + '_> {
        match &self.packed {
            Some(packed) => Box::new(PackedInjections {
                packed,
                words: self.words_in,
                blocks: self.per_target(),
                targets,
            }),
            None => Box::new(Injections {
                pairs: self.pairs.as_ref(),
                n_pairs: self.n_pairs,
                targets,
            }),
        }
    }
}

/// The fault-free pass: the model with no fault selected must equal the golden model. Returns
/// the model's outputs per vector (the reference of every injection).
fn reference_pass(t: &Target, stim: &Stimulus, outputs: &[usize]) -> Result<Vec<u64>, Failure> {
    let unit = t.plain.unit.as_ref();
    let module = &t.model.manifest().module;
    let mut reference: Vec<u64> = Vec::new();
    let mut golden = vec![0u64; outputs.len()];
    let mut first_mismatch = None;
    let mut k = 0u64;
    let mut pair = vec![0u64; 2];
    sim::stream(
        &t.model,
        stim.source(vec![(0, KIND_NONE)]).as_ref(),
        |inputs, actual| {
            reference.extend_from_slice(actual);
            let lanes: Vec<(u64, u32)> = match stim.packed {
                Some(_) => (0..64u32)
                    .filter(|&l| k * 64 + u64::from(l) < stim.n_pairs)
                    .map(|l| (k * 64 + u64::from(l), l))
                    .collect(),
                None => vec![(k, 0)],
            };
            k += 1;
            for (index, lane) in lanes {
                let got: Vec<u64> = match stim.packed {
                    Some(_) => {
                        let mut at = 0;
                        outputs
                            .iter()
                            .map(|&width| {
                                let v = lane_value(&actual[at..at + width], lane);
                                at += width;
                                v
                            })
                            .collect()
                    }
                    None => actual.to_vec(),
                };
                match stim.packed {
                    Some(_) => stim.pairs.fill(index, &mut pair),
                    None => pair.copy_from_slice(&inputs[..2]),
                }
                unit.golden(&pair, &mut golden);
                if first_mismatch.is_none() && golden != got {
                    first_mismatch =
                        Some(format!("inputs {pair:?}: golden {golden:?}, model {got:?}"));
                }
            }
        },
    )
    .map_err(|e| Failure::Failed(format!("{module}: {e}")))?;
    match first_mismatch {
        Some(m) => Err(Failure::Failed(format!(
            "{module}: the fault-free model differs from the golden model: {m}"
        ))),
        None => Ok(reference),
    }
}

/// One injection target of a run: site, kind index, site name.
type RunTarget<'a> = (u64, usize, &'a str);
/// Per kind slot and pair: masked, detected, SDC (sampled campaigns).
type Tally = Vec<Vec<[u32; 3]>>;

/// Inject every target, two model processes at a time over chunks of targets: counts per
/// target (in order) and the per-pair tallies of a sampled campaign.
fn inject(
    t: &Target,
    stim: &Stimulus,
    reference: &[u64],
    classes: &Classes,
    targets: &[RunTarget],
    options: &Options,
    progress: &(dyn Fn(String) + Sync),
) -> Result<(Vec<Counts>, Tally), Failure> {
    let module = &t.model.manifest().module;
    let per_target = stim.per_target();
    let out_words = reference.len() / per_target as usize;
    let p_words = if stim.packed.is_some() {
        classes.p.0
    } else {
        1
    };
    let has_err = out_words > p_words;
    let chunks: Vec<&[RunTarget]> = targets.chunks(targets.len().div_ceil(8).max(1)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicU64::new(0);
    type Part = (usize, Vec<Counts>, Option<String>);
    let parts: std::sync::Mutex<Vec<Part>> = Default::default();
    let slot_of = |kind: usize| options.kinds.iter().position(|&k| k == kind).unwrap_or(0);
    let tallies: std::sync::Mutex<Vec<Tally>> = Default::default();
    let failure: std::sync::Mutex<Option<String>> = Default::default();
    let start = std::time::Instant::now();
    let sampled = classes.tally_pairs;
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut tally: Tally = if sampled {
                    vec![vec![[0; 3]; stim.n_pairs as usize]; options.kinds.len()]
                } else {
                    Vec::new()
                };
                loop {
                    let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(chunk) = chunks.get(c) else { break };
                    let src = stim.source(chunk.iter().map(|&(s, k, _)| (s, KINDS[k].1)).collect());
                    let mut counts = vec![Counts::default(); chunk.len()];
                    let mut disagreement = None;
                    let mut expected = vec![0u64; out_words];
                    let mut k = 0u64;
                    let r = sim::stream(&t.model, src.as_ref(), |inputs, actual| {
                        let (v, sk) = ((k % per_target) as usize, (k / per_target) as usize);
                        k += 1;
                        let reference = &reference[v * out_words..][..out_words];
                        let tal = tally.get_mut(slot_of(chunk[sk].1)).map(Vec::as_mut_slice);
                        let err = if has_err { actual[p_words] } else { 0 };
                        let c = &mut counts[sk];
                        if stim.packed.is_some() {
                            let lanes = stim.lanes_of(v as u64);
                            let (p0, p) = (&reference[..p_words], &actual[..p_words]);
                            classes.block(c, v * 64, lanes, p0, p, err, tal);
                            return;
                        }
                        if let Some(spec) = &t.ports_unit {
                            spec.unit.golden(inputs, &mut expected);
                            if disagreement.is_none() && expected != actual {
                                disagreement = Some(format!(
                                    "injection {inputs:?} ({} {}): golden fault model {expected:?}, Verilator {actual:?}",
                                    chunk[sk].2,
                                    KINDS[chunk[sk].1].0
                                ));
                            }
                        }
                        classes.one(c, v, (reference[0], actual[0], err != 0), tal);
                    });
                    if let Err(e) = r {
                        *failure.lock().expect("lock") = Some(e.to_string());
                        break;
                    }
                    let finished = done.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed)
                        + chunk.len() as u64;
                    progress(format!(
                        "  {finished}/{} targets, {:.1} M injections/s",
                        targets.len(),
                        (finished * stim.n_pairs) as f64 / start.elapsed().as_secs_f64().max(1e-9) / 1e6
                    ));
                    parts.lock().expect("lock").push((c, counts, disagreement));
                }
                tallies.lock().expect("lock").push(tally);
            });
        }
    });
    if let Some(e) = failure.into_inner().expect("lock") {
        return Err(Failure::Failed(format!("{module}: {e}")));
    }
    let mut parts = parts.into_inner().expect("lock");
    parts.sort_by_key(|p| p.0);
    let mut counts = Vec::with_capacity(targets.len());
    for (_, c, disagreement) in parts {
        if let Some(d) = disagreement {
            return Err(Failure::Failed(format!("{module}: {d}")));
        }
        counts.extend(c);
    }
    Ok((counts, sum_tallies(tallies.into_inner().expect("lock"))))
}

/// Run a campaign (or one shard of it).
pub fn run(
    family: &str,
    params: &ParamMap,
    options: &Options,
    progress: &(dyn Fn(String) + Sync),
) -> Result<Campaign, Failure> {
    check_options(options)?;
    let frequencies = match &options.inputs {
        Some(files) => Some(operand_frequencies(
            files,
            spec_with(family, params, false)?.unit.as_ref(),
        )?),
        None => None,
    };
    let t = target(
        family,
        params,
        options.universe,
        options.kinds.contains(&INIT),
        progress,
    )?;
    let unit = t.plain.unit.as_ref();
    let module = t.model.manifest().module.clone();
    let widths = crate::units::input_widths(unit);
    if widths.len() != 2 {
        return Err(Failure::BadInput(format!(
            "{family}: fault campaigns take units with two operands"
        )));
    }
    let listed = fault_list(&t, &options.kinds);
    let n_sites = listed.len() as u64;
    let all_targets: u64 = listed.iter().map(|l| l.2.len() as u64).sum();
    let pair_bits: u32 = widths.iter().map(|&w| w as u32).sum();
    let space = (1u128 << pair_bits) * u128::from(all_targets);
    let exhaustive = options.vectors.is_none() && space <= u128::from(EXHAUSTIVE_MAX_INJECTIONS);
    // Sampled campaigns with --inputs draw their pairs from the data's distribution (so the
    // plain rates estimate the data's); exhaustive ones weigh every pair by its frequency.
    let n_sampled = options.vectors.unwrap_or(DEFAULT_SAMPLED_PAIRS);
    let pairs: Box<dyn VectorSource> = match (&frequencies, exhaustive) {
        (_, true) => Box::new(sim::Exhaustive::new(widths.clone())),
        (Some(freq), false) => Box::new(DataPairs::new(freq, n_sampled, options.seed)),
        (None, false) => Box::new(sim::Random::new(widths.clone(), n_sampled, options.seed)),
    };
    let weights = frequencies
        .as_ref()
        .filter(|_| exhaustive)
        .map(|freq| pair_weights(freq, pairs.as_ref()));
    let stim = Stimulus::new(pairs, &widths, t.ports_unit.is_none());
    let n_pairs = stim.n_pairs;

    // The unit's outputs: p and, where the unit has it, err.
    let outputs: Vec<crate::base::Port> = unit
        .ports()
        .into_iter()
        .filter(|p| p.dir == crate::base::Dir::Output)
        .collect();
    let p_port = outputs
        .iter()
        .find(|p| p.name == "p")
        .ok_or_else(|| Failure::Failed(format!("{module}: no output p")))?;
    let classes = Classes {
        p: (p_port.width, p_port.signed),
        weights: weights.as_deref(),
        tally_pairs: !exhaustive,
    };
    progress(format!(
        "{module}: fault-free reference over {n_pairs} pairs ..."
    ));
    let widths_out: Vec<usize> = outputs.iter().map(|p| p.width).collect();
    let reference = reference_pass(&t, &stim, &widths_out)?;

    // The slice of the listed sites this run covers (positions, 1-based).
    let (first_site, last_site) = match options.shard {
        Some((i, n)) => {
            let per = n_sites.div_ceil(n);
            ((i - 1) * per + 1, (i * per).min(n_sites))
        }
        None => (1, n_sites),
    };
    let slice = listed
        .get((first_site - 1) as usize..last_site as usize)
        .unwrap_or_default();
    let targets: Vec<RunTarget> = slice
        .iter()
        .flat_map(|(site, name, kinds)| kinds.iter().map(move |&k| (*site, k, name.as_str())))
        .collect();
    progress(format!(
        "{module}: {} sites, {} (site, kind) targets x {n_pairs} pairs = {} injections ...",
        slice.len(),
        targets.len(),
        targets.len() as u64 * n_pairs
    ));
    let (counts, pair_counts) =
        inject(&t, &stim, &reference, &classes, &targets, options, progress)?;

    let mut campaign = Campaign {
        unit: t.plain.module_name(),
        family: family.into(),
        params: unit.params(),
        site_universe: options.universe,
        sites: n_sites,
        exhaustive,
        pairs: n_pairs,
        operand_bits: pair_bits,
        seed: (!exhaustive).then_some(options.seed),
        kinds: options
            .kinds
            .iter()
            .map(|&k| KINDS[k].0.to_string())
            .collect(),
        shard: options.shard.map(|(index, count)| Shard {
            index,
            count,
            first_site,
            last_site,
        }),
        lut: t.lut,
        yosys: t.yosys.clone(),
        inputs: options
            .inputs
            .as_ref()
            .map(|f| f.iter().map(|p| p.display().to_string()).collect()),
        flip: None,
        sa0: None,
        sa1: None,
        init: None,
        rows: Vec::new(),
        pair_counts,
    };
    for &k in &options.kinds {
        *campaign.counts_mut(k) = Some(Counts::default());
    }
    for (&(site, kind, name), c) in targets.iter().zip(counts) {
        campaign.rows.push(SiteRow {
            site,
            name: name.into(),
            kind: KINDS[kind].0.into(),
            injections: c.injections,
            masked: c.masked,
            detected: c.detected,
            detected_equal: c.detected_equal,
            sdc: c.sdc,
        });
        campaign
            .counts_mut(kind)
            .get_or_insert_with(Default::default)
            .add(&c);
    }
    Ok(campaign)
}
