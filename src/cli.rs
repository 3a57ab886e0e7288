//! The `qmulgen` command line: parse, call the library, print. Exit status 0 on success,
//! 1 when verification finds a mismatch or a tool fails, 2 for bad input.

use crate::rtl::{self, Generated};
use crate::sim::{self, Model, VectorSource, Verilator};
use crate::spec::{Design, ParamMap, SpecError, UnitSpec};
use crate::units::{self, Dir, Unit};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};

const ABOUT: &str =
    "Generate Verilog for quantized-DNN multipliers (exact, TMR, ESB, APoT/PoT, Mitchell, AdAM) with rust-hdl, \
and prove it in Verilator against bit-exact golden models.";

#[derive(Parser)]
#[command(name = "qmulgen", version, about = ABOUT, after_help = "Examples:
  qmulgen list
  qmulgen gen exact --width 8
  qmulgen gen esb --exp-bits 2 --frac-bits 2 --act-bits 8
  qmulgen gen apot --mag-bits 4 --act-bits 8
  qmulgen gen --config designs/default.yaml --out rtl_out
  qmulgen gen adam --width 8 --frac-bits 7 --fault-ports
  qmulgen verify tmr --width 12 --signed
  qmulgen metrics adam --width 8 --frac-bits 5 --rtl
  qmulgen eval exact --width 8 13 11")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List families, their parameters, ranges and defaults
    #[command(after_help = "Example:\n  qmulgen list")]
    List,
    /// Write Verilog, a JSON manifest and Vivado TCL/XDC for one unit or a YAML design
    #[command(after_help = "Examples:
  qmulgen gen exact --a-bits 8 --b-bits 6 --signed
  qmulgen gen tmr --width 12 --pipeline --name tmr12 --out build/
  qmulgen gen --config designs/default.yaml")]
    Gen {
        #[command(flatten)]
        unit: UnitArgs,
        /// Output folder
        #[arg(long, default_value = "rtl_out")]
        out: PathBuf,
        /// Clock for the XDC of a single unit (a design file sets its own clock_mhz)
        #[arg(long, default_value_t = 300.0)]
        clock_mhz: f64,
    },
    /// Generate, build the Verilator model and compare every output with the golden model
    #[command(
        after_help = "Default: exhaustive when the inputs span at most 2^24 combinations,
otherwise the unit's corner cases plus 1,000,000 seeded random vectors.

Examples:
  qmulgen verify exact --width 8
  qmulgen verify exact --width 16 --signed --vectors 5000000 --seed 7
  qmulgen verify tmr --width 6 --pipeline --exhaustive
  qmulgen verify --config designs/default.yaml"
    )]
    Verify {
        #[command(flatten)]
        unit: UnitArgs,
        /// Check every input combination (at most 2^32)
        #[arg(long, conflicts_with = "vectors")]
        exhaustive: bool,
        /// Every configuration of FAMILY, two at a time: exhaustive up to 2^24 input
        /// combinations, else corner cases + 1,000,000 random vectors; totals at the end
        #[arg(long, conflicts_with_all = ["vectors", "config"])]
        all: bool,
        /// Corner cases plus this many seeded random vectors
        #[arg(long)]
        vectors: Option<u64>,
        /// Seed for the random vectors
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Quantize real-valued weights to weight codes ($readmemh hex) and report the error
    #[command(
        after_help = "Weights: one number per line, or comma-separated (CSV); '#' starts a comment.
Without --alpha the DDA scale λ(b,k)·std(w) is used where the λ table has an entry.

Examples:
  qmulgen quantize esb --exp-bits 2 --frac-bits 2 --input weights.txt --out codes.hex
  qmulgen quantize esb --exp-bits 3 --frac-bits 4 --input w.csv --alpha 0.02 --out codes.hex"
    )]
    Quantize {
        #[command(flatten)]
        unit: UnitArgs,
        /// Text/CSV file of real-valued weights
        #[arg(long)]
        input: PathBuf,
        /// Scale factor alpha (weight = level · alpha)
        #[arg(long)]
        alpha: Option<f64>,
        /// Output file of codes, one hex word per line
        #[arg(long)]
        out: PathBuf,
    },
    /// Error metrics of an approximate unit (§3.4): ER, MED, NMED, MRED, WCE, WCRE, mean error, MSE
    #[command(
        after_help = "Exhaustive over all operand pairs (zeros included) up to 2^24 pairs (n <= 12);
