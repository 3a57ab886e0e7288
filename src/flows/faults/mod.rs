//! The `faults` flow: single-fault campaigns (flip, stuck-at-0, stuck-at-1, one at a time, at
//! every site, over every operand pair or seeded random pairs), classified against the unit's
//! own fault-free output: masked (err = 0, p equal), detected (err = 1), SDC (err = 0, p
//! different). Sites are the architectural fault ports of `tmr`/`adam` (classified by the
//! golden fault models, every injection confirmed in Verilator) or every observed cell output
//! of the Yosys-mapped netlist of any unit (instrumented, run in Verilator). Campaigns split
//! into shards by site and merge back exactly.

pub mod network;

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

/// SDC magnitude `|p_faulty - p| / max(1, |p|)` in decades: bin upper edges.
pub const SDC_DECADES: [&str; 7] = ["<1e-4", "<1e-3", "<1e-2", "<1e-1", "<1", "<10", ">=10"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SiteUniverse {
    Ports,
    Netlist,
}

impl SiteUniverse {
    pub fn parse(s: &str) -> Result<SiteUniverse, Failure> {
        match s {
            "ports" => Ok(SiteUniverse::Ports),
            "netlist" => Ok(SiteUniverse::Netlist),
            _ => Err(Failure::BadInput(format!(
                "--sites `{s}` is unknown, allowed: ports, netlist"
            ))),
        }
    }
}

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

/// Counts of one fault kind. `weighted_*` are sums of pair weights (the product of the
/// operands' frequencies in the `--inputs` files), integers so that shards merge exactly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub injections: u64,
    pub masked: u64,
    pub detected: u64,
    /// Detected injections whose p still equals the fault-free p.
    pub detected_equal: u64,
    pub sdc: u64,
    /// SDCs with a relative error above 5 %.
    pub sdc_over_5pct: u64,
    /// SDCs by relative error, bins of [`SDC_DECADES`].
    pub sdc_decades: [u64; 7],
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub weighted: Option<WeightedCounts>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightedCounts {
    pub total: u128,
    pub masked: u128,
    pub detected: u128,
    pub sdc: u128,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.injections += o.injections;
        self.masked += o.masked;
        self.detected += o.detected;
        self.detected_equal += o.detected_equal;
        self.sdc += o.sdc;
        self.sdc_over_5pct += o.sdc_over_5pct;
        for (a, b) in self.sdc_decades.iter_mut().zip(o.sdc_decades) {
            *a += b;
        }
        if let Some(w) = &o.weighted {
            let s = self.weighted.get_or_insert_with(Default::default);
            s.total += w.total;
            s.masked += w.masked;
            s.detected += w.detected;
            s.sdc += w.sdc;
        }
    }

    /// Share of the SDCs above 5 % relative error, in %.
    pub fn sdc_over_5pct_share(&self) -> f64 {
        100.0 * self.sdc_over_5pct as f64 / self.sdc.max(1) as f64
    }

    /// Rate of `n` over the injections, in %.
    pub fn percent(&self, n: u64) -> f64 {
        100.0 * n as f64 / self.injections.max(1) as f64
    }
}

/// One row per site and kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteRow {
    pub site: u64,
    pub name: String,
    pub kind: String,
    pub injections: u64,
    pub masked: u64,
    pub detected: u64,
    pub detected_equal: u64,
    pub sdc: u64,
}

/// Which slice of the site range a shard ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
    pub first_site: u64,
    pub last_site: u64,
}

/// Half-width of the confidence interval of a rate (Leveugle et al., DATE 2009, solved for e).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Margin {
    pub rate: String,
    pub value: f64,
    pub margin_95: f64,
    pub margin_99: f64,
}

/// A campaign's result (or one shard's part of it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub unit: String,
    pub family: String,
    pub params: serde_json::Value,
    pub site_universe: SiteUniverse,
    /// Number of fault sites of the unit (all shards together).
    pub sites: u64,
    pub exhaustive: bool,
    /// Operand pairs per (site, kind).
    pub pairs: u64,
    /// Bits of the two operands together (the operand space has 2^operand_bits pairs).
    pub operand_bits: u32,
    /// Seed of the random pairs (sampled campaigns).
    pub seed: Option<u64>,
    pub kinds: Vec<String>,
    pub shard: Option<Shard>,
    /// LUTs of the mapped netlist (netlist sites).
    pub lut: Option<u64>,
    pub yosys: Option<String>,
    /// The `--inputs` files that weighted the pairs.
    pub inputs: Option<Vec<String>>,
    pub flip: Option<Counts>,
    pub sa0: Option<Counts>,
    pub sa1: Option<Counts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<Counts>,
    /// (site, kind) injection targets of the whole campaign (all shards).
    #[serde(default)]
    pub targets: u64,
    pub rows: Vec<SiteRow>,
}

