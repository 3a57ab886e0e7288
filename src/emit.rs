//! Emission: from a unit spec to files. Module renaming, manifests, the files of a design
//! (Verilog, manifest, Vivado TCL/XDC) and atomic writes. Knows nothing about any unit's insides.

use crate::base::{Dir, Port};
use crate::spec::{Design, UnitSpec};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

pub use qmulgen_rtl::rename_modules;

/// Everything generated for one unit, in memory.
pub struct Generated {
    pub name: String,
    pub verilog: String,
    pub manifest: Manifest,
}

/// Machine-readable description of a generated module (`NAME.json`).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct Manifest {
    pub module: String,
    pub family: String,
    pub params: serde_json::Value,
    pub ports: Vec<ManifestPort>,
    /// Clock cycles from inputs to outputs (0 = combinational).
    pub latency: u32,
    pub clock: Option<String>,
    pub clock_enable: Option<String>,
    /// A single unit's valid pipeline: `output` is `input` delayed by `latency` clocks with
    /// `ce`; `reset` (synchronous, active high) clears it, not the data registers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid: Option<ValidPorts>,
    /// A single unit pipelined for a target clock: its planned worst path (§5 model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<PipelineManifest>,
    /// For a dot-product element (ARITHMETIC.md §5): its arithmetic and pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dot: Option<DotManifest>,
    pub sha256: String,
    pub qmulgen_version: String,
}

/// The ports of a single unit's valid pipeline (they are not in `ports`, which are the
/// unit's arithmetic).
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct ValidPorts {
    pub reset: String,
    pub input: String,
    pub output: String,
}

/// A single unit pipelined for a target clock.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct PipelineManifest {
    pub target_mhz: f64,
    /// The planner's estimate of the worst register-to-register path (§5 model, overhead
    /// included); `synth` measures the mapped netlist.
    pub path_ns_est: f64,
}

/// What a user of a `dot` needs beyond its ports.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct DotManifest {
    pub lanes: usize,
    /// The lane unit's module name as `gen` would give it on its own.
    pub lane: String,
    pub lane_family: String,
    /// Width of the vector sum S and of the accumulator `y`.
    pub sum_bits: usize,
    pub acc_bits: usize,
    /// Vectors of full-scale products the accumulator takes without overflow.
    pub overflow_free_vectors: u64,
    pub target_mhz: f64,
    /// How the lanes are summed: `tree` (each lane's product, an adder tree) or `heap` (every
    /// lane's partial products in one bit heap).
    #[serde(default)]
    pub sum: String,
    /// A heap's compression stages and the registers among them (0 for a tree).
    #[serde(default)]
    pub heap_stages: usize,
    #[serde(default)]
    pub heap_registers: u32,
    /// Where a tree's registers are: inside each lane (where its estimated path misses the
    /// target), after each lane, every k adder levels (0: none in the tree); all false or 0
    /// for a heap.
    pub lane_staged: bool,
    pub lane_register: bool,
    pub tree_levels_per_stage: usize,
    pub axis: bool,
    /// 2·N operations (multiply and add) per accepted vector.
    pub ops_per_cycle: usize,
}

#[derive(serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
pub struct ManifestPort {
    pub name: String,
    pub direction: String,
    pub width: usize,
    pub signed: bool,
}

impl From<&Port> for ManifestPort {
    fn from(p: &Port) -> Self {
        ManifestPort {
            name: p.name.clone(),
            direction: match p.dir {
                Dir::Input => "input".into(),
                Dir::Output => "output".into(),
            },
            width: p.width,
            signed: p.signed,
        }
    }
}