above, or with --vectors, seeded random pairs (default 16,777,216, seed 1). The report says
which. --rtl computes the same metrics from the Verilator model's outputs and fails (exit 1)
if they differ from the golden model's.

Examples:
  qmulgen metrics adam --width 8 --frac-bits 7
  qmulgen metrics mitchell --width 16 --vectors 1000000 --seed 3 --json m.json --csv m.csv
  qmulgen metrics adam --width 12 --frac-bits 8 --signed --rtl"
    )]
    Metrics {
        #[command(flatten)]
        unit: UnitArgs,
        /// Seeded random pairs instead of all pairs
        #[arg(long)]
        vectors: Option<u64>,
        /// Seed for the random pairs
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also compute the metrics from the Verilator model and require them to be equal
        #[arg(long)]
        rtl: bool,
        /// Write the report as JSON
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write the report as CSV (header + one row per source)
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Print the golden model's outputs for the given operands
    #[command(
        after_help = "Operands are given in port order (see `qmulgen list`); signed ports take
negative numbers.

Examples:
  qmulgen eval exact --width 8 13 11        # p=143
  qmulgen eval exact --width 4 --signed -8 7 --json"
    )]
    Eval {
        #[command(flatten)]
        unit: UnitArgs,
        /// Operand values, one per input port
        #[arg(allow_negative_numbers = true, required = true)]
        operands: Vec<String>,
        /// Print JSON instead of name=value
        #[arg(long)]
        json: bool,
    },
}

/// The unit, by family and parameters, or a YAML design. Flag names are the YAML keys with
/// `-` for `_`; a flag a family does not take is an error.
#[derive(Args, Default)]
struct UnitArgs {
    /// Family (see `qmulgen list`)
    #[arg(required_unless_present = "config", conflicts_with = "config")]
    family: Option<String>,
    /// YAML design file with a list of units
    #[arg(long)]
    config: Option<PathBuf>,
    /// Width of operand a
    #[arg(long)]
    a_bits: Option<u32>,
    /// Width of operand b
    #[arg(long)]
    b_bits: Option<u32>,
    /// Width of both operands
    #[arg(long)]
    width: Option<u32>,
    /// Two's complement operands and product
    #[arg(long)]
    signed: bool,
    /// Wrap the core in input and output registers (clk, ce), latency 2
    #[arg(long)]
    pipeline: bool,
    /// Module name (default: derived from the parameters)
    #[arg(long)]
    name: Option<String>,
    /// Add fault-injection inputs fault_site/fault_kind (tmr, adam)
    #[arg(long)]
    fault_ports: bool,
    /// ESB exponent field width e
    #[arg(long)]
    exp_bits: Option<u32>,
    /// ESB fraction field width k; Mitchell/AdAM fraction width t
    #[arg(long)]
    frac_bits: Option<u32>,
    /// Unsigned activation width (esb)
    #[arg(long)]
    act_bits: Option<u32>,
    /// ESB linear mode (word {s, j}, level 2j+1)
    #[arg(long)]
    linear: bool,
    /// ESB linear-mode weight word width
    #[arg(long)]
    weight_bits: Option<u32>,
    /// APoT/PoT magnitude bits B
    #[arg(long)]
    mag_bits: Option<u32>,
}