impl Campaign {
    pub fn counts(&self) -> [(&'static str, Option<&Counts>); 4] {
        [
            ("flip", self.flip.as_ref()),
            ("sa0", self.sa0.as_ref()),
            ("sa1", self.sa1.as_ref()),
            ("init", self.init.as_ref()),
        ]
    }

    fn counts_mut(&mut self, kind: usize) -> &mut Option<Counts> {
        match kind {
            0 => &mut self.flip,
            1 => &mut self.sa0,
            2 => &mut self.sa1,
            _ => &mut self.init,
        }
    }

    /// All kinds together.
    pub fn total(&self) -> Counts {
        self.total_of(&["flip", "sa0", "sa1", "init"])
    }

    /// The kinds named together.
    pub fn total_of(&self, kinds: &[&str]) -> Counts {
        let mut t = Counts::default();
        for (kind, c) in self.counts() {
            if let Some(c) = c.filter(|_| kinds.contains(&kind)) {
                t.add(c);
            }
        }
        t
    }

    /// Injections in the whole space: every operand pair x (site, kind) target.
    fn population(&self) -> f64 {
        let targets = if self.targets > 0 {
            self.targets
        } else {
            self.sites * self.kinds.len() as u64
        };
        2f64.powi(self.operand_bits as i32) * targets as f64
    }

    /// Confidence margins of the rates of a sampled campaign (none when exhaustive: exact).
    pub fn margins(&self) -> Vec<Margin> {
        if self.exhaustive {
            return Vec::new();
        }
        let big_n = self.population();
        let mut v = Vec::new();
        for (kind, c) in self.counts() {
            let Some(c) = c else { continue };
            let n = c.injections as f64;
            for (rate, k) in [
                ("masked", c.masked),
                ("detected", c.detected),
                ("sdc", c.sdc),
            ] {
                let p = k as f64 / n.max(1.0);
                let margin = |t: f64| {
                    // e = t sqrt(p(1-p)/n (N-n)/(N-1)), with p = 0.5 when nothing was seen.
                    let pq = if k == 0 { 0.25 } else { p * (1.0 - p) };
                    t * (pq / n.max(1.0) * ((big_n - n).max(0.0) / (big_n - 1.0).max(1.0))).sqrt()
                };
                v.push(Margin {
                    rate: format!("{kind}.{rate}"),
                    value: p,
                    margin_95: margin(1.96),
                    margin_99: margin(2.576),
                });
            }
        }
        v
    }
}

/// Leveugle et al. (DATE 2009): injections needed for margin `e` at confidence `t`
/// (1.96: 95 %, 2.576: 99 %) in a population of `big_n`, with p = 0.5.
pub fn leveugle_sample_size(big_n: f64, e: f64, t: f64) -> f64 {
    let tp = t * t * 0.25;
    big_n * tp / (e * e * (big_n - 1.0) + tp)
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

/// Every injection of one slice: target-major ((site, kind port value)), then operand pair.
struct Injections<'a> {
    pairs: &'a dyn VectorSource,
    n_pairs: u64,
    targets: Vec<(u64, u64)>,
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

/// The unit under test: its model (with `fault_site`/`fault_kind` inputs), site names and the
/// plain unit whose golden model gives the fault-free outputs.
pub(crate) struct Target {
    pub model: Model,
    pub sites: Vec<String>,
    /// INIT-bit sites (netlist sites with `init`): (site number, name).
    pub init_sites: Vec<(u64, String)>,
    pub plain: UnitSpec,
    /// The unit with fault ports, whose golden model classifies port injections.
    pub ports_unit: Option<UnitSpec>,
    pub lut: Option<u64>,
    pub yosys: Option<String>,
    /// The §5 path of the mapped netlist (netlist sites).
    pub path_ns: Option<f64>,
}

pub(crate) fn spec_with(
    family: &str,
    params: &ParamMap,
    fault_ports: bool,
) -> Result<UnitSpec, Failure> {
    if family == "dot" {
        return Err(crate::spec::not_for_a_dot("faults").into());
    }
    let mut p = params.clone();
    p.remove("fault_ports");
    if fault_ports {
        p.insert("fault_ports".into(), true.into());
    }
    Ok(UnitSpec::from_params(family, &p)?)
}

pub(crate) fn target(
    family: &str,
    params: &ParamMap,
    universe: SiteUniverse,
    init: bool,
    progress: &(dyn Fn(String) + Sync),
) -> Result<Target, Failure> {
    if params.get("pipeline").and_then(|v| v.as_bool()) == Some(true) {
        return Err(Failure::BadInput(
            "fault campaigns run on the combinational unit: drop --pipeline".into(),
        ));
    }
    let plain = spec_with(family, params, false)?;
    match universe {
        SiteUniverse::Ports => {
            if !matches!(family, "tmr" | "adam") {
                return Err(Failure::BadInput(format!(
                    "--sites ports: {family} has no fault ports (tmr and adam have); use --sites netlist"
                )));
            }
            let verilator = Verilator::locate().map_err(Failure::BadInput)?;
            let spec = spec_with(family, params, true)?;
            let g = emit::generate(&spec);
            progress(format!("{}: building the Verilator model ...", g.name));
            let model = Model::build(&verilator, &g).map_err(Failure::Failed)?;
            Ok(Target {
                model,
                sites: spec.unit.fault_site_names(),
                init_sites: Vec::new(),
                plain,
                ports_unit: Some(spec),
                lut: None,
                yosys: None,
                path_ns: None,
            })
        }
        SiteUniverse::Netlist => {
            let yosys = Yosys::locate().map_err(Failure::BadInput)?;
            let verilator = Verilator::locate().map_err(Failure::BadInput)?;
            let g = emit::generate(&plain);
            progress(format!("{}: synthesising (Yosys) ...", g.name));
            let (netlist, result) = synth::mapped_netlist(&yosys, &g).map_err(Failure::Failed)?;
            let inst = synth::instrument::instrument(&netlist, &g.manifest, init)
                .map_err(Failure::Failed)?;
            progress(format!(
                "{}: {} fault sites; building the Verilator model ...",
                g.name,
                inst.sites.len()
            ));
            let model = Model::build(&verilator, &inst.generated).map_err(Failure::Failed)?;
            Ok(Target {
                model,
                sites: inst.sites,
                init_sites: inst.init_sites,
                plain,
                ports_unit: None,
                lut: Some(result.stats.lut),
                yosys: Some(yosys.version),
                path_ns: Some(result.stats.path_ns),
            })
        }
    }
}

/// How often each operand value occurs in the two `--inputs` files (integers, one per line or
/// comma separated; signed units take negative values), keyed by the raw port pattern.
type OperandFrequencies = Vec<std::collections::HashMap<u64, u128>>;

fn operand_frequencies(
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
fn pair_weights(freq: &OperandFrequencies, pairs: &dyn VectorSource) -> Vec<u128> {
    let mut pair = vec![0u64; 2];
    (0..pairs.len())
        .map(|i| {
            pairs.fill(i, &mut pair);
            let w = |k: usize| freq[k].get(&pair[k]).copied().unwrap_or(0);
            w(0) * w(1)
        })
        .collect()
}

fn decade(relative: f64) -> usize {
    let mut bin = 0;
    let mut edge = 1e-4;
    while bin < 6 && relative >= edge {
        bin += 1;
        edge *= 10.0;
    }
    bin
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
fn lane_value(words: &[u64], lane: u32) -> u64 {
    words
        .iter()
        .enumerate()
        .fold(0, |v, (i, w)| v | (((w >> lane) & 1) << i))
}

/// How one run reads the model's outputs and classifies them.
struct Classes<'a> {
    /// Width and signedness of p.
    p: (usize, bool),
    weights: Option<&'a [u128]>,
}

impl Classes<'_> {
    fn value(&self, raw: u64) -> i64 {
        match self.p {
            (width, true) => sign_extend(raw, width),
            _ => raw as i64,
        }
    }

    fn sdc(&self, c: &mut Counts, p0: u64, p: u64) {
        let (v0, v) = (self.value(p0), self.value(p));
        let rel = (v - v0).unsigned_abs() as f64 / (v0.unsigned_abs().max(1)) as f64;
        c.sdc_decades[decade(rel)] += 1;
        c.sdc_over_5pct += u64::from(rel > 0.05);
    }

    fn weigh(&self, c: &mut Counts, pair: usize, class: usize) {
        if let Some(w) = self.weights {
            let w = w[pair];
            let s = c.weighted.get_or_insert_with(Default::default);
            s.total += w;
            match class {
                0 => s.masked += w,
                1 => s.detected += w,
                _ => s.sdc += w,
            }
        }
    }

    /// One scalar injection.
    fn one(&self, c: &mut Counts, pair: usize, (p0, p, err): (u64, u64, bool)) {
        c.injections += 1;
        let class = if err {
            c.detected += 1;
            c.detected_equal += u64::from(p == p0);
            1
        } else if p == p0 {
            c.masked += 1;
            0
        } else {
            c.sdc += 1;
            self.sdc(c, p0, p);
            2
        };
        self.weigh(c, pair, class);
    }

    /// 64 injections at once: `p`/`p0` bit-sliced, `err` a lane word, `lanes` the valid lanes,
    /// the block's first pair `first_pair`.
    fn block(
        &self,
        c: &mut Counts,
        first_pair: usize,
        lanes: u64,
        p0: &[u64],
        p: &[u64],
        err: u64,
    ) {
        let differ = p0.iter().zip(p).fold(0, |d, (a, b)| d | (a ^ b));
        let (err, differ) = (err & lanes, differ & lanes);
        let sdc = differ & !err;
        c.injections += u64::from(lanes.count_ones());
        c.detected += u64::from(err.count_ones());
        c.detected_equal += u64::from((err & !differ).count_ones());
        c.masked += u64::from((lanes & !err & !differ).count_ones());
        c.sdc += u64::from(sdc.count_ones());
        let mut rest = sdc;
        while rest != 0 {
            let lane = rest.trailing_zeros();
            rest &= rest - 1;
            self.sdc(c, lane_value(p0, lane), lane_value(p, lane));
        }
        if self.weights.is_some() {
            for lane in 0..64 {
                if (lanes >> lane) & 1 == 1 {
                    let class = if (err >> lane) & 1 == 1 {
                        1
                    } else if (differ >> lane) & 1 == 1 {
                        2
                    } else {
                        0
                    };
                    self.weigh(c, first_pair + lane as usize, class);
                }
            }
        }
    }
}

/// Run a campaign (or one shard of it).
pub fn run(
    family: &str,
    params: &ParamMap,
    options: &Options,
    progress: &(dyn Fn(String) + Sync),
) -> Result<Campaign, Failure> {
    // Bad input is reported before any synthesis or model build.
    if options.vectors == Some(0) {
        return Err(Failure::BadInput("--vectors must be at least 1".into()));
    }
    let with_init = options.kinds.contains(&INIT);
    if with_init && options.universe == SiteUniverse::Ports {
        return Err(Failure::BadInput(
            "--kinds init flips LUT INIT bits of the mapped netlist: use --sites netlist".into(),
        ));
    }
    let frequencies = match &options.inputs {
        Some(files) => Some(operand_frequencies(
            files,
            spec_with(family, params, false)?.unit.as_ref(),
        )?),
        None => None,
    };
    let t = target(family, params, options.universe, with_init, progress)?;
    let unit = t.plain.unit.as_ref();
    let module = t.model.manifest().module.clone();
    let widths = crate::units::input_widths(unit);
    if widths.len() != 2 {
        return Err(Failure::BadInput(format!(
            "{family}: fault campaigns take units with two operands"
        )));
    }
    // Sites and the kinds each takes: output sites every kind but init, INIT sites init.
    let out_kinds: Vec<usize> = options
        .kinds
        .iter()
        .copied()
        .filter(|&k| k != INIT)
        .collect();
    let mut listed: Vec<(u64, String, Vec<usize>)> = Vec::new();
    if !out_kinds.is_empty() {
        for (i, name) in t.sites.iter().enumerate() {
            listed.push((i as u64 + 1, name.clone(), out_kinds.clone()));
        }
    }
    if with_init {
        for (site, name) in &t.init_sites {
            listed.push((*site, name.clone(), vec![INIT]));
        }
    }
    let n_sites = listed.len() as u64;
    let all_targets: u64 = listed.iter().map(|l| l.2.len() as u64).sum();
    let pair_bits: u32 = widths.iter().map(|&w| w as u32).sum();
    let space = (1u128 << pair_bits) * u128::from(all_targets);
    let exhaustive = options.vectors.is_none() && space <= u128::from(EXHAUSTIVE_MAX_INJECTIONS);
    let pairs: Box<dyn VectorSource> = if exhaustive {
        Box::new(sim::Exhaustive::new(widths.clone()))
    } else {
        let n = options.vectors.unwrap_or(DEFAULT_SAMPLED_PAIRS);
        Box::new(sim::Random::new(widths.clone(), n, options.seed))
    };
    let n_pairs = pairs.len();
    let weights = frequencies
        .as_ref()
        .map(|freq| pair_weights(freq, pairs.as_ref()));

    // The unit's outputs: p and, where the unit has it, err.
    let ports = unit.ports();
    let outputs: Vec<_> = ports
        .iter()
        .filter(|p| p.dir == crate::base::Dir::Output)
        .collect();
    let p_port = outputs
        .iter()
        .find(|p| p.name == "p")
        .ok_or_else(|| Failure::Failed(format!("{module}: no output p")))?;
    let (p_width, p_signed) = (p_port.width, p_port.signed);
    let has_err = outputs.iter().any(|p| p.name == "err");
    let classes = Classes {
        p: (p_width, p_signed),
        weights: weights.as_deref(),
    };
    let packed_model = t.ports_unit.is_none();
    // Model outputs: scalar p (and err) or p's bit-sliced words (and err's).
    let words_in: usize = if packed_model { widths.iter().sum() } else { 2 };
    let packed = if packed_model {
        pack_pairs(pairs.as_ref(), &widths)
    } else {
        Vec::new()
    };
    let blocks = n_pairs.div_ceil(64);
    let lanes_of = |block: u64| {
        let n = (n_pairs - block * 64).min(64);
        if n == 64 {
            u64::MAX
        } else {
            (1u64 << n) - 1
        }
    };
    let source = |targets: Vec<(u64, u64)>| -> Box<dyn VectorSource + '_> {
        if packed_model {
            Box::new(PackedInjections {
                packed: &packed,
                words: words_in,
                blocks,
                targets,
            })
        } else {
            Box::new(Injections {
                pairs: pairs.as_ref(),
                n_pairs,
                targets,
            })
        }
    };
    // Vectors per (site, kind).
    let per_sk = if packed_model { blocks } else { n_pairs };

    // Fault-free pass: the model with no fault selected must equal the golden model.
    progress(format!(
        "{module}: fault-free reference over {n_pairs} pairs ..."
    ));
    let mut reference: Vec<u64> = Vec::new();
    let mut golden = vec![0u64; outputs.len()];
    let mut first_mismatch = None;
    let mut k = 0u64;
    let mut pair = vec![0u64; 2];
    sim::stream(
        &t.model,
        source(vec![(0, KIND_NONE)]).as_ref(),
        |inputs, actual| {
            reference.extend_from_slice(actual);
            let lanes: Vec<(u64, u32)> = if packed_model {
                (0..64u32)
                    .filter(|&l| k * 64 + u64::from(l) < n_pairs)
                    .map(|l| (k * 64 + u64::from(l), l))
                    .collect()
            } else {
                vec![(k, 0)]
            };
            k += 1;
            for (index, lane) in lanes {
                let got: Vec<u64> = if packed_model {
                    let mut at = 0;
                    outputs
                        .iter()
                        .map(|o| {
                            let v = lane_value(&actual[at..at + o.width], lane);
                            at += o.width;
                            v
                        })
                        .collect()
                } else {
                    actual.to_vec()
                };
                if packed_model {
                    pairs.fill(index, &mut pair);
                } else {
                    pair.copy_from_slice(&inputs[..2]);
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
    if let Some(m) = first_mismatch {
        return Err(Failure::Failed(format!(
            "{module}: the fault-free model differs from the golden model: {m}"
        )));
    }
    let out_words = reference.len() / per_sk as usize;

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
    // (site, kind index, site name) of every target of the slice.
    let targets: Vec<(u64, usize, &str)> = slice
        .iter()
        .flat_map(|(site, name, kinds)| kinds.iter().map(move |&k| (*site, k, name.as_str())))
        .collect();

    // Injections, two model processes at a time over chunks of targets.
    let chunks: Vec<&[(u64, usize, &str)]> =
        targets.chunks(targets.len().div_ceil(8).max(1)).collect();
    let total_injections = targets.len() as u64 * n_pairs;
    progress(format!(
        "{module}: {} sites, {} (site, kind) targets x {n_pairs} pairs = {total_injections} injections ...",
        slice.len(),
        targets.len()
    ));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicU64::new(0);
    type Part = (Vec<Counts>, Option<String>);
    let parts: std::sync::Mutex<Vec<(usize, Part)>> = Default::default();
    let start = std::time::Instant::now();
    let failure: std::sync::Mutex<Option<String>> = Default::default();
    let p_words = if packed_model { p_width } else { 1 };
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(chunk) = chunks.get(c) else { break };
                let src = source(chunk.iter().map(|&(s, k, _)| (s, KINDS[k].1)).collect());
                let mut counts = vec![Counts::default(); chunk.len()];
                let mut disagreement = None;
                let mut expected = vec![0u64; outputs.len()];
                let mut k = 0u64;
                let r = sim::stream(&t.model, src.as_ref(), |inputs, actual| {
                    let (v, sk) = ((k % per_sk) as usize, (k / per_sk) as usize);
                    k += 1;
                    let reference = &reference[v * out_words..][..out_words];
                    let c = &mut counts[sk];
                    let err = if has_err { actual[p_words] } else { 0 };
                    if packed_model {
                        let block = v as u64;
                        classes.block(c, v * 64, lanes_of(block), &reference[..p_words], &actual[..p_words], err);
                        return;
                    }
                    if let Some(spec) = &t.ports_unit {
                        spec.unit.golden(inputs, &mut expected);
                        if disagreement.is_none() && expected != actual {
                            disagreement = Some(format!(
                                "injection {:?} ({} {}): golden fault model {expected:?}, Verilator {actual:?}",
                                inputs, chunk[sk].2, KINDS[chunk[sk].1].0
                            ));
                        }
                    }
                    classes.one(c, v, (reference[0], actual[0], err != 0));
                });
                if let Err(e) = r {
                    *failure.lock().expect("lock") = Some(e.to_string());
                    break;
                }
                let finished = done.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed)
                    + chunk.len() as u64;
                let secs = start.elapsed().as_secs_f64();
                progress(format!(
                    "  {finished}/{} targets, {:.1} M injections/s",
                    targets.len(),
                    (finished * n_pairs) as f64 / secs.max(1e-9) / 1e6
                ));
                parts.lock().expect("lock").push((c, (counts, disagreement)));
            });
        }
    });
    if let Some(e) = failure.into_inner().expect("lock") {
        return Err(Failure::Failed(format!("{module}: {e}")));
    }
    let mut parts = parts.into_inner().expect("lock");
    parts.sort_by_key(|(c, _)| *c);

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
        targets: all_targets,
        rows: Vec::new(),
    };
    for &k in &options.kinds {
        *campaign.counts_mut(k) = Some(Counts::default());
    }
    let mut target_iter = targets.iter();
    for (_, (counts, disagreement)) in parts {
        if let Some(d) = disagreement {
            return Err(Failure::Failed(format!("{module}: {d}")));
        }
        for c in counts {
            let &(site, kind, name) = target_iter.next().expect("one row per target");
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
    }
    Ok(campaign)
}

