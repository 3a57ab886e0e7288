//! The `verify` flow: generate a unit, lint it, build its Verilator model and compare every
//! output with the golden model over the chosen vectors; `verify_all` sweeps a family.

use crate::emit::{self, Generated};
use crate::flows::Failure;
use crate::sim::{self, Mismatch, Model, VectorSource, Verilator};
use crate::spec::UnitSpec;
use crate::units::dot::{put_lanes, Cycle, Dot, Reference, Shown};
use crate::units::{self, Family, Unit};
use std::time::Duration;

/// The vectors `verify` streams: every input combination (`exhaustive`), corners plus `vectors`
/// seeded random ones, or by default exhaustive up to 2^24 combinations, else corners plus
/// 1,000,000 random vectors.
pub fn sources_for(
    unit: &dyn Unit,
    exhaustive: bool,
    vectors: Option<u64>,
    seed: u64,
) -> Result<Vec<Box<dyn VectorSource>>, Failure> {
    let widths = units::input_widths(unit);
    let bits: usize = widths.iter().sum();
    if exhaustive {
        if bits > 32 {
            return Err(Failure::BadInput(format!(
                "--exhaustive: {bits} input bits is 2^{bits} vectors, at most 2^32 allowed; use --vectors N"
            )));
        }
        return Ok(vec![Box::new(sim::Exhaustive::new(widths))]);
    }
    Ok(match vectors {
        Some(n) => vec![
            Box::new(sim::Corners::new(unit.corner_cases())),
            Box::new(sim::Random::new(widths, n, seed)),
        ],
        None => sim::default_sources(unit, 1_000_000, seed),
    })
}

/// Lint the generated module (`verilator --lint-only -Wall`) and build (or take from the
/// cache) its Verilator model.
pub fn build_model(
    verilator: &Verilator,
    g: &Generated,
    progress: &mut dyn FnMut(String),
) -> Result<Model, Failure> {
    if let Err(report) = sim::lint(verilator, g) {
        return Err(Failure::Failed(format!("{} fails lint:\n{report}", g.name)));
    }
    progress(format!("{}: building Verilator model ...", g.name));
    Model::build(verilator, g).map_err(Failure::Failed)
}

/// Generate `spec`, then [`build_model`] with the Verilator found on this machine.
pub fn linted_model(spec: &UnitSpec, progress: &mut dyn FnMut(String)) -> Result<Model, Failure> {
    let verilator = Verilator::locate().map_err(Failure::BadInput)?;
    build_model(&verilator, &emit::generate(spec), progress)
}

/// Outcome of verifying one unit.
pub struct UnitReport {
    pub module: String,
    pub vectors: u64,
    pub mismatches: u64,
    /// What the vectors were, one description per source.
    pub sources: Vec<String>,
    pub first_mismatches: Vec<Mismatch>,
    pub seconds: f64,
    /// `None` when the model came from the cache.
    pub build_time: Option<Duration>,
}

impl UnitReport {
    pub fn passed(&self) -> bool {
        self.mismatches == 0 && self.vectors > 0
    }

    /// One line: PASS/FAIL, vectors, mismatches, time, rate, model build.
    pub fn summary(&self) -> String {
        format!(
            "{}: {} {} vectors ({}), {} mismatches, {:.2} s, {:.1} M vectors/s{}",
            self.module,
            if self.mismatches == 0 { "PASS" } else { "FAIL" },
            self.vectors,
            self.sources.join(" + "),
            self.mismatches,
            self.seconds,
            self.vectors as f64 / self.seconds.max(1e-9) / 1e6,
            match self.build_time {
                Some(t) => format!(", model built in {:.1} s", t.as_secs_f64()),
                None => ", model from cache".into(),
            }
        )
    }
}