impl UnitArgs {
    fn params(&self) -> ParamMap {
        let mut m = ParamMap::new();
        let mut num = |k: &str, v: Option<u32>| {
            if let Some(v) = v {
                m.insert(k.into(), v.into());
            }
        };
        num("a_bits", self.a_bits);
        num("b_bits", self.b_bits);
        num("width", self.width);
        num("exp_bits", self.exp_bits);
        num("frac_bits", self.frac_bits);
        num("act_bits", self.act_bits);
        num("weight_bits", self.weight_bits);
        num("mag_bits", self.mag_bits);
        for (k, on) in [
            ("signed", self.signed),
            ("pipeline", self.pipeline),
            ("fault_ports", self.fault_ports),
            ("linear", self.linear),
        ] {
            if on {
                m.insert(k.into(), true.into());
            }
        }
        if let Some(n) = &self.name {
            m.insert("name".into(), n.clone().into());
        }
        m
    }

    fn has_unit_flags(&self) -> bool {
        !self.params().is_empty()
    }

    /// The units named on the command line, with the clock of their design.
    fn design(&self, clock_mhz: f64) -> Result<Design, SpecError> {
        match (&self.config, &self.family) {
            (Some(path), _) => {
                if self.has_unit_flags() {
                    return Err(SpecError(
                        "unit flags cannot be combined with --config; put them in the YAML file"
                            .into(),
                    ));
                }
                Design::load(path)
            }
            (None, Some(family)) => Ok(Design {
                clock_mhz,
                units: vec![UnitSpec::from_params(family, &self.params())?],
            }),
            (None, None) => Err(SpecError("give a family or --config FILE".into())),
        }
    }
}

/// Failure of a command: bad input (exit 2) or a failed check/tool (exit 1).
pub enum Failure {
    BadInput(String),
    Failed(String),
}

impl From<SpecError> for Failure {
    fn from(e: SpecError) -> Self {
        Failure::BadInput(e.0)
    }
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List => {
            print!("{}", list_text());
            Ok(())
        }
        Command::Gen {
            unit,
            out,
            clock_mhz,
        } => cmd_gen(&unit, &out, clock_mhz),
        Command::Verify {
            unit,
            exhaustive,
            all: true,
            ..
        } => cmd_verify_all(&unit, exhaustive),
        Command::Verify {
            unit,
            exhaustive,
            vectors,
            seed,
            all: false,
        } => cmd_verify(&unit, exhaustive, vectors, seed),
        Command::Eval {
            unit,
            operands,
            json,
        } => cmd_eval(&unit, &operands, json),
        Command::Quantize {
            unit,
            input,
            alpha,
            out,
        } => cmd_quantize(&unit, &input, alpha, &out),
        Command::Metrics {
            unit,
            vectors,
            seed,
            rtl,
            json,
            csv,
        } => cmd_metrics(&unit, vectors, seed, rtl, json.as_deref(), csv.as_deref()),
    };
    match result {
        Ok(()) => 0,
        Err(Failure::BadInput(msg)) => {
            eprintln!("error: {msg}");
            2
        }
        Err(Failure::Failed(msg)) => {
            eprintln!("error: {msg}");
            1
        }
    }
}

/// The text of `qmulgen list`.
pub fn list_text() -> String {
    let mut s = String::new();
    for f in units::FAMILIES {
        s.push_str(&format!("{}  {}\n", f.name, f.summary));
        for p in f.params {
            s.push_str(&format!(
                "    --{:<14} {:<12} default {:<14} {}\n",
                p.key.replace('_', "-"),
                p.range,
                p.default,
                p.help
            ));
        }
        s.push_str("    --pipeline       true/false   default false          input/output registers, latency 2\n");
        s.push_str("    --name           identifier   default derived        module name\n\n");
    }
    s
}

