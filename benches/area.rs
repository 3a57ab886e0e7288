//! `make bench` area table: every unit of the issue-12 list synthesised with the project's own
//! flow (Yosys `synth_xilinx -family xcup -nodsp`), beside its yardstick and the exact
//! multiplier of the same operand widths. The yardstick is the smaller of the family's
//! behavioural twins (`benches/twins/`: independent descriptions of the ARITHMETIC.md formula,
//! parameter `ALT`: two per family, four for AdAM; one for exact and TMR, whose `a * b` is the
//! plainest).
//!
//! `cargo bench --bench area -- --sweep` (issue 22) synthesises each family over its whole
//! parameter range instead (Mitchell and AdAM: n = 4..=16, t = 1..n; APoT B = 2..=6, PoT
//! B = 1..=4 and ESB's useful points, each at a = 4..=12), lists only the configurations above
//! their yardstick with a summary line (count, worst, geometric mean), and checks that no unit
//! is more than 5 % larger than the same family's unit with one more fraction or magnitude bit.
//! Families named after `--sweep` narrow it (`-- --sweep apot pot esb`), and `--max-n N` stops
//! the log units at n = N. Everything is cached (synthesis by the hash of the Verilog,
//! Verilator models by theirs), so a re-run takes seconds; the first full run synthesises
//! ~1,200 modules (about an hour on two cores, most of it the n >= 12 log units and their
//! twins).
//!
//! A twin is a fair yardstick only if it computes the unit's function: each twin style runs in
//! Verilator against the unit's golden model (every standard row; in the sweep, a spread of
//! points per family, see [`verified_in_sweep`]). A miss is printed, not a panic.

mod common;

use common::Targets;
use qmulgen::base::ParamMap;
use qmulgen::emit::{self, Generated};
use qmulgen::sim::{self, Model, Verilator};
use qmulgen::spec::UnitSpec;
use qmulgen::synth::{self, Source, SynthResult, Yosys};

const EXACT_TWIN: &str = include_str!("twins/exact_twin.v");
const TMR_TWIN: &str = include_str!("twins/tmr_twin.v");
const ESB_TWIN: &str = include_str!("twins/esb_twin.v");
const APOT_TWIN: &str = include_str!("twins/apot_twin.v");
const POT_TWIN: &str = include_str!("twins/pot_twin.v");
const LOG_TWINS: &str = include_str!("twins/log_twins.v");

/// ARITHMETIC.md §1.3 useful points (e, k).
const ESB_POINTS: [(i64, i64); 6] = [(2, 1), (3, 0), (2, 2), (3, 2), (3, 4), (4, 3)];

