//! Yosys side of the flow: find the project's Yosys (PyPI `pyosys`, installed by `make deps`),
//! synthesise a generated module for UltraScale+ (`synth_xilinx -family xcup -nodsp`), and read
//! the mapped netlist (Yosys JSON): cell counts and logic depth. Knows units only through the
//! generated Verilog; results are cached by the hash of the Verilog, the script and the Yosys
//! version.

pub mod instrument;
mod netlist;

pub use netlist::{nets, Bit, Cell, Netlist, NetlistStats, Pin};

use crate::emit::{sha256_hex, Generated};
use askama::Template;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// A Yosys installation: a Python interpreter that imports `pyosys`, and its version line.
#[derive(Clone, Debug)]
pub struct Yosys {
    pub python: PathBuf,
    pub version: String,
}

/// Drives one Yosys script through pyosys; Yosys' log goes to stdout.
const RUNNER: &str = "import sys\nfrom pyosys import libyosys as ys\nd = ys.Design()\nys.run_pass('script ' + sys.argv[1], d)\n";

impl Yosys {
    /// The Python of the project's `.venv` (from `make deps`) with `pyosys` importable.
    pub fn locate() -> Result<Yosys, String> {
        for base in [
            PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            PathBuf::from("."),
        ] {
            let python = base.join(".venv/bin/python");
            if !python.is_file() {
                continue;
            }
            let out = Command::new(&python)
                .args([
                    "-c",
                    "from pyosys import libyosys as ys; print(ys.yosys_maybe_version())",
                ])
                .output();
            if let Ok(out) = out {
                if out.status.success() {
                    return Ok(Yosys {
                        python,
                        version: String::from_utf8_lossy(&out.stdout).trim().to_string(),
                    });
                }
            }
        }
        Err("Yosys not found: run `make deps` (installs the pinned pyosys wheel into .venv/, no root needed)".into())
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
}

fn cache_root() -> PathBuf {
    match std::env::var_os("QMULGEN_CACHE") {
        Some(p) => PathBuf::from(p).join("synth"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/synth-cache"),
    }
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
    if let Some(r) = cache.result() {
        return Ok((SynthResult { seconds: 0.0, ..r }, true));
    }
    Ok((cache.synthesize(yosys, src)?.0, false))
}

/// The mapped, flattened netlist of a generated unit and its synthesis result (from the cache
/// when both are there).
pub fn mapped_netlist(yosys: &Yosys, g: &Generated) -> Result<(Netlist, SynthResult), String> {
    let src = Source::from(g);
    let cache = CacheEntry::of(yosys, &src);
    if let (Some(result), Ok(netlist)) = (cache.result(), Netlist::load(&cache.netlist, src.top)) {
        return Ok((
            netlist,
            SynthResult {
                seconds: 0.0,
                ..result
            },
        ));
    }
    let (result, netlist) = cache.synthesize(yosys, &src)?;
    Ok((netlist, result))
}

/// One source's script and cache files: the result and the mapped netlist (Yosys JSON), keyed
/// by the hash of the Verilog, the script and the Yosys version.
struct CacheEntry {
    script: String,
    result: PathBuf,
    netlist: PathBuf,
}

impl CacheEntry {
    fn of(yosys: &Yosys, src: &Source) -> CacheEntry {
        let script = script(&format!("{}.v", src.name), src.top, src.params);
        let key = sha256_hex([src.verilog, &script, &yosys.version].join("\0").as_bytes());
        let stem = format!("{}-{}", src.name, &key[..16]);
        CacheEntry {
            script,
            result: cache_root().join(format!("{stem}.json")),
            netlist: cache_root().join(format!("{stem}.netlist.json")),
        }
    }

    fn result(&self) -> Option<SynthResult> {
        let text = std::fs::read_to_string(&self.result).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Run Yosys and fill the cache (an optimisation: a failure to write it is not an error;
    /// the netlist goes first, so that a cached result has its netlist beside it).
    fn synthesize(&self, yosys: &Yosys, src: &Source) -> Result<(SynthResult, Netlist), String> {
        let (netlist, netlist_json, seconds) = run_yosys(yosys, src, &self.script)?;
        let result = SynthResult {
            module: src.name.to_string(),
            stats: netlist.stats(),
            yosys: yosys.version.clone(),
            seconds,
        };
        let text = serde_json::to_string_pretty(&result).expect("result serializes");
        let _ = std::fs::create_dir_all(cache_root()).and_then(|_| {
            crate::emit::write_file_atomically(&self.netlist, &netlist_json)?;
            crate::emit::write_file_atomically(&self.result, &text)
        });
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
    write("run.py", RUNNER)?;
    let start = Instant::now();
    let out = Command::new(&yosys.python)
        .current_dir(dir.path())
        .args(["run.py", "synth.ys"])
        .output()
        .map_err(|e| format!("cannot run {}: {e}", yosys.python.display()))?;
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