/// Verify one unit over `sources`.
pub fn verify_unit(
    verilator: &Verilator,
    spec: &UnitSpec,
    sources: &[Box<dyn VectorSource>],
    progress: &mut dyn FnMut(String),
) -> Result<UnitReport, Failure> {
    let g = emit::generate(spec);
    let model = build_model(verilator, &g, progress)?;
    let mut report = UnitReport {
        module: g.name.clone(),
        vectors: 0,
        mismatches: 0,
        sources: sources.iter().map(|s| s.describe()).collect(),
        first_mismatches: Vec::new(),
        seconds: 0.0,
        build_time: model.build_time,
    };
    for src in sources {
        let r = sim::check(&model, spec.unit.as_ref(), src.as_ref())
            .map_err(|e| Failure::Failed(format!("{}: {e}", g.name)))?;
        report.vectors += r.vectors;
        report.mismatches += r.mismatches;
        report.seconds += r.elapsed.as_secs_f64();
        report.first_mismatches.extend(r.first_mismatches);
    }
    Ok(report)
}

/// Totals of a family sweep.
pub struct SweepReport {
    pub configurations: usize,
    pub failed: usize,
    pub vectors: u64,
    pub seconds: f64,
}

/// `verify FAMILY --all`: every configuration of the family's sweep with the default sources,
/// two at a time. `line(i, total, text)` hears one line per configuration as it finishes.
pub fn verify_all(
    fam: &Family,
    line: &(dyn Fn(usize, usize, &str) + Sync),
) -> Result<SweepReport, Failure> {
    let verilator = Verilator::locate().map_err(Failure::BadInput)?;
    let configs = (fam.sweep)();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let start = std::time::Instant::now();
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(params) = configs.get(i) else { break };
                let (vectors, text) = verify_default(&verilator, fam.name, params);
                line(i + 1, configs.len(), &text);
                results.lock().expect("results lock").push(vectors);
            });
        }
    });
    let results = results.into_inner().expect("results lock");
    Ok(SweepReport {
        configurations: results.len(),
        failed: results.iter().filter(|r| r.is_none()).count(),
        vectors: results.iter().map(|r| r.unwrap_or(0)).sum(),
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// One sweep configuration with the default sources: (vectors if passed, one-line summary).
fn verify_default(
    verilator: &Verilator,
    family: &str,
    params: &crate::base::ParamMap,
) -> (Option<u64>, String) {
    let spec = match UnitSpec::from_params(family, params) {
        Ok(s) => s,
        Err(e) => return (None, format!("FAIL {e}")),
    };
    let sources = sim::default_sources(spec.unit.as_ref(), 1_000_000, 1);
    match verify_unit(verilator, &spec, &sources, &mut |_| {}) {
        Ok(r) if r.passed() => (
            Some(r.vectors),
            format!(
                "{}: PASS {} vectors ({})",
                r.module,
                r.vectors,
                r.sources.join(" + ")
            ),
        ),
        Ok(r) => (
            None,
            format!(
                "{}: FAIL {} of {} mismatch, first {}",
                r.module,
                r.mismatches,
                r.vectors,
                r.first_mismatches
                    .first()
                    .map(|m| m.to_string())
                    .unwrap_or_default()
            ),
        ),
        Err(Failure::BadInput(e) | Failure::Failed(e)) => (
            None,
            format!(
                "{}: FAIL {}",
                spec.module_name(),
                e.lines().next().unwrap_or("")
            ),
        ),
    }
}

/// The cycles a dot is verified with: a reset first, then vectors with random gaps, random
/// `in_last`, resets in the middle; operands random, a quarter of the lanes taking one of the
/// lane unit's corner cases. With `exhaustive` (one lane only) the vectors run through every
/// operand combination of the lane once, in order.
pub struct DotStimulus {
    pub vectors: u64,
    pub seed: u64,
    /// Percent of cycles that carry a vector.
    pub valid_percent: u64,
    /// Mean vectors per dot product (in_last with probability 1/mean).
    pub mean_length: u64,
    /// A reset every this many cycles on average (0: only the first cycle).
    pub reset_every: u64,
    pub exhaustive: bool,
}

impl DotStimulus {
    pub fn random(vectors: u64, seed: u64) -> Self {
        DotStimulus {
            vectors,
            seed,
            valid_percent: 80,
            mean_length: 6,
            reset_every: 50_000,
            exhaustive: false,
        }
    }

    pub fn describe(&self) -> String {
        if self.exhaustive {
            return format!(
                "{} exhaustive vectors (every operand combination once, one per cycle, dot products of {} vectors on average)",
                self.vectors, self.mean_length
            );
        }
        format!(
            "{} {} vectors, {} % of cycles, dot products of {} vectors on average, a reset every {} cycles, seed {}",
            self.vectors,
            if self.exhaustive { "exhaustive" } else { "random" },
            self.valid_percent,
            self.mean_length,
            self.reset_every,
            self.seed
        )
    }
}

/// The cycles of a stimulus. The control bits (reset, valid, last) are drawn in order, so the
/// vector count is exact; the operands of cycle k are drawn from k alone, so the model's writer
/// and the reference each compute any cycle on their own, and nothing is stored per vector.
pub struct DotStream<'a> {
    stimulus: &'a DotStimulus,
    widths: Vec<usize>,
    corners: Vec<Vec<u64>>,
    lanes: usize,
    control: Vec<u8>,
}

const RST: u8 = 1;
const VALID: u8 = 2;
const LAST: u8 = 4;

impl<'a> DotStream<'a> {
    pub fn new(stimulus: &'a DotStimulus, dot: &Dot) -> Self {
        let mut state = stimulus.seed ^ 0x9e37_79b9_7f4a_7c15;
        let mut rand = move || {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            sim::splitmix64(state)
        };
        // A reset first; exhaustive runs have a vector in every cycle after it.
        let mut control = vec![RST];
        let mut sent = 0u64;
        while sent < stimulus.vectors {
            let r = rand();
            let rst =
                !stimulus.exhaustive && stimulus.reset_every > 0 && r % stimulus.reset_every == 0;
            let valid = !rst && (stimulus.exhaustive || (r >> 32) % 100 < stimulus.valid_percent);
            let last = rand() % stimulus.mean_length.max(1) == 0;
            control.push(u8::from(rst) * RST + u8::from(valid) * VALID + u8::from(last) * LAST);
            sent += u64::from(valid);
        }
        // Let the last results come out.
        control.extend(std::iter::repeat_n(0, dot.latency() as usize + 1));
        DotStream {
            stimulus,
            widths: crate::units::dot::lane_input_widths(dot),
            corners: dot.lane.corner_cases(),
            lanes: dot.lanes,
            control,
        }
    }

    pub fn len(&self) -> usize {
        self.control.len()
    }

    pub fn is_empty(&self) -> bool {
        self.control.is_empty()
    }

    /// Vectors accepted before cycle k.
    pub fn vectors_before(&self, k: usize) -> u64 {
        self.control[..k]
            .iter()
            .filter(|&&c| c == VALID || c == VALID | LAST)
            .count() as u64
    }

    /// Cycle k, written into `c` (its operand vectors are reused).
    pub fn cycle(&self, k: usize, c: &mut Cycle) {
        let bits = self.control[k];
        c.rst = bits & RST != 0;
        c.valid = bits & VALID != 0;
        c.last = bits & LAST != 0;
        if c.operands.len() != self.widths.len() {
            c.operands = vec![vec![0; self.lanes]; self.widths.len()];
        }
        let base =
            sim::splitmix64(self.stimulus.seed ^ (k as u64).wrapping_mul(0xd1b5_4a32_d192_ed03));
        for lane in 0..self.lanes {
            // One draw per lane: bits 0-1 pick a corner case (1 in 4), bits 2-15 which one,
            // bits 16-63 the operands (at most 32 bits in every family). Exhaustive runs take
            // operand combination k - 1 (cycle 0 is the reset).
            let r = sim::splitmix64(base.wrapping_add(lane as u64));
            // (Which corner: bits 2-15 scaled to the count, a multiply instead of a division.)
            let corner = (!self.stimulus.exhaustive && !self.corners.is_empty() && r & 3 == 0)
                .then(|| {
                    &self.corners[(((r >> 2 & 0x3fff) * self.corners.len() as u64) >> 14) as usize]
                });
            let mut bits = if self.stimulus.exhaustive {
                (k as u64).saturating_sub(1)
            } else {
                r >> 16
            };
            for (i, (w, port)) in self.widths.iter().zip(c.operands.iter_mut()).enumerate() {
                port[lane] = match corner {
                    Some(corner) => corner[i],
                    None => bits & crate::base::mask(*w),
                };
                bits >>= w;
            }
        }
    }
}

/// The first word of output port `name` in cycle k of [`sim::run_cycles`]' outputs (each port
/// as [`sim::record_words`] words in port order); `None` for a port the module lacks.
fn output_reader<'a>(
    manifest: &crate::emit::Manifest,
    outputs: &'a [u64],
) -> impl Fn(usize, &str) -> Option<u64> + 'a {
    let mut offsets = std::collections::BTreeMap::new();
    let mut words = 0;
    for p in manifest.outputs() {
        offsets.insert(p.name.clone(), words);
        words += sim::record_words(p.width);
    }
    move |k, name| offsets.get(name).map(|&i| outputs[k * words + i])
}