/// Every file of a design, in memory: Verilog, manifest, Vivado TCL and XDC per unit.
pub fn design_files(design: &Design) -> (Vec<Generated>, Vec<(String, String)>) {
    let mut gens = Vec::new();
    let mut files = Vec::new();
    for spec in &design.units {
        for note in spec.unit.notes() {
            eprintln!("warning: {note}");
        }
        let g = rtl::generate(spec);
        files.push((format!("{}.v", g.name), g.verilog.clone()));
        let json = serde_json::to_string_pretty(&g.manifest).expect("manifest serializes");
        files.push((format!("{}.json", g.name), json + "\n"));
        files.extend(crate::vivado::files(&g.manifest, design.clock_mhz));
        gens.push(g);
    }
    (gens, files)
}

fn cmd_gen(unit: &UnitArgs, out: &Path, clock_mhz: f64) -> Result<(), Failure> {
    if !(clock_mhz > 0.0 && clock_mhz <= 1000.0) {
        return Err(Failure::BadInput(format!(
            "--clock-mhz = {clock_mhz} is out of range, allowed 0 < clock-mhz <= 1000"
        )));
    }
    let design = unit.design(clock_mhz)?;
    let (gens, files) = design_files(&design);
    rtl::write_files_atomically(out, &files).map_err(|e| {
        Failure::BadInput(format!(
            "cannot write to output folder {}: {e}",
            out.display()
        ))
    })?;
    for g in &gens {
        println!(
            "wrote {}/{}.v (+ .json, _ooc.tcl, .xdc)  latency {}",
            out.display(),
            g.name,
            g.manifest.latency
        );
    }
    Ok(())
}

fn cmd_verify(
    unit: &UnitArgs,
    exhaustive: bool,
    vectors: Option<u64>,
    seed: u64,
) -> Result<(), Failure> {
    let design = unit.design(300.0)?;
    let verilator = Verilator::locate().map_err(Failure::Failed)?;
    let mut failed = Vec::new();
    for spec in &design.units {
        for note in spec.unit.notes() {
            eprintln!("warning: {note}");
        }
        let g = rtl::generate(spec);
        let sources = sources_for(spec.unit.as_ref(), exhaustive, vectors, seed)?;
        if let Err(report) = sim::lint(&verilator, &g) {
            return Err(Failure::Failed(format!("{} fails lint:\n{report}", g.name)));
        }
        eprintln!("{}: building Verilator model ...", g.name);
        let model = Model::build(&verilator, &g).map_err(Failure::Failed)?;
        let mut total = 0u64;
        let mut mismatches = 0u64;
        let mut seconds = 0.0;
        for src in &sources {
            let r = sim::check(&model, spec.unit.as_ref(), src.as_ref())
                .map_err(|e| Failure::Failed(format!("{}: {e}", g.name)))?;
            total += r.vectors;
            mismatches += r.mismatches;
            seconds += r.elapsed.as_secs_f64();
            for m in &r.first_mismatches {
                println!("  MISMATCH {}: {m}", g.name);
            }
        }
        let what: Vec<String> = sources.iter().map(|s| s.describe()).collect();
        println!(
            "{}: {} {} vectors ({}), {} mismatches, {:.2} s, {:.1} M vectors/s{}",
            g.name,
            if mismatches == 0 { "PASS" } else { "FAIL" },
            total,
            what.join(" + "),
            mismatches,
            seconds,
            total as f64 / seconds.max(1e-9) / 1e6,
            match model.build_time {
                Some(t) => format!(", model built in {:.1} s", t.as_secs_f64()),
                None => ", model from cache".into(),
            }
        );
        if mismatches > 0 {
            failed.push(g.name.clone());
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "mismatches in {}",
            failed.join(", ")
        )))
    }
}

