//! Network campaigns (ARITHMETIC.md §6): one persistent fault (stuck-at at a site, or a
//! flipped LUT INIT bit) in one lane of a dot of `lanes` lanes; MAC j of every output of the
//! network's Conv/Gemm/MatMul layers runs on lane j mod lanes, so the faulty lane's MACs use the
//! faulty product function for the whole inference. Each (fault, image) pair over the test
//! images the fault-free quantized network classifies correctly is detected (some `err` of the
//! lane raised), else SDC-1 (top-1 changed), else masked; SDC-5 independently marks the pairs
//! without `err` whose label leaves the top 5. A fault is critical when any image is SDC-1.
//!
//! The faulty product function of a unit of at most 8+8 input bits is tabulated over every
//! operand pair: for netlist sites by the bit-sliced instrumented netlist in Verilator (the
//! engine of unit campaigns), for port sites by the unit's golden fault model. The fault sits
//! in lane 0 (OUR DEFINITION; the lanes are identical, only the MACs mapped to them differ).

use super::{
    check_fault_free_tables, faulty_tables, target, Shard, SiteUniverse, Target, INIT, KINDS,
};
use crate::base::{Failure, ParamMap};
use crate::flows::dnn::Network;
use crate::net::{self, quant, Tensor};
use crate::sim::splitmix64;
use serde::{Deserialize, Serialize};

/// What to run.
#[derive(Clone, Debug)]
pub struct NetOptions {
    pub universe: SiteUniverse,
    /// Indices into [`KINDS`]: sa0, sa1, init (persistent faults only).
    pub kinds: Vec<usize>,
    pub lanes: u32,
    /// Sample this many faults (seeded, without replacement) instead of all.
    pub faults: Option<u64>,
    pub seed: u64,
    /// At most this many of the correctly classified test images: the first ones in data
    /// order (not a sample: the images are the population the rates refer to).
    pub images: Option<usize>,
    pub calib: usize,
    pub shard: Option<(u64, u64)>,
}

/// One fault over the images.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultRow {
    pub site: u64,
    pub name: String,
    pub kind: String,
    pub masked: u64,
    pub detected: u64,
    pub sdc1: u64,
    pub sdc5: u64,
}

/// A rate over (fault, image) pairs with its 95 % margin (cluster-robust over the sampled
/// faults; 0 when every fault ran).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateMargin {
    pub rate: String,
    pub value: f64,
    pub margin_95: f64,
}

/// A network campaign's result (or one shard's part).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetCampaign {
    pub unit: String,
    pub family: String,
    pub params: serde_json::Value,
    pub model: String,
    pub model_sha256: String,
    pub data_sha256: String,
    pub lanes: u32,
    pub site_universe: SiteUniverse,
    pub kinds: Vec<String>,
    /// Faults in the universe (sites x kinds) and whether a sample of them ran.
    pub population: u64,
    pub sampled: bool,
    pub seed: Option<u64>,
    /// Images per fault (correctly classified by the fault-free quantized network).
    pub images: u64,
    pub lut: Option<u64>,
    pub path_ns: Option<f64>,
    pub yosys: Option<String>,
    pub shard: Option<Shard>,
    pub faults: u64,
    pub pairs: u64,
    pub masked: u64,
    pub detected: u64,
    pub sdc1: u64,
    pub sdc5: u64,
    pub critical: u64,
    pub margins: Vec<RateMargin>,
    pub rows: Vec<FaultRow>,
}

