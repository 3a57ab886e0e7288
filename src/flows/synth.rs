//! The `synth` flow: synthesise units with Yosys for UltraScale+ (DSP-free) and report LUTs,
//! carries, muxes, FFs and logic depth; two Yosys jobs at a time, results cached.

use crate::emit;
use crate::flows::Failure;
use crate::spec::UnitSpec;
use crate::synth::{self, SynthResult, Yosys};

/// Synthesise every unit of `specs`, two at a time; `progress` hears one line per unit as it
/// finishes. Results come back in the order of `specs`.
pub fn run(
    specs: &[UnitSpec],
    progress: &(dyn Fn(String) + Sync),
) -> Result<Vec<SynthResult>, Failure> {
    let yosys = Yosys::locate().map_err(Failure::BadInput)?;
    let generated: Vec<emit::Generated> = specs.iter().map(emit::generate).collect();
    let sources: Vec<synth::Source> = generated.iter().map(synth::Source::from).collect();
    let n = sources.len();
    synth::synthesize_many(&yosys, &sources, &|i, r| {
        progress(match r {
            Ok((r, cached)) => format!(
                "[{}/{n}] {}: {} LUTs, depth {}{}",
                i + 1,
                r.module,
                r.stats.lut,
                r.stats.depth_luts,
                if *cached {
                    " (cached)".to_string()
                } else {
                    format!(" ({:.1} s)", r.seconds)
                }
            ),
            Err(_) => format!("[{}/{n}] {}: FAIL", i + 1, sources[i].name),
        })
    })
    .into_iter()
    .zip(&generated)
    .map(|(r, g)| r.map(|r| r.with_throughput(g)).map_err(Failure::Failed))
    .collect()
}

/// Columns of the table and the CSV.
const COLUMNS: &str = "module,lut,lut1,lut2,lut3,lut4,lut5,lut6,carry,carry8_equivalent,muxf7,muxf8,ff,depth_luts,depth_cells,path_ns,fmax_est_mhz,gops,luts_per_mac,gops_per_klut,yosys_seconds";

fn row(r: &SynthResult) -> Vec<String> {
    let s = &r.stats;
    let by = |k: &str| s.lut_by_size.get(k).copied().unwrap_or(0).to_string();
    // Throughput columns are empty for single units.
    let t = |f: fn(&crate::synth::Throughput) -> String| {
        r.throughput.as_ref().map(f).unwrap_or_default()
    };
    vec![
        r.module.clone(),
        s.lut.to_string(),
        by("LUT1"),
        by("LUT2"),
        by("LUT3"),
        by("LUT4"),
        by("LUT5"),
        by("LUT6"),
        s.carry.to_string(),
        s.carry8_equivalent.to_string(),
        s.muxf7.to_string(),
        s.muxf8.to_string(),
        s.ff.to_string(),
        s.depth_luts.to_string(),
        s.depth_cells.to_string(),
        format!("{:.2}", s.path_ns),
        format!("{:.0}", s.fmax_est_mhz),
        t(|t| format!("{:.2}", t.gops)),
        t(|t| format!("{:.1}", t.luts_per_mac)),
        t(|t| format!("{:.2}", t.gops_per_klut)),
        format!("{:.2}", r.seconds),
    ]
}

/// The results as an aligned text table.
pub fn table(results: &[SynthResult]) -> String {
    let header: Vec<&str> = COLUMNS.split(',').collect();
    let rows: Vec<Vec<String>> = results.iter().map(row).collect();
    let mut t = crate::base::aligned_table(&header, &rows);
    if let Some(r) = results.first() {
        t.push_str(&format!(
            "{} (synth_xilinx -family xcup -nodsp; yosys_seconds 0.00 = from the cache)\n\
             path_ns, fmax_est_mhz: the ARITHMETIC.md §5 timing model on the mapped netlist, an estimate, not Vivado timing\n",
            r.yosys
        ));
    }
    if results.iter().any(|r| r.throughput.is_some()) {
        t.push_str("gops = 2·N·fmax_est/1000, gops_per_klut = gops per 1000 LUTs (no DSPs; ESB reports 10.95 on a ZCU102)\n");
    }
    t
}

/// Warnings for dots whose estimated fmax misses their target: the lane's own path is not
/// split by the planner, so a lane longer than the clock period sets fmax.
pub fn missed_targets(results: &[SynthResult]) -> Vec<String> {
    results
        .iter()
        .filter_map(|r| {
            let target = r.target_mhz?;
            (r.stats.fmax_est_mhz + 1e-9 < target).then(|| {
                format!(
                    "{}: target {target:.0} MHz not met under the §5 model: fmax_est {:.0} MHz (worst path {:.2} ns)",
                    r.module, r.stats.fmax_est_mhz, r.stats.path_ns
                )
            })
        })
        .collect()
}

pub fn csv(results: &[SynthResult]) -> String {
    let mut t = format!("{COLUMNS},yosys\n");
    for r in results {
        t.push_str(&format!("{},\"{}\"\n", row(r).join(","), r.yosys));
    }
    t
}

pub fn json(results: &[SynthResult]) -> String {
    serde_json::to_string_pretty(results).expect("results serialize") + "\n"
}
