//! The command line as a user meets it: bad input gives one clear line, exit status 2 and no
//! files; good input writes every file, byte-identical across runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn qmulgen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qmulgen"))
        .args(args)
        .output()
        .expect("qmulgen runs")
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("qmulgen-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Exit 2, exactly one line on stderr containing every `needle`, nothing in `out`.
fn assert_bad_input(args: &[&str], needles: &[&str], out: &Path) {
    let o = qmulgen(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    let first = err.lines().next().unwrap_or("");
    for n in needles {
        assert!(first.contains(n), "{args:?}: `{first}` lacks `{n}`");
    }
    assert!(
        files_in(out).is_empty(),
        "{args:?} wrote {:?}",
        files_in(out)
    );
}

#[test]
fn bad_flags_are_rejected_with_the_field_and_range() {
    let out = scratch("flags");
    let o = out.to_str().unwrap();
    for (args, needles) in [
        (
            vec!["gen", "exakt"],
            vec!["unknown family `exakt`", "exact, tmr"],
        ),
        (
            vec!["gen", "exact", "--a-bits", "0"],
            vec!["a_bits = 0", "2..=16"],
        ),
        (
            vec!["gen", "exact", "--a-bits", "1"],
            vec!["a_bits = 1", "2..=16"],
        ),
        (
            vec!["gen", "exact", "--b-bits", "17"],
            vec!["b_bits = 17", "2..=16"],
        ),
        (
            vec!["gen", "tmr", "--width", "40"],
            vec!["tmr: width = 40", "2..=16"],
        ),
        (
            vec!["gen", "exact", "--a-bits", "abc"],
            vec!["--a-bits", "abc"],
        ),
        (
            vec!["gen", "adam", "--target-mhz", "900"],
            vec!["adam: target_mhz must be a number in (0, 775], got 900"],
        ),
        (
            vec!["gen", "exact", "--target-mhz", "0"],
            vec!["exact: target_mhz must be a number in (0, 775], got 0"],
        ),
        (
            vec!["gen", "dot", "--lanes", "4", "--lane", "exact", "--valid"],
            vec!["dot: valid is not a dot option"],
        ),

        (
            vec!["gen", "exact", "--fault-ports"],
            vec!["exact: unknown key `fault_ports`, allowed: a_bits, b_bits, width, signed, a_signed, b_signed, pipeline, target_mhz, valid, name"],
        ),
        (
            vec!["gen", "tmr", "--linear"],
            vec!["tmr: unknown key `linear`, allowed: a_bits, b_bits, width, signed, a_signed, b_signed, fault_ports, pipeline, target_mhz, valid, name"],
        ),
        (
            vec!["gen", "adam", "--width", "17"],
            vec!["adam: width = 17", "2..=16"],
        ),
        (
            vec!["gen", "mitchell", "--width", "8", "--frac-bits", "8"],
            vec!["mitchell: frac_bits = 8", "1..=7"],
        ),
        (
            vec!["gen", "mitchell", "--fault-ports"],
            vec!["mitchell: unknown key `fault_ports`", "allowed: width, frac_bits, signed, a_signed, b_signed, operands, pipeline, target_mhz, valid, name"],
        ),
        (
            vec!["gen", "exact", "--name", "9bad"],
            vec!["name `9bad`", "Verilog identifier"],
        ),
        (
            vec!["gen", "exact", "--name", "a$b"],
            vec!["name `a$b`", "Verilog identifier"],
        ),
        (
            vec!["gen", "exact", "--name", "module"],
            vec!["name `module`", "keyword"],
        ),
        (
            vec!["gen", "tmr", "--name", "reg"],
            vec!["name `reg`", "keyword"],
        ),
        (
            vec!["gen", "exact", "--name", "wire"],
            vec!["name `wire`", "keyword"],
        ),
        (
            vec!["gen", "exact", "--width", "8", "--a-bits", "6"],
            vec!["a_bits = 6 contradicts width = 8"],
        ),
    ] {
        let mut full = args.clone();
        full.extend(["--out", o]);
        assert_bad_input(&full, &needles, &out);
    }
}

#[test]
fn bad_yaml_is_rejected_with_the_unit_and_field() {
    let out = scratch("yaml");
    let o = out.to_str().unwrap();
    for (name, text, needles) in [
        (
            "misspelt.yaml",
            "units:\n  - {family: exact, a_bit: 8}\n",
            vec!["units[0]", "unknown key `a_bit`"],
        ),
        (
            "type.yaml",
            "units:\n  - {family: tmr, width: eight}\n",
            vec!["units[0]", "tmr", "width"],
        ),
        (
            "toplevel.yaml",
            "unit:\n  - {family: exact}\n",
            vec!["unknown field `unit`"],
        ),
        (
            "range.yaml",
            "units:\n  - {family: exact}\n  - {family: exact, b_bits: 20}\n",
            vec!["units[1]", "b_bits = 20", "2..=16"],
        ),
        (
            "dup.yaml",
            "units:\n  - {family: exact}\n  - {family: exact, width: 8}\n",
            vec!["both named `exact_u8x8`"],
        ),
        (
            "clock.yaml",
            "clock_mhz: -5\nunits:\n  - {family: exact}\n",
            vec!["clock_mhz = -5"],
        ),
        (
            "nofamily.yaml",
            "units:\n  - {width: 8}\n",
            vec!["units[0] has no `family`"],
        ),
        ("broken.yaml", "units: [\n", vec!["broken.yaml"]),
    ] {
        let path = out.join(name);
        std::fs::write(&path, text).unwrap();
        let dest = out.join("rtl");
        let full = [
            "gen",
            "--config",
            path.to_str().unwrap(),
            "--out",
            dest.to_str().unwrap(),
        ];
        assert_bad_input(&full, &needles, &dest);
    }
    let missing = out.join("missing.yaml");
    assert_bad_input(
        &["gen", "--config", missing.to_str().unwrap(), "--out", o],
        &["cannot read", "missing.yaml"],
        &out.join("none"),
    );
}

#[test]
fn unwritable_output_folder_is_bad_input() {
    let base = scratch("ro");
    let blocker = base.join("file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let target = blocker.join("rtl");
    let o = qmulgen(&["gen", "exact", "--out", target.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot write to output folder"));
    assert_eq!(files_in(&base), vec!["file"]);
}

#[test]
fn gen_writes_every_file_and_is_byte_identical_across_runs() {
    let design = concat!(env!("CARGO_MANIFEST_DIR"), "/designs/default.yaml");
    let (a, b) = (scratch("det-a"), scratch("det-b"));
    for d in [&a, &b] {
        let o = qmulgen(&["gen", "--config", design, "--out", d.to_str().unwrap()]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let names = files_in(&a);
    assert_eq!(names, files_in(&b));
    assert!(names.iter().any(|n| n.ends_with(".v")));
    for ext in [".v", ".json", "_ooc.tcl", "_ooc.xdc", "_ip.tcl"] {
        assert_eq!(
            names.iter().filter(|n| n.ends_with(ext)).count(),
            names.iter().filter(|n| n.ends_with(".v")).count(),
            "one {ext} per unit"
        );
    }
    for n in &names {
        assert_eq!(
            std::fs::read(a.join(n)).unwrap(),
            std::fs::read(b.join(n)).unwrap(),
            "{n} differs"
        );
    }
    assert!(!names.iter().any(|n| n.contains(".tmp")));
}

#[test]
fn gen_takes_a_part_and_refuses_clock_or_part_flags_with_a_design_file() {
    let out = scratch("part");
    let o = out.to_str().unwrap();
    let ok = qmulgen(&[
        "gen",
        "exact",
        "--width",
        "4",
        "--part",
        "xcku5p-ffvb676-2-e",
        "--clock-mhz",
        "400",
        "--out",
        o,
    ]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let tcl = std::fs::read_to_string(out.join("exact_u4x4_ooc.tcl")).unwrap();
    assert!(tcl.contains("set part xcku5p-ffvb676-2-e\n"), "{tcl}");
    let xdc = std::fs::read_to_string(out.join("exact_u4x4_ooc.xdc")).unwrap();
    assert!(xdc.contains("-period 2.500"), "{xdc}");
    let empty = scratch("part-bad");
    let e = empty.to_str().unwrap();
    assert_bad_input(
        &["gen", "exact", "--part", "zcu102", "--out", e],
        &["--part `zcu102` is not a Xilinx part name"],
        &empty,
    );
    assert_bad_input(
        &["gen", "exact", "--clock-mhz", "0", "--out", e],
        &["--clock-mhz = 0 is out of range"],
        &empty,
    );
    let design = concat!(env!("CARGO_MANIFEST_DIR"), "/designs/default.yaml");
    assert_bad_input(
        &[
            "gen",
            "--config",
            design,
            "--part",
            "xc7a35tcpg236-1",
            "--out",
            e,
        ],
        &["a design file sets clock_mhz and part"],
        &empty,
    );
}

#[test]
fn single_unit_gen_names_and_writes_the_module() {
    let out = scratch("single");
    let o = qmulgen(&[
        "gen",
        "tmr",
        "--width",
        "12",
        "--signed",
        "--pipeline",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert_eq!(
        files_in(&out),
        vec![
            "tmr_s12x12_p.json",
            "tmr_s12x12_p.v",
            "tmr_s12x12_p_ip.tcl",
            "tmr_s12x12_p_ooc.tcl",
            "tmr_s12x12_p_ooc.xdc"
        ]
    );
    let v = std::fs::read_to_string(out.join("tmr_s12x12_p.v")).unwrap();
    assert!(v.contains("module tmr_s12x12_p(clk,ce,a,b,p,err);"));
}

/// `NAME_ip.tcl` packages the unit with `ipx::package_project` (no Vivado here: its structure
/// is checked): vendor, library, name, version; the clock (with its frequency) for registered
/// units, the active-high reset and both AXI4-Stream interfaces for an AXI4-Stream dot, none
/// of them for a combinational unit; braces balance.
#[test]
fn ip_packaging_scripts_name_the_core_and_its_interfaces() {
    let out = scratch("ip");
    let o = out.to_str().unwrap();
    for args in [
        "gen exact --width 4",
        "gen tmr --width 8 --pipeline",
        "gen dot --lanes 4 --lane exact --width 8 --axis --target-mhz 400",
        "gen adam --width 8 --target-mhz 450 --valid",
    ] {
        let mut a: Vec<&str> = args.split_whitespace().collect();
        a.extend(["--out", o]);
        assert!(qmulgen(&a).status.success(), "{args}");
    }
    let read = |name: &str| std::fs::read_to_string(out.join(format!("{name}_ip.tcl"))).unwrap();
    for name in ["exact_u4x4", "tmr_u8x8_p", "dot4_exact_u8x8_axis"] {
        let tcl = read(name);
        for line in [
            "ipx::package_project -root_dir $ip_dir -vendor qmulgen.org -library qmulgen \\",
            &format!("read_verilog [file join $here {name}.v]"),
            "set_property name $top $core",
            &format!("set_property version {} $core", env!("CARGO_PKG_VERSION")),
            "ipx::check_integrity $core",
            "ipx::save_core $core",
        ] {
            assert!(tcl.contains(line), "{name}: no `{line}`");
        }
        assert_eq!(tcl.matches('{').count(), tcl.matches('}').count(), "{name}");
    }
    let (comb, reg, dot) = (
        read("exact_u4x4"),
        read("tmr_u8x8_p"),
        read("dot4_exact_u8x8_axis"),
    );
    assert!(!comb.contains("clock_rtl") && !comb.contains("axis_rtl"));
    assert!(reg.contains("ipx::infer_bus_interface clk xilinx.com:signal:clock_rtl:1.0 $core"));
    assert!(reg.contains("set_property value 300000000 "), "{reg}");
    assert!(!reg.contains("reset_rtl") && !reg.contains("axis_rtl"));
    // A unit pipelined for 450 MHz with a valid pipeline: its clock, its reset.
    let valid = read("adam_u8_t7_p450v");
    assert!(valid.contains("set_property value 450000000 "), "{valid}");
    assert!(valid.contains("ipx::associate_bus_interfaces -clock clk -reset rst $core"));
    for line in [
        "set_property value 400000000 ",
        "ipx::infer_bus_interface rst xilinx.com:signal:reset_rtl:1.0 $core",
        "set_property value ACTIVE_HIGH ",
        "ipx::associate_bus_interfaces -clock clk -reset rst $core",
        "ipx::infer_bus_interfaces xilinx.com:interface:axis_rtl:1.0 $core",
        "ipx::associate_bus_interfaces -busif s_axis -clock clk $core",
        "ipx::associate_bus_interfaces -busif m_axis -clock clk $core",
    ] {
        assert!(dot.contains(line), "no `{line}`:\n{dot}");
    }
}

#[test]
fn eval_prints_the_golden_outputs() {
    let run = |args: &[&str]| {
        let o = qmulgen(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    assert_eq!(run(&["eval", "exact", "--width", "8", "13", "11"]), "p=143");
    // §3.3: 13 × 11 ≈ 128 in AdAM; 3 × 5 with s'_1 (site 2) flipped gives 10, detected.
    assert_eq!(
        run(&["eval", "adam", "--width", "8", "13", "11"]),
        "p=128 err=0"
    );
    assert_eq!(
        run(&[
            "eval",
            "adam",
            "--width",
            "8",
            "--fault-ports",
            "3",
            "5",
            "2",
            "0"
        ]),
        "p=10 err=1"
    );
    assert_eq!(
        run(&["eval", "exact", "--width", "4", "--signed", "-8", "7"]),
        "p=-56"
    );
    assert_eq!(
        run(&["eval", "exact", "--width", "4", "--signed", "--json", "-8", "-8"]),
        "{\"p\":64}"
    );
    assert_eq!(
        run(&[
            "eval",
            "tmr",
            "--width",
            "4",
            "--fault-ports",
            "13",
            "11",
            "3",
            "0"
        ]),
        "p=143 err=1"
    );
    let o = qmulgen(&["eval", "exact", "--width", "8", "300", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("operand a = 300 does not fit 8 bits unsigned, allowed 0..=255"));
    let o = qmulgen(&["eval", "exact", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("takes 2 operands (a b), got 1"));
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in [
        "list",
        "gen",
        "verify",
        "eval",
        "quantize",
        "metrics",
        "synth",
        "report",
        "faults",
        "explore",
        "export",
        "doctor",
        "completions",
        "man",
    ] {
        let o = qmulgen(&[sub, "--help"]);
        assert!(o.status.success());
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains("qmulgen "), "{sub} --help has no example");
    }
    let o = qmulgen(&["list"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "exact",
        "tmr",
        "mitchell",
        "adam",
        "--a-bits",
        "--frac-bits",
        "2..=16",
        "--fault-ports",
    ] {
        assert!(text.contains(needle), "list lacks {needle}");
    }
}

#[test]
fn quantize_writes_readmemh_codes_and_reports_the_error() {
    let dir = scratch("quant");
    let input = dir.join("w.csv");
    std::fs::write(&input, "# weights\n0.0, 0.25, -0.75\n1.25\n100\n").unwrap();
    let out = dir.join("codes.hex");
    let o = qmulgen(&[
        "quantize",
        "esb",
        "--exp-bits",
        "2",
        "--frac-bits",
        "1",
        "--input",
        input.to_str().unwrap(),
        "--alpha",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // e2 k1 (word {s, E[1:0], M}): 0 -> 0; 0.25 -> 0 (tie to even); -0.75 -> -1.0 = q 2 =
    // {1,01,0}; 1.25 -> 1.0 = {0,01,0}; 100 -> clipped to 6 = q 12 = {0,11,1}.
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "0\n0\na\n2\n7\n");
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("5 codes of 4 bits"), "{report}");
    assert!(report.contains("clipped 20.00 %"), "{report}");
    let bad = dir.join("bad.txt");
    std::fs::write(&bad, "0.5\nabc\n").unwrap();
    let o = qmulgen(&[
        "quantize",
        "esb",
        "--input",
        bad.to_str().unwrap(),
        "--alpha",
        "1",
        "--out",
        dir.join("x.hex").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bad.txt:2: `abc` is not a number"));
    assert!(!dir.join("x.hex").exists());
    let o = qmulgen(&[
        "quantize",
        "esb",
        "--exp-bits",
        "4",
        "--frac-bits",
        "2",
        "--input",
        input.to_str().unwrap(),
        "--out",
        dir.join("y.hex").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("give --alpha"));
}

#[test]
fn metrics_reproduce_the_table_and_the_rtl_agrees() {
    let out = scratch("metrics");
    let (json, csv) = (out.join("m.json"), out.join("m.csv"));
    let o = qmulgen(&[
        "metrics",
        "adam",
        "--width",
        "4",
        "--frac-bits",
        "3",
        "--rtl",
        "--json",
        json.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // ARITHMETIC.md §3.3, n = 4, t = 3.
    for needle in [
        "exhaustive over all 256 pairs",
        "47.27 %",
        "2.1758",
        "0.00967",
        "3.001 %",
        "11.111 %",
        "-2.1758",
        "RTL metrics equal the golden model's",
    ] {
        assert!(text.contains(needle), "{text} lacks {needle}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["golden"]["wce"], 16);
    assert_eq!(report["golden"], report["rtl"]);
    assert_eq!(report["sampling"]["kind"], "exhaustive");
    let rows: Vec<String> = std::fs::read_to_string(&csv)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[0].starts_with("module,source,sampling,pairs,seed,er,med"));
    assert!(rows[1].starts_with("adam_u4_t3,golden,exhaustive,256,,"));
    assert!(rows[2].starts_with("adam_u4_t3,rtl,exhaustive,256,,"));

    // Above 2^24 pairs (or with --vectors) the report says it sampled, with seed and count.
    let o = qmulgen(&[
        "metrics",
        "mitchell",
        "--width",
        "16",
        "--vectors",
        "100000",
        "--seed",
        "5",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        text.contains("sampled: 100000 seeded random pairs, seed 5"),
        "{text}"
    );
}

#[test]
fn metrics_reject_exact_units_and_fault_ports() {
    let out = scratch("metrics-bad");
    let j = out.join("m.json");
    let j = j.to_str().unwrap();
    assert_bad_input(
        &["metrics", "exact", "--width", "8", "--json", j],
        &["exact", "approximate families"],
        &out,
    );
    assert_bad_input(
        &["metrics", "adam", "--fault-ports", "--json", j],
        &["adam", "fault_ports"],
        &out,
    );
    assert_bad_input(
        &["metrics", "adam", "--vectors", "0", "--json", j],
        &["--vectors = 0"],
        &out,
    );
}

/// A C-order `.npy` (format 1.0) of float32 values, written byte by byte.
fn npy_f32(shape: &[usize], values: &[f32]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in values {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes
}

#[test]
fn quantize_reads_npy_per_channel_with_the_mean_shift() {
    let dir = scratch("npy");
    let input = dir.join("w.npy");
    std::fs::write(&input, npy_f32(&[2, 3], &[1.0, 2.0, 3.0, -0.5, 0.5, 1.5])).unwrap();
    let out = dir.join("codes.hex");
    let args = |extra: &[&str]| {
        let mut a = vec![
            "quantize",
            "esb",
            "--linear",
            "--weight-bits",
            "4",
            "--input",
            input.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--per-channel",
        ];
        a.extend_from_slice(extra);
        qmulgen(&a)
    };
    let o = args(&["--mean-shift", "--alpha", "0.5"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Both rows become [-1, 0, 1] after their means (2 and 0.5); y = [-2, 0, 2]:
    // round(-2.5) + 0.5 = -1.5 -> {1, j=1} = 9; round(-0.5) + 0.5 = 0.5 -> 0; round(1.5) + 0.5
    // = 2.5 -> j = 2.
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "9\n0\n2\n9\n0\n2\n");
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("channel 0: mean 2.000000e0"), "{report}");
    assert!(report.contains("channel 1: mean 5.000000e-1"), "{report}");
    // DDA per channel: λ_lin(4) = 0.3352 times each row's std (both 1 here).
    let o = args(&[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report = String::from_utf8_lossy(&o.stdout);
    assert_eq!(report.matches("alpha 0.335210").count(), 2, "{report}");
    // A truncated .npy: one line, exit 2, nothing written.
    std::fs::remove_file(&out).unwrap();
    let full = npy_f32(&[2, 3], &[1.0; 6]);
    std::fs::write(&input, &full[..full.len() - 3]).unwrap();
    let o = args(&["--alpha", "1"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("w.npy") && err.lines().count() == 1, "{err}");
    assert!(!out.exists());
    let o = args(&["--alpha", "-1"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn flags_a_command_does_not_use_are_refused() {
    let out = scratch("unused");
    let inputs = scratch("unused-inputs");
    let w = inputs.join("w.txt");
    std::fs::write(&w, "0.1\n-0.2\n").unwrap();
    let w = w.to_str().unwrap();
    let hex = out.join("c.hex");
    let hex = hex.to_str().unwrap();
    let bin = out.join("t.bin");
    let bin = bin.to_str().unwrap();
    for (args, needles) in [
        (
            vec!["eval", "exact", "--width", "8", "--pipeline", "3", "4"],
            vec!["--pipeline is not used by eval"],
        ),
        (
            vec!["eval", "exact", "--width", "8", "--name", "m", "3", "4"],
            vec!["--name is not used by eval"],
        ),
        (
            vec!["explore", "adam", "--width", "6", "--pipeline"],
            vec!["--pipeline is not used by explore"],
        ),
        (
            vec!["explore", "adam", "--width", "6", "--fault-ports"],
            vec!["--fault-ports is not used by explore"],
        ),
        (
            vec!["metrics", "adam", "--width", "6", "--pipeline"],
            vec!["--pipeline is not used by metrics", "--rtl"],
        ),
        (
            vec![
                "export",
                "exact",
                "--width",
                "8",
                "--pipeline",
                "--format",
                "npy",
                "--out",
                bin,
            ],
            vec!["--pipeline is not used by export"],
        ),
        (
            vec![
                "quantize",
                "apot",
                "--pipeline",
                "--input",
                w,
                "--alpha",
                "1",
                "--out",
                hex,
            ],
            vec!["--pipeline is not used by quantize"],
        ),
    ] {
        assert_bad_input(&args, &needles, &out);
    }
}

/// Mode bits of a file, and those a plain `File::create` gives in the same folder.
#[cfg(unix)]
fn mode_and_plain(path: &Path) -> (u32, u32) {
    use std::os::unix::fs::PermissionsExt;
    let plain = path.with_file_name(".plain-create");
    std::fs::File::create(&plain).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let r = (mode(path), mode(&plain));
    std::fs::remove_file(plain).unwrap();
    r
}

#[cfg(unix)]
#[test]
fn written_files_get_the_mode_a_plain_create_gives() {
    let out = scratch("modes");
    let o = out.to_str().unwrap();
    let gen = qmulgen(&["gen", "exact", "--width", "4", "--out", o]);
    assert!(gen.status.success());
    let t = out.join("t.npy");
    let export = qmulgen(&[
        "export",
        "exact",
        "--width",
        "4",
        "--format",
        "npy",
        "--out",
        t.to_str().unwrap(),
    ]);
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let names = files_in(&out);
    assert_eq!(names.len(), 7, "{names:?}");
    for name in names {
        let (mode, plain) = mode_and_plain(&out.join(&name));
        assert_eq!(
            mode, plain,
            "{name}: {mode:o}, a plain create gives {plain:o}"
        );
        // Under any usual umask (022, 002) the group can read what a plain create writes.
        assert_eq!(mode & 0o640, plain & 0o640);
    }
}

#[test]
fn completions_and_man_pages() {
    for shell in ["bash", "zsh", "fish"] {
        let o = qmulgen(&["completions", shell]);
        assert!(o.status.success(), "{shell}");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains("qmulgen") && text.contains("verify"),
            "{shell}"
        );
    }
    assert_eq!(qmulgen(&["completions", "tcsh"]).status.code(), Some(2));
    let out = scratch("man");
    let o = qmulgen(&["man", "--out", out.to_str().unwrap()]);
    assert!(o.status.success());
    let pages = files_in(&out);
    for page in [
        "qmulgen.1",
        "qmulgen-gen.1",
        "qmulgen-verify.1",
        "qmulgen-doctor.1",
    ] {
        assert!(pages.iter().any(|p| p == page), "{page} missing: {pages:?}");
    }
    let gen = std::fs::read_to_string(out.join("qmulgen-gen.1")).unwrap();
    assert!(gen.starts_with(".ie") || gen.contains(".TH"), "not roff");
    assert!(
        gen.contains("qmulgen\\-gen") && gen.contains("width"),
        "{gen}"
    );
}