/// Sum shard results into the result of one run; the shards must be 1..N of the same
/// campaign, each once.
pub fn merge(parts: &[Campaign]) -> Result<Campaign, Failure> {
    let first = parts
        .first()
        .ok_or_else(|| Failure::BadInput("--merge needs at least one part".into()))?;
    let count = first.shard.as_ref().map_or(1, |s| s.count);
    fn same(c: &Campaign) -> impl PartialEq + '_ {
        (
            &c.unit,
            &c.params,
            c.site_universe,
            c.sites,
            c.exhaustive,
            c.pairs,
            c.seed,
            &c.kinds,
            &c.inputs,
        )
    }
    let mut seen = vec![false; count as usize];
    for c in parts {
        if same(c) != same(first) {
            return Err(Failure::BadInput(format!(
                "shards do not match: {} ({:?}, {} pairs, seed {:?}) vs {} ({:?}, {} pairs, seed {:?})",
                first.unit, first.site_universe, first.pairs, first.seed, c.unit, c.site_universe, c.pairs, c.seed
            )));
        }
        let Some(s) = &c.shard else {
            return Err(Failure::BadInput(format!(
                "{}: a complete campaign, not a shard",
                c.unit
            )));
        };
        if s.count != count || s.index == 0 || s.index > count || seen[(s.index - 1) as usize] {
            return Err(Failure::BadInput(format!(
                "shards do not match: shard {}/{} with shards of {count}, or given twice",
                s.index, s.count
            )));
        }
        seen[(s.index - 1) as usize] = true;
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(Failure::BadInput(format!(
            "shards do not match: shard {}/{count} is missing",
            missing + 1
        )));
    }
    let mut sorted: Vec<&Campaign> = parts.iter().collect();
    sorted.sort_by_key(|c| c.shard.as_ref().map_or(0, |s| s.index));
    let mut merged = Campaign {
        shard: None,
        flip: None,
        sa0: None,
        sa1: None,
        init: None,
        rows: Vec::new(),
        ..first.clone()
    };
    for c in sorted {
        for (k, counts) in c.counts().into_iter().enumerate() {
            if let Some(counts) = counts.1 {
                merged
                    .counts_mut(k)
                    .get_or_insert_with(Default::default)
                    .add(counts);
            }
        }
        merged.rows.extend(c.rows.iter().cloned());
    }
    Ok(merged)
}

