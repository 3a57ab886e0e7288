//! The `dnn` flow (ARITHMETIC.md §6): a user's ONNX network evaluated with every product of
//! its Conv / Gemm / MatMul layers done by each unit's golden model, on the images of an
//! `.npz`, after optional FPGM pruning; per unit: top-1 accuracy, agreement with the f32
//! network, model size, BOPs, and the LUTs of the unit and of a dot of `lanes` such units
//! (from the cached `synth` flow), the Pareto rows (accuracy against LUTs per MAC) marked.

use crate::base::ParamMap;
use crate::flows::Failure;
use crate::net::{self, data::DataSet, graph::Graph, prune, quant, Tensor};
use crate::spec::UnitSpec;
use serde::Serialize;
use std::path::Path;

/// Settings of a run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Pruning ratios; `[0.0]` for none.
    pub prune: Vec<f64>,
    /// Calibration images taken from `x` when the data has no `x_calib`.
    pub calib: usize,
    /// Synthesise for the LUT columns (Yosys); off, they stay empty.
    pub synth: bool,
    /// Lanes of the dot whose LUTs per MAC are reported.
    pub lanes: u32,
}

/// One evaluated network: the f32 one (`unit` = "float") or one through a unit.
#[derive(Clone, Debug, Serialize)]
pub struct DnnRow {
    pub unit: String,
    pub family: String,
    pub params: serde_json::Value,
    pub prune: f64,
    pub accuracy: f64,
    pub agreement: f64,
    /// LUTs of the unit alone and of the dot; per MAC = dot LUTs / lanes.
    pub luts: Option<u64>,
    pub dot_luts: Option<u64>,
    pub luts_per_mac: Option<f64>,
    pub filters_kept: usize,
    pub filters_total: usize,
    pub size_bits: u64,
    /// Size over the same network's unpruned float32 weights.
    pub size_ratio: f64,
    /// Σ MACs · weight bits · activation bits, per image.
    pub bops: u64,
    pub pareto: bool,
}

/// The model and data, loaded and checked.
pub struct Network {
    pub graph: Graph,
    pub data: DataSet,
    /// The model's path and the sha256 of the model and data files, for reports.
    pub model: String,
    pub model_sha256: String,
    pub data_sha256: String,
}

impl Network {
    pub fn load(model: &Path, data: &Path) -> Result<Network, Failure> {
        let read = |p: &Path| {
            std::fs::read(p).map_err(|e| Failure::BadInput(format!("{}: {e}", p.display())))
        };
        let (model_bytes, data_bytes) = (read(model)?, read(data)?);
        let model = model.display().to_string();
        let graph = net::onnx::load(&model_bytes, &model)?;
        let origin = data.display().to_string();
        let data = DataSet::from_npz(&data_bytes, &origin, graph.image_shape())?;
        if data.images.is_empty() {
            return Err(Failure::BadInput(format!("{origin}: x holds no images")));
        }
        Ok(Network {
            graph,
            data,
            model,
            model_sha256: crate::emit::sha256_hex(&model_bytes),
            data_sha256: crate::emit::sha256_hex(&data_bytes),
        })
    }
}

/// MACs per image of every layer (filters with a non-zero weight), from one f32 run.
fn macs_per_layer(g: &Graph, image: &Tensor) -> Result<Vec<u64>, Failure> {
    let mut macs = vec![0; g.layers.len()];
    g.run(image, &mut |l, layer, x| {
        let y = layer.eval_f32(x)?;
        macs[l] = layer.macs(y.len() / layer.out_channels.max(1));
        Ok(y)
    })
    .map_err(Failure::BadInput)?;
    Ok(macs)
}

/// Weights of the live filters, over all layers.
fn live_weights(g: &Graph) -> u64 {
    g.layers
        .iter()
        .map(|l| {
            l.weight
                .chunks(l.fan_in.max(1))
                .filter(|f| f.iter().any(|&w| w != 0.0))
                .count() as u64
                * l.fan_in as u64
        })
        .sum()
}

/// Top-1 of every image.
fn top1(outputs: &[Tensor]) -> Vec<usize> {
    outputs.iter().map(|t| net::argmax(&t.data)).collect()
}

fn fraction(hits: usize, n: usize) -> f64 {
    hits as f64 / n.max(1) as f64
}

fn unit_params(spec: &UnitSpec) -> Result<ParamMap, Failure> {
    serde_json::from_value(spec.unit.params())
        .map_err(|e| Failure::Failed(format!("parameters: {e}")))
}

