//! `qmulgen report`: Vivado utilization and timing reports (UltraScale+ and 7-series wording)
//! read into one row per design and stage; a truncated or foreign file is named with what it
//! lacks, exit status 2.

use qmulgen::vivado::report;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testbenches/fixtures/vivado")
        .join(name)
}

#[test]
fn ultrascale_utilization_and_timing_merge_into_one_row() {
    let (u, t) = (
        fixture("synthetic_zu9_route_utilization.rpt"),
        fixture("synthetic_zu9_route_timing.rpt"),
    );
    let r = report::read(&[&u, &t], None).expect("reports parse");
    assert_eq!(r.len(), 1, "{r:?}");
    let r = &r[0];
    // Figures as printed in the fixture's tables.
    assert_eq!(
        (r.design.as_str(), r.stage.as_str(), r.device.as_str()),
        ("adam_u8_t7", "routed", "xczu9eg-ffvb1156-2-e")
    );
    assert_eq!(
        (r.lut, r.ff, r.carry, r.dsp),
        (Some(151), Some(33), Some(6), Some(0))
    );
    assert_eq!(r.carry_primitive.as_deref(), Some("CARRY8"));
    assert_eq!(r.bram, Some(1.5));
    assert_eq!((r.wns_ns, r.period_ns), (Some(-0.412), Some(3.333)));
    // A path 0.412 ns too slow for a 3.333 ns clock: 1000 / 3.745 MHz.
    let fmax = r.fmax_mhz.expect("fmax");
    assert!((fmax - 267.02).abs() < 0.01, "{fmax}");
}

#[test]
fn seven_series_takes_carry4_from_the_primitives_table() {
    let r =
        report::read(&[&fixture("synthetic_a7_synth_utilization.rpt")], Some(4.0)).expect("parses");
    let r = &r[0];
    assert_eq!(
        (r.design.as_str(), r.stage.as_str()),
        ("exact_u8x8", "synthesized")
    );
    assert_eq!(
        (r.lut, r.ff, r.carry, r.dsp),
        (Some(90), Some(0), Some(11), Some(0))
    );
    assert_eq!(r.carry_primitive.as_deref(), Some("CARRY4"));
    assert_eq!(r.bram, Some(0.0));
    // No timing report: no WNS, so no Fmax even with a period given.
    assert_eq!((r.wns_ns, r.fmax_mhz), (None, None));
}

#[test]
fn every_truncation_is_an_error_naming_the_file() {
    let dir = std::env::temp_dir().join(format!("qmulgen-vivado-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Cut each report just before the last line it needs (the Primitives table's bottom
    // border, the DSPs row; for timing the Intra Clock Table, which follows the Clock Summary
    // in every report_timing_summary) and at every earlier line.
    for (name, last_needed) in [
        ("synthetic_zu9_route_utilization.rpt", "| DSPs "),
        (
            "synthetic_a7_synth_utilization.rpt",
            "+----------+------+---------------------+",
        ),
        ("synthetic_zu9_route_timing.rpt", "| Intra Clock Table"),
    ] {
        let text = std::fs::read_to_string(fixture(name)).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let needed = lines
            .iter()
            .rposition(|l| l.starts_with(last_needed))
            .expect("marker line");
        for keep in 0..=needed {
            let cut = dir.join(format!("cut_{keep}_{name}"));
            std::fs::write(&cut, lines[..keep].join("\n")).unwrap();
            let err =
                report::read(&[&cut], None).expect_err(&format!("{name} cut to {keep} lines"));
            assert!(err.starts_with(&cut.display().to_string()), "{err}");
        }
    }
    // A WNS of NaN is not a number the report can hold: exit 2 from the CLI, one line.
    let text = std::fs::read_to_string(fixture("synthetic_zu9_route_timing.rpt")).unwrap();
    let nan = dir.join("nan_timing.rpt");
    std::fs::write(&nan, text.replacen("     -0.412", "        NaN", 1)).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_qmulgen"))
        .arg("report")
        .arg(&nan)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("`NaN` where a number belongs"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_cli_prints_the_table_and_rejects_foreign_files() {
    let bin = env!("CARGO_BIN_EXE_qmulgen");
    let (u, t) = (
        fixture("synthetic_zu9_route_utilization.rpt"),
        fixture("synthetic_zu9_route_timing.rpt"),
    );
    let o = Command::new(bin)
        .arg("report")
        .args([&u, &t])
        .output()
        .unwrap();
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    let row = out.lines().nth(1).unwrap_or("");
    for v in ["adam_u8_t7", "151", "6 CARRY8", "-0.412", "267.0"] {
        assert!(row.contains(v), "`{row}` lacks {v}");
    }
    let foreign = Path::new(env!("CARGO_MANIFEST_DIR")).join("Makefile");
    let o = Command::new(bin)
        .arg("report")
        .arg(&foreign)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("Makefile") && err.contains("not a Vivado"),
        "{err}"
    );
}
