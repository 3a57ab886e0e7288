//! The `doctor` flow: which tools and caches qmulgen will use from here, and what is missing.

use crate::sim::Verilator;
use crate::synth::{Yosys, YosysRunner};
use crate::tools;

/// One line of the report: what, its state, and for a missing tool how to get it.
pub struct Check {
    pub what: &'static str,
    pub found: Result<String, String>,
    /// A missing item that some command cannot do without.
    pub required: bool,
}

/// Everything `qmulgen doctor` prints.
pub struct Report {
    pub checks: Vec<Check>,
    pub caches: Vec<(String, std::path::PathBuf, u64)>,
    pub cache_root: std::path::PathBuf,
    pub cache_reason: &'static str,
    /// Each cache folder's size limit ([`tools::cache_limit`]), or why it is invalid.
    pub cache_limit: Result<u64, String>,
}

impl Report {
    /// True when a required tool is missing (exit status 1).
    pub fn missing_required(&self) -> bool {
        self.checks.iter().any(|c| c.required && c.found.is_err())
    }

    pub fn text(&self) -> String {
        let mut s = format!("qmulgen {}\n", env!("CARGO_PKG_VERSION"));
        for c in &self.checks {
            match &c.found {
                Ok(v) => s.push_str(&format!("  {:<12} {v}\n", c.what)),
                Err(e) => s.push_str(&format!("  {:<12} MISSING: {e}\n", c.what)),
            }
        }
        s.push_str(&format!(
            "caches: {} ({})\n",
            self.cache_root.display(),
            self.cache_reason
        ));
        match &self.cache_limit {
            Ok(bytes) => s.push_str(&format!(
                "  each kept under {:.1} GB, least recently used first ($QMULGEN_CACHE_MAX_GB)\n",
                *bytes as f64 / 1e9
            )),
            Err(e) => s.push_str(&format!("  INVALID: {e}\n")),
        }
        for (name, path, bytes) in &self.caches {
            s.push_str(&format!(
                "  {:<12} {} ({:.1} MB)\n",
                name,
                path.display(),
                *bytes as f64 / 1e6
            ));
        }
        s
    }
}

/// Look everything up; never fails (what is missing is part of the report).
pub fn run() -> Report {
    let verilator =
        Verilator::locate().map(|v| format!("{} (version {})", v.exe.display(), v.version()));
    let yosys = Yosys::locate().map(|y| match &y.runner {
        YosysRunner::Pyosys(python) => format!("{} via pyosys in {}", y.version, python.display()),
        YosysRunner::Native(exe) => format!("{} at {}", y.version, exe.display()),
    });
    let compiler = ["c++", "g++", "clang++"]
        .iter()
        .find_map(|c| tools::on_path(c))
        .map(|p| p.display().to_string())
        .ok_or_else(|| {
            "no C++ compiler on PATH (Verilator models need one): install g++ (Debian: apt-get install g++)"
                .to_string()
        });
    let make = tools::on_path("make")
        .map(|p| p.display().to_string())
        .ok_or_else(|| "no make on PATH (Verilator builds use it): install make".to_string());
    let iverilog = tools::on_path("iverilog")
        .map(|p| format!("{} (runs the `gen --tb` testbenches)", p.display()))
        .ok_or_else(|| {
            "no iverilog on PATH: only needed to run `gen --tb` testbenches in Icarus (Debian: apt-get install iverilog)"
                .to_string()
        });
    let venvs = tools::Search::from_env().venvs;
    let venv = if venvs.is_empty() {
        Err(format!(
            "no .venv here, in a parent, or beside the build tree: {}",
            tools::INSTALL_HINT
        ))
    } else {
        Ok(venvs
            .iter()
            .map(|v| v.display().to_string())
            .collect::<Vec<_>>()
            .join(", "))
    };
    let (root, cache_reason) = tools::cache_root();
    let caches = [
        ("models", crate::sim::verilator_cache_root()),
        ("synthesis", crate::synth::cache_root()),
    ]
    .into_iter()
    .map(|(name, path)| {
        let size = tools::folder_size(&path);
        (name.to_string(), path, size)
    })
    .collect();
    Report {
        checks: vec![
            Check {
                what: "verilator",
                found: verilator,
                required: true,
            },
            Check {
                what: "yosys",
                found: yosys,
                required: true,
            },
            Check {
                what: "c++",
                found: compiler,
                required: true,
            },
            Check {
                what: "make",
                found: make,
                required: true,
            },
            Check {
                what: "iverilog",
                found: iverilog,
                required: false,
            },
            Check {
                what: "venvs",
                found: venv,
                required: false,
            },
        ],
        caches,
        cache_limit: tools::cache_limit(),
        cache_root: root,
        cache_reason,
    }
}