/// The dot of `lanes` lanes of `spec`'s unit.
fn dot_spec(spec: &UnitSpec, lanes: u32) -> Result<UnitSpec, Failure> {
    let mut lane = unit_params(spec)?;
    // Lanes never have fault ports (`run` refuses units that do).
    lane.remove("fault_ports");
    lane.insert("family".into(), spec.unit.family().into());
    let mut dot = ParamMap::new();
    dot.insert("lanes".into(), lanes.into());
    dot.insert(
        "lane".into(),
        serde_yaml::to_value(lane).map_err(|e| Failure::Failed(e.to_string()))?,
    );
    Ok(UnitSpec::from_params("dot", &dot)?)
}

/// Evaluate the network through every unit of `specs` at every pruning ratio.
/// `progress(line)` hears each finished evaluation.
pub fn run(
    network: &Network,
    specs: &[UnitSpec],
    options: &Options,
    progress: &(dyn Fn(String) + Sync),
) -> Result<Vec<DnnRow>, Failure> {
    for spec in specs {
        spec.single_unit("dnn")?;
    }
    let Network { graph, data, .. } = network;
    let n = data.images.len();
    let float_weights: u64 = graph.layers.iter().map(|l| l.weight.len() as u64).sum();
    let products: Vec<quant::ProductFn> = specs
        .iter()
        .map(|s| quant::ProductFn::new(s.unit.as_ref(), &s.module_name()))
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    for &r in &options.prune {
        prune::check_ratio(r)?;
        let (g, kept) = prune::prune(graph, r);
        let float_out =
            quant::map_images(&data.images, &|x| g.run_f32(x)).map_err(Failure::BadInput)?;
        let float_top = top1(&float_out);
        let correct = |top: &[usize]| top.iter().zip(&data.labels).filter(|(t, l)| t == l).count();
        let macs: u64 = macs_per_layer(&g, &data.images[0])?.iter().sum();
        let weights = live_weights(&g);
        rows.push(DnnRow {
            unit: "float".into(),
            family: "float".into(),
            params: serde_json::json!({}),
            prune: r,
            accuracy: fraction(correct(&float_top), n),
            agreement: 1.0,
            luts: None,
            dot_luts: None,
            luts_per_mac: None,
            filters_kept: kept.kept,
            filters_total: kept.total,
            size_bits: weights * 32,
            size_ratio: weights as f64 / float_weights.max(1) as f64,
            bops: macs * 32 * 32,
            pareto: false,
        });
        progress(format!(
            "float (prune {r}): accuracy {:.4}",
            rows.last().map_or(0.0, |r| r.accuracy)
        ));
        let ranges = quant::calibrate(&g, data.calibration(options.calib))?;
        for (spec, f) in specs.iter().zip(&products) {
            let qnet = quant::QuantNet::new(&g, f, &ranges)?;
            let out =
                quant::map_images(&data.images, &|x| qnet.run(x)).map_err(Failure::BadInput)?;
            let top = top1(&out);
            let agree = top.iter().zip(&float_top).filter(|(a, b)| a == b).count();
            let wbits = u64::from(f.stored_weight_bits());
            rows.push(DnnRow {
                unit: spec.module_name(),
                family: spec.unit.family().into(),
                params: spec.unit.params(),
                prune: r,
                accuracy: fraction(correct(&top), n),
                agreement: fraction(agree, n),
                luts: None,
                dot_luts: None,
                luts_per_mac: None,
                filters_kept: kept.kept,
                filters_total: kept.total,
                size_bits: weights * wbits,
                size_ratio: (weights * wbits) as f64 / (float_weights * 32).max(1) as f64,
                bops: macs * wbits * u64::from(f.act_bits),
                pareto: false,
            });
            progress(format!(
                "{} (prune {r}): accuracy {:.4}",
                spec.module_name(),
                rows.last().map_or(0.0, |r| r.accuracy)
            ));
        }
    }
    if options.synth && !specs.is_empty() {
        let mut all: Vec<UnitSpec> = Vec::new();
        for spec in specs {
            // The combinational unit (a design's pipeline is not what a lane of the dot uses).
            all.push(UnitSpec::from_params(
                spec.unit.family(),
                &unit_params(spec)?,
            )?);
            all.push(dot_spec(spec, options.lanes)?);
        }
        let results = crate::flows::synth::run(&all, progress)?;
        for (i, spec) in specs.iter().enumerate() {
            let (unit, dot) = (&results[2 * i], &results[2 * i + 1]);
            for row in rows.iter_mut().filter(|r| r.unit == spec.module_name()) {
                row.luts = Some(unit.stats.lut);
                row.dot_luts = Some(dot.stats.lut);
                row.luts_per_mac = Some(dot.stats.lut as f64 / f64::from(options.lanes));
            }
        }
    }
    mark_pareto(&mut rows);
    Ok(rows)
}

