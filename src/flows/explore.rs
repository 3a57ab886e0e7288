//! The `explore` flow: every configuration of a family (or the listed units) with its cost
//! (LUTs, carries, depth from the cached `synth` flow) and its error, the Pareto-optimal rows
//! (error against LUTs) marked, as a table, CSV, JSON and an SVG plot. Error: the §3.4 metrics
//! for approximate units (mitchell, adam); for weight quantizers (esb, apot, pot), whose
//! products are exact, the quantization error of the level set on standard normal and
//! unit-variance Laplace weights at the MSE-optimal scale alpha.

use crate::base::ParamMap;
use crate::emit;
use crate::flows::{metrics, Failure};
use crate::sim::splitmix64;
use crate::spec::UnitSpec;
use crate::synth::{self, Yosys};
use crate::units::{self, QuantizeFn};
use serde::Serialize;
use std::collections::HashMap;

/// Weights per distribution for the quantization error (fixed seed).
pub const WEIGHT_SAMPLES: usize = 100_000;
const WEIGHT_SEED: u64 = 0x5eed;

/// One configuration: parameters, cost, error figures (in column order) and the Pareto mark.
#[derive(Clone, Debug, Serialize)]
pub struct ExploreRow {
    pub module: String,
    pub params: serde_json::Value,
    pub lut: u64,
    pub carry: u64,
    pub depth_luts: u64,
    pub error: Vec<(String, f64)>,
    pub pareto: bool,
}

/// The error figure the Pareto front and the plot use.
pub fn pareto_metric(family: &str) -> &'static str {
    if matches!(family, "mitchell" | "adam") {
        "mred"
    } else {
        "mse_normal"
    }
}

/// The configurations `explore FAMILY` covers: the family's sweep, narrowed to the given
/// parameters. Boolean options (signed, linear) must match, absent meaning false; esb, apot and
/// pot take 8-bit activations unless `act_bits` is given.
pub fn configurations(family: &str, fixed: &ParamMap) -> Result<Vec<UnitSpec>, Failure> {
    let fam = units::family(family)
        .ok_or_else(|| Failure::BadInput(format!("unknown family `{family}`")))?;
    if matches!(family, "exact" | "tmr") {
        return Err(Failure::BadInput(format!(
            "{family} has no error to trade against area: explore takes mitchell, adam, esb, apot or pot (use `synth` for cost)"
        )));
    }
    // Validate the fixed flags as the family would.
    let mut probe = fixed.clone();
    probe.remove("name");
    UnitSpec::from_params(family, &probe)?;
    let mut fixed = probe;
    if matches!(family, "esb" | "apot" | "pot") && !fixed.contains_key("act_bits") {
        fixed.insert("act_bits".into(), 8u32.into());
    }
    let specs: Vec<UnitSpec> = (fam.sweep)()
        .into_iter()
        .filter(|config| {
            fixed
                .iter()
                .all(|(k, v)| config.get(k).is_none_or(|c| c == v))
                && config.iter().all(|(k, v)| {
                    v.as_bool().is_none_or(|on| {
                        on == fixed.get(k).and_then(|f| f.as_bool()).unwrap_or(false)
                    })
                })
        })
        .map(|config| UnitSpec::from_params(family, &config))
        .collect::<Result<_, _>>()?;
    if specs.is_empty() {
        return Err(Failure::BadInput(format!(
            "{family}: no configuration matches the given parameters"
        )));
    }
    Ok(specs)
}