/// One configuration: the unit, its twin (file, top, parameters; `styles`: how many values of
/// its `ALT` parameter, 1 for none), the exact `a × b` it compares to, and its place in its
/// family's sweep.
struct Row {
    family: &'static str,
    yaml: String,
    twin: (&'static str, &'static str, Vec<(&'static str, i64)>),
    styles: usize,
    exact: (u32, u32),
    /// (sweep axis value, resolution): the unit with resolution + 1 at the same axis value is
    /// its "one more fraction or magnitude bit" neighbour.
    place: (i64, i64),
}

impl Row {
    fn log(family: &'static str, n: i64, t: i64) -> Row {
        let top = if family == "adam" {
            "adam_twin"
        } else {
            "mitchell_twin"
        };
        Row {
            family,
            yaml: format!("{{width: {n}, frac_bits: {t}}}"),
            twin: (LOG_TWINS, top, vec![("N", n), ("T", t)]),
            // AdAM: two operand styles x two adder-and-checker styles.
            styles: if family == "adam" { 4 } else { 2 },
            exact: (n as u32, n as u32),
            place: (n, t),
        }
    }

    fn esb(e: i64, k: i64, a: i64) -> Row {
        Row {
            family: "esb",
            yaml: format!("{{exp_bits: {e}, frac_bits: {k}, act_bits: {a}}}"),
            twin: (ESB_TWIN, "esb_twin", vec![("E", e), ("K", k), ("A", a)]),
            styles: 2,
            exact: ((1 + e + k) as u32, a as u32),
            // Neighbours: same e and a, one more fraction bit.
            place: (e * 100 + a, k),
        }
    }

    fn apot(family: &'static str, b: i64, a: i64) -> Row {
        let (twin, top) = if family == "pot" {
            (POT_TWIN, "pot_twin")
        } else {
            (APOT_TWIN, "apot_twin")
        };
        Row {
            family,
            yaml: format!("{{mag_bits: {b}, act_bits: {a}}}"),
            twin: (twin, top, vec![("B", b), ("A", a)]),
            styles: 2,
            exact: ((b + 1) as u32, a as u32),
            place: (a, b),
        }
    }
}

fn spec(family: &str, yaml: &str) -> UnitSpec {
    let params: ParamMap = serde_yaml::from_str(yaml).expect("yaml");
    UnitSpec::from_params(family, &params).expect("valid spec")
}

fn output_width(g: &Generated) -> i64 {
    g.manifest
        .outputs()
        .find(|p| p.name == "p")
        .map(|p| p.width as i64)
        .expect("every unit has p")
}

/// The standard table: the issue-12 list.
fn standard_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for (a, b) in [(4, 4), (4, 8), (8, 8), (16, 16)] {
        rows.push(Row {
            family: "exact",
            yaml: format!("{{a_bits: {a}, b_bits: {b}}}"),
            twin: (EXACT_TWIN, "exact_twin", vec![("A", a), ("B", b)]),
            styles: 1,
            exact: (a as u32, b as u32),
            place: (0, 0),
        });
    }
    for n in [8, 16] {
        rows.push(Row {
            family: "tmr",
            yaml: format!("{{width: {n}}}"),
            twin: (TMR_TWIN, "tmr_twin", vec![("A", n), ("B", n)]),
            styles: 1,
            exact: (n as u32, n as u32),
            place: (0, 0),
        });
    }
    rows.extend(ESB_POINTS.iter().map(|&(e, k)| Row::esb(e, k, 8)));
    rows.extend((2..=6).map(|b| Row::apot("apot", b, 8)));
    rows.push(Row::apot("pot", 3, 8));
    for family in ["mitchell", "adam"] {
        for (n, t) in [(8, 7), (8, 6), (8, 5), (8, 3), (16, 15)] {
            rows.push(Row::log(family, n, t));
        }
    }
    rows
}

/// The sweep of issue 22.
fn sweep_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for family in ["mitchell", "adam"] {
        for n in 4..=16 {
            rows.extend((1..n).map(|t| Row::log(family, n, t)));
        }
    }
    for a in 4..=12 {
        rows.extend((2..=6).map(|b| Row::apot("apot", b, a)));
        rows.extend((1..=4).map(|b| Row::apot("pot", b, a)));
        rows.extend(ESB_POINTS.iter().map(|&(e, k)| Row::esb(e, k, a)));
    }
    rows
}

/// The sweep's twins checked in Verilator: log units at n in {4, 5, 8, 11, 16} and
/// t in {1, n/2, n-1}, the others at a in {4, 7, 12} (every B and point), every style. The
/// twins are one parameterised description per family, so a spread of points exercises
/// every branch of their `generate`s and width rules; checking all ~700 would take hours.
fn verified_in_sweep(r: &Row) -> bool {
    match r.family {
        "mitchell" | "adam" => {
            let (n, t) = r.place;
            [4, 5, 8, 11, 16].contains(&n) && [1, n / 2, n - 1].contains(&t)
        }
        _ => {
            let a = r.twin.2.iter().find(|(k, _)| *k == "A").map(|(_, v)| *v);
            matches!(a, Some(4 | 7 | 12))
        }
    }
}