impl NetCampaign {
    /// Totals and margins from the rows.
    fn total(&mut self) {
        let sum = |f: fn(&FaultRow) -> u64| self.rows.iter().map(f).sum::<u64>();
        (self.masked, self.detected, self.sdc1, self.sdc5) = (
            sum(|r| r.masked),
            sum(|r| r.detected),
            sum(|r| r.sdc1),
            sum(|r| r.sdc5),
        );
        self.faults = self.rows.len() as u64;
        self.pairs = self.faults * self.images;
        self.critical = self.rows.iter().filter(|r| r.sdc1 > 0).count() as u64;
        let n = self.faults as f64;
        let fpc = if self.sampled {
            (1.0 - n / self.population.max(1) as f64).max(0.0)
        } else {
            0.0
        };
        let m = self.images.max(1) as f64;
        type Count = fn(&FaultRow) -> u64;
        let rates: [(&str, Count); 4] = [
            ("masked", |r| r.masked),
            ("detected", |r| r.detected),
            ("sdc1", |r| r.sdc1),
            ("sdc5", |r| r.sdc5),
        ];
        let mut margins: Vec<RateMargin> = rates
            .iter()
            .map(|(name, f)| {
                // The mean of the per-fault rates; its variance from their spread (faults are
                // the sampled clusters of (fault, image) pairs).
                let per: Vec<f64> = self.rows.iter().map(|r| f(r) as f64 / m).collect();
                let mean = per.iter().sum::<f64>() / n.max(1.0);
                let s2 = per.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
                RateMargin {
                    rate: name.to_string(),
                    value: mean,
                    margin_95: 1.96 * (s2 / n.max(1.0) * fpc).sqrt(),
                }
            })
            .collect();
        let crit = self.critical as f64 / n.max(1.0);
        margins.push(RateMargin {
            rate: "critical".into(),
            value: crit,
            margin_95: 1.96 * (crit * (1.0 - crit) / (n - 1.0).max(1.0) * fpc).sqrt(),
        });
        self.margins = margins;
    }
}

/// The persistent faults of the target, one per (site, kind): (site, kind index, name).
fn universe(t: &Target, kinds: &[usize]) -> Vec<(u64, usize, String)> {
    super::fault_list(t, kinds)
        .into_iter()
        .flat_map(|(site, name, ks)| ks.into_iter().map(move |k| (site, k, name.clone())))
        .collect()
}

/// `k` of `n` indices, seeded, in ascending order.
fn sample(n: u64, k: u64, seed: u64) -> Vec<u64> {
    let mut idx: Vec<u64> = (0..n).collect();
    let mut state = seed;
    for i in 0..k.min(n) {
        state = splitmix64(state);
        let j = i + state % (n - i);
        idx.swap(i as usize, j as usize);
    }
    let mut chosen = idx[..k.min(n) as usize].to_vec();
    chosen.sort_unstable();
    chosen
}

/// Classify one fault over the images.
fn classify(
    qnet: &quant::QuantNet,
    lane: &quant::FaultyLane,
    images: &[(&Tensor, usize)],
) -> Result<[u64; 4], String> {
    let mut c = [0u64; 4]; // masked, detected, sdc1, sdc5
    for (image, label) in images {
        let (y, err) = qnet.run_faulty(image, Some(lane))?;
        if err {
            c[1] += 1;
            continue;
        }
        if net::argmax(&y.data) != *label {
            c[2] += 1;
        } else {
            c[0] += 1;
        }
        if !net::in_top_k(&y.data, *label, 5) {
            c[3] += 1;
        }
    }
    Ok(c)
}

