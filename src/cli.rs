//! The `qmulgen` command line: parse, call a flow (`crate::flows`), print. Exit status 0 on
//! success, 1 when verification finds a mismatch or a tool fails, 2 for bad input or a missing
//! tool.

use crate::base::{ParamMap, SpecError};
use crate::emit;
use crate::flows::{self, eval, metrics, quantize, verify, Failure};
use crate::sim::Verilator;
use crate::spec::{Design, UnitSpec};
use crate::units;
use crate::vivado;
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
  qmulgen gen dot --lanes 16 --lane esb --exp-bits 2 --frac-bits 2 --act-bits 8 --target-mhz 400
  qmulgen verify tmr --width 12 --signed
  qmulgen metrics adam --width 8 --frac-bits 5 --rtl
  qmulgen synth tmr --width 8
  qmulgen report reports/*/post_route_{utilization,timing}.rpt
  qmulgen faults adam --width 8 --sites ports
  qmulgen export adam --width 8 --format tfapprox --out adam8.bin
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
  qmulgen gen adam --width 16 --target-mhz 300 --valid   # registers inside, rst/in_valid/out_valid
  qmulgen gen dot --lanes 16 --lane esb --exp-bits 2 --frac-bits 2 --act-bits 8 --target-mhz 400
  qmulgen gen dot --lanes 8 --lane exact --width 8 --signed --axis
  qmulgen gen dot --lanes 16 --lane apot --mag-bits 4 --act-bits 8 --sum heap --target-mhz 775
  qmulgen gen adam --width 8 --frac-bits 5 --pipeline --tb   # + adam_u8_t5_p_tb.v/.hex
  qmulgen gen --config designs/default.yaml")]
    Gen {
        #[command(flatten)]
        unit: UnitArgs,
        /// Output folder
        #[arg(long, default_value = "rtl_out")]
        out: PathBuf,
        /// Clock for the XDC of a single unit, default 300 (a design file sets clock_mhz)
        #[arg(long)]
        clock_mhz: Option<f64>,
        /// Xilinx part of the Vivado script, default xczu9eg-ffvb1156-2-e (ZCU102; a design
        /// file sets part)
        #[arg(long)]
        part: Option<String>,
        /// Also write a self-checking Verilog-2001 testbench NAME_tb.v and its vectors
        /// NAME_tb.hex from the golden model, for Icarus, xsim or Questa
        #[arg(long)]
        tb: bool,
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
        after_help = "Weights: a .npy file (float32/float64, any shape), or text: one number per line or
comma-separated (CSV), '#' starts a comment. With --per-channel each output channel (a text line,
or an index of the .npy's first axis) gets its own scale and mean. Without --alpha the DDA scale
λ·std(w) + 1e-5 of the reference code is used (ESB nonlinear: e = 2, 3 up to b = 9; linear:
weight_bits 1..8). Codes are written channel after channel.

Examples:
  qmulgen quantize esb --exp-bits 2 --frac-bits 2 --input weights.txt --out codes.hex
  qmulgen quantize esb --exp-bits 3 --frac-bits 4 --input w.csv --alpha 0.02 --out codes.hex
  qmulgen quantize esb --linear --weight-bits 4 --input conv1.npy --per-channel --mean-shift --out c.hex"
    )]
    Quantize {
        #[command(flatten)]
        unit: UnitArgs,
        /// Text/CSV or .npy file of real-valued weights
        #[arg(long)]
        input: PathBuf,
        /// Scale factor alpha (weight = level · alpha), for every channel
        #[arg(long)]
        alpha: Option<f64>,
        /// Subtract each channel's mean first (the reference code's default) and report it
        #[arg(long)]
        mean_shift: bool,
        /// One scale (and mean) per output channel: per text line, or per first .npy axis
        #[arg(long)]
        per_channel: bool,
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
    /// Synthesise with Yosys for UltraScale+ (DSP-free): LUTs, carries, muxes, FFs, logic depth
    #[command(
        after_help = "Runs `synth_xilinx -family xcup -nodsp -flatten` on the generated Verilog (redundant
parts marked keep_hierarchy stay apart through mapping). Needs the Yosys that `make deps`
installs. Results are cached by the hash of the Verilog, the script and the Yosys version.

Examples:
  qmulgen synth exact --width 8
  qmulgen synth tmr --width 16 --json tmr16.json
  qmulgen synth dot --lanes 16 --lane esb --exp-bits 2 --frac-bits 2 --act-bits 8 --target-mhz 400
  qmulgen synth --config designs/default.yaml --csv area.csv
  qmulgen synth apot --all"
    )]
    Synth {
        #[command(flatten)]
        unit: UnitArgs,
        /// Every configuration of FAMILY (the `verify --all` sweep)
        #[arg(long, conflicts_with = "config")]
        all: bool,
        /// Write the results as JSON (keys lut, carry, ff, depth_luts, ... per unit)
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write the results as CSV
        #[arg(long)]
        csv: Option<PathBuf>,
    },
    /// Read Vivado utilization and timing reports into one table (LUTs, FFs, carry, DSP, BRAM, WNS, Fmax)
    #[command(
        after_help = "Reads report_utilization (UltraScale+: CLB LUTs/CLB Registers/CARRY8; 7-series: Slice
LUTs/Slice Registers, CARRY4 from the Primitives table) and report_timing_summary (WNS from the
Design Timing Summary row, the clock period from the Clock Summary). Reports of the same design
and stage (from the header's Design State, else the file name) form one row.
Fmax = 1000 / (period - WNS).

Examples:
  qmulgen report rtl_out/reports/adam_u8_t7/post_route_utilization.rpt \\
                 rtl_out/reports/adam_u8_t7/post_route_timing.rpt
  qmulgen report rtl_out/reports/*/post_*_{utilization,timing}.rpt --json vivado.json
  qmulgen report util.rpt timing.rpt --period-ns 2.5"
    )]
    Report {
        /// Report files (report_utilization, report_timing_summary)
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Clock period for Fmax, overriding the timing report's Clock Summary
        #[arg(long)]
        period_ns: Option<f64>,
        /// Write the results as JSON (keys lut, ff, carry, dsp, bram, wns_ns, device, fmax_mhz, ...)
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Single-fault campaigns: masked / detected / silent data corruption (SDC) rates
    #[command(
        after_help = "One fault at a time (flip: transient; sa0/sa1: stuck-at; init: one LUT INIT bit flipped, a
configuration-memory upset, at every INIT bit the LUT's inputs can reach), at every site, over every operand
pair when pairs x sites x kinds <= 2^32 (every n <= 8 unit), else over seeded random pairs
(default 8192) with the confidence margins stated. Each injection is classified against the
unit's fault-free output: masked (err = 0, p equal), detected (err = 1), sdc (err = 0, p differs).

Sites:
  ports    the architectural fault ports of tmr (each copy's output bits) and adam (the adder
           outputs), classified by the golden fault models and confirmed in Verilator
  netlist  every observed LUT, MUXF7/F8 and CARRY4 output of the Yosys-mapped netlist of any
           unit, instrumented and run in Verilator (needs the Yosys of `make deps`)

Examples:
  qmulgen faults adam --width 8 --sites ports
  qmulgen faults tmr --width 8 --sites netlist --json tmr8.json --csv tmr8_sites.csv
  qmulgen faults adam --width 16 --vectors 4096 --seed 3
  qmulgen faults tmr --width 8 --kinds sa0,sa1,init
  qmulgen faults adam --width 8 --inputs acts.txt,weights.txt
  qmulgen faults mitchell --width 8 --shard 2/3 --json part2.json
  qmulgen faults --merge part1.json part2.json part3.json --json all.json
  qmulgen faults --compare --plot sdc_vs_luts.svg"
    )]
    Faults {
        #[command(flatten)]
        unit: UnitArgs,
        /// Fault sites: ports or netlist
        #[arg(long, default_value = "netlist")]
        sites: String,
        /// Fault kinds, comma-separated: flip, sa0, sa1, init (netlist sites)
        #[arg(long, default_value = "flip,sa0,sa1")]
        kinds: String,
        /// Seeded random operand pairs instead of every pair
        #[arg(long)]
        vectors: Option<u64>,
        /// Seed for the random pairs
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Run the i-th of N disjoint slices of the sites (1-based), e.g. 2/3
        #[arg(long)]
        shard: Option<String>,
        /// Two files of operand values (first operand, second operand): weight each pair by
        /// the values' frequencies
        #[arg(long, value_delimiter = ',')]
        inputs: Option<Vec<PathBuf>>,
        /// Sum shard results (JSON files from --shard ... --json) into one result
        #[arg(long, num_args = 1.., conflicts_with_all = ["shard", "compare"])]
        merge: Option<Vec<PathBuf>>,
        /// Unp-exact, Unp-AxM (mitchell), Pro-TMR and Pro-AdAM at n = 8 (every pair) and n = 16
        /// (sampled), netlist sites, in one table
        #[arg(long, conflicts_with = "shard")]
        compare: bool,
        /// Write the result as JSON
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write the per-site rows as CSV
        #[arg(long)]
        csv: Option<PathBuf>,
        /// With --compare: SVG plot of SDC rate against LUTs
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// Every configuration of a family: LUTs, depth and error, Pareto-optimal rows marked, plots
    #[command(
        after_help = "Error: for mitchell/adam the §3.4 metrics (every pair up to 2^24, else --vectors seeded
random pairs, default 2^24); for esb/apot/pot (exact products) the quantization error of the
level set on 100,000 seeded standard normal and unit-variance Laplace weights at the MSE-optimal
alpha (MSE, SQNR in dB, alpha). Pareto: error (mred, or mse_normal for quantizers) against LUTs.
Flags narrow the sweep (esb/apot/pot use --act-bits 8 unless given); LUTs come from the cached
`synth` flow (the first run of a family takes minutes).