/// The record of one cycle for plain (not AXI4-Stream) dot ports, in manifest input order.
fn dot_record(
    manifest: &crate::emit::Manifest,
    widths: &[usize],
    c: &Cycle,
    record: &mut Vec<u64>,
) {
    let mut operand = 0;
    for p in manifest.inputs() {
        match p.name.as_str() {
            "rst" => record.push(u64::from(c.rst)),
            "in_valid" => record.push(u64::from(c.valid)),
            "in_last" => record.push(u64::from(c.last)),
            _ => {
                let start = record.len();
                record.resize(start + sim::record_words(p.width), 0);
                put_lanes(
                    &mut record[start..],
                    0,
                    widths[operand],
                    &c.operands[operand],
                );
                operand += 1;
            }
        }
    }
}

/// Verify a dot (ARITHMETIC.md §5) in Verilator: every cycle's `out_valid`, and `y`/`y_err`
/// whenever out_valid = 1, against [`Reference`].
pub fn verify_dot(
    verilator: &Verilator,
    spec: &UnitSpec,
    stimulus: &DotStimulus,
    progress: &mut dyn FnMut(String),
) -> Result<UnitReport, Failure> {
    let dot = spec
        .dot
        .as_ref()
        .ok_or_else(|| Failure::BadInput("not a dot".into()))?;
    if stimulus.exhaustive {
        let bits: usize = crate::units::dot::lane_input_widths(dot).iter().sum();
        if dot.lanes != 1 || bits > sim::EXHAUSTIVE_MAX_BITS {
            return Err(Failure::BadInput(format!(
                "--exhaustive: a dot is checked exhaustively with one lane of at most {} input bits (this one: {} lanes of {bits} bits); use --vectors N",
                sim::EXHAUSTIVE_MAX_BITS,
                dot.lanes
            )));
        }
    }
    let g = emit::generate(spec);
    let model = build_model(verilator, &g, progress)?;
    check_dot(&model, dot, stimulus)
}