impl Manifest {
    pub fn inputs(&self) -> impl Iterator<Item = &ManifestPort> {
        self.ports.iter().filter(|p| p.direction == "input")
    }
    pub fn outputs(&self) -> impl Iterator<Item = &ManifestPort> {
        self.ports.iter().filter(|p| p.direction == "output")
    }
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The attribute that keeps a module apart through synthesis: Yosys and Vivado honour
/// `keep_hierarchy`, and Vivado's `DONT_TOUCH` also stops it merging or trimming the copies.
pub const KEEP_ATTRIBUTE: &str = "(* keep_hierarchy = \"yes\", DONT_TOUCH = \"yes\" *)";

/// Put [`KEEP_ATTRIBUTE`] on the definition of every module of a redundant block: rust-hdl
/// writes one module per instance, named after the instance path (`NAME__core__copies__0`
/// for the block `copies$0`), so the module names say which blocks they are.
pub fn keep_redundant_blocks(verilog: &str, blocks: &[&str]) -> String {
    let suffixes: Vec<String> = blocks
        .iter()
        .map(|b| format!("__{}", b.replace('$', "__")))
        .collect();
    let mut out = String::with_capacity(verilog.len() + 64 * blocks.len());
    for line in verilog.lines() {
        if let Some(rest) = line.strip_prefix("module ") {
            let module: String = rest.chars().take_while(|c| *c != '(').collect();
            if suffixes.iter().any(|s| module.trim().ends_with(s.as_str())) {
                out.push_str(KEEP_ATTRIBUTE);
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Declare the top module's two's complement ports `signed`, as rust-hdl declares a port of
/// its `Signed` type (`input wire signed [7:0] a;`), so that an instantiating design reads
/// them as numbers. The top module (the file's first) only passes its ports to sub-modules or
/// takes part-selects and masks of them, which are unsigned whatever the port is: the
/// declaration changes no value, and verification checks that.
pub fn declare_signed_ports(verilog: &str, signed: &[&str]) -> String {
    let mut out = String::with_capacity(verilog.len() + 16 * signed.len());
    let mut in_top = true;
    for line in verilog.lines() {
        let mut line = line.to_string();
        if in_top {
            for kind in ["input wire", "output reg", "output wire"] {
                for name in signed {
                    let plain = format!("{kind}  [");
                    if line.trim_start().starts_with(&plain)
                        && line.trim_end().ends_with(&format!("] {name};"))
                    {
                        line = line.replacen(&plain, &format!("{kind} signed ["), 1);
                    }
                }
            }
            in_top = !line.starts_with("endmodule");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Generate one unit's Verilog and manifest (nothing is written).
pub fn generate(spec: &UnitSpec) -> Generated {
    let name = spec.module_name();
    let (family, params, ports) = match &spec.dot {
        Some(dot) => ("dot", dot.params(), dot.ports()),
        None => (spec.unit.family(), spec.unit.params(), spec.unit.ports()),
    };
    let rtl = spec.rtl();
    let header = format!(
        "// {name}: generated by qmulgen {} from rust-hdl; do not edit.\n// family {family} params {params}\n",
        env!("CARGO_PKG_VERSION"),
    );
    let body = rename_modules(&rtl.verilog, &name);
    // A heap's cells keep their hierarchy too: each maps to one LUT per output.
    let mut kept = spec.unit.redundant_blocks().to_vec();
    if spec.dot.as_ref().is_some_and(|d| d.config.heap.is_some()) {
        kept.push(qmulgen_rtl::heap::KEPT);
    }
    let body = keep_redundant_blocks(&body, &kept);
    let signed: Vec<&str> = ports
        .iter()
        .filter(|p| p.signed && p.width > 1)
        .map(|p| p.name.as_str())
        .collect();
    let body = declare_signed_ports(&body, &signed);
    let verilog = format!("{header}{}\n", body.trim());
    let clocked = spec.pipeline.is_some() || spec.dot.is_some();
    let valid = spec.pipeline.as_ref().is_some_and(|p| p.valid);
    let manifest = Manifest {
        module: name.clone(),
        family: family.into(),
        params,
        ports: ports.iter().map(ManifestPort::from).collect(),
        latency: rtl.latency,
        clock: clocked.then(|| "clk".to_string()),
        clock_enable: spec.pipeline.is_some().then(|| "ce".to_string()),
        valid: valid.then(|| ValidPorts {
            reset: "rst".into(),
            input: "in_valid".into(),
            output: "out_valid".into(),
        }),
        pipeline: spec.pipeline.as_ref().and_then(|p| {
            Some(PipelineManifest {
                target_mhz: p.target_mhz?,
                path_ns_est: rtl.path_ns?,
            })
        }),
        dot: spec.dot.as_ref().map(|d| {
            let tree = d.config.heap.is_none();
            let (heap_stages, heap_registers) =
                (d.config.heap_plan.as_ref()).map_or((0, 0), |p| (p.stages.len(), p.latency()));
            DotManifest {
                lanes: d.lanes,
                lane: d.lane.base_name(),
                lane_family: d.lane.family().into(),
                sum_bits: d.sum_bits(),
                acc_bits: d.acc_bits,
                overflow_free_vectors: d.overflow_free_vectors(),
                target_mhz: d.target_mhz,
                sum: d.sum().name().into(),
                heap_stages,
                heap_registers,
                lane_staged: tree && d.config.lane_staged,
                lane_register: tree && d.config.lane_register,
                tree_levels_per_stage: if tree {
                    d.config.tree_levels_per_stage
                } else {
                    0
                },
                axis: d.axis,
                ops_per_cycle: 2 * d.lanes,
            }
        }),
        sha256: sha256_hex(verilog.as_bytes()),
        qmulgen_version: env!("CARGO_PKG_VERSION").into(),
    };
    Generated {
        name,
        verilog,
        manifest,
    }
}

/// Every file of a design, in memory: Verilog, manifest, Vivado TCL and XDC per unit.
pub fn design_files(design: &Design) -> (Vec<Generated>, Vec<(String, String)>) {
    let mut gens = Vec::new();
    let mut files = Vec::new();
    for spec in &design.units {
        let g = generate(spec);
        files.push((format!("{}.v", g.name), g.verilog.clone()));
        let json = serde_json::to_string_pretty(&g.manifest).expect("manifest serializes");
        files.push((format!("{}.json", g.name), json + "\n"));
        // A dot or a unit pipelined for a clock is constrained at that clock.
        let clock_mhz = (g.manifest.dot.as_ref().map(|d| d.target_mhz))
            .or(g.manifest.pipeline.as_ref().map(|p| p.target_mhz))
            .unwrap_or(design.clock_mhz);
        files.extend(crate::vivado::files(&g.manifest, clock_mhz, &design.part));
        files.push(crate::vivado::ip_script(
            &g.manifest,
            clock_mhz,
            &design.part,
        ));
        gens.push(g);
    }
    (gens, files)
}

/// Write `files` (name, text) into `dir`: each goes to a temporary file in `dir` first, and
/// they are renamed into place only when every write succeeded, so a failure leaves no partial
/// set behind (the temporaries are removed when dropped). Files get the mode a plain `create`
/// gives (0666 less the umask: 0644 under umask 022), not the private mode of a temporary, so
/// that Vivado run as another user, or in a container, can read them.
pub fn write_files_atomically<T: AsRef<[u8]>>(
    dir: &Path,
    files: &[(String, T)],
) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut temps = Vec::new();
    for (name, text) in files {
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let mut tmp = builder.tempfile_in(dir)?;
        tmp.write_all(text.as_ref())?;
        tmp.as_file().sync_all()?;
        temps.push((tmp, dir.join(name)));
    }
    let mut written = Vec::new();
    for (tmp, dst) in temps {
        tmp.persist(&dst).map_err(|e| e.error)?;
        written.push(dst);
    }
    Ok(written)
}

/// Write one file atomically (see [`write_files_atomically`]), e.g. a report.
pub fn write_file_atomically(path: &Path, data: impl AsRef<[u8]>) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is not a file name", path.display()),
        )
    })?;
    write_files_atomically(dir, &[(name.to_string_lossy().into_owned(), data.as_ref())])?;
    Ok(())
}