Examples:
  qmulgen explore adam --width 8 --plot adam8.svg --csv adam8.csv
  qmulgen explore esb --act-bits 8 --json esb.json --plot esb.svg
  qmulgen explore apot --plot apot.svg
  qmulgen explore mitchell --width 8 --frac-bits 5 --plot-hist mitchell_hist.svg
  qmulgen explore --config designs/default.yaml"
    )]
    Explore {
        #[command(flatten)]
        unit: UnitArgs,
        /// Seeded random pairs for the metrics of units above 2^24 operand pairs
        #[arg(long)]
        vectors: Option<u64>,
        /// Seed for the random pairs
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Write the rows as CSV (columns: module, lut, carry, depth_luts, the metrics, pareto)
        #[arg(long)]
        csv: Option<PathBuf>,
        /// Write the rows as JSON
        #[arg(long)]
        json: Option<PathBuf>,
        /// SVG plot of error against LUTs with the Pareto front
        #[arg(long)]
        plot: Option<PathBuf>,
        /// For one approximate unit: SVG histogram of P' - P
        #[arg(long)]
        plot_hist: Option<PathBuf>,
    },
    /// Run an ONNX network with every product through a unit's golden model: accuracy, size,
    /// BOPs and LUTs per unit, Pareto rows marked (ARITHMETIC.md §6)
    #[command(
        after_help = "Weights per output channel in the unit's format (ESB/APoT/PoT: the family's quantizer;
others: symmetric integers of the weight port); activations per tensor, scale from the 99.99th
percentile on calibration images (x_calib, else the first --calib images of x); products from
the golden model (a table up to 2^22 entries), exact i64 accumulation. The unit's weight is its
first port (a or w), the activation its second (b or x). LUTs: the unit and a dot of --lanes
lanes (default 16), from the cached `synth` flow (minutes on the first run; --no-synth skips them).
Data: .npz with x (float32/uint8 images, [N, ...input shape]), y (labels), optional x_calib.