/// Read partial results written with `--json`.
pub fn read_parts(paths: &[&Path]) -> Result<Vec<Campaign>, Failure> {
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::BadInput(format!("{}: {e}", p.display())))?;
            serde_json::from_str(&text).map_err(|e| {
                Failure::BadInput(format!(
                    "{}: not a qmulgen faults JSON result: {e}",
                    p.display()
                ))
            })
        })
        .collect()
}

/// The summary table: one row per kind and the total.
pub fn table(c: &Campaign) -> String {
    let header = [
        "kind",
        "injections",
        "masked%",
        "detected%",
        "det_equal%",
        "sdc%",
        "sdc>5%",
    ];
    let mut rows = Vec::new();
    let total = c.total();
    for (kind, counts) in c.counts().into_iter().chain([("all", Some(&total))]) {
        let Some(k) = counts else { continue };
        rows.push(vec![
            kind.to_string(),
            k.injections.to_string(),
            format!("{:.3}", k.percent(k.masked)),
            format!("{:.3}", k.percent(k.detected)),
            format!("{:.3}", k.percent(k.detected_equal)),
            format!("{:.3}", k.percent(k.sdc)),
            format!("{:.3}", k.sdc_over_5pct_share()),
        ]);
    }
    let mut t = format!(
        "{} ({} sites: {}{}, {} pairs {}{})\n",
        c.unit,
        match c.site_universe {
            SiteUniverse::Ports => "architectural",
            SiteUniverse::Netlist => "netlist",
        },
        c.sites,
        c.lut.map_or(String::new(), |l| format!(", {l} LUTs")),
        c.pairs,
        if c.exhaustive {
            "(every pair)"
        } else {
            "(seeded random)"
        },
        c.seed.map_or(String::new(), |s| format!(", seed {s}")),
    );
    t.push_str(&crate::base::aligned_table(&header, &rows));
    t.push_str("sdc>5%: share of SDCs whose |p_faulty - p| / max(1, |p|) exceeds 5 %\n");
    if let Some(w) = &total.weighted {
        let pct = |x: u128| 100.0 * x as f64 / (w.total.max(1)) as f64;
        t.push_str(&format!(
            "weighted by the --inputs frequencies: masked {:.3} %, detected {:.3} %, sdc {:.3} %\n",
            pct(w.masked),
            pct(w.detected),
            pct(w.sdc)
        ));
    }
    let margins = c.margins();
    if !margins.is_empty() {
        let worst = |f: fn(&Margin) -> f64| margins.iter().map(f).fold(0.0, f64::max);
        t.push_str(&format!(
            "sampled: every rate within +-{:.3} % at 95 %, +-{:.3} % at 99 % confidence (Leveugle et al. 2009; per rate in the JSON)\n",
            100.0 * worst(|m| m.margin_95),
            100.0 * worst(|m| m.margin_99),
        ));
    }
    t
}