/// Mark the rows with LUTs that no other such row dominates (LUTs per MAC <=, accuracy >=, one
/// strictly).
pub fn mark_pareto(rows: &mut [DnnRow]) {
    let points: Vec<Option<(f64, f64)>> = rows
        .iter()
        .map(|r| r.luts_per_mac.map(|l| (l, -r.accuracy)))
        .collect();
    for (r, pareto) in rows
        .iter_mut()
        .zip(crate::flows::explore::undominated(&points))
    {
        r.pareto = pareto;
    }
}

const COLUMNS: [&str; 13] = [
    "unit",
    "prune",
    "accuracy",
    "agreement",
    "luts",
    "dot_luts",
    "luts_per_mac",
    "filters_kept",
    "size_bits",
    "size_ratio",
    "bops",
    "family",
    "pareto",
];

fn cells(r: &DnnRow) -> Vec<String> {
    let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    vec![
        r.unit.clone(),
        format!("{}", r.prune),
        format!("{:.4}", r.accuracy),
        format!("{:.4}", r.agreement),
        opt(r.luts),
        opt(r.dot_luts),
        r.luts_per_mac
            .map(|v| format!("{v:.2}"))
            .unwrap_or_default(),
        format!("{}/{}", r.filters_kept, r.filters_total),
        r.size_bits.to_string(),
        format!("{:.4}", r.size_ratio),
        r.bops.to_string(),
        r.family.clone(),
        if r.pareto { "*".into() } else { String::new() },
    ]
}

pub fn table(rows: &[DnnRow]) -> String {
    let body: Vec<Vec<String>> = rows.iter().map(cells).collect();
    let mut t = crate::base::aligned_table(&COLUMNS, &body);
    if rows.iter().any(|r| r.luts_per_mac.is_some()) {
        t.push_str("pareto: * = no other unit has both fewer or equal LUTs per MAC and higher or equal accuracy\n");
    }
    t
}

pub fn csv(rows: &[DnnRow]) -> String {
    let mut t = COLUMNS.join(",") + "\n";
    for r in rows {
        let mut c = cells(r);
        c[7] = r.filters_kept.to_string();
        c[12] = r.pareto.to_string();
        t.push_str(&(c.join(",") + "\n"));
    }
    t
}

pub fn json(rows: &[DnnRow]) -> String {
    serde_json::to_string_pretty(rows).unwrap_or_default() + "\n"
}

/// SVG: accuracy against LUTs per MAC, one labelled point per unit row, the front drawn.
pub fn plot(rows: &[DnnRow], title: &str) -> Result<String, Failure> {
    use plotters::prelude::*;
    let pts: Vec<(f64, f64, String, bool)> = rows
        .iter()
        .filter_map(|r| {
            r.luts_per_mac.map(|l| {
                let label = if r.prune > 0.0 {
                    format!("{} p{}", r.unit, r.prune)
                } else {
                    r.unit.clone()
                };
                (l, r.accuracy * 100.0, label, r.pareto)
            })
        })
        .collect();
    if pts.is_empty() {
        return Err(Failure::BadInput(
            "--plot needs the LUT columns: run without --no-synth".into(),
        ));
    }
    let xmax = pts.iter().fold(1.0f64, |m, p| m.max(p.0)) * 1.15;
    let y0 = (pts.iter().fold(100.0f64, |m, p| m.min(p.1)) - 5.0).max(0.0);
    let float = rows
        .iter()
        .find(|r| r.unit == "float")
        .map(|r| r.accuracy * 100.0);
    crate::flows::plot::svg((900, 600), |root| {
        let mut chart = crate::flows::plot::chart(root, title, 0f64..xmax, y0..100.5f64)?;
        chart
            .configure_mesh()
            .x_desc("LUTs per MAC (dot, Yosys xcup)")
            .y_desc("top-1 accuracy %")
            .draw()?;
        if let Some(f) = float {
            chart.draw_series(LineSeries::new(
                vec![(0.0, f), (xmax, f)],
                BLACK.stroke_width(1),
            ))?;
        }
        crate::flows::plot::pareto_points(&mut chart, &pts)
    })
}