/// `verify FAMILY --all`: every sweep configuration, exhaustively, on two workers.
fn cmd_verify_all(unit: &UnitArgs, exhaustive: bool) -> Result<(), Failure> {
    let family = unit.family.as_deref().unwrap_or_default();
    let fam = units::family(family)
        .ok_or_else(|| Failure::BadInput(format!("unknown family `{family}`")))?;
    if exhaustive || unit.has_unit_flags() {
        return Err(Failure::BadInput(
            "--all takes only a family: it sweeps every configuration exhaustively".into(),
        ));
    }
    let verilator = Verilator::locate().map_err(Failure::Failed)?;
    let configs = (fam.sweep)();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let start = std::time::Instant::now();
    let results = std::sync::Mutex::new(Vec::new());
    eprintln!(
        "{}: {} configurations (exhaustive up to 2^24 inputs, else corners + 1,000,000 random)",
        fam.name,
        configs.len()
    );
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(params) = configs.get(i) else { break };
                let line = verify_one_default(&verilator, family, params);
                println!("[{}/{}] {}", i + 1, configs.len(), line.1);
                results.lock().expect("results lock").push(line);
            });
        }
    });
    let results = results.into_inner().expect("results lock");
    let vectors: u64 = results.iter().map(|r| r.0.unwrap_or(0)).sum();
    let failed: Vec<&String> = results
        .iter()
        .filter(|r| r.0.is_none())
        .map(|r| &r.1)
        .collect();
    println!(
        "{}: {} configurations, {} passed, {} failed, {} vectors, {:.0} s",
        fam.name,
        results.len(),
        results.len() - failed.len(),
        failed.len(),
        vectors,
        start.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "{} configurations failed",
            failed.len()
        )))
    }
}

/// (vectors if passed, one-line summary)
fn verify_one_default(
    verilator: &Verilator,
    family: &str,
    params: &ParamMap,
) -> (Option<u64>, String) {
    let spec = match UnitSpec::from_params(family, params) {
        Ok(s) => s,
        Err(e) => return (None, format!("FAIL {e}")),
    };
    let g = rtl::generate(&spec);
    if let Err(r) = sim::lint(verilator, &g) {
        return (
            None,
            format!("{}: FAIL lint: {}", g.name, r.lines().next().unwrap_or("")),
        );
    }
    let model = match Model::build(verilator, &g) {
        Ok(m) => m,
        Err(e) => {
            return (
                None,
                format!("{}: FAIL {}", g.name, e.lines().next().unwrap_or("")),
            )
        }
    };
    let mut vectors = 0;
    let mut what = Vec::new();
    for src in sim::default_sources(spec.unit.as_ref(), 1_000_000, 1) {
        match sim::check(&model, spec.unit.as_ref(), src.as_ref()) {
            Ok(r) if r.passed() => {
                vectors += r.vectors;
                what.push(src.describe());
            }
            Ok(r) => {
                return (
                    None,
                    format!(
                        "{}: FAIL {} of {} mismatch, first {}",
                        g.name,
                        r.mismatches,
                        r.vectors,
                        r.first_mismatches
                            .first()
                            .map(|m| m.to_string())
                            .unwrap_or_default()
                    ),
                )
            }
            Err(e) => return (None, format!("{}: FAIL {e}", g.name)),
        }
    }
    (
        Some(vectors),
        format!("{}: PASS {vectors} vectors ({})", g.name, what.join(" + ")),
    )
}

