//! Error metrics of approximate units (ARITHMETIC.md §3.4): ER, MED, NMED, MRED, WCE, WCRE,
//! mean error and MSE, from the golden model or from a Verilator model's outputs. Knows units
//! only through [`Unit::exact_product`] and their ports.

use crate::base::{sign_extend, Dir};
use crate::flows::Failure;
use crate::sim::{self, Exhaustive, Model, Random, VectorSource, EXHAUSTIVE_MAX_BITS};
use crate::spec::UnitSpec;
use crate::units::Unit;

/// Operand spaces up to 2^EXHAUSTIVE_MAX_BITS pairs are enumerated (as in `verify`); above,
/// this many seeded random pairs.
pub const DEFAULT_SAMPLES: u64 = 1 << 24;

/// Which operand pairs the metrics cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Sampling {
    /// Every pair, zeros included.
    Exhaustive { pairs: u64 },
    /// Seeded uniform random pairs (the `verify` random source).
    Random { pairs: u64, seed: u64 },
}

impl Sampling {
    pub fn pairs(&self) -> u64 {
        match *self {
            Sampling::Exhaustive { pairs } | Sampling::Random { pairs, .. } => pairs,
        }
    }
    pub fn describe(&self) -> String {
        match *self {
            Sampling::Exhaustive { pairs } => format!("exhaustive over all {pairs} pairs"),
            Sampling::Random { pairs, seed } => {
                format!("sampled: {pairs} seeded random pairs, seed {seed}")
            }
        }
    }
}

/// §3.4 metrics. ER, MED, NMED, mean error and MSE are over all pairs; MRED and WCRE over
/// pairs whose exact product is non-zero. Ratios are fractions (0.0933 = 9.33 %).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct ErrorMetrics {
    pub er: f64,
    pub med: f64,
    /// MED / (2^n - 1)^2, n the width of the first operand (§3.4's normalisation).
    pub nmed: f64,
    pub mred: f64,
    pub wce: u64,
    pub wcre: f64,
    /// Mean of (approximate - exact): the bias.
    pub mean_error: f64,
    pub mse: f64,
}

impl ErrorMetrics {
    /// Rows of the report: (name, value as printed).
    pub fn rows(&self) -> Vec<(&'static str, String)> {
        vec![
            ("ER", format!("{:.2} %", 100.0 * self.er)),
            ("MED", format!("{:.4}", self.med)),
            ("NMED", format!("{:.5}", self.nmed)),
            ("MRED", format!("{:.3} %", 100.0 * self.mred)),
            ("WCE", self.wce.to_string()),
            ("WCRE", format!("{:.3} %", 100.0 * self.wcre)),
            ("mean error", format!("{:.4}", self.mean_error)),
            ("MSE", format!("{:.4}", self.mse)),
        ]
    }

    pub const CSV_HEADER: &'static str = "er,med,nmed,mred,wce,wcre,mean_error,mse";

    pub fn csv(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{}",
            self.er, self.med, self.nmed, self.mred, self.wce, self.wcre, self.mean_error, self.mse
        )
    }
}

/// Exact sums over pairs; floating point only for the relative error and the final ratios,
/// added in vector order so that equal outputs give bit-identical metrics.
#[derive(Default)]
struct Accumulator {
    pairs: u64,
    wrong: u64,
    sum_ed: u128,
    sum_ed_squared: u128,
    sum_error: i128,
    nonzero: u64,
    sum_red: f64,
    wce: u64,
    wcre: f64,
}

impl Accumulator {
    fn add(&mut self, exact: i64, approx: i64) {
        let error = i128::from(approx) - i128::from(exact);
        let ed = error.unsigned_abs();
        self.pairs += 1;
        self.wrong += u64::from(ed != 0);
        self.sum_ed += ed;
        self.sum_ed_squared += ed * ed;
        self.sum_error += error;
        self.wce = self.wce.max(ed as u64);
        if exact != 0 {
            let red = ed as f64 / exact.unsigned_abs() as f64;
            self.nonzero += 1;
            self.sum_red += red;
            self.wcre = self.wcre.max(red);
        }
    }