/// Run `stimulus` through the model of a dot and compare with [`Reference`] for `dot`.
pub fn check_dot(model: &Model, dot: &Dot, stimulus: &DotStimulus) -> Result<UnitReport, Failure> {
    if dot.axis {
        return verify_dot_axis(model, dot, stimulus);
    }
    let manifest = model.manifest();
    let start = std::time::Instant::now();
    let stream = DotStream::new(stimulus, dot);
    let widths = crate::units::dot::lane_input_widths(dot);
    // §5's outputs are computed while the model runs.
    let (outputs, expected) = std::thread::scope(|s| {
        let expected = s.spawn(|| {
            let mut reference = Reference::new(dot);
            let mut c = Cycle::default();
            (0..stream.len())
                .map(|k| {
                    stream.cycle(k, &mut c);
                    reference.step(&c)
                })
                .collect::<Vec<Shown>>()
        });
        let mut c = Cycle::default();
        let outputs = sim::run_cycles(model, stream.len(), &mut |k, record| {
            stream.cycle(k, &mut c);
            dot_record(manifest, &widths, &c, record)
        });
        (outputs, expected.join().expect("reference thread"))
    });
    let outputs = outputs.map_err(|e| Failure::Failed(format!("{}: {e}", manifest.module)))?;
    let get = output_reader(manifest, &outputs);
    let mut report = UnitReport {
        module: manifest.module.clone(),
        vectors: stream.vectors_before(stream.len()),
        mismatches: 0,
        sources: vec![stimulus.describe()],
        first_mismatches: Vec::new(),
        seconds: 0.0,
        build_time: model.build_time,
    };
    let latency = dot.latency() as usize;
    for (k, expected) in expected.into_iter().enumerate() {
        let actual = (get(k, "out_valid") == Some(1))
            .then(|| (get(k, "y").unwrap_or(0), get(k, "y_err") == Some(1)));
        if actual != expected {
            report.mismatches += 1;
            if report.first_mismatches.len() < 10 {
                report
                    .first_mismatches
                    .push(dot_mismatch(dot, &stream, k, latency, expected, actual));
            }
        }
    }
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}