/// Run a network campaign (or one shard of it) for the unit `family`/`params`.
pub fn run(
    network: &Network,
    family: &str,
    params: &ParamMap,
    options: &NetOptions,
    progress: &(dyn Fn(String) + Sync),
) -> Result<NetCampaign, Failure> {
    if let Some(k) = options.kinds.iter().find(|&&k| KINDS[k].0 == "flip") {
        return Err(Failure::BadInput(format!(
            "--kinds {}: a network campaign injects persistent faults (sa0, sa1, init); a flip lasts one evaluation",
            KINDS[*k].0
        )));
    }
    if options.kinds.contains(&INIT) && options.universe == SiteUniverse::Ports {
        return Err(Failure::BadInput(
            "--kinds init flips LUT INIT bits of the mapped netlist: use --sites netlist".into(),
        ));
    }
    if !(1..=64).contains(&options.lanes) {
        return Err(Failure::BadInput(format!(
            "--lanes = {} is out of range, allowed 1..=64",
            options.lanes
        )));
    }
    if options.faults == Some(0) || options.images == Some(0) {
        return Err(Failure::BadInput(
            "--faults and --images must be at least 1".into(),
        ));
    }
    // The unit must be small enough to tabulate before anything is synthesised.
    let plain = super::spec_with(family, params, false)?;
    let product = quant::ProductFn::new(plain.unit.as_ref(), &plain.module_name())?;
    if product.weight_bits > 8 || product.act_bits > 8 {
        return Err(Failure::BadInput(format!(
            "{}: network campaigns tabulate the faulty unit: operands of at most 8 + 8 bits, this one has {} + {}",
            plain.module_name(),
            product.weight_bits,
            product.act_bits
        )));
    }
    let Network { graph, data, .. } = network;
    let ranges = quant::calibrate(graph, data.calibration(options.calib))?;
    let qnet = quant::QuantNet::new(graph, &product, &ranges)?;
    // The images the fault-free quantized network classifies correctly.
    let tops = quant::map_images(&data.images, &|x| Ok(net::argmax(&qnet.run(x)?.data)))
        .map_err(Failure::BadInput)?;
    let mut images: Vec<(&Tensor, usize)> = data
        .images
        .iter()
        .zip(&data.labels)
        .zip(&tops)
        .filter(|((_, l), t)| l == t)
        .map(|((x, &l), _)| (x, l))
        .collect();
    images.truncate(options.images.unwrap_or(usize::MAX));
    if images.is_empty() {
        return Err(Failure::BadInput(
            "no test image is classified correctly by the fault-free quantized network".into(),
        ));
    }
    progress(format!(
        "{}: {} of {} test images classified correctly",
        plain.module_name(),
        images.len(),
        data.images.len()
    ));

    let t = target(
        family,
        params,
        options.universe,
        options.kinds.contains(&INIT),
        progress,
    )?;
    let all = universe(&t, &options.kinds);
    let population = all.len() as u64;
    let chosen: Vec<u64> = match options.faults {
        Some(k) if k < population => sample(population, k, options.seed),
        _ => (0..population).collect(),
    };
    let sampled = (chosen.len() as u64) < population;
    let (first, last) = match options.shard {
        Some((i, n)) => {
            let per = (chosen.len() as u64).div_ceil(n);
            ((i - 1) * per + 1, (i * per).min(chosen.len() as u64))
        }
        None => (1, chosen.len() as u64),
    };
    let faults: Vec<&(u64, usize, String)> = chosen
        .get((first - 1) as usize..last as usize)
        .unwrap_or_default()
        .iter()
        .map(|&i| &all[i as usize])
        .collect();

    let wa = crate::units::input_widths(t.plain.unit.as_ref())[0];
    check_fault_free_tables(&t)?;
    let tables = |chunk: &[&(u64, usize, String)]| {
        let sel: Vec<(u64, u64)> = chunk.iter().map(|f| (f.0, KINDS[f.1].1)).collect();
        faulty_tables(&t, &sel)
    };

    progress(format!(
        "{}: {} faults ({} in the universe) x {} images ...",
        plain.module_name(),
        faults.len(),
        population,
        images.len()
    ));
    let chunks: Vec<&[&(u64, usize, String)]> = faults.chunks(16).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    type ChunkRows = (usize, Result<Vec<FaultRow>, Failure>);
    let results: std::sync::Mutex<Vec<ChunkRows>> = Default::default();
    let start = std::time::Instant::now();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(chunk) = chunks.get(c) else { break };
                let rows = tables(chunk).and_then(|tabs| {
                    chunk
                        .iter()
                        .zip(tabs)
                        .map(|(f, (p, err))| {
                            let lane =
                                product.faulty_lane(0, options.lanes as usize, &|code, x| {
                                    let pair = (code | (x << wa)) as usize;
                                    (p[pair], err[pair])
                                });
                            let [masked, detected, sdc1, sdc5] =
                                classify(&qnet, &lane, &images).map_err(Failure::Failed)?;
                            Ok(FaultRow {
                                site: f.0,
                                name: f.2.clone(),
                                kind: KINDS[f.1].0.into(),
                                masked,
                                detected,
                                sdc1,
                                sdc5,
                            })
                        })
                        .collect()
                });
                let d =
                    done.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed) + chunk.len();
                progress(format!(
                    "  {d}/{} faults, {:.1} s",
                    faults.len(),
                    start.elapsed().as_secs_f64()
                ));
                results.lock().expect("lock").push((c, rows));
            });
        }
    });
    let mut results = results.into_inner().expect("lock");
    results.sort_by_key(|r| r.0);
    let mut rows = Vec::new();
    for (_, r) in results {
        rows.extend(r?);
    }
    let mut c = NetCampaign {
        unit: plain.module_name(),
        family: family.into(),
        params: t.plain.unit.params(),
        model: network.model.clone(),
        model_sha256: network.model_sha256.clone(),
        data_sha256: network.data_sha256.clone(),
        lanes: options.lanes,
        site_universe: options.universe,
        kinds: options
            .kinds
            .iter()
            .map(|&k| KINDS[k].0.to_string())
            .collect(),
        population,
        sampled,
        seed: sampled.then_some(options.seed),
        images: images.len() as u64,
        lut: t.lut,
        path_ns: t.path_ns,
        yosys: t.yosys.clone(),
        shard: options.shard.map(|(index, count)| Shard {
            index,
            count,
            first_site: first,
            last_site: last,
        }),
        faults: 0,
        pairs: 0,
        masked: 0,
        detected: 0,
        sdc1: 0,
        sdc5: 0,
        critical: 0,
        margins: Vec::new(),
        rows,
    };
    c.total();
    Ok(c)
}