Examples:
  qmulgen dnn --model models/digits_cnn.onnx --data data/digits_test.npz exact --width 8 --signed
  qmulgen dnn --model models/digits_cnn.onnx --data data/digits_test.npz --config designs/dnn_digits.yaml --json dnn.json --plot dnn.svg
  qmulgen dnn --model models/digits_cnn.onnx --data data/digits_test.npz apot --mag-bits 4 --act-bits 8 --prune-sweep 0,0.25,0.5 --no-synth"
    )]
    Dnn {
        #[command(flatten)]
        unit: UnitArgs,
        /// ONNX model (Conv, Gemm, MatMul, Add, Relu, MaxPool, AveragePool, GlobalAveragePool,
        /// Flatten, Reshape, BatchNormalization, Softmax)
        #[arg(long)]
        model: PathBuf,
        /// Images and labels: .npz with x, y and optionally x_calib
        #[arg(long)]
        data: PathBuf,
        /// Zero this fraction of each layer's filters (FPGM) before quantization, 0 <= R < 1
        #[arg(long, conflicts_with = "prune_sweep")]
        prune: Option<f64>,
        /// Several pruning ratios, comma separated: rows per unit and ratio
        #[arg(long, value_delimiter = ',')]
        prune_sweep: Option<Vec<f64>>,
        /// Calibration images taken from x when the data has no x_calib
        #[arg(long, default_value_t = 256)]
        calib: usize,
        /// Skip synthesis: no LUT columns, no Pareto marks
        #[arg(long)]
        no_synth: bool,
        /// Write the rows as JSON (the float network first)
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write the rows as CSV
        #[arg(long)]
        csv: Option<PathBuf>,
        /// SVG plot of accuracy against LUTs per MAC with the Pareto front
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// Persistent faults in one lane of a dot, seen at a network's output: masked, detected,
    /// SDC-1, SDC-5 and critical faults (ARITHMETIC.md §6)
    #[command(
        after_help = "The unit (at most 8 + 8 operand bits) runs the network's MACs on a dot of --lanes lanes, MAC j
of every output on lane j mod lanes; one fault (sa0/sa1 at a site, or init: one LUT INIT bit
flipped) sits in lane 0 for the whole inference. Over the test images the fault-free quantized
network classifies correctly, each (fault, image) pair is detected (an err of the lane raised),
else SDC-1 (top-1 changed), else masked; SDC-5: no err and the label out of the top 5. Every
fault runs unless --faults K samples K of them (seeded); margins then hold over the sampled
faults. Faulty product tables come from the instrumented netlist in Verilator (--sites netlist)
or the golden fault model (--sites ports: tmr, adam).

Examples:
  qmulgen dnn-faults --model models/digits_cnn.onnx --data data/digits_test.npz adam --width 8 --frac-bits 7
  qmulgen dnn-faults --model M.onnx --data D.npz tmr --width 8 --kinds sa0,sa1,init --faults 500 --seed 2
  qmulgen dnn-faults --model M.onnx --data D.npz adam --width 8 --shard 1/2 --json p1.json
  qmulgen dnn-faults --merge p1.json p2.json --json all.json
  qmulgen dnn-faults --model M.onnx --data D.npz --compare --plot sdc5_vs_adp.svg"
    )]
    DnnFaults {
        #[command(flatten)]
        unit: UnitArgs,
        /// ONNX model (as `dnn` takes it)
        #[arg(long)]
        model: Option<PathBuf>,
        /// Images and labels: .npz with x, y and optionally x_calib
        #[arg(long)]
        data: Option<PathBuf>,
        /// Fault sites: netlist or ports
        #[arg(long, default_value = "netlist")]
        sites: String,
        /// Persistent fault kinds, comma-separated: sa0, sa1, init
        #[arg(long, default_value = "sa0,sa1")]
        kinds: String,
        /// Sample this many faults (seeded) instead of running all
        #[arg(long)]
        faults: Option<u64>,
        /// Seed of the fault sample
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// At most this many of the correctly classified test images (the first ones, in data
        /// order; the rates then refer to those images)
        #[arg(long)]
        images: Option<usize>,
        /// Calibration images taken from x when the data has no x_calib
        #[arg(long, default_value_t = 256)]
        calib: usize,
        /// Run part i of N of the faults (merge the parts with --merge)
        #[arg(long)]
        shard: Option<String>,
        /// Merge partial results written with --json
        #[arg(long, num_args = 1..)]
        merge: Option<Vec<PathBuf>>,
        /// Run the four baselines at n = 8 (Unp-exact, Unp-AxM t7, Pro-TMR, Pro-AdAM t7)
        #[arg(long)]
        compare: bool,
        /// Write the result as JSON
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write one row per fault as CSV
        #[arg(long)]
        csv: Option<PathBuf>,
        /// With --compare: SVG plot of SDC-5 against the area-delay product
        #[arg(long)]
        plot: Option<PathBuf>,
    },
    /// Export a unit for approximate-DNN frameworks: product tables (operands <= 8 bits) or a C model
    #[command(
        after_help = "Formats (each written with a JSON sidecar FILE.json: unit, parameters, signedness,
operand order, index formula, sha256):
  tfapprox  TFApprox / tf-approximate: 65,536 little-endian uint16, word (a << 8) | b = P(a, b);
            unsigned units only
  adapt     C header `const int16_t NAME[256][256]` as AdaPT and TransAxx load it, indexed by the
            operands' uint8 bit patterns (signed: 128..255 are -128..-1); products must fit int16
  npy       256 x 256 C-order array of the smallest of int16, uint16, int32 holding every product
  c         a self-contained C function int64_t NAME(uint64_t, uint64_t) computing the unit
            bit-exactly from the raw operand patterns, for any width (tables stop at 8 bits)
Rows are the first input port, columns the second (for esb/apot/pot: weight rows, activation
columns). Entries a narrower operand cannot reach are 0.

Examples:
  qmulgen export adam --width 8 --format tfapprox --out adam8.bin
  qmulgen export exact --width 8 --signed --format adapt --out exact_s8.h
  qmulgen export esb --exp-bits 2 --frac-bits 2 --act-bits 8 --format npy --out esb.npy
  qmulgen export adam --width 16 --format c --out adam16.c"
    )]
    Export {
        #[command(flatten)]
        unit: UnitArgs,
        /// tfapprox, adapt, npy or c
        #[arg(long)]
        format: String,
        /// Output file (the sidecar goes to FILE.json)
        #[arg(long)]
        out: PathBuf,
    },
    /// Which Verilator, Yosys and caches qmulgen uses from here, and what is missing
    #[command(
        after_help = "Tools are looked up in this order: $VERILATOR_ROOT (Verilator), $QMULGEN_VENV, the
.venv of the current folder or its nearest parent, the .venv beside the build tree, then PATH.
Caches: $QMULGEN_CACHE, else ~/.cache/qmulgen ($XDG_CACHE_HOME/qmulgen); each of its folders
is kept under $QMULGEN_CACHE_MAX_GB (default 8), least recently used entries first. Exit status 1
when a required tool is missing.

