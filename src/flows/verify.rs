//! The `verify` flow: generate a unit, lint it, build its Verilator model and compare every
//! output with the golden model over the chosen vectors; `verify_all` sweeps a family.

use crate::emit::{self, Generated};
use crate::flows::Failure;
use crate::sim::{self, Mismatch, Model, VectorSource, Verilator};
use crate::spec::UnitSpec;
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
