//! `qmulgen export`: every table format read back by an independent reader (a strict `.npy`
//! header parser, the C header's numbers, little-endian words) and compared entry by entry
//! with the golden model; bad requests get one line, exit 2 and no files.

use qmulgen::base::ParamMap;
use qmulgen::spec::UnitSpec;
use std::path::{Path, PathBuf};
use std::process::Command;

fn qmulgen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_qmulgen"))
        .args(args)
        .output()
        .unwrap()
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("qmulgen-export-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// P for row pattern i and column pattern j, straight from the golden model (None where a
/// narrower port cannot hold the pattern's value).
fn expected(family: &str, yaml: &str) -> Vec<Option<i64>> {
    let params: ParamMap = serde_yaml::from_str(yaml).unwrap();
    let unit = UnitSpec::from_params(family, &params).unwrap().unit;
    let ports = unit.ports();
    let ins: Vec<_> = ports
        .iter()
        .filter(|p| p.dir == qmulgen::base::Dir::Input)
        .collect();
    let p = ports.iter().find(|p| p.name == "p").unwrap();
    let value = |pattern: i64, w: usize, signed: bool| -> Option<u64> {
        let v = if signed && pattern >= 128 {
            pattern - 256
        } else {
            pattern
        };
        let (lo, hi) = if signed {
            (-(1 << (w - 1)), (1 << (w - 1)) - 1)
        } else {
            (0, (1 << w) - 1)
        };
        (lo <= v && v <= hi).then_some((v as u64) & ((1u64 << w) - 1))
    };
    let mut out = vec![0u64; 2];
    let mut table = Vec::new();
    for i in 0..256 {
        for j in 0..256 {
            let a = value(i, ins[0].width, ins[0].signed);
            let b = value(j, ins[1].width, ins[1].signed);
            table.push(match (a, b) {
                (Some(a), Some(b)) => {
                    unit.golden(&[a, b], &mut out);
                    let raw = out[0];
                    Some(if p.signed && raw >> (p.width - 1) & 1 == 1 {
                        raw as i64 - (1i64 << p.width)
                    } else {
                        raw as i64
                    })
                }
                _ => None,
            });
        }
    }
    table
}

fn export(dir: &Path, family: &str, flags: &[&str], format: &str, file: &str) -> Vec<u8> {
    let out = dir.join(file);
    let mut args = vec!["export", family];
    args.extend_from_slice(flags);
    args.extend(["--format", format, "--out", out.to_str().unwrap()]);
    let o = qmulgen(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&out).unwrap();
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{file}.json"))).unwrap())
            .unwrap();
    assert_eq!(sidecar["format"], format);
    assert_eq!(sidecar["file"], file);
    assert_eq!(
        sidecar["sha256"].as_str().unwrap(),
        qmulgen::emit::sha256_hex(&bytes)
    );
    bytes
}

fn check(got: &[i64], want: &[Option<i64>], what: &str) {
    assert_eq!(got.len(), 65536, "{what}");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(
            *g,
            w.unwrap_or(0),
            "{what}: row {} column {}",
            k / 256,
            k % 256
        );
    }
}

/// A strict reader of `.npy` format 1.0, C order, shape (256, 256).
fn read_npy(bytes: &[u8]) -> (String, Vec<i64>) {
    assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
    let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + len) % 64, 0, "header not 64-byte aligned");
    let header = std::str::from_utf8(&bytes[10..10 + len]).unwrap();
    assert!(header.ends_with('\n'));
    assert!(header.contains("'fortran_order': False"), "{header}");
    let shape: Vec<&str> = header
        .split("'shape': (")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .collect();
    assert_eq!(shape, ["256", "256"], "{header}");
    let descr = header
        .split("'descr': '")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    let data = &bytes[10 + len..];
    let values = match descr {
        "<i2" => data
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]) as i64)
            .collect(),
        "<u2" => data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]) as i64)
            .collect(),
        "<i4" => data
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as i64)
            .collect(),
        d => panic!("unexpected dtype {d}"),
    };
    (descr.to_string(), values)
}

#[test]
fn tfapprox_tables_equal_the_golden_model() {
    let dir = scratch("tf");
    for (family, flags, yaml) in [
        (
            "adam",
            vec!["--width", "8", "--frac-bits", "5"],
            "{width: 8, frac_bits: 5}",
        ),
        (
            "exact",
            vec!["--a-bits", "8", "--b-bits", "6"],
            "{a_bits: 8, b_bits: 6}",
        ),
    ] {
        let bytes = export(&dir, family, &flags, "tfapprox", "t.bin");
        let got: Vec<i64> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]) as i64)
            .collect();
        check(&got, &expected(family, yaml), family);
    }
}

#[test]
fn adapt_headers_equal_the_golden_model() {
    let dir = scratch("adapt");
    for (family, flags, yaml) in [
        (
            "exact",
            vec!["--width", "8", "--signed"],
            "{width: 8, signed: true}",
        ),
        (
            "mitchell",
            vec!["--width", "7", "--signed"],
            "{width: 7, signed: true}",
        ),
    ] {
        let text = String::from_utf8(export(&dir, family, &flags, "adapt", "t.h")).unwrap();
        assert!(text.contains("const int16_t"), "{text:.200}");
        let body = text.split("= {").nth(1).unwrap();
        let got: Vec<i64> = body
            .split(|c: char| !(c.is_ascii_digit() || c == '-'))
            .filter(|t| !t.is_empty())
            .map(|t| t.parse().unwrap())
            .collect();
        check(&got, &expected(family, yaml), family);
    }
}