Example:
  qmulgen doctor"
    )]
    Doctor,
    /// Print a shell completion script
    #[command(after_help = "Examples:
  qmulgen completions bash > ~/.local/share/bash-completion/completions/qmulgen
  qmulgen completions zsh > ~/.zfunc/_qmulgen
  qmulgen completions fish > ~/.config/fish/completions/qmulgen.fish")]
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Write man pages (qmulgen.1 and one per subcommand) into a folder
    #[command(after_help = "Example:
  qmulgen man --out target/man && man -l target/man/qmulgen.1")]
    Man {
        /// Output folder
        #[arg(long, default_value = "target/man")]
        out: PathBuf,
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
    #[arg(conflicts_with = "config")]
    family: Option<String>,
    /// YAML design file with a list of units
    #[arg(long)]
    config: Option<PathBuf>,
    /// Width of operand a (exact, tmr)
    #[arg(long)]
    a_bits: Option<u32>,
    /// Width of operand b (exact, tmr)
    #[arg(long)]
    b_bits: Option<u32>,
    /// Width of both operands (exact, tmr, mitchell, adam)
    #[arg(long)]
    width: Option<u32>,
    /// Two's complement operands and product (exact, tmr, mitchell, adam)
    #[arg(long)]
    signed: bool,
    /// Operand a alone is two's complement, e.g. int8 weights (exact, tmr)
    #[arg(long)]
    a_signed: bool,
    /// Operand b alone is two's complement (exact, tmr)
    #[arg(long)]
    b_signed: bool,
    /// Wrap the unit in input and output registers (clk, ce), latency 2 (gen, verify, synth)
    #[arg(long)]
    pipeline: bool,
    /// Add rst, in_valid and out_valid: a valid bit beside the data, cleared by rst (implies --pipeline)
    #[arg(long)]
    valid: bool,
    /// Module name (default: derived from the parameters)
    #[arg(long)]
    name: Option<String>,
    /// Add fault-injection inputs fault_site/fault_kind (tmr, adam)
    #[arg(long)]
    fault_ports: bool,
    /// Exponent field width e (esb)
    #[arg(long)]
    exp_bits: Option<u32>,
    /// Fraction field width: k (esb), t (mitchell, adam)
    #[arg(long)]
    frac_bits: Option<u32>,
    /// Unsigned activation width (esb, apot, pot)
    #[arg(long)]
    act_bits: Option<u32>,
    /// Linear mode: word {s, j}, level 2j+1 (esb)
    #[arg(long)]
    linear: bool,
    /// Linear-mode weight word width (esb)
    #[arg(long)]
    weight_bits: Option<u32>,
    /// Magnitude bits B (apot, pot)
    #[arg(long)]
    mag_bits: Option<u32>,
    /// How each operand's leading-one position and fraction are found (mitchell, adam):
    /// a leading-one detector then a right or a left shift, a normaliser, or a priority
    /// encoder then a right shift; default: the smallest at (width, frac-bits), as measured
    #[arg(long = "operands", value_parser = clap::builder::PossibleValuesParser::new(
        units::adam::OperandStructure::ALL.map(|o| o.name())
    ))]
    operand_structure: Option<String>,
    /// Number of lanes N (dot; dnn and dnn-faults: the dot the MACs run on, default 16)
    #[arg(long)]
    lanes: Option<u32>,
    /// Lane unit family; the lane's own flags (--width, --exp-bits, ...) follow (dot)
    #[arg(long)]
    lane: Option<String>,
    /// Accumulator width (dot; default: sum bits + 10)
    #[arg(long)]
    acc_bits: Option<u32>,
    /// Clock the pipeline is planned for, MHz: a unit gets registers inside where its path
    /// would miss it (implies --pipeline); a dot's default is 300

    #[arg(long)]
    target_mhz: Option<f64>,
    /// AXI4-Stream ports (dot)
    #[arg(long)]
    axis: bool,
    /// How a dot sums its lanes: an adder tree of the lanes' products, or every lane's partial
    /// products in one bit heap (exact, esb, apot, pot lanes); default: the smaller as measured,
    /// heap for exact lanes, APoT from 8 lanes, ESB k >= 2 where the tree splits the lane for
    /// the clock (e <= 2; e = 3 from 8 lanes), tree for the others
    #[arg(long, value_parser = ["tree", "heap"])]
    sum: Option<String>,
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
            ("a_signed", self.a_signed),
            ("b_signed", self.b_signed),
            ("pipeline", self.pipeline),
            ("valid", self.valid),
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
        if let Some(o) = &self.operand_structure {
            m.insert("operands".into(), o.clone().into());
        }
        // A dot takes its own options; every other flag belongs to its lane.
        if self.family.as_deref() == Some("dot") || self.lane.is_some() {
            let dot_keys = ["name", "pipeline", "valid"];
            let (mut dot, lane): (ParamMap, ParamMap) = m
                .into_iter()
                .partition(|(k, _)| dot_keys.contains(&k.as_str()));
            if let Some(family) = &self.lane {
                let mut lane = lane;
                lane.insert("family".into(), family.clone().into());
                dot.insert(
                    "lane".into(),
                    serde_yaml::to_value(lane).unwrap_or_default(),
                );
            } else if !lane.is_empty() {
                // Lane flags without --lane: let the dot report the missing lane.
                dot.extend(lane);
            }
            if let Some(n) = self.lanes {
                dot.insert("lanes".into(), n.into());
            }
            if let Some(n) = self.acc_bits {
                dot.insert("acc_bits".into(), n.into());
            }
            if let Some(f) = self.target_mhz {
                dot.insert("target_mhz".into(), f.into());
            }
            if self.axis {
                dot.insert("axis".into(), true.into());
            }
            if let Some(sum) = &self.sum {
                dot.insert("sum".into(), sum.as_str().into());
            }
            return dot;
        }
        if let Some(f) = self.target_mhz {
            m.insert("target_mhz".into(), f.into());
        }
        for (k, on) in [
            ("lanes", self.lanes.is_some()),
            ("acc_bits", self.acc_bits.is_some()),
            ("axis", self.axis),
            ("sum", self.sum.is_some()),
        ] {
            if on {
                m.insert(k.into(), true.into());
            }
        }
        m
    }

    /// Refuse the shared options a command has no use for: they would be ignored silently.
    fn refuse(&self, keys: &[&str], command: &str, why: &str) -> Result<(), Failure> {
        let params = self.params();
        match keys.iter().find(|k| params.contains_key(**k)) {
            Some(k) => Err(Failure::BadInput(format!(
                "--{} is not used by {command} ({why}); drop it",
                k.replace('_', "-")
            ))),
            None => Ok(()),
        }
    }

    fn has_unit_flags(&self) -> bool {
        !self.params().is_empty()
    }

    /// [`UnitArgs::design`] for a command that works on single units: a dot is refused.
    fn single_design(&self, command: &str) -> Result<Design, SpecError> {
        // Before the dot's own parameters are parsed: their errors would hide this one.
        if self.family.as_deref() == Some("dot") {
            return Err(crate::spec::not_for_a_dot(command));
        }
        let design = self.design(300.0)?;
        for spec in &design.units {
            spec.single_unit(command)?;
        }
        Ok(design)
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
                part: crate::vivado::PART.to_string(),
                units: vec![UnitSpec::from_params(family, &self.params())?],
            }),
            (None, None) => Err(SpecError("give a family or --config FILE".into())),
        }
    }
}

pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List => {
            print!("{}", list_text());
            Ok(())
        }
        Command::Doctor => {
            let report = flows::doctor::run();
            print!("{}", report.text());
            if report.missing_required() {
                Err(Failure::Failed(
                    "a required tool is missing (see above)".into(),
                ))
            } else {
                Ok(())
            }
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "qmulgen", &mut std::io::stdout());
            Ok(())
        }
        Command::Man { out } => cmd_man(&out),
        Command::Gen {
            unit,
            out,
            clock_mhz,
            part,
            tb,
        } => cmd_gen(&unit, &out, clock_mhz, part, tb),
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
        Command::Synth {
            unit,
            all,
            json,
            csv,
        } => cmd_synth(&unit, all, json.as_deref(), csv.as_deref()),
        Command::Faults {
            unit,
            sites,
            kinds,
            vectors,
            seed,
            shard,
            inputs,
            merge,
            compare,
            json,
            csv,
            plot,
        } => cmd_faults(FaultArgs {
            unit: &unit,
            sites: &sites,
            kinds: &kinds,
            vectors,
            seed,
            shard: shard.as_deref(),
            inputs: inputs.as_deref(),
            merge: merge.as_deref(),
            compare,
            json: json.as_deref(),
            csv: csv.as_deref(),
            plot: plot.as_deref(),
        }),
        Command::Export { unit, format, out } => cmd_export(&unit, &format, &out),
        Command::DnnFaults {
            unit,
            model,
            data,
            sites,
            kinds,
            faults,
            seed,
            images,
            calib,
            shard,
            merge,
            compare,
            json,
            csv,
            plot,
        } => cmd_dnn_faults(DnnFaultArgs {
            unit: &unit,
            model: model.as_deref(),
            data: data.as_deref(),
            sites: &sites,
            kinds: &kinds,
            faults,
            seed,
            images,
            calib,
            shard: shard.as_deref(),
            merge: merge.as_deref(),
            compare,
            files: [json.as_deref(), csv.as_deref(), plot.as_deref()],
        }),
        Command::Dnn {
            unit,
            model,
            data,
            prune,
            prune_sweep,
            calib,
            no_synth,
            json,
            csv,
            plot,
        } => cmd_dnn(
            &unit,
            &model,
            &data,
            &flows::dnn::Options {
                prune: prune_sweep.unwrap_or_else(|| vec![prune.unwrap_or(0.0)]),
                calib,
                synth: !no_synth,
                lanes: unit.lanes.unwrap_or(16),
            },
            [json.as_deref(), csv.as_deref(), plot.as_deref()],
        ),
        Command::Explore {
            unit,
            vectors,
            seed,
            csv,
            json,
            plot,
            plot_hist,
        } => cmd_explore(
            &unit,
            vectors,
            seed,
            [
                csv.as_deref(),
                json.as_deref(),
                plot.as_deref(),
                plot_hist.as_deref(),
            ],
        ),
        Command::Report {
            files,
            period_ns,
            json,
        } => cmd_report(&files, period_ns, json.as_deref()),
        Command::Quantize {
            unit,
            input,
            alpha,
            mean_shift,
            per_channel,
            out,
        } => cmd_quantize(&unit, &input, alpha, mean_shift, per_channel, &out),
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

/// `man`: the roff pages of the command and of each subcommand, written atomically.
fn cmd_man(out: &Path) -> Result<(), Failure> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let render = |cmd: clap::Command| -> Result<Vec<u8>, Failure> {
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd)
            .render(&mut page)
            .map_err(|e| Failure::Failed(format!("cannot render a man page: {e}")))?;
        Ok(page)
    };
    let mut files = vec![("qmulgen.1".to_string(), render(cmd.clone())?)];
    for sub in cmd.get_subcommands() {
        let name = format!("qmulgen-{}", sub.get_name());
        files.push((format!("{name}.1"), render(sub.clone().name(name))?));
    }
    emit::write_files_atomically(out, &files)
        .map_err(|e| Failure::BadInput(format!("cannot write to {}: {e}", out.display())))?;
    println!("wrote {} man pages to {}", files.len(), out.display());
    Ok(())
}

/// The text of `qmulgen list`.
pub fn list_text() -> String {
    let line = |p: &crate::base::ParamInfo| {
        format!(
            "    --{:<14} {:<12} default {:<14} {}\n",
            p.key.replace('_', "-"),
            p.range,
            p.default,
            p.help
        )
    };
    let mut s = String::new();
    for f in units::FAMILIES {
        s.push_str(&format!("{}  {}\n", f.name, f.summary));
        f.params.iter().for_each(|p| s.push_str(&line(p)));
        s.push_str("    --pipeline       true/false   default false          input/output registers, latency 2\n");
        s.push_str("    --target-mhz     (0, 775]     default none           registers inside where the §5 model misses it\n");
        s.push_str(
            "    --valid          true/false   default false          rst, in_valid, out_valid\n",
        );
        s.push_str("    --name           identifier   default derived        module name\n\n");
    }
    s.push_str("dot  N lanes of one unit, adder tree, accumulator, AXI4-Stream option (ARITHMETIC.md §5)\n");
    units::dot::PARAMS.iter().for_each(|p| s.push_str(&line(p)));
    s.push_str("    --name           identifier   default derived        module name\n");
    s
}

fn print_notes(design: &Design) {
    for spec in &design.units {
        for note in spec.unit.notes() {
            eprintln!("warning: {note}");
        }
    }
}