/// One twin instance to synthesise (and maybe verify): row, style, its full parameters.
struct TwinRun {
    row: usize,
    name: String,
    params: Vec<(&'static str, i64)>,
}

/// Checks each twin in Verilator, wrapped in a module with the unit's ports, against the
/// unit's golden model (exhaustive up to 2^24 input combinations, else corners plus 100,000
/// seeded random vectors). Returns one line per twin that disagrees.
fn verify_twins(rows: &[Row], units: &[Generated], twins: &[&TwinRun]) -> Vec<String> {
    let verilator = Verilator::locate().expect("Verilator: run `make deps`");
    let mut failures = Vec::new();
    for (i, run) in twins.iter().enumerate() {
        let (r, g) = (&rows[run.row], &units[run.row]);
        eprint!(
            "\r  verifying twins in Verilator: {}/{}",
            i + 1,
            twins.len()
        );
        let ports: Vec<String> = g
            .manifest
            .ports
            .iter()
            .map(|p| format!("{} [{}:0] {}", p.direction, p.width - 1, p.name))
            .collect();
        let overrides: Vec<String> = run
            .params
            .iter()
            .map(|(k, v)| format!(".{k}({v})"))
            .collect();
        let connections: Vec<String> = g
            .manifest
            .ports
            .iter()
            .map(|p| format!(".{0}({0})", p.name))
            .collect();
        // The twins are behavioural Verilog that relies on its width rules (as their authors
        // intend), which Verilator reports as fatal width warnings.
        let verilog = format!(
            "/* verilator lint_off WIDTH */\n{}\nmodule {}({});\n  {} #({}) twin({});\nendmodule\n",
            r.twin.0,
            run.name,
            ports.join(", "),
            r.twin.1,
            overrides.join(", "),
            connections.join(", ")
        );
        let mut manifest = g.manifest.clone();
        manifest.module = run.name.clone();
        let wrapped = Generated {
            name: run.name.clone(),
            verilog,
            manifest,
        };
        let unit = spec(r.family, &r.yaml).unit;
        let outcome = Model::build(&verilator, &wrapped).and_then(|model| {
            let mut mismatches = Vec::new();
            for source in sim::default_sources(unit.as_ref(), 100_000, 1) {
                let report = sim::check(&model, unit.as_ref(), source.as_ref())
                    .map_err(|e| e.to_string())?;
                mismatches.extend(report.first_mismatches);
            }
            Ok(mismatches)
        });
        match outcome {
            Ok(m) if m.is_empty() => {}
            Ok(m) => failures.push(format!(
                "{} disagrees with the golden model: {}",
                run.name, m[0]
            )),
            Err(e) => failures.push(format!("{}: {e}", run.name)),
        }
    }
    eprintln!();
    failures
}

/// Synthesis results of one row: the unit, its yardstick (the smallest twin style: result and
/// style) and its exact multiplier.
struct Measured<'a> {
    unit: &'a SynthResult,
    twin: &'a SynthResult,
    style: i64,
    exact: &'a SynthResult,
}

impl Measured<'_> {
    fn twin_ratio(&self) -> f64 {
        self.unit.stats.lut as f64 / self.twin.stats.lut as f64
    }
}

/// Generate, verify the twins (those `verify` picks), synthesise everything (two Yosys jobs,
/// cached), and hand the measured rows to `report`.
fn measure(rows: &[Row], verify: &dyn Fn(&Row) -> bool, report: &dyn Fn(&[Measured], Targets)) {
    let yosys = Yosys::locate().expect("Yosys: run `make deps`");
    let units: Vec<Generated> = rows
        .iter()
        .map(|r| emit::generate(&spec(r.family, &r.yaml)))
        .collect();
    let mut twins = Vec::new();
    for (i, (r, g)) in rows.iter().zip(&units).enumerate() {
        for style in 0..r.styles {
            let mut params = r.twin.2.clone();
            if matches!(r.family, "esb" | "apot" | "pot") {
                params.push(("WP", output_width(g)));
            }
            if r.styles > 1 {
                params.push(("ALT", style as i64));
            }
            let name = format!("twin{style}_{}", g.name);
            twins.push(TwinRun {
                row: i,
                name,
                params,
            });
        }
    }
    let checked: Vec<&TwinRun> = twins.iter().filter(|t| verify(&rows[t.row])).collect();
    let mut targets = Targets::default();
    let twin_failures = verify_twins(rows, &units, &checked);
    targets.check(
        format!(
            "{} twin instances agree with the golden models in Verilator{}",
            checked.len(),
            twin_failures
                .first()
                .map(|f| format!(" ({} do not; first: {f})", twin_failures.len()))
                .unwrap_or_default()
        ),
        twin_failures.is_empty(),
    );

    let mut exact_widths: Vec<(u32, u32)> = rows.iter().map(|r| r.exact).collect();
    exact_widths.sort();
    exact_widths.dedup();
    let exacts: Vec<Generated> = exact_widths
        .iter()
        .map(|(a, b)| emit::generate(&spec("exact", &format!("{{a_bits: {a}, b_bits: {b}}}"))))
        .collect();
    // Twins and exact references first: they do not change when a unit's RTL does.
    let mut sources: Vec<Source> = twins
        .iter()
        .map(|t| Source {
            name: &t.name,
            verilog: rows[t.row].twin.0,
            top: rows[t.row].twin.1,
            params: &t.params,
        })
        .collect();
    sources.extend(exacts.iter().map(Source::from));
    sources.extend(units.iter().map(Source::from));
    let total = sources.len();
    eprintln!(
        "synthesising {total} modules (units, twins, exact references; cached after the first run)"
    );
    let done = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<SynthResult> = synth::synthesize_many(&yosys, &sources, &|_, r| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if let Ok((r, false)) = r {
            eprintln!("  [{n}/{total}] {} {:.1} s", r.module, r.seconds);
        }
    })
    .into_iter()
    .collect::<Result<_, _>>()
    .expect("synthesis");
    let (twin_r, rest) = results.split_at(twins.len());
    let (exact_r, unit_r) = rest.split_at(exacts.len());
    let measured: Vec<Measured> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let (style, twin) = twins
                .iter()
                .zip(twin_r)
                .filter(|(t, _)| t.row == i)
                .enumerate()
                .min_by_key(|(_, (_, res))| res.stats.lut)
                .map(|(style, (_, res))| (style as i64, res))
                .expect("every row has a twin");
            let e = exact_widths
                .iter()
                .position(|x| *x == r.exact)
                .expect("listed");
            Measured {
                unit: &unit_r[i],
                twin,
                style,
                exact: &exact_r[e],
            }
        })
        .collect();
    report(&measured, targets);
}