/// Merge shards 1..N of one network campaign, every part checked.
pub fn merge(parts: &[(String, NetCampaign)]) -> Result<NetCampaign, Failure> {
    let (_, first) = parts
        .first()
        .ok_or_else(|| Failure::BadInput("--merge needs at least one part".into()))?;
    fn key(c: &NetCampaign) -> impl PartialEq + '_ {
        (
            (&c.unit, &c.params, &c.model_sha256, &c.data_sha256, c.lanes),
            (
                c.site_universe,
                &c.kinds,
                c.population,
                c.sampled,
                c.seed,
                c.images,
            ),
            (c.lut, &c.yosys),
        )
    }
    let count = first.shard.as_ref().map_or(1, |s| s.count);
    let mut seen = vec![false; count.min(1 << 20) as usize];
    let mut sorted: Vec<&NetCampaign> = Vec::new();
    for (file, c) in parts {
        let bad = |what: String| Failure::BadInput(format!("{file}: {what}"));
        if key(c) != key(first) {
            return Err(bad(format!(
                "not a shard of the same campaign as {} (unit, model, data, lanes, sites, kinds, sampling, images and netlist must agree)",
                parts[0].0
            )));
        }
        let s = c
            .shard
            .as_ref()
            .ok_or_else(|| bad("a complete campaign, not a shard".into()))?;
        if s.count != count || s.index == 0 || s.index > count || seen[(s.index - 1) as usize] {
            return Err(bad(format!(
                "shard {}/{} does not fit shards of {count}, or is given twice",
                s.index, s.count
            )));
        }
        seen[(s.index - 1) as usize] = true;
        let expected_faults = s.last_site + 1 - s.first_site.min(s.last_site + 1);
        if c.rows.len() as u64 != expected_faults {
            return Err(bad(format!(
                "{} fault rows where its range {}..={} has {expected_faults}",
                c.rows.len(),
                s.first_site,
                s.last_site
            )));
        }
        if let Some(r) = c
            .rows
            .iter()
            .find(|r| r.masked + r.detected + r.sdc1 != c.images || r.sdc5 > c.images - r.detected)
        {
            return Err(bad(format!(
                "fault `{}` ({}): masked + detected + sdc1 must be {} images, sdc5 at most the undetected",
                r.name, r.kind, c.images
            )));
        }
        sorted.push(c);
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        return Err(Failure::BadInput(format!(
            "shard {}/{count} is missing",
            missing + 1
        )));
    }
    sorted.sort_by_key(|c| c.shard.as_ref().map_or(0, |s| s.index));
    let mut merged = NetCampaign {
        shard: None,
        rows: sorted.iter().flat_map(|c| c.rows.iter().cloned()).collect(),
        ..first.clone()
    };
    merged.total();
    Ok(merged)
}