fn sources_for(
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

fn cmd_metrics(
    unit: &UnitArgs,
    vectors: Option<u64>,
    seed: u64,
    rtl: bool,
    json: Option<&Path>,
    csv: Option<&Path>,
) -> Result<(), Failure> {
    use crate::metrics;
    if unit.config.is_some() {
        return Err(Failure::BadInput(
            "metrics takes one unit (a family and its flags), not --config".into(),
        ));
    }
    let design = unit.design(300.0)?;
    let spec = &design.units[0];
    let (pairs, sampling) =
        metrics::operand_pairs(spec.unit.as_ref(), vectors, seed).map_err(Failure::BadInput)?;
    // Check the output paths before the (possibly long) run.
    let targets: Vec<(&Path, PathBuf, String, bool)> = [(json, true), (csv, false)]
        .into_iter()
        .filter_map(|(path, is_json)| path.map(|p| (p, is_json)))
        .map(|(path, is_json)| {
            let dir = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| {
                    Failure::BadInput(format!("{} is not a file name", path.display()))
                })?;
            Ok((path, dir, name, is_json))
        })
        .collect::<Result<_, Failure>>()?;
    let name = spec.module_name();
    eprintln!("{name}: metrics {} ...", sampling.describe());
    let golden = metrics::golden_metrics(spec.unit.as_ref(), pairs.as_ref());
    let rtl_result = if rtl {
        let verilator = Verilator::locate().map_err(Failure::Failed)?;
        let g = rtl::generate(spec);
        if let Err(report) = sim::lint(&verilator, &g) {
            return Err(Failure::Failed(format!("{} fails lint:\n{report}", g.name)));
        }
        eprintln!("{name}: building Verilator model ...");
        let model = Model::build(&verilator, &g).map_err(Failure::Failed)?;
        Some(
            metrics::rtl_metrics(&model, spec.unit.as_ref(), pairs.as_ref())
                .map_err(|e| Failure::Failed(format!("{name}: {e}")))?,
        )
    } else {
        None
    };

    println!("{name}: {}", sampling.describe());
    let rtl_rows = rtl_result.map(|m| m.rows());
    for (i, (key, value)) in golden.rows().into_iter().enumerate() {
        match &rtl_rows {
            Some(r) => println!("  {key:<11} {value:>22}   RTL {:>22}", r[i].1),
            None => println!("  {key:<11} {value:>22}"),
        }
    }
    let mut files = Vec::new();
    for (path, dir, file, is_json) in &targets {
        let text = if *is_json {
            let report = serde_json::json!({
                "module": name,
                "family": spec.unit.family(),
                "params": spec.unit.params(),
                "sampling": sampling,
                "golden": golden,
                "rtl": rtl_result,
            });
            serde_json::to_string_pretty(&report).expect("report serializes") + "\n"
        } else {
            let mut t = format!(
                "module,source,sampling,pairs,seed,{}\n",
                metrics::ErrorMetrics::CSV_HEADER
            );
            let (kind, seed) = match sampling {
                metrics::Sampling::Exhaustive { .. } => ("exhaustive", String::new()),
                metrics::Sampling::Random { seed, .. } => ("random", seed.to_string()),
            };
            for (source, m) in [("golden", Some(golden)), ("rtl", rtl_result)] {
                if let Some(m) = m {
                    t.push_str(&format!(
                        "{name},{source},{kind},{},{seed},{}\n",
                        sampling.pairs(),
                        m.csv()
                    ));
                }
            }
            t
        };
        rtl::write_files_atomically(dir, &[(file.clone(), text)])
            .map_err(|e| Failure::BadInput(format!("cannot write {}: {e}", path.display())))?;
        files.push(path.display().to_string());
    }
    if !files.is_empty() {
        println!("wrote {}", files.join(", "));
    }
    match rtl_result {
        Some(r) if r != golden => Err(Failure::Failed(format!(
            "{name}: metrics from the Verilator model differ from the golden model's"
        ))),
        Some(_) => {
            println!("{name}: RTL metrics equal the golden model's");
            Ok(())
        }
        None => Ok(()),
    }
}