/// The standard table, with the targets of issue 12 (and 22's 1.05x).
fn standard(rows: &[Row], measured: &[Measured], mut targets: Targets) {
    let tmr_of = |n: u32| {
        rows.iter()
            .position(|r| r.family == "tmr" && r.exact.0 == n)
            .map(|i| measured[i].unit)
    };
    println!(
        "{:<22} {:>5} {:>5} {:>5} | {:>5} {:>5} {:>5} {:>8} {:>8} | {:>9} {:>8}",
        "unit",
        "lut",
        "carry",
        "depth",
        "twin",
        "style",
        "depth",
        "/twin",
        "/exact",
        "exact",
        "/tmr"
    );
    for (r, m) in rows.iter().zip(measured) {
        let (u, t) = (&m.unit.stats, &m.twin.stats);
        let exact_ratio = u.lut as f64 / m.exact.stats.lut as f64;
        let tmr_ratio = (r.family == "adam")
            .then(|| tmr_of(r.exact.0))
            .flatten()
            .map(|tmr| u.lut as f64 / tmr.stats.lut as f64);
        let name = &m.unit.module;
        println!(
            "{:<22} {:>5} {:>5} {:>5} | {:>5} {:>5} {:>5} {:>7.2}x {:>7.2}x | {:>9} {:>8}",
            name,
            u.lut,
            u.carry,
            u.depth_luts,
            t.lut,
            if r.styles > 1 {
                m.style.to_string()
            } else {
                "-".into()
            },
            t.depth_luts,
            m.twin_ratio(),
            exact_ratio,
            m.exact.module,
            tmr_ratio.map(|x| format!("{x:.2}x")).unwrap_or_default()
        );
        if r.family != "tmr" {
            targets.check(
                format!(
                    "{name}: {:.2}x its yardstick's LUTs (<= 1.05)",
                    m.twin_ratio()
                ),
                m.twin_ratio() <= 1.05,
            );
        }
        targets.check(
            format!(
                "{name}: depth {} vs yardstick {} (<= yardstick + 1)",
                u.depth_luts, t.depth_luts
            ),
            u.depth_luts <= t.depth_luts + 1,
        );
        if r.family == "tmr" {
            targets.check(
                format!("{name}: {exact_ratio:.2}x exact (>= 2.9, redundancy kept)"),
                exact_ratio >= 2.9,
            );
        }
        let adam_target = match r.yaml.as_str() {
            "{width: 8, frac_bits: 7}" => Some(0.4),
            "{width: 16, frac_bits: 15}" => Some(0.35),
            _ => None,
        };
        if let (Some(target), Some(ratio)) = (adam_target, tmr_ratio) {
            targets.check(
                format!("{name}: {ratio:.2}x TMR (<= {target})"),
                ratio <= target,
            );
        }
        if r.family == "mitchell" && r.exact.0 == 16 {
            targets.check(
                format!("{name}: {exact_ratio:.2}x exact (<= 0.55)"),
                exact_ratio <= 0.55,
            );
        }
        if matches!(r.family, "tmr" | "adam") {
            targets.check(
                format!(
                    "{name}: no constant outputs (redundancy and err live) {:?}",
                    u.constant_outputs
                ),
                u.constant_outputs.is_empty(),
            );
        }
    }
    println!(
        "{} (synth_xilinx -family xcup -nodsp -flatten; depth = LUT levels; yardstick = the \
         smaller twin style of benches/twins/)",
        measured[0].unit.yosys
    );
    targets.print("area");
}