/// The summary: counts and rates with margins.
pub fn table(c: &NetCampaign) -> String {
    let pct = |n: u64| 100.0 * n as f64 / c.pairs.max(1) as f64;
    let margin = |name: &str| {
        c.margins
            .iter()
            .find(|m| m.rate == name)
            .filter(|m| m.margin_95 > 0.0)
            .map_or(String::new(), |m| format!(" ± {:.3}", 100.0 * m.margin_95))
    };
    let mut t = format!(
        "{} ({} lanes, fault in lane 0; {} {} faults{}, {} images each)\n",
        c.unit,
        c.lanes,
        c.faults,
        c.kinds.join("/"),
        if c.sampled {
            format!(
                " sampled of {} (seed {})",
                c.population,
                c.seed.unwrap_or_default()
            )
        } else {
            String::new()
        },
        c.images
    );
    let mut body = vec![vec!["pairs".into(), c.pairs.to_string(), "100".into()]];
    // Rates over (fault, image) pairs, then the critical faults' share of the faults.
    let critical = 100.0 * c.critical as f64 / c.faults.max(1) as f64;
    for (class, name, count, percent) in [
        ("masked", "masked", c.masked, pct(c.masked)),
        ("detected", "detected", c.detected, pct(c.detected)),
        ("sdc1", "sdc1", c.sdc1, pct(c.sdc1)),
        ("sdc5", "sdc5", c.sdc5, pct(c.sdc5)),
        ("critical faults", "critical", c.critical, critical),
    ] {
        body.push(vec![
            class.into(),
            count.to_string(),
            format!("{percent:.3}{}", margin(name)),
        ]);
    }
    t.push_str(&crate::base::aligned_table(&["class", "count", "%"], &body));
    t.push_str("coverage = masked + detected; sdc5: no err and the label out of the top 5; critical: faults with any SDC-1 image (% of faults); margins: 95 %, over the sampled faults\n");
    t
}

pub fn json(c: &NetCampaign) -> String {
    serde_json::to_string_pretty(c).unwrap_or_default() + "\n"
}

pub fn csv(c: &NetCampaign) -> String {
    let mut t = String::from("site,name,kind,masked,detected,sdc1,sdc5\n");
    for r in &c.rows {
        t.push_str(&format!(
            "{},\"{}\",{},{},{},{},{}\n",
            r.site, r.name, r.kind, r.masked, r.detected, r.sdc1, r.sdc5
        ));
    }
    t
}

/// Read parts written with `--json`.
pub fn read_parts(paths: &[&std::path::Path]) -> Result<Vec<(String, NetCampaign)>, Failure> {
    super::read_json_parts(paths, "qmulgen dnn-faults")
}

/// The four baselines of AdAM's network claim at n = 8, t = 7 (ARITHMETIC.md §3.4).
pub const BASELINES: [(&str, &str, &str); 4] = [
    ("Unp-exact", "exact", "{width: 8}"),
    ("Unp-AxM", "mitchell", "{width: 8, frac_bits: 7}"),
    ("Pro-TMR", "tmr", "{width: 8}"),
    ("Pro-AdAM", "adam", "{width: 8, frac_bits: 7}"),
];

/// Run the network campaign of every baseline: (design, campaign).
pub fn compare(
    network: &Network,
    options: &NetOptions,
    progress: &(dyn Fn(String) + Sync),
) -> Result<Vec<(String, NetCampaign)>, Failure> {
    BASELINES
        .iter()
        .map(|(design, family, yaml)| {
            let params: ParamMap = serde_yaml::from_str(yaml)
                .map_err(|e| Failure::Failed(format!("baseline {design}: {e}")))?;
            let c = run(network, family, &params, options, progress)?;
            Ok((design.to_string(), c))
        })
        .collect()
}