/// A mismatch in cycle `k`: the cycle, the vector whose result was due (index and lanes),
/// what §5 expects and what the model showed.
fn dot_mismatch(
    dot: &Dot,
    stream: &DotStream,
    k: usize,
    latency: usize,
    expected: Shown,
    actual: Shown,
) -> Mismatch {
    let mut inputs = vec![("cycle".to_string(), k as u64)];
    if let Some(j) = k.checked_sub(latency) {
        inputs.push(("vector".into(), stream.vectors_before(j)));
        let mut c = Cycle::default();
        stream.cycle(j, &mut c);
        let names: Vec<String> = dot
            .lane
            .ports()
            .iter()
            .filter(|p| p.dir == crate::base::Dir::Input)
            .map(|p| p.name.clone())
            .collect();
        for (port, values) in names.iter().zip(&c.operands) {
            for (lane, v) in values.iter().enumerate() {
                inputs.push((format!("{port}[{lane}]"), *v));
            }
        }
    }
    let show = |s: Shown| match s {
        Some((y, e)) => vec![
            ("out_valid".to_string(), 1),
            ("y".into(), y),
            ("y_err".into(), u64::from(e)),
        ],
        None => vec![("out_valid".to_string(), 0)],
    };
    Mismatch {
        inputs,
        expected: show(expected),
        actual: show(actual),
    }
}