/// Seeded standard normal and unit-variance Laplace samples.
fn weight_samples() -> [(&'static str, Vec<f64>); 2] {
    let uniform = |i: u64| {
        (splitmix64(WEIGHT_SEED ^ i.wrapping_mul(0x9e37)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let normal = (0..WEIGHT_SAMPLES as u64)
        .map(|i| {
            // Box-Muller on two uniforms in (0, 1].
            let (u1, u2) = (1.0 - uniform(2 * i), uniform(2 * i + 1));
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        })
        .collect();
    let b = 1.0 / 2f64.sqrt();
    let laplace = (0..WEIGHT_SAMPLES as u64)
        .map(|i| {
            let u = uniform(i + (1 << 40)) - 0.5;
            -b * u.signum() * (1.0 - 2.0 * u.abs()).max(f64::MIN_POSITIVE).ln()
        })
        .collect();
    [("normal", normal), ("laplace", laplace)]
}

/// The MSE-optimal alpha for `weights` (a log-spaced grid, then golden-section search around
/// its best point) and the MSE there.
pub fn best_alpha(
    quantize: QuantizeFn,
    params: &ParamMap,
    weights: &[f64],
) -> Result<(f64, f64), Failure> {
    let mse = |alpha: f64| -> Result<f64, Failure> {
        Ok(quantize(params, weights, Some(alpha))?.mse(weights))
    };
    // 1e-12 .. 1e3: ESB's widest formats (levels up to 2^31) need tiny scales, APoT's
    // normalised levels scales near max |w|.
    let grid: Vec<f64> = (0..=90)
        .map(|i| 10f64.powf(-12.0 + 15.0 * i as f64 / 90.0))
        .collect();
    let mut best = (grid[0], mse(grid[0])?);
    let mut best_i = 0;
    for (i, &a) in grid.iter().enumerate().skip(1) {
        let m = mse(a)?;
        if m < best.1 {
            (best, best_i) = ((a, m), i);
        }
    }
    let (mut lo, mut hi) = (
        grid[best_i.saturating_sub(1)].ln(),
        grid[(best_i + 1).min(grid.len() - 1)].ln(),
    );
    let g = (5f64.sqrt() - 1.0) / 2.0;
    let (mut x1, mut x2) = (hi - g * (hi - lo), lo + g * (hi - lo));
    let (mut f1, mut f2) = (mse(x1.exp())?, mse(x2.exp())?);
    for _ in 0..30 {
        if f1 <= f2 {
            (hi, x2, f2) = (x2, x1, f1);
            x1 = hi - g * (hi - lo);
            f1 = mse(x1.exp())?;
        } else {
            (lo, x1, f1) = (x1, x2, f2);
            x2 = lo + g * (hi - lo);
            f2 = mse(x2.exp())?;
        }
    }
    for (x, f) in [(x1, f1), (x2, f2)] {
        if f < best.1 {
            best = (x.exp(), f);
        }
    }
    Ok(best)
}

/// What `explore` measures.
pub struct Options {
    /// Random pairs for the metrics of units above 2^24 operand pairs (default 2^24).
    pub vectors: Option<u64>,
    pub seed: u64,
}

/// Cost and error of every spec, Pareto rows marked. `progress(done, total, line)`.
pub fn run(
    family: &str,
    specs: &[UnitSpec],
    options: &Options,
    progress: &(dyn Fn(u64, u64, String) + Sync),
) -> Result<Vec<ExploreRow>, Failure> {
    let yosys = Yosys::locate().map_err(Failure::BadInput)?;
    let total = 2 * specs.len() as u64;
    let done = std::sync::atomic::AtomicU64::new(0);
    let tick = |line: String| {
        let d = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        progress(d, total, line);
    };
    // Error first (quantization errors shared by configurations with the same level set).
    let fam = units::family(family)
        .ok_or_else(|| Failure::BadInput(format!("unknown family `{family}`")))?;
    let samples = matches!(family, "esb" | "apot" | "pot").then(weight_samples);
    let mut level_sets: HashMap<String, Vec<(String, f64)>> = HashMap::new();
    let mut errors = Vec::new();
    for spec in specs {
        let unit = spec.unit.as_ref();
        let figures = match (&samples, fam.quantize) {
            (Some(samples), Some(quantize)) => {
                let mut params: ParamMap = serde_json::from_value(unit.params())
                    .map_err(|e| Failure::Failed(format!("parameters: {e}")))?;
                params.remove("act_bits");
                let key = serde_json::to_string(&params).unwrap_or_default();
                if let Some(f) = level_sets.get(&key) {
                    f.clone()
                } else {
                    let mut f = Vec::new();
                    for (dist, w) in samples {
                        let (alpha, mse) = best_alpha(quantize, &params, w)?;
                        let power = w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64;
                        f.push((format!("alpha_{dist}"), alpha));
                        f.push((format!("mse_{dist}"), mse));
                        f.push((format!("sqnr_{dist}_db"), 10.0 * (power / mse).log10()));
                    }
                    level_sets.insert(key, f.clone());
                    f
                }
            }
            _ => {
                let (pairs, sampling) = metrics::operand_pairs(unit, options.vectors, options.seed)
                    .map_err(Failure::BadInput)?;
                let m = metrics::golden_metrics(unit, pairs.as_ref());
                vec![
                    ("er".into(), m.er),
                    ("med".into(), m.med),
                    ("nmed".into(), m.nmed),
                    ("mred".into(), m.mred),
                    ("wce".into(), m.wce as f64),
                    ("wcre".into(), m.wcre),
                    ("mean_error".into(), m.mean_error),
                    ("mse".into(), m.mse),
                    ("pairs".into(), sampling.pairs() as f64),
                ]
            }
        };
        tick(format!("{}: error", spec.module_name()));
        errors.push(figures);
    }
    let generated: Vec<emit::Generated> = specs.iter().map(emit::generate).collect();
    let sources: Vec<synth::Source> = generated.iter().map(synth::Source::from).collect();
    let synthesized = synth::synthesize_many(&yosys, &sources, &|i, r| {
        tick(match r {
            Ok((r, _)) => format!("{}: {} LUTs", sources[i].name, r.stats.lut),
            Err(_) => format!("{}: synthesis FAILED", sources[i].name),
        })
    });
    let mut rows = Vec::new();
    for ((spec, error), s) in specs.iter().zip(errors).zip(synthesized) {
        let s = s.map_err(Failure::Failed)?;
        rows.push(ExploreRow {
            module: spec.module_name(),
            params: spec.unit.params(),
            lut: s.stats.lut,
            carry: s.stats.carry,
            depth_luts: s.stats.depth_luts,
            error,
            pareto: false,
        });
    }
    mark_pareto(&mut rows, pareto_metric(family));
    Ok(rows)
}

fn figure(row: &ExploreRow, name: &str) -> f64 {
    row.error
        .iter()
        .find(|(n, _)| n == name)
        .map_or(f64::INFINITY, |(_, v)| *v)
}

/// Mark the rows no other row dominates (LUTs and `metric` both <=, one of them <).
pub fn mark_pareto(rows: &mut [ExploreRow], metric: &str) {
    let points: Vec<Option<(f64, f64)>> = rows
        .iter()
        .map(|r| Some((r.lut as f64, figure(r, metric))))
        .collect();
    for (r, pareto) in rows.iter_mut().zip(undominated(&points)) {
        r.pareto = pareto;
    }
}

/// For each point (cost, badness; both lower is better), whether no other point has both
/// lower or equal, one of them strictly lower. Points without figures (`None`) are never on
/// the front and dominate nothing.
pub fn undominated(points: &[Option<(f64, f64)>]) -> Vec<bool> {
    points
        .iter()
        .map(|p| {
            p.is_some_and(|(c, b)| {
                !points
                    .iter()
                    .flatten()
                    .any(|&(c2, b2)| c2 <= c && b2 <= b && (c2 < c || b2 < b))
            })
        })
        .collect()
}

fn columns(rows: &[ExploreRow]) -> Vec<String> {
    let mut c: Vec<String> = ["module", "lut", "carry", "depth_luts"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    if let Some(r) = rows.first() {
        c.extend(r.error.iter().map(|(n, _)| n.clone()));
    }
    c.push("pareto".into());
    c
}

fn cells(r: &ExploreRow) -> Vec<String> {
    let mut v = vec![
        r.module.clone(),
        r.lut.to_string(),
        r.carry.to_string(),
        r.depth_luts.to_string(),
    ];
    v.extend(r.error.iter().map(|(n, x)| match n.as_str() {
        "wce" | "pairs" => format!("{x:.0}"),
        _ if *x != 0.0 && x.abs() < 1e-3 => format!("{x:.4e}"),
        _ => format!("{x:.6}"),
    }));
    v.push(if r.pareto { "*".into() } else { String::new() });
    v
}

pub fn table(rows: &[ExploreRow], metric: &str) -> String {
    let header = columns(rows);
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let body: Vec<Vec<String>> = rows.iter().map(cells).collect();
    let mut t = crate::base::aligned_table(&header, &body);
    t.push_str(&format!(
        "pareto: * = no other row has both fewer or equal LUTs and lower or equal {metric}\n"
    ));
    t
}

pub fn csv(rows: &[ExploreRow]) -> String {
    let mut t = columns(rows).join(",") + "\n";
    for r in rows {
        let mut c = cells(r);
        let last = c.len() - 1;
        c[last] = r.pareto.to_string();
        t.push_str(&(c.join(",") + "\n"));
    }
    t
}

pub fn json(rows: &[ExploreRow]) -> String {
    let v: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let mut o = serde_json::json!({
                "module": r.module,
                "params": r.params,
                "lut": r.lut,
                "carry": r.carry,
                "depth_luts": r.depth_luts,
                "pareto": r.pareto,
            });
            for (n, x) in &r.error {
                o[n] = serde_json::json!(x);
            }
            o
        })
        .collect();
    serde_json::to_string_pretty(&v).expect("rows serialize") + "\n"
}

/// SVG: `metric` against LUTs, every row a labelled point, the Pareto front drawn.
pub fn plot(rows: &[ExploreRow], metric: &str, title: &str) -> Result<String, Failure> {
    let pts: Vec<(f64, f64, String, bool)> = rows
        .iter()
        .map(|r| (r.lut as f64, figure(r, metric), r.module.clone(), r.pareto))
        .collect();
    let (xmax, ymax) = pts
        .iter()
        .fold((1.0f64, 0.0f64), |(x, y), p| (x.max(p.0), y.max(p.1)));
    crate::flows::plot::svg((900, 600), |root| {
        let mut chart = crate::flows::plot::chart(
            root,
            title,
            0f64..xmax * 1.1,
            0f64..(ymax * 1.1).max(1e-12),
        )?;
        chart
            .configure_mesh()
            .x_desc("LUTs (Yosys, xcup)")
            .y_desc(metric)
            .draw()?;
        crate::flows::plot::pareto_points(&mut chart, &pts)
    })
}

/// SVG histogram of P' - P over the unit's operand pairs (approximate units).
pub fn plot_error_histogram(
    spec: &UnitSpec,
    vectors: Option<u64>,
    seed: u64,
) -> Result<String, Failure> {
    use plotters::prelude::*;
    let unit = spec.unit.as_ref();
    let (pairs, sampling) =
        metrics::operand_pairs(unit, vectors, seed).map_err(Failure::BadInput)?;
    let mut errors = Vec::with_capacity(pairs.len() as usize);
    let mut inputs = [0u64; 2];
    let n_out = unit
        .ports()
        .iter()
        .filter(|p| p.dir == crate::base::Dir::Output)
        .count();
    let p = unit
        .ports()
        .into_iter()
        .find(|p| p.name == "p")
        .ok_or_else(|| Failure::BadInput("no output p".into()))?;
    let mut out = vec![0u64; n_out];
    for k in 0..pairs.len() {
        pairs.fill(k, &mut inputs);
        unit.golden(&inputs, &mut out);
        let approx = if p.signed {
            crate::base::sign_extend(out[0], p.width)
        } else {
            out[0] as i64
        };
        let exact = unit.exact_product(&inputs).unwrap_or(approx);
        errors.push((approx - exact) as f64);
    }
    let (lo, hi) = errors
        .iter()
        .fold((0f64, 0f64), |(l, h), &e| (l.min(e), h.max(e)));
    let bins = 60usize;
    let width = ((hi - lo) / bins as f64).max(1.0);
    let mut counts = vec![0u64; bins + 1];
    for e in &errors {
        counts[(((e - lo) / width) as usize).min(bins)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1) as f64;
    let title = format!("{}: P' - P ({})", spec.module_name(), sampling.describe());
    crate::flows::plot::svg((900, 500), |root| {
        let x = lo..(lo + width * (bins + 1) as f64);
        let mut chart = crate::flows::plot::chart(root, &title, x, 0f64..top * 1.05)?;
        chart
            .configure_mesh()
            .x_desc("P' - P")
            .y_desc("operand pairs")
            .draw()?;
        chart.draw_series(counts.iter().enumerate().map(|(i, &c)| {
            let x0 = lo + i as f64 * width;
            Rectangle::new([(x0, 0.0), (x0 + width, c as f64)], BLUE.mix(0.6).filled())
        }))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, lut: u64, mred: f64) -> ExploreRow {
        ExploreRow {
            module: name.into(),
            params: serde_json::Value::Null,
            lut,
            carry: 0,
            depth_luts: 0,
            error: vec![("mred".into(), mred)],
            pareto: false,
        }
    }

    /// By hand: C (15, 6) is beaten by A (10, 5); E (30, 3) by B (20, 3); B and its twin D
    /// tie, so neither dominates the other.
    #[test]
    fn pareto_marks_the_undominated_rows() {
        let mut rows = vec![
            row("A", 10, 5.0),
            row("B", 20, 3.0),
            row("C", 15, 6.0),
            row("D", 20, 3.0),
            row("E", 30, 3.0),
            row("F", 40, 1.0),
        ];
        mark_pareto(&mut rows, "mred");
        let marked: Vec<&str> = rows
            .iter()
            .filter(|r| r.pareto)
            .map(|r| r.module.as_str())
            .collect();
        assert_eq!(marked, ["A", "B", "D", "F"]);
    }

    /// The search lands within 0.1 % of the best MSE of a fine brute-force scan.
    #[test]
    fn best_alpha_is_the_minimum_of_a_fine_scan() {
        let fam = units::family("esb").unwrap();
        let params: ParamMap = serde_yaml::from_str("{exp_bits: 2, frac_bits: 1}").unwrap();
        let [(_, normal), _] = weight_samples();
        let w = &normal[..5000];
        let (alpha, mse) = best_alpha(fam.quantize.unwrap(), &params, w).unwrap();
        let scan = (1..=2000)
            .map(|i| {
                let a = 0.002 * i as f64;
                (fam.quantize.unwrap())(&params, w, Some(a)).unwrap().mse(w)
            })
            .fold(f64::MAX, f64::min);
        assert!(mse <= scan * 1.001, "alpha {alpha}: {mse} vs scan {scan}");
        // Standard normal samples: mean ~0, variance ~1.
        let var = normal.iter().map(|x| x * x).sum::<f64>() / normal.len() as f64;
        assert!((var - 1.0).abs() < 0.02, "{var}");
    }

    #[test]
    fn configurations_follow_the_flags() {
        let w8: ParamMap = serde_yaml::from_str("{width: 8}").unwrap();
        assert_eq!(configurations("adam", &w8).unwrap().len(), 7);
        let esb = configurations("esb", &ParamMap::new()).unwrap();
        assert!(esb
            .iter()
            .all(|s| s.unit.params()["act_bits"] == 8 && s.unit.params().get("linear").is_none()));
        assert_eq!(esb.len(), 14 + 13 + 12 + 11);
        assert!(configurations("exact", &ParamMap::new()).is_err());
    }
}