    fn finish(&self, operand_bits: usize) -> ErrorMetrics {
        let n = self.pairs.max(1) as f64;
        let med = self.sum_ed as f64 / n;
        let max_product = ((1u64 << operand_bits) - 1).pow(2) as f64;
        ErrorMetrics {
            er: self.wrong as f64 / n,
            med,
            nmed: med / max_product,
            mred: self.sum_red / self.nonzero.max(1) as f64,
            wce: self.wce,
            wcre: self.wcre,
            mean_error: self.sum_error as f64 / n,
            mse: self.sum_ed_squared as f64 / n,
        }
    }
}

/// What the metrics of `unit` are computed over: its operand pairs, enumerated when there are
/// at most 2^24 and `samples` is not given, else `samples` (default 2^24) seeded random pairs.
/// Fails for units that are not approximate or have inputs besides the two operands.
pub fn operand_pairs(
    unit: &dyn Unit,
    samples: Option<u64>,
    seed: u64,
) -> Result<(Box<dyn VectorSource>, Sampling), String> {
    let widths = crate::units::input_widths(unit);
    if unit.exact_product(&vec![0; widths.len()]).is_none() {
        return Err(format!(
            "{}: metrics are for approximate families (mitchell, adam); this unit is exact by construction",
            unit.family()
        ));
    }
    if widths.len() != 2 {
        return Err(format!(
            "{}: metrics describe the fault-free unit; drop fault_ports",
            unit.family()
        ));
    }
    if samples == Some(0) {
        return Err("--vectors = 0: give at least one pair".into());
    }
    let bits: usize = widths.iter().sum();
    Ok(match samples {
        None if bits <= EXHAUSTIVE_MAX_BITS => {
            let src = Exhaustive::new(widths);
            let pairs = src.len();
            (Box::new(src), Sampling::Exhaustive { pairs })
        }
        _ => {
            let pairs = samples.unwrap_or(DEFAULT_SAMPLES);
            (
                Box::new(Random::new(widths, pairs, seed)),
                Sampling::Random { pairs, seed },
            )
        }
    })
}

/// Decodes output `p` (the first output) and accumulates metrics for one vector.
struct Collector<'a> {
    unit: &'a dyn Unit,
    p_width: usize,
    p_signed: bool,
    operand_bits: usize,
    acc: Accumulator,
}

impl<'a> Collector<'a> {
    fn new(unit: &'a dyn Unit) -> Self {
        let ports = unit.ports();
        let p = ports
            .iter()
            .find(|p| p.dir == Dir::Output)
            .expect("a unit has an output");
        let a = ports
            .iter()
            .find(|p| p.dir == Dir::Input)
            .expect("a unit has an input");
        Collector {
            unit,
            p_width: p.width,
            p_signed: p.signed,
            operand_bits: a.width,
            acc: Accumulator::default(),
        }
    }

    fn add(&mut self, inputs: &[u64], p: u64) {
        let approx = if self.p_signed {
            sign_extend(p, self.p_width)
        } else {
            p as i64
        };
        let exact = self
            .unit
            .exact_product(inputs)
            .expect("operand_pairs checked the unit is approximate");
        self.acc.add(exact, approx);
    }

    fn finish(&self) -> ErrorMetrics {
        self.acc.finish(self.operand_bits)
    }
}

/// Metrics of the golden model over `pairs` (from [`operand_pairs`]).
pub fn golden_metrics(unit: &dyn Unit, pairs: &dyn VectorSource) -> ErrorMetrics {
    let mut c = Collector::new(unit);
    let mut inputs = [0u64; 2];
    let mut outputs = vec![0u64; unit.ports().iter().filter(|p| p.dir == Dir::Output).count()];
    for k in 0..pairs.len() {
        pairs.fill(k, &mut inputs);
        unit.golden(&inputs, &mut outputs);
        c.add(&inputs, outputs[0]);
    }
    c.finish()
}