/// The result as JSON, with the confidence margins of a sampled campaign.
pub fn json(c: &Campaign) -> String {
    let mut v = serde_json::to_value(c).expect("campaign serializes");
    if !c.exhaustive {
        v["margins"] = serde_json::to_value(c.margins()).expect("margins serialize");
    }
    serde_json::to_string_pretty(&v).expect("json") + "\n"
}

/// Per-site rows as CSV.
pub fn csv(c: &Campaign) -> String {
    let mut t = String::from("site,name,kind,injections,masked,detected,detected_equal,sdc\n");
    for r in &c.rows {
        t.push_str(&format!(
            "{},\"{}\",{},{},{},{},{},{}\n",
            r.site, r.name, r.kind, r.injections, r.masked, r.detected, r.detected_equal, r.sdc
        ));
    }
    t
}

/// One design of the `--compare` table.
#[derive(Clone, Debug, Serialize)]
pub struct CompareRow {
    pub design: &'static str,
    pub n: u32,
    pub campaign: Campaign,
}

/// The four designs ARITHMETIC.md §3.4 compares, at n = 8 (every pair) and n = 16 (seeded
/// random pairs), t = n - 1, on their netlists.
pub fn compare(
    kinds: &[usize],
    vectors: Option<u64>,
    seed: u64,
    progress: &(dyn Fn(String) + Sync),
) -> Result<Vec<CompareRow>, Failure> {
    let mut rows = Vec::new();
    for n in [8u32, 16] {
        for (design, family) in [
            ("Unp-exact", "exact"),
            ("Unp-AxM", "mitchell"),
            ("Pro-TMR", "tmr"),
            ("Pro-AdAM", "adam"),
        ] {
            let params = crate::base::param_map([("width", n.into())]);
            let options = Options {
                kinds: kinds.to_vec(),
                vectors: (n > 8).then(|| vectors.unwrap_or(DEFAULT_SAMPLED_PAIRS)),
                seed,
                ..Options::new(SiteUniverse::Netlist)
            };
            let campaign = run(family, &params, &options, progress)?;
            rows.push(CompareRow {
                design,
                n,
                campaign,
            });
        }
    }
    Ok(rows)
}

