//! Reports of unit campaigns: the summary table, JSON, CSV, and the comparison of the four
//! baselines (table, JSON, SVG plot).

use super::*;

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
    crate::flows::plot::svg((800, 520), |root| {
        let mut chart = crate::flows::plot::chart(
            root,
            "SDC rate against area (netlist fault sites)",
            (min_lut..max_lut).log_scale(),
            0f64..max_sdc,
        )?;
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
        Ok(())
    })
}