/// The sweep table: configurations above their yardstick, a summary per family and overall,
/// and the neighbour check.
fn sweep(rows: &[Row], measured: &[Measured], mut targets: Targets) {
    println!(
        "{:<26} {:>5} {:>5} {:>5} {:>7}",
        "above its yardstick", "lut", "twin", "style", "/twin"
    );
    for m in measured {
        if m.twin_ratio() > 1.0 {
            println!(
                "{:<26} {:>5} {:>5} {:>5} {:>6.2}x",
                m.unit.module,
                m.unit.stats.lut,
                m.twin.stats.lut,
                m.style,
                m.twin_ratio()
            );
        }
    }
    println!();
    let mut families: Vec<&str> = Vec::new();
    for r in rows {
        if !families.contains(&r.family) {
            families.push(r.family);
        }
    }
    families.push("all");
    for family in families {
        let ratios: Vec<(f64, &str)> = rows
            .iter()
            .zip(measured)
            .filter(|(r, _)| family == "all" || r.family == family)
            .map(|(_, m)| (m.twin_ratio(), m.unit.module.as_str()))
            .collect();
        let above = ratios.iter().filter(|(x, _)| *x > 1.0).count();
        let (worst, worst_name) = ratios
            .iter()
            .copied()
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .expect("non-empty");
        let geo = (ratios.iter().map(|(x, _)| x.ln()).sum::<f64>() / ratios.len() as f64).exp();
        println!(
            "{family:<9} {:>4} configurations, {above:>3} above 1.0x, worst {worst:.2}x ({worst_name}), geometric mean {geo:.3}x",
            ratios.len()
        );
        if family == "all" {
            targets.check(
                format!("geometric mean over the sweep {geo:.3}x (<= 0.95)"),
                geo <= 0.95,
            );
            targets.check(
                format!("worst configuration {worst:.2}x its yardstick, {worst_name} (<= 1.05)"),
                worst <= 1.05,
            );
        }
    }
    // Neighbours: the unit with one more fraction or magnitude bit, same family and axis.
    let mut heavier = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let next = rows
            .iter()
            .position(|s| s.family == r.family && s.place == (r.place.0, r.place.1 + 1));
        if let Some(j) = next {
            let (lut, next_lut) = (measured[i].unit.stats.lut, measured[j].unit.stats.lut);
            if lut as f64 > 1.05 * next_lut as f64 {
                heavier.push(format!(
                    "{} {lut} > {} {next_lut}",
                    measured[i].unit.module, measured[j].unit.module
                ));
            }
        }
    }
    targets.check(
        format!(
            "no unit more than 5 % larger than its neighbour with one more fraction or magnitude \
             bit ({} are{})",
            heavier.len(),
            listed(&heavier)
        ),
        heavier.is_empty(),
    );
    let constant: Vec<&str> = rows
        .iter()
        .zip(measured)
        .filter(|(r, m)| r.family == "adam" && !m.unit.stats.constant_outputs.is_empty())
        .map(|(_, m)| m.unit.module.as_str())
        .collect();
    targets.check(
        format!(
            "every AdAM unit keeps its redundancy and err live (no constant outputs; {} have){}",
            constant.len(),
            listed(&constant)
        ),
        constant.is_empty(),
    );
    println!(
        "{} (synth_xilinx -family xcup -nodsp -flatten; yardstick = the smaller twin style)",
        measured[0].unit.yosys
    );
    targets.print("area sweep");
}

/// `": a, b"` for the names of a target line, nothing when there are none.
fn listed<S: AsRef<str>>(names: &[S]) -> String {
    if names.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = names.iter().map(AsRef::as_ref).collect();
    format!(": {}", names.join(", "))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--sweep") {
        // Families named after --sweep narrow it (e.g. `-- --sweep apot pot`).
        let only: Vec<&str> = args[i + 1..]
            .iter()
            .take_while(|a| !a.starts_with('-'))
            .map(String::as_str)
            .collect();
        // `--max-n N` stops the log units at n = N (their n >= 12 take most of the hour).
        let max_n: i64 = args
            .iter()
            .position(|a| a == "--max-n")
            .and_then(|j| args.get(j + 1))
            .map(|v| v.parse().expect("--max-n takes a width"))
            .unwrap_or(16);
        let rows: Vec<Row> = sweep_rows()
            .into_iter()
            .filter(|r| only.is_empty() || only.contains(&r.family))
            .filter(|r| !matches!(r.family, "mitchell" | "adam") || r.place.0 <= max_n)
            .collect();
        assert!(
            !rows.is_empty(),
            "no sweep family among {only:?} (mitchell, adam, apot, pot, esb)"
        );
        measure(&rows, &verified_in_sweep, &|m, t| sweep(&rows, m, t));
    } else {
        let rows = standard_rows();
        measure(&rows, &|_| true, &|m, t| standard(&rows, m, t));
    }
}