pub fn compare_table(rows: &[CompareRow]) -> String {
    let header = [
        "design",
        "n",
        "unit",
        "lut",
        "sites",
        "injections",
        "masked%",
        "detected%",
        "sdc%",
        "sdc>5%",
        "init_detected%",
        "init_sdc%",
        "pairs",
    ];
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let c = &r.campaign;
            let t = c.total_of(&["flip", "sa0", "sa1"]);
            let init = |f: fn(&Counts) -> u64| {
                c.init
                    .as_ref()
                    .map_or("-".into(), |i| format!("{:.3}", i.percent(f(i))))
            };
            vec![
                r.design.to_string(),
                r.n.to_string(),
                c.unit.clone(),
                c.lut.map_or("-".into(), |l| l.to_string()),
                c.sites.to_string(),
                t.injections.to_string(),
                format!("{:.3}", t.percent(t.masked)),
                format!("{:.3}", t.percent(t.detected)),
                format!("{:.3}", t.percent(t.sdc)),
                format!("{:.1}", t.sdc_over_5pct_share()),
                init(|i| i.detected),
                init(|i| i.sdc),
                if c.exhaustive {
                    "all".into()
                } else {
                    format!("{} (seed {})", c.pairs, c.seed.unwrap_or_default())
                },
            ]
        })
        .collect();
    let mut t = crate::base::aligned_table(&header, &body);
    t.push_str("netlist sites (every observed LUT/MUXF/CARRY4 output), the chosen kinds of flip, sa0, sa1 together; init: every reachable LUT INIT bit flipped (configuration upsets); sdc>5%: share of SDCs above 5 % relative error\n");
    t
}