/// The same metrics from the Verilator model's `p` outputs.
pub fn rtl_metrics(
    model: &Model,
    unit: &dyn Unit,
    pairs: &dyn VectorSource,
) -> std::io::Result<ErrorMetrics> {
    let mut c = Collector::new(unit);
    sim::stream(model, pairs, |inputs, outputs| c.add(inputs, outputs[0]))?;
    Ok(c.finish())
}

/// The `metrics` flow for one unit: golden metrics over its operand pairs and, with `rtl`,
/// the same metrics from the Verilator model.
pub struct MetricsReport {
    pub module: String,
    pub family: &'static str,
    pub params: serde_json::Value,
    pub sampling: Sampling,
    pub golden: ErrorMetrics,
    pub rtl: Option<ErrorMetrics>,
}

/// Compute the report; `progress` hears what is about to take time.
pub fn run(
    spec: &UnitSpec,
    samples: Option<u64>,
    seed: u64,
    rtl: bool,
    progress: &mut dyn FnMut(String),
) -> Result<MetricsReport, Failure> {
    let unit = spec.unit.as_ref();
    let (pairs, sampling) = operand_pairs(unit, samples, seed).map_err(Failure::BadInput)?;
    let module = spec.module_name();
    progress(format!("{module}: metrics {} ...", sampling.describe()));
    let golden = golden_metrics(unit, pairs.as_ref());
    let rtl = if rtl {
        let model = crate::flows::verify::linted_model(spec, progress)?;
        Some(
            rtl_metrics(&model, unit, pairs.as_ref())
                .map_err(|e| Failure::Failed(format!("{module}: {e}")))?,
        )
    } else {
        None
    };
    Ok(MetricsReport {
        module,
        family: unit.family(),
        params: unit.params(),
        sampling,
        golden,
        rtl,
    })
}

impl MetricsReport {
    pub fn json(&self) -> String {
        let report = serde_json::json!({
            "module": self.module,
            "family": self.family,
            "params": self.params,
            "sampling": self.sampling,
            "golden": self.golden,
            "rtl": self.rtl,
        });
        serde_json::to_string_pretty(&report).expect("report serializes") + "\n"
    }

    /// Header and one row per source (golden, rtl).
    pub fn csv(&self) -> String {
        let mut t = format!(
            "module,source,sampling,pairs,seed,{}\n",
            ErrorMetrics::CSV_HEADER
        );
        let (kind, seed) = match self.sampling {
            Sampling::Exhaustive { .. } => ("exhaustive", String::new()),
            Sampling::Random { seed, .. } => ("random", seed.to_string()),
        };
        for (source, m) in [("golden", Some(self.golden)), ("rtl", self.rtl)] {
            if let Some(m) = m {
                t.push_str(&format!(
                    "{},{source},{kind},{},{seed},{}\n",
                    self.module,
                    self.sampling.pairs(),
                    m.csv()
                ));
            }
        }
        t
    }

    /// The table as printed: one row per metric, the RTL column when computed.
    pub fn table(&self) -> String {
        let mut t = format!("{}: {}\n", self.module, self.sampling.describe());
        let rtl_rows = self.rtl.map(|m| m.rows());
        for (i, (key, value)) in self.golden.rows().into_iter().enumerate() {
            match &rtl_rows {
                Some(r) => t.push_str(&format!("  {key:<11} {value:>22}   RTL {:>22}\n", r[i].1)),
                None => t.push_str(&format!("  {key:<11} {value:>22}\n")),
            }
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulator_follows_the_definitions() {
        // Pairs (exact, approx): (0, 0), (10, 8), (4, 4), (0, 1) over 2-bit operands.
        let mut acc = Accumulator::default();
        for (e, a) in [(0, 0), (10, 8), (4, 4), (0, 1)] {
            acc.add(e, a);
        }
        let m = acc.finish(2);
        assert_eq!(m.er, 0.5);
        assert_eq!(m.med, 0.75);
        assert_eq!(m.nmed, 0.75 / 9.0);
        assert_eq!(m.mred, 0.1); // (0.2 + 0) / 2 non-zero exact products
        assert_eq!((m.wce, m.wcre), (2, 0.2));
        assert_eq!(m.mean_error, -0.25);
        assert_eq!(m.mse, 1.25);
    }
}
