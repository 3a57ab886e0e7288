//! `make bench` area table: every unit of the issue-12 list synthesised with the project's own
//! flow (Yosys `synth_xilinx -family xcup -nodsp`), beside its behavioural twin (the hand-written
//! Verilog of `benches/twins/`, from ARITHMETIC.md) and the exact multiplier of the same
//! operand widths. Prints LUTs, carries, LUT depth, the ratios, and checks them against the
//! targets (a miss is printed, not a panic: this is a benchmark).

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

/// One row: the unit, its twin (file, top, parameters) and the exact `a × b` it compares to.
struct Row {
    family: &'static str,
    yaml: String,
    twin: (&'static str, &'static str, Vec<(&'static str, i64)>),
    exact: (u32, u32),
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

fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for (a, b) in [(4, 4), (4, 8), (8, 8), (16, 16)] {
        rows.push(Row {
            family: "exact",
            yaml: format!("{{a_bits: {a}, b_bits: {b}}}"),
            twin: (EXACT_TWIN, "exact_twin", vec![("A", a), ("B", b)]),
            exact: (a as u32, b as u32),
        });
    }
    for n in [8, 16] {
        rows.push(Row {
            family: "tmr",
            yaml: format!("{{width: {n}}}"),
            twin: (TMR_TWIN, "tmr_twin", vec![("A", n), ("B", n)]),
            exact: (n as u32, n as u32),
        });
    }
    // ARITHMETIC.md §1.3 useful points, activations of 8 bits; WP is filled in from the unit.
    for (e, k) in [(2, 1), (3, 0), (2, 2), (3, 2), (3, 4), (4, 3)] {
        rows.push(Row {
            family: "esb",
            yaml: format!("{{exp_bits: {e}, frac_bits: {k}, act_bits: 8}}"),
            twin: (ESB_TWIN, "esb_twin", vec![("E", e), ("K", k), ("A", 8)]),
            exact: ((1 + e + k) as u32, 8),
        });
    }
    for b in 2..=6 {
        rows.push(Row {
            family: "apot",
            yaml: format!("{{mag_bits: {b}, act_bits: 8}}"),
            twin: (APOT_TWIN, "apot_twin", vec![("B", b), ("A", 8)]),
            exact: ((b + 1) as u32, 8),
        });
    }
    rows.push(Row {
        family: "pot",
        yaml: "{mag_bits: 3, act_bits: 8}".into(),
        twin: (POT_TWIN, "pot_twin", vec![("B", 3), ("A", 8)]),
        exact: (4, 8),
    });
    for family in ["mitchell", "adam"] {
        for (n, t) in [(8, 7), (8, 5), (8, 3), (16, 15)] {
            rows.push(Row {
                family,
                yaml: format!("{{width: {n}, frac_bits: {t}}}"),
                twin: (
                    LOG_TWINS,
                    if family == "adam" {
                        "adam_twin"
                    } else {
                        "mitchell_twin"
                    },
                    vec![("N", n), ("T", t)],
                ),
                exact: (n as u32, n as u32),
            });
        }
    }
    rows
}

/// A twin is a fair yardstick only if it computes the unit's function: each one runs in
/// Verilator, wrapped in a module with the unit's ports, against the unit's golden model
/// (exhaustive up to 2^24 input combinations, else corners plus 100,000 seeded random vectors).
/// Returns one line per twin that disagrees.
fn verify_twins(
    rows: &[Row],
    units: &[Generated],
    twin_params: &[Vec<(&str, i64)>],
) -> Vec<String> {
    let verilator = Verilator::locate().expect("Verilator: run `make deps`");
    let mut failures = Vec::new();
    for ((r, g), params) in rows.iter().zip(units).zip(twin_params) {
        let name = format!("twin_{}", g.name);
        let ports: Vec<String> = g
            .manifest
            .ports
            .iter()
            .map(|p| format!("{} [{}:0] {}", p.direction, p.width - 1, p.name))
            .collect();
        let overrides: Vec<String> = params.iter().map(|(k, v)| format!(".{k}({v})")).collect();
        let connections: Vec<String> = g
            .manifest
            .ports
            .iter()
            .map(|p| format!(".{0}({0})", p.name))
            .collect();
        // The twins are behavioural Verilog that relies on its width rules (as their authors
        // intend), which Verilator reports as fatal width warnings.
        let verilog = format!(
            "/* verilator lint_off WIDTH */\n{}\nmodule {name}({});\n  {} #({}) twin({});\nendmodule\n",
            r.twin.0,
            ports.join(", "),
            r.twin.1,
            overrides.join(", "),
            connections.join(", ")
        );
        let mut manifest = g.manifest.clone();
        manifest.module = name.clone();
        let wrapped = Generated {
            name: name.clone(),
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
            Ok(m) => failures.push(format!("{name} disagrees with the golden model: {}", m[0])),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    failures
}

fn main() {
    let yosys = Yosys::locate().expect("Yosys: run `make deps`");
    let rows = rows();
    let units: Vec<Generated> = rows
        .iter()
        .map(|r| emit::generate(&spec(r.family, &r.yaml)))
        .collect();
    let twin_params: Vec<Vec<(&str, i64)>> = rows
        .iter()
        .zip(&units)
        .map(|(r, g)| {
            let mut p = r.twin.2.clone();
            if matches!(r.family, "esb" | "apot" | "pot") {
                p.push(("WP", output_width(g)));
            }
            p
        })
        .collect();
    let twin_failures = verify_twins(&rows, &units, &twin_params);
    if twin_failures.is_empty() {
        eprintln!(
            "{} twins agree with the golden models in Verilator",
            rows.len()
        );
    }
    let twin_names: Vec<String> = units.iter().map(|g| format!("twin_{}", g.name)).collect();
    let mut exact_widths: Vec<(u32, u32)> = rows.iter().map(|r| r.exact).collect();
    exact_widths.sort();
    exact_widths.dedup();
    let exacts: Vec<Generated> = exact_widths
        .iter()
        .map(|(a, b)| emit::generate(&spec("exact", &format!("{{a_bits: {a}, b_bits: {b}}}"))))
        .collect();

    let mut sources: Vec<Source> = units.iter().map(Source::from).collect();
    sources.extend(
        rows.iter()
            .zip(&twin_params)
            .zip(&twin_names)
            .map(|((r, params), name)| Source {
                name,
                verilog: r.twin.0,
                top: r.twin.1,
                params,
            }),
    );
    sources.extend(exacts.iter().map(Source::from));
    let total = sources.len();
    eprintln!(
        "synthesising {total} modules (units, twins, exact references; cached after the first run)"
    );
    let results: Vec<SynthResult> = synth::synthesize_many(&yosys, &sources, &|i, r| {
        if let Ok((r, false)) = r {
            eprintln!("  [{}/{total}] {} {:.1} s", i + 1, r.module, r.seconds);
        }
    })
    .into_iter()
    .collect::<Result<_, _>>()
    .expect("synthesis");
    let (unit_r, rest) = results.split_at(rows.len());
    let (twin_r, exact_r) = rest.split_at(rows.len());
    let exact_of = |w: (u32, u32)| {
        let i = exact_widths.iter().position(|x| *x == w).expect("listed");
        &exact_r[i]
    };
    let unit_of = |family: &str, yaml: &str| {
        rows.iter()
            .position(|r| r.family == family && r.yaml == yaml)
            .map(|i| &unit_r[i])
    };

    let mut misses = Vec::new();
    println!(
        "{:<22} {:>5} {:>5} {:>5} | {:>5} {:>5} {:>8} {:>8} | {:>9} {:>8}",
        "unit", "lut", "carry", "depth", "twin", "depth", "/twin", "/exact", "exact", "/tmr"
    );
    for (i, r) in rows.iter().enumerate() {
        let (u, t) = (&unit_r[i].stats, &twin_r[i].stats);
        let e = exact_of(r.exact);
        let twin_ratio = u.lut as f64 / t.lut as f64;
        let exact_ratio = u.lut as f64 / e.stats.lut as f64;
        let tmr = match r.family {
            "adam" => unit_of("tmr", &format!("{{width: {}}}", r.exact.0)),
            _ => None,
        };
        let tmr_ratio = tmr.map(|m| u.lut as f64 / m.stats.lut as f64);
        println!(
            "{:<22} {:>5} {:>5} {:>5} | {:>5} {:>5} {:>7.2}x {:>7.2}x | {:>9} {:>8}",
            unit_r[i].module,
            u.lut,
            u.carry,
            u.depth_luts,
            t.lut,
            t.depth_luts,
            twin_ratio,
            exact_ratio,
            e.module,
            tmr_ratio.map(|x| format!("{x:.2}x")).unwrap_or_default()
        );
        // Targets of issue 12.
        let name = &unit_r[i].module;
        if r.family != "tmr" && twin_ratio > 1.0 {
            misses.push(format!(
                "{name}: {twin_ratio:.2}x its twin's LUTs (target <= 1.0)"
            ));
        }
        if u.depth_luts > t.depth_luts + 1 {
            misses.push(format!(
                "{name}: depth {} vs twin {} (target <= twin + 1)",
                u.depth_luts, t.depth_luts
            ));
        }
        if r.family == "tmr" && exact_ratio < 2.9 {
            misses.push(format!(
                "{name}: {exact_ratio:.2}x exact (target >= 2.9, redundancy kept)"
            ));
        }
        let adam_target = match r.yaml.as_str() {
            "{width: 8, frac_bits: 7}" => Some(0.4),
            "{width: 16, frac_bits: 15}" => Some(0.35),
            _ => None,
        };
        if let (Some(target), Some(ratio)) = (adam_target, tmr_ratio) {
            if ratio > target {
                misses.push(format!("{name}: {ratio:.2}x TMR (target <= {target})"));
            }
        }
        if r.family == "mitchell" && r.exact.0 == 16 && exact_ratio > 0.55 {
            misses.push(format!("{name}: {exact_ratio:.2}x exact (target <= 0.55)"));
        }
        if matches!(r.family, "tmr" | "adam") && !u.constant_outputs.is_empty() {
            misses.push(format!("{name}: constant outputs {:?}", u.constant_outputs));
        }
    }
    println!(
        "{} (synth_xilinx -family xcup -nodsp -flatten; depth = LUT levels; twins: benches/twins/)",
        unit_r[0].yosys
    );
    misses.extend(twin_failures);
    if misses.is_empty() {
        println!("area targets: all met");
    } else {
        println!("area targets missed:");
        for m in &misses {
            println!("  {m}");
        }
    }
}