/// Verify an AXI4-Stream dot: the stimulus's vectors offered on the slave with its gaps and
/// `tlast`, the master's `tready` random (70 %). Checked: every result transferred on the
/// master, in order, is §5's for the vectors transferred on the slave; none is lost or
/// duplicated (the counts agree after a drain); `tvalid` holds and `tdata`/`tuser` stay stable
/// while the master is not ready.
fn verify_dot_axis(
    model: &Model,
    dot: &Dot,
    stimulus: &DotStimulus,
) -> Result<UnitReport, Failure> {
    let start = std::time::Instant::now();
    let manifest = model.manifest();
    // Mid-stream resets make which results survive depend on timing: the plain ports check
    // them; here only the first cycle resets.
    let stimulus = DotStimulus {
        reset_every: 0,
        ..*stimulus
    };
    let stream = DotStream::new(&stimulus, dot);
    let total = stream.len() + 4 * dot.latency() as usize + 8;
    let tready = |k: usize| {
        k >= stream.len() || sim::splitmix64(stimulus.seed ^ 0x5151 ^ k as u64) % 100 < 70
    };
    // Cycles after the stream drain the pipeline: no vector (operands as in the last one).
    let cycle = |k: usize, c: &mut Cycle| {
        stream.cycle(k.min(stream.len() - 1), c);
        if k >= stream.len() {
            (c.rst, c.valid, c.last) = (false, false, false);
        }
    };
    let widths = crate::units::dot::lane_input_widths(dot);
    let tdata_bits = dot.config.s_tdata_bits();
    let mut c = Cycle::default();
    let outputs = sim::run_cycles(model, total, &mut |k, record| {
        cycle(k, &mut c);
        let mut tdata = vec![0u64; sim::record_words(tdata_bits)];
        let mut offset = 0;
        for (port, w) in c.operands.iter().zip(&widths) {
            put_lanes(&mut tdata, offset, *w, port);
            offset += w * dot.lanes;
        }
        for p in manifest.inputs() {
            match p.name.as_str() {
                "rst" => record.push(u64::from(c.rst)),
                "s_axis_tvalid" => record.push(u64::from(c.valid)),
                "s_axis_tlast" => record.push(u64::from(c.last)),
                "m_axis_tready" => record.push(u64::from(tready(k))),
                _ => record.extend(&tdata),
            }
        }
    })
    .map_err(|e| Failure::Failed(format!("{}: {e}", manifest.module)))?;
    let get = output_reader(manifest, &outputs);
    let m_bits = dot.config.m_tdata_bits();
    // §5 for the transfers the slave accepted, in order.
    let mut reference = Reference::new(dot);
    let mut expected = std::collections::VecDeque::new();
    let mut report = UnitReport {
        module: manifest.module.clone(),
        vectors: 0,
        mismatches: 0,
        sources: vec![format!(
            "{}, AXI4-Stream with tready 70 %",
            stimulus.describe()
        )],
        first_mismatches: Vec::new(),
        seconds: 0.0,
        build_time: model.build_time,
    };
    let fail = |report: &mut UnitReport,
                k: usize,
                what: &str,
                exp: Vec<(String, u64)>,
                act: Vec<(String, u64)>| {
        report.mismatches += 1;
        if report.first_mismatches.len() < 10 {
            report.first_mismatches.push(Mismatch {
                inputs: vec![("cycle".into(), k as u64), (what.into(), 0)],
                expected: exp,
                actual: act,
            });
        }
    };
    let sign_extended =
        |y: u64| crate::base::to_raw(crate::base::sign_extend(y, dot.acc_bits), m_bits.min(64));
    let mut results = 0u64;
    let mut c = Cycle::default();
    for k in 0..total {
        cycle(k, &mut c);
        let accepted = c.valid && get(k, "s_axis_tready") == Some(1);
        if c.rst || accepted {
            c.valid = accepted;
            reference.step(&c);
            // Results come out of the reference L cycles later; take them in order at once.
            for _ in 0..dot.latency() {
                if let Some(r) = reference.step(&Cycle::default()) {
                    expected.push_back(r);
                }
            }
            report.vectors += u64::from(accepted);
        }
        let tvalid = get(k, "m_axis_tvalid") == Some(1);
        let tdata = get(k, "m_axis_tdata").unwrap_or(0);
        let tuser = get(k, "m_axis_tuser").unwrap_or(0);
        if tvalid && tready(k) {
            results += 1;
            let want = expected.pop_front();
            let got = (tdata, tuser == 1);
            if want.map(|(y, e)| (sign_extended(y), e)) != Some(got) {
                let show = |r: Option<(u64, bool)>| match r {
                    Some((y, e)) => vec![
                        ("m_axis_tdata".to_string(), y),
                        ("m_axis_tuser".into(), u64::from(e)),
                    ],
                    None => vec![("result".to_string(), 0)],
                };
                fail(
                    &mut report,
                    k,
                    "result transfer",
                    show(want.map(|(y, e)| (sign_extended(y), e))),
                    show(Some(got)),
                );
            }
        }
        if tvalid && !tready(k) && k + 1 < total {
            let next = (
                get(k + 1, "m_axis_tvalid"),
                get(k + 1, "m_axis_tdata"),
                get(k + 1, "m_axis_tuser"),
            );
            if next != (Some(1), Some(tdata), get(k, "m_axis_tuser")) {
                fail(
                    &mut report,
                    k + 1,
                    "master output changed while tvalid = 1 and tready = 0",
                    vec![("m_axis_tvalid".into(), 1), ("m_axis_tdata".into(), tdata)],
                    vec![
                        ("m_axis_tvalid".into(), next.0.unwrap_or(0)),
                        ("m_axis_tdata".into(), next.1.unwrap_or(0)),
                    ],
                );
            }
        }
    }
    if !expected.is_empty() {
        fail(
            &mut report,
            total,
            "results lost",
            vec![("results".into(), results + expected.len() as u64)],
            vec![("results".into(), results)],
        );
    }
    report.seconds = start.elapsed().as_secs_f64();
    Ok(report)
}