pub fn compare_json(rows: &[CompareRow]) -> String {
    serde_json::to_string_pretty(rows).expect("rows serialize") + "\n"
}

/// SVG: SDC rate (all kinds) against LUTs, one labelled point per design and n.
pub fn compare_plot(rows: &[CompareRow]) -> Result<String, Failure> {
    use plotters::prelude::*;
    let points: Vec<(f64, f64, String)> = rows
        .iter()
        .filter_map(|r| {
            let t = r.campaign.total_of(&["flip", "sa0", "sa1"]);
            let lut = r.campaign.lut? as f64;
            Some((lut, t.percent(t.sdc), format!("{} n={}", r.design, r.n)))
        })
        .collect();
    let max_lut = points.iter().map(|p| p.0).fold(1.0, f64::max) * 1.5;
    let min_lut = points
        .iter()
        .map(|p| p.0)
        .fold(f64::MAX, f64::min)
        .min(max_lut)
        / 1.5;
    let init_max = rows
        .iter()
        .filter_map(|r| r.campaign.init.as_ref())
        .map(|i| i.percent(i.sdc))
        .fold(0.0, f64::max);
    let max_sdc = points.iter().map(|p| p.1).fold(init_max.max(1.0), f64::max) * 1.15;
    let mut svg = String::new();
    let draw = |svg: &mut String| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(svg, (800, 520)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                "SDC rate against area (netlist fault sites)",
                ("sans-serif", 20),
            )
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d((min_lut..max_lut).log_scale(), 0f64..max_sdc)?;
        chart
            .configure_mesh()
            .x_desc("LUTs (Yosys, xcup, log scale)")
            .y_desc("SDC rate, % of injections")
            .draw()?;
        for (n, color) in [(8, BLUE), (16, RED)] {
            let series: Vec<&(f64, f64, String)> = points
                .iter()
                .filter(|p| p.2.ends_with(&format!("n={n}")))
                .collect();
            chart
                .draw_series(series.iter().map(|(x, y, label)| {
                    EmptyElement::at((*x, *y))
                        + Circle::new((0, 0), 5, color.filled())
                        + Text::new(label.clone(), (8, -8), ("sans-serif", 13))
                }))?
                .label(format!("n = {n}"))
                .legend(move |(x, y)| Circle::new((x, y), 5, color.filled()));
            // INIT upsets (configuration memory), where the campaign ran them: hollow.
            let init: Vec<(f64, f64)> = rows
                .iter()
                .filter(|r| r.n == n)
                .filter_map(|r| Some((r.campaign.lut? as f64, r.campaign.init.as_ref()?)))
                .map(|(l, i)| (l, i.percent(i.sdc)))
                .collect();
            if !init.is_empty() {
                chart
                    .draw_series(
                        init.into_iter()
                            .map(|(x, y)| Circle::new((x, y), 5, color.stroke_width(2))),
                    )?
                    .label(format!("n = {n}, INIT upsets"))
                    .legend(move |(x, y)| Circle::new((x, y), 5, color.stroke_width(2)));
            }
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE)
            .draw()?;
        root.present()?;
        Ok(())
    };
    draw(&mut svg).map_err(|e| Failure::Failed(format!("cannot draw the plot: {e}")))?;
    Ok(svg)
}