fn cmd_gen(
    unit: &UnitArgs,
    out: &Path,
    clock_mhz: Option<f64>,
    part: Option<String>,
    tb: bool,
) -> Result<(), Failure> {
    if unit.config.is_some() && (clock_mhz.is_some() || part.is_some()) {
        return Err(Failure::BadInput(
            "--clock-mhz and --part are for a single unit; a design file sets clock_mhz and part"
                .into(),
        ));
    }
    let mut design = unit.design(300.0)?;
    if let Some(mhz) = clock_mhz {
        crate::spec::check_clock_mhz("--clock-mhz", mhz)?;
        design.clock_mhz = mhz;
    }
    if let Some(part) = part {
        crate::spec::check_part(&part).map_err(|e| Failure::BadInput(format!("--{e}")))?;
        design.part = part;
    }
    print_notes(&design);
    let (gens, mut files) = emit::design_files(&design);
    if tb {
        for (spec, g) in design.units.iter().zip(&gens) {
            files.extend(flows::testbench::files(spec, g, 1)?);
        }
    }
    emit::write_files_atomically(out, &files).map_err(|e| {
        Failure::BadInput(format!(
            "cannot write to output folder {}: {e}",
            out.display()
        ))
    })?;
    for g in &gens {
        println!(
            "wrote {}/{}.v (+ .json, _ooc.tcl, _ooc.xdc, _ip.tcl{})  latency {}",
            out.display(),
            g.name,
            if tb { ", _tb.v, _tb.hex" } else { "" },
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
    print_notes(&design);
    let verilator = Verilator::locate().map_err(Failure::BadInput)?;
    let mut failed = Vec::new();
    for spec in &design.units {
        let r = if spec.dot.is_some() {
            let mut stimulus = verify::DotStimulus::random(vectors.unwrap_or(1_000_000), seed);
            if exhaustive {
                stimulus.exhaustive = true;
                stimulus.vectors = 1
                    << crate::units::input_widths(spec.unit.as_ref())
                        .iter()
                        .sum::<usize>();
            }
            verify::verify_dot(&verilator, spec, &stimulus, &mut progress)?
        } else {
            let sources = verify::sources_for(spec.unit.as_ref(), exhaustive, vectors, seed)?;
            verify::verify_unit(&verilator, spec, &sources, &mut progress)?
        };
        for m in &r.first_mismatches {
            println!("  MISMATCH {}: {m}", r.module);
        }
        println!("{}", r.summary());
        if !r.passed() {
            failed.push(r.module);
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

/// Progress lines go to stderr, results to stdout.
fn progress(line: String) {
    eprintln!("{line}");
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
    eprintln!(
        "{}: {} configurations (exhaustive up to 2^24 inputs, else corners + 1,000,000 random)",
        fam.name,
        (fam.sweep)().len()
    );
    let r = verify::verify_all(fam, &|i, n, line| println!("[{i}/{n}] {line}"))?;
    println!(
        "{}: {} configurations, {} passed, {} failed, {} vectors, {:.0} s",
        fam.name,
        r.configurations,
        r.configurations - r.failed,
        r.failed,
        r.vectors,
        r.seconds
    );
    if r.failed == 0 {
        Ok(())
    } else {
        Err(Failure::Failed(format!(
            "{} configurations failed",
            r.failed
        )))
    }
}

fn cmd_metrics(
    unit: &UnitArgs,
    vectors: Option<u64>,
    seed: u64,
    rtl: bool,
    json: Option<&Path>,
    csv: Option<&Path>,
) -> Result<(), Failure> {
    if unit.config.is_some() {
        return Err(Failure::BadInput(
            "metrics takes one unit (a family and its flags), not --config".into(),
        ));
    }
    if !rtl {
        unit.refuse(
            &["pipeline", "target_mhz", "valid", "name"],
            "metrics",
            "the golden model has no registers or module name; they matter only with --rtl",
        )?;
    }
    check_file_names(&[json, csv])?;
    let design = unit.single_design("metrics")?;
    let report = metrics::run(&design.units[0], vectors, seed, rtl, &mut progress)?;
    print!("{}", report.table());
    write_reports(&[(json, report.json()), (csv, report.csv())])?;
    let name = &report.module;
    match report.rtl {
        Some(r) if r != report.golden => Err(Failure::Failed(format!(
            "{name}: metrics from the Verilator model differ from the golden model's"
        ))),
        Some(_) => {
            println!("{name}: RTL metrics equal the golden model's");
            Ok(())
        }
        None => Ok(()),
    }
}

fn cmd_synth(
    unit: &UnitArgs,
    all: bool,
    json: Option<&Path>,
    csv: Option<&Path>,
) -> Result<(), Failure> {
    check_file_names(&[json, csv])?;
    let specs = if all {
        let family = unit.family.as_deref().unwrap_or_default();
        let fam = units::family(family)
            .ok_or_else(|| Failure::BadInput(format!("unknown family `{family}`")))?;
        if unit.has_unit_flags() {
            return Err(Failure::BadInput(
                "--all takes only a family: it synthesises every configuration".into(),
            ));
        }
        (fam.sweep)()
            .iter()
            .map(|p| UnitSpec::from_params(family, p))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        unit.design(300.0)?.units
    };
    let results = flows::synth::run(&specs, &|line| eprintln!("{line}"))?;
    print!("{}", flows::synth::table(&results));
    for w in flows::synth::missed_targets(&results) {
        eprintln!("warning: {w}");
    }
    write_reports(&[
        (json, flows::synth::json(&results)),
        (csv, flows::synth::csv(&results)),
    ])
}

fn cmd_explore(
    unit: &UnitArgs,
    vectors: Option<u64>,
    seed: u64,
    [csv, json, plot, plot_hist]: [Option<&Path>; 4],
) -> Result<(), Failure> {
    use flows::explore;
    unit.refuse(
        &["pipeline", "target_mhz", "valid", "fault_ports", "name"],
        "explore",
        "it sweeps the combinational units of a family",
    )?;
    check_file_names(&[csv, json, plot, plot_hist])?;
    let (family, specs) = match (&unit.config, &unit.family) {
        (Some(_), _) => {
            let design = unit.single_design("explore")?;
            let family = design.units[0].unit.family();
            if design.units.iter().any(|s| s.unit.family() != family) {
                return Err(Failure::BadInput(
                    "explore compares units of one family: the design mixes families".into(),
                ));
            }
            (family.to_string(), design.units)
        }
        (None, Some(family)) => (
            family.clone(),
            explore::configurations(family, &unit.params())?,
        ),
        (None, None) => return Err(Failure::BadInput("give a family or --config FILE".into())),
    };
    if let Some(path) = plot_hist {
        if specs.len() != 1 {
            return Err(Failure::BadInput(format!(
                "--plot-hist is for one unit; the flags select {} configurations",
                specs.len()
            )));
        }
        let svg = explore::plot_error_histogram(&specs[0], vectors, seed)?;
        return write_reports(&[(Some(path), svg)]);
    }
    let bar = indicatif::ProgressBar::new(2 * specs.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let rows = explore::run(
        &family,
        &specs,
        &explore::Options { vectors, seed },
        &|done, _, line| {
            bar.set_position(done);
            bar.set_message(line);
        },
    );
    bar.finish_and_clear();
    let rows = rows?;
    let metric = explore::pareto_metric(&family);
    print!("{}", explore::table(&rows, metric));
    let mut files = vec![(csv, explore::csv(&rows)), (json, explore::json(&rows))];
    if let Some(p) = plot {
        let title = format!("{family}: {metric} against LUTs (Pareto front in red)");
        files.push((Some(p), explore::plot(&rows, metric, &title)?));
    }
    write_reports(&files)
}

fn cmd_dnn(
    unit: &UnitArgs,
    model: &Path,
    data: &Path,
    options: &flows::dnn::Options,
    [json, csv, plot]: [Option<&Path>; 3],
) -> Result<(), Failure> {
    use flows::dnn;
    unit.refuse(
        &["fault_ports"],
        "dnn",
        "a network sees the fault-free product function",
    )?;
    check_file_names(&[json, csv, plot])?;
    if plot.is_some() && !options.synth {
        return Err(Failure::BadInput(
            "--plot draws accuracy against LUTs: drop --no-synth".into(),
        ));
    }
    if !(1..=64).contains(&options.lanes) {
        return Err(Failure::BadInput(format!(
            "--lanes = {} is out of range, allowed 1..=64",
            options.lanes
        )));
    }
    for &r in &options.prune {
        crate::net::prune::check_ratio(r)?;
    }
    let specs = unit.single_design("dnn")?.units;
    let network = dnn::Network::load(model, data)?;
    let rows = dnn::run(&network, &specs, options, &|line| eprintln!("{line}"))?;
    print!("{}", dnn::table(&rows));
    let mut files = vec![(json, dnn::json(&rows)), (csv, dnn::csv(&rows))];
    if let Some(p) = plot {
        let title = format!("{}: top-1 accuracy against LUTs per MAC", model.display());
        files.push((Some(p), dnn::plot(&rows, &title)?));
    }
    write_reports(&files)
}

struct DnnFaultArgs<'a> {
    unit: &'a UnitArgs,
    model: Option<&'a Path>,
    data: Option<&'a Path>,
    sites: &'a str,
    kinds: &'a str,
    faults: Option<u64>,
    seed: u64,
    images: Option<usize>,
    calib: usize,
    shard: Option<&'a str>,
    merge: Option<&'a [PathBuf]>,
    compare: bool,
    files: [Option<&'a Path>; 3],
}

fn cmd_dnn_faults(a: DnnFaultArgs) -> Result<(), Failure> {
    use flows::faults::{self, network};
    let [json, csv, plot] = a.files;
    check_file_names(&[json, csv, plot])?;
    let has_unit = a.unit.family.is_some() || a.unit.config.is_some();
    if let Some(parts) = a.merge {
        if has_unit || a.model.is_some() || a.data.is_some() {
            return Err(Failure::BadInput(
                "--merge takes only the partial JSON files, no unit, model or data".into(),
            ));
        }
        let paths: Vec<&Path> = parts.iter().map(PathBuf::as_path).collect();
        let merged = network::merge(&network::read_parts(&paths)?)?;
        print!("{}", network::table(&merged));
        return write_reports(&[(json, network::json(&merged)), (csv, network::csv(&merged))]);
    }
    let (Some(model), Some(data)) = (a.model, a.data) else {
        return Err(Failure::BadInput(
            "give --model M.onnx and --data D.npz (or --merge FILES)".into(),
        ));
    };
    let options = network::NetOptions {
        universe: faults::SiteUniverse::parse(a.sites)?,
        kinds: faults::parse_kinds(a.kinds)?,
        lanes: a.unit.lanes.unwrap_or(16),
        faults: a.faults,
        seed: a.seed,
        images: a.images,
        calib: a.calib,
        shard: a.shard.map(faults::parse_shard).transpose()?,
    };
    let net = flows::dnn::Network::load(model, data)?;
    let progress = |l: String| eprintln!("{l}");
    if a.compare {
        if has_unit {
            return Err(Failure::BadInput(
                "--compare runs its own four designs at n = 8; give no unit".into(),
            ));
        }
        let rows = network::compare(&net, &options, &progress)?;
        print!("{}", network::compare_table(&rows));
        let mut files = vec![(json, network::compare_json(&rows))];
        if let Some(p) = plot {
            files.push((Some(p), network::compare_plot(&rows)?));
        }
        return write_reports(&files);
    }
    if plot.is_some() {
        return Err(Failure::BadInput("--plot goes with --compare".into()));
    }
    a.unit.refuse(
        &["pipeline", "target_mhz", "valid", "fault_ports", "name"],
        "dnn-faults",
        "the campaign runs on the combinational unit",
    )?;
    let design = a.unit.single_design("dnn-faults")?;
    let [spec] = &design.units[..] else {
        return Err(Failure::BadInput(format!(
            "dnn-faults takes one unit; the design has {}",
            design.units.len()
        )));
    };
    let params: crate::base::ParamMap = serde_json::from_value(spec.unit.params())
        .map_err(|e| Failure::Failed(format!("parameters: {e}")))?;
    let c = network::run(&net, spec.unit.family(), &params, &options, &progress)?;
    print!("{}", network::table(&c));
    write_reports(&[(json, network::json(&c)), (csv, network::csv(&c))])
}

fn cmd_export(unit: &UnitArgs, format: &str, out: &Path) -> Result<(), Failure> {
    unit.refuse(
        &["pipeline", "target_mhz", "valid"],
        "export",
        "tables and C models are the golden model's, which has no registers",
    )?;
    use flows::export;
    let format = export::Format::parse(format)?;
    if unit.config.is_some() {
        return Err(Failure::BadInput(
            "export takes one unit (a family and its flags), not --config".into(),
        ));
    }
    let file_name = out
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .ok_or_else(|| Failure::BadInput(format!("{} is not a file name", out.display())))?;
    let design = unit.single_design("export")?;
    let spec = &design.units[0];
    let c_name: String = spec
        .module_name()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let (table, bytes) = if format == export::Format::C {
        export::c_model(spec, &c_name)?
    } else {
        let table = export::table(spec)?;
        let bytes = export::encode(&table, format, &c_name)?;
        (table, bytes)
    };
    let sidecar = export::sidecar(&table, format, &file_name, &bytes);
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    emit::write_files_atomically(
        dir,
        &[
            (file_name.clone(), bytes),
            (format!("{file_name}.json"), sidecar.into_bytes()),
        ],
    )
    .map_err(|e| Failure::BadInput(format!("cannot write {}: {e}", out.display())))?;
    println!(
        "wrote {} and {}.json (rows: port {}, columns: port {})",
        out.display(),
        out.display(),
        table.row.port,
        table.column.port
    );
    Ok(())
}

struct FaultArgs<'a> {
    unit: &'a UnitArgs,
    sites: &'a str,
    kinds: &'a str,
    vectors: Option<u64>,
    seed: u64,
    shard: Option<&'a str>,
    inputs: Option<&'a [PathBuf]>,
    merge: Option<&'a [PathBuf]>,
    compare: bool,
    json: Option<&'a Path>,
    csv: Option<&'a Path>,
    plot: Option<&'a Path>,
}

fn cmd_faults(a: FaultArgs) -> Result<(), Failure> {
    use flows::faults;
    check_file_names(&[a.json, a.csv, a.plot])?;
    let kinds = faults::parse_kinds(a.kinds)?;
    let universe = faults::SiteUniverse::parse(a.sites)?;
    if let Some(parts) = a.merge {
        if a.unit.family.is_some() || a.unit.config.is_some() {
            return Err(Failure::BadInput(
                "--merge takes only the partial JSON files, no unit".into(),
            ));
        }
        let paths: Vec<&Path> = parts.iter().map(PathBuf::as_path).collect();
        let merged = faults::merge_named(&faults::read_parts(&paths)?)?;
        print!("{}", faults::table(&merged));
        return write_reports(&[
            (a.json, faults::json(&merged)),
            (a.csv, faults::csv(&merged)),
        ]);
    }
    if a.compare {
        if a.unit.family.is_some() || a.unit.config.is_some() {
            return Err(Failure::BadInput(
                "--compare runs its own four designs at n = 8 and 16; give no unit".into(),
            ));
        }
        let rows = faults::compare(&kinds, a.vectors, a.seed, &|l| eprintln!("{l}"))?;
        print!("{}", faults::compare_table(&rows));
        let mut files = vec![(a.json, faults::compare_json(&rows))];
        if let Some(plot) = a.plot {
            files.push((Some(plot), faults::compare_plot(&rows)?));
        }
        return write_reports(&files);
    }
    if a.plot.is_some() {
        return Err(Failure::BadInput("--plot goes with --compare".into()));
    }
    if a.unit.config.is_some() {
        return Err(Failure::BadInput(
            "faults takes one unit (a family and its flags), not --config".into(),
        ));
    }
    let family = a
        .unit
        .family
        .as_deref()
        .ok_or_else(|| Failure::BadInput("give a family, --merge FILES or --compare".into()))?;
    let inputs = match a.inputs {
        None => None,
        Some([x, y]) => Some([x.clone(), y.clone()]),
        Some(_) => {
            return Err(Failure::BadInput(
                "--inputs takes two files, A.txt,B.txt (first operand, second operand)".into(),
            ))
        }
    };
    let options = faults::Options {
        universe,
        kinds,
        vectors: a.vectors,
        seed: a.seed,
        shard: a.shard.map(faults::parse_shard).transpose()?,
        inputs,
    };
    let campaign = faults::run(family, &a.unit.params(), &options, &|l| eprintln!("{l}"))?;
    print!("{}", faults::table(&campaign));
    write_reports(&[
        (a.json, faults::json(&campaign)),
        (a.csv, faults::csv(&campaign)),
    ])
}

fn cmd_report(
    files: &[PathBuf],
    period_ns: Option<f64>,
    json: Option<&Path>,
) -> Result<(), Failure> {
    check_file_names(&[json])?;
    if let Some(p) = period_ns {
        if !(p > 0.0 && p.is_finite()) {
            return Err(Failure::BadInput(format!(
                "--period-ns = {p} is out of range, allowed > 0"
            )));
        }
    }
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let results = vivado::report::read(&paths, period_ns).map_err(Failure::BadInput)?;
    print!("{}", vivado::report::table(&results));
    write_reports(&[(json, vivado::report::json(&results))])
}

/// Output files must be file names; checked before a long run.
fn check_file_names(paths: &[Option<&Path>]) -> Result<(), Failure> {
    for path in paths.iter().flatten() {
        if path.file_name().is_none() {
            return Err(Failure::BadInput(format!(
                "{} is not a file name",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Write the requested report files atomically and say which were written.
fn write_reports(files: &[(Option<&Path>, String)]) -> Result<(), Failure> {
    let mut written = Vec::new();
    for (path, text) in files {
        let Some(path) = path else { continue };
        emit::write_file_atomically(path, text)
            .map_err(|e| Failure::BadInput(format!("cannot write {}: {e}", path.display())))?;
        written.push(path.display().to_string());
    }
    if !written.is_empty() {
        println!("wrote {}", written.join(", "));
    }
    Ok(())
}

fn cmd_eval(unit: &UnitArgs, operands: &[String], json: bool) -> Result<(), Failure> {
    unit.refuse(
        &["pipeline", "target_mhz", "valid", "name"],
        "eval",
        "it evaluates the golden model, which has no registers or module name",
    )?;
    if unit.config.is_some() {
        return Err(Failure::BadInput(
            "eval takes one unit (a family and its flags), not --config".into(),
        ));
    }
    let design = unit.single_design("eval")?;
    let shown = eval::eval(&design.units[0], operands)?;
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
    mean_shift: bool,
    per_channel: bool,
    out: &Path,
) -> Result<(), Failure> {
    let family = unit.family.as_deref().unwrap_or_default();
    unit.refuse(
        &["pipeline", "target_mhz", "valid", "name", "fault_ports"],
        "quantize",
        "it quantizes weights for the unit's weight port",
    )?;
    let params = unit.params();
    let reports = quantize::run(family, &params, input, alpha, mean_shift, per_channel, out)?;
    let codes: usize = reports.iter().map(|r| r.quantized.codes.len()).sum();
    let bits = reports.first().map_or(0, |r| r.quantized.code_bits);
    println!("wrote {} ({codes} codes of {bits} bits)", out.display());
    for (c, r) in reports.iter().enumerate() {
        let q = &r.quantized;
        let label = if per_channel {
            format!("channel {c}: ")
        } else {
            String::new()
        };
        let mean = if mean_shift {
            format!("mean {:.6e}, ", r.mean)
        } else {
            String::new()
        };
        println!(
            "{label}{mean}alpha {:.6}, MSE {:.6e}, max |error| {:.6e}, clipped {:.2} %",
            q.alpha,
            r.mse,
            r.max_abs_error,
            100.0 * q.clipped as f64 / q.codes.len().max(1) as f64
        );
    }
    Ok(())
}