#[test]
fn npy_tables_equal_the_golden_model_in_the_smallest_dtype() {
    let dir = scratch("npy");
    for (family, flags, yaml, dtype) in [
        (
            "esb",
            vec!["--exp-bits", "3", "--frac-bits", "1", "--act-bits", "8"],
            "{exp_bits: 3, frac_bits: 1, act_bits: 8}",
            "<i4",
        ),
        (
            "apot",
            vec!["--mag-bits", "4", "--act-bits", "6"],
            "{mag_bits: 4, act_bits: 6}",
            "<i2",
        ),
        ("tmr", vec!["--width", "8"], "{width: 8}", "<u2"),
    ] {
        let (descr, got) = read_npy(&export(&dir, family, &flags, "npy", "t.npy"));
        assert_eq!(descr, dtype, "{family}");
        check(&got, &expected(family, yaml), family);
    }
}

#[test]
fn bad_exports_write_nothing() {
    let dir = scratch("bad");
    let out = dir.join("x.bin");
    for (args, needle) in [
        (
            vec!["exact", "--width", "12", "--format", "npy"],
            "at most 8 bits",
        ),
        (
            vec!["exact", "--width", "8", "--format", "adapt"],
            "does not fit int16",
        ),
        (
            vec!["exact", "--width", "8", "--signed", "--format", "tfapprox"],
            "unsigned",
        ),
        (
            vec!["exact", "--width", "8", "--format", "onnx"],
            "--format `onnx`",
        ),
    ] {
        let mut a = vec!["export"];
        a.extend_from_slice(&args);
        a.extend(["--out", out.to_str().unwrap()]);
        let o = qmulgen(&a);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(needle) && err.lines().count() == 1,
            "{args:?}: {err}"
        );
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "{args:?} wrote files"
        );
    }
}

/// `--format c`: the generated C function, compiled with the system C compiler, equals the
/// golden model on every operand pair (small units) or corner and seeded random pairs (wide).
#[test]
fn c_models_are_bit_exact() {
    let dir = scratch("c");
    for (family, flags, yaml) in [
        (
            "exact",
            vec!["--a-bits", "12", "--b-bits", "10", "--signed"],
            "{a_bits: 12, b_bits: 10, signed: true}",
        ),
        ("tmr", vec!["--width", "16"], "{width: 16}"),
        (
            "esb",
            vec!["--exp-bits", "3", "--frac-bits", "4", "--act-bits", "9"],
            "{exp_bits: 3, frac_bits: 4, act_bits: 9}",
        ),
        (
            "esb",
            vec!["--linear", "--weight-bits", "5", "--act-bits", "6"],
            "{linear: true, weight_bits: 5, act_bits: 6}",
        ),
        (
            "apot",
            vec!["--mag-bits", "5", "--act-bits", "10"],
            "{mag_bits: 5, act_bits: 10}",
        ),
        (
            "pot",
            vec!["--mag-bits", "3", "--act-bits", "8"],
            "{mag_bits: 3, act_bits: 8}",
        ),
        (
            "mitchell",
            vec!["--width", "16", "--frac-bits", "11", "--signed"],
            "{width: 16, frac_bits: 11, signed: true}",
        ),
        (
            "adam",
            vec!["--width", "9", "--frac-bits", "5"],
            "{width: 9, frac_bits: 5}",
        ),
    ] {
        export(&dir, family, &flags, "c", "model.c");
        let params: ParamMap = serde_yaml::from_str(yaml).unwrap();
        let spec = UnitSpec::from_params(family, &params).unwrap();
        let name: String = spec
            .module_name()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let main = format!(
            "#include <stdio.h>\n#include \"model.c\"\nint main(void) {{ uint64_t v[2]; \
             while (fread(v, 8, 2, stdin) == 2) {{ int64_t p = {name}(v[0], v[1]); fwrite(&p, 8, 1, stdout); }} return 0; }}\n"
        );
        std::fs::write(dir.join("main.c"), main).unwrap();
        let exe = dir.join("model");
        let cc = Command::new("cc")
            .args(["-O2", "-Wall", "-Werror", "-o"])
            .arg(&exe)
            .arg(dir.join("main.c"))
            .output()
            .expect("a C compiler (cc)");
        assert!(
            cc.status.success(),
            "{}",
            String::from_utf8_lossy(&cc.stderr)
        );
        let unit = spec.unit.as_ref();
        let widths = qmulgen::units::input_widths(unit);
        let bits: usize = widths.iter().sum();
        let source: Box<dyn qmulgen::sim::VectorSource> = if bits <= 20 {
            Box::new(qmulgen::sim::Exhaustive::new(widths))
        } else {
            Box::new(qmulgen::sim::Random::new(widths, 200_000, 3))
        };
        let mut vectors: Vec<[u64; 2]> = unit.corner_cases().iter().map(|c| [c[0], c[1]]).collect();
        let mut v = [0u64; 2];
        for k in 0..source.len() {
            source.fill(k, &mut v);
            vectors.push(v);
        }
        let input: Vec<u8> = vectors
            .iter()
            .flatten()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let mut child = Command::new(&exe)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            stdin.write_all(&input).unwrap();
        });
        let out = child.wait_with_output().unwrap();
        writer.join().unwrap();
        let p_port = unit.ports().into_iter().find(|p| p.name == "p").unwrap();
        let mut golden = vec![0u64; 2];
        for (k, chunk) in out.stdout.chunks_exact(8).enumerate() {
            let got = i64::from_le_bytes(chunk.try_into().unwrap());
            unit.golden(&vectors[k], &mut golden);
            let want = if p_port.signed {
                qmulgen::base::sign_extend(golden[0], p_port.width)
            } else {
                golden[0] as i64
            };
            assert_eq!(got, want, "{family} {yaml}: operands {:?}", vectors[k]);
        }
        assert_eq!(out.stdout.len(), vectors.len() * 8, "{family}");
    }
}