fn cmd_eval(unit: &UnitArgs, operands: &[String], json: bool) -> Result<(), Failure> {
    if unit.config.is_some() {
        return Err(Failure::BadInput(
            "eval takes one unit (a family and its flags), not --config".into(),
        ));
    }
    let design = unit.design(300.0)?;
    let spec = &design.units[0];
    let ports = spec.unit.ports();
    let (inputs, outputs): (Vec<_>, Vec<_>) = ports.iter().partition(|p| p.dir == Dir::Input);
    if operands.len() != inputs.len() {
        let names: Vec<&str> = inputs.iter().map(|p| p.name.as_str()).collect();
        return Err(Failure::BadInput(format!(
            "{} takes {} operands ({}), got {}",
            spec.unit.family(),
            inputs.len(),
            names.join(" "),
            operands.len()
        )));
    }
    let mut raw = Vec::new();
    for (text, port) in operands.iter().zip(&inputs) {
        raw.push(parse_operand(text, port)?);
    }
    let mut out = vec![0u64; outputs.len()];
    spec.unit.golden(&raw, &mut out);
    let shown: Vec<(String, i128)> = outputs
        .iter()
        .zip(&out)
        .map(|(p, &v)| {
            let v = if p.signed {
                units::sign_extend(v, p.width) as i128
            } else {
                v as i128
            };
            (p.name.clone(), v)
        })
        .collect();
    if json {
        let obj: serde_json::Map<String, serde_json::Value> = shown
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::Value::from(*v as i64)))
            .collect();
        println!("{}", serde_json::Value::Object(obj));
    } else {
        let parts: Vec<String> = shown.iter().map(|(n, v)| format!("{n}={v}")).collect();
        println!("{}", parts.join(" "));
    }
    Ok(())
}

fn cmd_quantize(
    unit: &UnitArgs,
    input: &Path,
    alpha: Option<f64>,
    out: &Path,
) -> Result<(), Failure> {
    let family = unit.family.as_deref().unwrap_or_default();
    let fam = units::family(family)
        .ok_or_else(|| Failure::BadInput(format!("unknown family `{family}`")))?;
    let quantize = fam
        .quantize
        .ok_or_else(|| Failure::BadInput(format!("{family} has no weight quantizer")))?;
    let text = std::fs::read_to_string(input)
        .map_err(|e| Failure::BadInput(format!("cannot read {}: {e}", input.display())))?;
    let mut weights = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for field in line.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let v: f64 = field
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| {
                    Failure::BadInput(format!(
                        "{}:{}: `{field}` is not a number",
                        input.display(),
                        n + 1
                    ))
                })?;
            weights.push(v);
        }
    }
    if weights.is_empty() {
        return Err(Failure::BadInput(format!(
            "{}: no weights found",
            input.display()
        )));
    }
    let mut params = unit.params();
    params.remove("pipeline");
    params.remove("name");
    let q = quantize(&params, &weights, alpha)?;
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .ok_or_else(|| Failure::BadInput(format!("--out {} is not a file name", out.display())))?;
    rtl::write_files_atomically(dir, &[(name.to_string_lossy().into_owned(), q.readmemh())])
        .map_err(|e| Failure::BadInput(format!("cannot write {}: {e}", out.display())))?;
    println!(
        "wrote {} ({} codes of {} bits), alpha {:.6}, MSE {:.6e}, max |error| {:.6e}, clipped {:.2} %",
        out.display(),
        q.codes.len(),
        q.code_bits,
        q.alpha,
        q.mse(&weights),
        q.max_abs_error(&weights),
        100.0 * q.clipped as f64 / weights.len() as f64
    );
    Ok(())
}

/// An operand for `port`: unsigned 0..2^w-1, or for signed ports -2^(w-1)..2^(w-1)-1.
fn parse_operand(text: &str, port: &units::Port) -> Result<u64, Failure> {
    let v: i128 = text.parse().map_err(|_| {
        Failure::BadInput(format!(
            "operand {} = `{text}` is not an integer",
            port.name
        ))
    })?;
    let w = port.width as u32;
    let (lo, hi) = if port.signed {
        (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1)
    } else {
        (0, (1i128 << w) - 1)
    };
    if v < lo || v > hi {
        return Err(Failure::BadInput(format!(
            "operand {} = {v} does not fit {w} bits {}, allowed {lo}..={hi}",
            port.name,
            if port.signed { "signed" } else { "unsigned" }
        )));
    }
    Ok((v as u64) & units::mask(port.width))
}