/// Area-delay product: LUTs x the §5 path (ns) of the unit's netlist.
fn adp(c: &NetCampaign) -> Option<f64> {
    Some(c.lut? as f64 * c.path_ns?)
}

pub fn compare_table(rows: &[(String, NetCampaign)]) -> String {
    let pct = |c: &NetCampaign, n: u64| format!("{:.3}", 100.0 * n as f64 / c.pairs.max(1) as f64);
    // A rate with its 95 % margin when the faults were sampled.
    let rate = |c: &NetCampaign, n: u64, name: &str| {
        let m = c
            .margins
            .iter()
            .find(|m| m.rate == name)
            .map_or(0.0, |m| m.margin_95);
        if c.sampled {
            format!("{} ± {:.3}", pct(c, n), 100.0 * m)
        } else {
            pct(c, n)
        }
    };
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|(design, c)| {
            vec![
                design.clone(),
                c.unit.clone(),
                c.lut.map_or("-".into(), |l| l.to_string()),
                c.path_ns.map_or("-".into(), |p| format!("{p:.2}")),
                adp(c).map_or("-".into(), |a| format!("{a:.0}")),
                c.faults.to_string(),
                pct(c, c.masked + c.detected),
                rate(c, c.detected, "detected"),
                rate(c, c.sdc1, "sdc1"),
                rate(c, c.sdc5, "sdc5"),
                format!("{:.1}", 100.0 * c.critical as f64 / c.faults.max(1) as f64),
            ]
        })
        .collect();
    let mut t = crate::base::aligned_table(
        &[
            "design",
            "unit",
            "lut",
            "path_ns",
            "adp",
            "faults",
            "coverage%",
            "detected%",
            "sdc1%",
            "sdc5%",
            "critical%",
        ],
        &body,
    );
    t.push_str("rates over (fault, image) pairs; coverage = masked + detected; adp = LUTs x §5 path ns (no power model); critical: % of faults with any SDC-1 image\n");
    t
}

pub fn compare_json(rows: &[(String, NetCampaign)]) -> String {
    let v: Vec<serde_json::Value> = rows
        .iter()
        .map(|(d, c)| serde_json::json!({"design": d, "adp": adp(c), "campaign": c}))
        .collect();
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}

/// SVG: SDC-5 rate against the area-delay product, one labelled point per baseline.
pub fn compare_plot(rows: &[(String, NetCampaign)]) -> Result<String, Failure> {
    use plotters::prelude::*;
    let pts: Vec<(f64, f64, String)> = rows
        .iter()
        .filter_map(|(d, c)| {
            Some((
                adp(c)?,
                100.0 * c.sdc5 as f64 / c.pairs.max(1) as f64,
                format!("{d} ({})", c.unit),
            ))
        })
        .collect();
    let xmax = pts.iter().fold(1.0f64, |m, p| m.max(p.0)) * 1.3;
    let ymax = pts.iter().fold(0.1f64, |m, p| m.max(p.1)) * 1.2;
    crate::flows::plot::svg((800, 520), |root| {
        let mut chart = crate::flows::plot::chart(
            root,
            "Network SDC-5 against area-delay product",
            0f64..xmax,
            0f64..ymax,
        )?;
        chart
            .configure_mesh()
            .x_desc("LUTs x path ns (Yosys xcup, §5 model)")
            .y_desc("SDC-5, % of (fault, image) pairs")
            .draw()?;
        chart.draw_series(pts.iter().map(|(x, y, label)| {
            EmptyElement::at((*x, *y))
                + Circle::new((0, 0), 5, BLUE.filled())
                + Text::new(label.clone(), (8, -8), ("sans-serif", 13))
        }))?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_distinct_sorted_and_seeded() {
        let a = sample(100, 10, 7);
        assert_eq!(a.len(), 10);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(a, sample(100, 10, 7));
        assert_ne!(a, sample(100, 10, 8));
        assert_eq!(sample(5, 9, 1), vec![0, 1, 2, 3, 4]);
    }
}
