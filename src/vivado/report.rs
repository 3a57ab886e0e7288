//! Vivado's text reports read back: `report_utilization` (UltraScale+ and 7-series wording) and
//! `report_timing_summary`, as `make vivado` writes them and as Vivado 2019-2024 prints them.
//! Reports of one design at one stage (synthesized, placed, routed) merge into one row.

use serde::Serialize;
use std::path::Path;

/// One design at one stage, from one or more report files.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct VivadoResult {
    pub design: String,
    /// `synthesized`, `placed`, `routed`, or empty when neither the header nor the file name says.
    pub stage: String,
    pub device: String,
    pub lut: Option<u64>,
    pub ff: Option<u64>,
    /// Carry primitives: CARRY8 on UltraScale(+), CARRY4 on 7-series (`carry_primitive`).
    pub carry: Option<u64>,
    pub carry_primitive: Option<String>,
    pub dsp: Option<u64>,
    /// Block RAM tiles (a RAMB18 counts half).
    pub bram: Option<f64>,
    pub wns_ns: Option<f64>,
    pub period_ns: Option<f64>,
    /// `1000 / (period - WNS)` when the clock period is known.
    pub fmax_mhz: Option<f64>,
    pub files: Vec<String>,
}

/// What one file holds, before merging.
#[derive(Debug, PartialEq)]
enum Parsed {
    Utilization {
        lut: u64,
        ff: u64,
        carry: u64,
        carry_primitive: &'static str,
        dsp: u64,
        bram: f64,
    },
    Timing {
        wns_ns: Option<f64>,
        period_ns: Option<f64>,
    },
}

/// The cells of a `| a | b | c |` table row, trimmed; empty for any other line.
fn cells(line: &str) -> Vec<&str> {
    let t = line.trim();
    if !(t.starts_with('|') && t.ends_with('|')) || t.len() < 2 {
        return Vec::new();
    }
    t[1..t.len() - 1].split('|').map(str::trim).collect()
}

/// Value of `| Key : value` in the report header.
fn header_field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix('|')?.trim_start().strip_prefix(key)?;
        let value = rest.trim_start().strip_prefix(':')?.trim();
        (!value.is_empty()).then_some(value)
    })
}

/// The Used column of the first site-table row named `name` (a trailing `*` footnote mark
/// ignored).
fn site_used(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let c = cells(l);
        (c.len() >= 3 && c[0].trim_end_matches('*').trim_end() == name).then(|| c[1].to_string())
    })
}

/// The rows of the Primitives table (`Ref Name | Used | Functional Category`), if the table is
/// complete (closed by its bottom border).
fn primitives(text: &str) -> Option<Vec<(String, String)>> {
    let mut lines = text.lines().skip_while(|l| {
        let c = cells(l);
        !(c.len() == 3 && c[0] == "Ref Name" && c[1] == "Used")
    });
    lines.next()?;
    if !lines.next()?.trim_start().starts_with("+-") {
        return None;
    }
    let mut rows = Vec::new();
    for l in lines {
        if l.trim_start().starts_with("+-") {
            return Some(rows);
        }
        let c = cells(l);
        if c.len() < 2 {
            return None;
        }
        rows.push((c[0].to_string(), c[1].to_string()));
    }
    None
}

fn count(value: String, what: &str) -> Result<u64, String> {
    value
        .parse()
        .map_err(|_| format!("`{what}` has Used = `{value}`, not a count"))
}

fn parse_utilization(text: &str) -> Result<Parsed, String> {
    let missing = |row: &str| format!("no `{row}` row (truncated report?)");
    let (lut_row, ff_row, seven_series) = if site_used(text, "CLB LUTs").is_some() {
        ("CLB LUTs", "CLB Registers", false)
    } else if site_used(text, "Slice LUTs").is_some() {
        ("Slice LUTs", "Slice Registers", true)
    } else {
        return Err("no `CLB LUTs` or `Slice LUTs` row".into());
    };
    let used = |row: &str| site_used(text, row).ok_or_else(|| missing(row));
    let lut = count(used(lut_row)?, lut_row)?;
    let ff = count(used(ff_row)?, ff_row)?;
    let dsp = count(used("DSPs")?, "DSPs")?;
    let bram_text = used("Block RAM Tile")?;
    let bram = bram_text
        .parse()
        .map_err(|_| format!("`Block RAM Tile` has Used = `{bram_text}`, not a number"))?;
    // UltraScale(+) lists CARRY8 among the CLB sites; 7-series lists CARRY4 only in the
    // Primitives table, which names only the primitives in use.
    let (carry, carry_primitive) = if seven_series {
        let prims = primitives(text)
            .ok_or("no complete `Primitives` table (7-series lists CARRY4 only there)")?;
        let n = match prims.into_iter().find(|(name, _)| name == "CARRY4") {
            Some((_, v)) => count(v, "CARRY4")?,
            None => 0,
        };
        (n, "CARRY4")
    } else {
        (count(used("CARRY8")?, "CARRY8")?, "CARRY8")
    };
    Ok(Parsed::Utilization {
        lut,
        ff,
        carry,
        carry_primitive,
        dsp,
        bram,
    })
}

/// The first number of the first data row under the header line starting with `first_column`
/// in the section titled `section` (`None` for Vivado's `inf`/`NA`: unconstrained).
fn section_first_value(
    text: &str,
    section: &str,
    first_column: &str,
) -> Result<Option<f64>, String> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.trim_start_matches(['|', ' ']).starts_with(section));
    if lines.next().is_none() {
        return Err(format!("no `{section}` section"));
    }
    let mut lines = lines.skip_while(|l| l.split_whitespace().next() != Some(first_column));
    if lines.next().is_none() {
        return Err(format!("no `{first_column}` column under `{section}`"));
    }
    let row = lines
        .find(|l| l.split_whitespace().any(|f| f.chars().any(|c| c != '-')))
        .ok_or_else(|| format!("no data row under `{section}` (truncated report?)"))?;
    let fields: Vec<&str> = row.split_whitespace().collect();
    // Clock Summary rows start with the clock's name and waveform `{rise fall}`.
    let value = if first_column == "Clock" {
        fields.iter().skip_while(|f| !f.ends_with('}')).nth(1)
    } else {
        fields.first()
    };
    match value {
        Some(&("inf" | "NA")) => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(format!("`{section}` row has `{v}` where a number belongs")),
        },
        None => Err(format!("`{section}` row is empty (truncated report?)")),
    }
}

/// True when a section titled `title` (`| title` on its own line) is in the report.
fn has_section(text: &str, title: &str) -> bool {
    text.lines()
        .any(|l| l.trim_start_matches(['|', ' ']).trim_end() == title)
}

fn parse_timing(text: &str) -> Result<Parsed, String> {
    let wns_ns = section_first_value(text, "Design Timing Summary", "WNS(ns)")?;
    // report_timing_summary always prints the Clock Summary and the Intra Clock Table after the
    // Design Timing Summary (empty when the design has no clock): a report without them was
    // cut off, and reading it would silently give no Fmax.
    for section in ["Clock Summary", "Intra Clock Table"] {
        if !has_section(text, section) {
            return Err(format!(
                "no `{section}` section after the Design Timing Summary (truncated report?)"
            ));
        }
    }
    let period_ns = match section_first_value(text, "Clock Summary", "Clock") {
        Ok(p) => p,
        // A design without clocks: the section has no clock row.
        Err(e) if e.contains("no data row") || e.contains("column") => None,
        Err(e) => return Err(e),
    };
    Ok(Parsed::Timing { wns_ns, period_ns })
}

/// The stage from the header's Design State, else from the file name.
fn stage(state: Option<&str>, file_name: &str) -> String {
    let s = state.unwrap_or(file_name).to_ascii_lowercase();
    if s.contains("route") || s.contains("impl") {
        "routed"
    } else if s.contains("place") {
        "placed"
    } else if s.contains("synth") {
        "synthesized"
    } else {
        ""
    }
    .into()
}

/// Parse one report file's text; the error says what is missing.
fn parse(text: &str, file_name: &str) -> Result<(String, String, String, Parsed), String> {
    let command = header_field(text, "Command").unwrap_or("");
    let parsed = if command.starts_with("report_timing_summary")
        || (command.is_empty() && text.contains("Design Timing Summary"))
    {
        parse_timing(text)?
    } else if command.starts_with("report_utilization") && command.contains("-hierarchical") {
        return Err(
            "a hierarchical utilization report: give the flat one (post_route_utilization.rpt)"
                .into(),
        );
    } else if command.starts_with("report_utilization")
        || (command.is_empty() && text.contains("Site Type"))
    {
        parse_utilization(text)?
    } else {
        return Err(
            "not a Vivado report_utilization or report_timing_summary text (no `| Command : report_...` header line)"
                .into(),
        );
    };
    let design = header_field(text, "Design")
        .ok_or("no `| Design :` header line")?
        .to_string();
    let device = header_field(text, "Device").unwrap_or("").to_string();
    let stage = stage(header_field(text, "Design State"), file_name);
    Ok((design, stage, device, parsed))
}

/// Read the report files and merge those of the same design and stage. `period_ns`, if given,
/// overrides the clock period read from a timing report (for Fmax).
pub fn read(paths: &[&Path], period_ns: Option<f64>) -> Result<Vec<VivadoResult>, String> {
    let mut results: Vec<VivadoResult> = Vec::new();
    for path in paths {
        let shown = path.display().to_string();
        let text =
            std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
        let file_name = path
            .file_name()
            .map(|f| f.to_string_lossy())
            .unwrap_or_default();
        let (design, stage, device, parsed) =
            parse(&text, &file_name).map_err(|e| format!("{shown}: {e}"))?;
        let i = match results
            .iter()
            .position(|r| r.design == design && r.stage == stage)
        {
            Some(i) => i,
            None => {
                results.push(VivadoResult {
                    design,
                    stage,
                    ..VivadoResult::default()
                });
                results.len() - 1
            }
        };
        let r = &mut results[i];
        r.files.push(shown.clone());
        // The utilization report names the full part (the timing report drops the speed grade).
        if r.device.is_empty() || matches!(parsed, Parsed::Utilization { .. }) {
            r.device = device;
        }
        match parsed {
            Parsed::Utilization {
                lut,
                ff,
                carry,
                carry_primitive,
                dsp,
                bram,
            } => {
                if r.lut.is_some() {
                    return Err(format!(
                        "{shown}: a second utilization report of {} ({})",
                        r.design, r.stage
                    ));
                }
                r.lut = Some(lut);
                r.ff = Some(ff);
                r.carry = Some(carry);
                r.carry_primitive = Some(carry_primitive.into());
                r.dsp = Some(dsp);
                r.bram = Some(bram);
            }
            Parsed::Timing { wns_ns, period_ns } => {
                if r.wns_ns.is_some() || r.period_ns.is_some() {
                    return Err(format!(
                        "{shown}: a second timing report of {} ({})",
                        r.design, r.stage
                    ));
                }
                r.wns_ns = wns_ns;
                r.period_ns = period_ns;
            }
        }
    }
    for r in &mut results {
        if period_ns.is_some() {
            r.period_ns = period_ns;
        }
        r.fmax_mhz = match (r.period_ns, r.wns_ns) {
            (Some(p), Some(w)) if p - w > 0.0 => Some(1000.0 / (p - w)),
            _ => None,
        };
    }
    Ok(results)
}

const COLUMNS: [&str; 11] = [
    "design",
    "stage",
    "device",
    "lut",
    "ff",
    "carry",
    "dsp",
    "bram",
    "wns_ns",
    "period_ns",
    "fmax_mhz",
];

fn row(r: &VivadoResult) -> Vec<String> {
    let int = |v: Option<u64>| v.map_or("-".into(), |v| v.to_string());
    let real = |v: Option<f64>, digits: usize| v.map_or("-".into(), |v| format!("{v:.digits$}"));
    vec![
        r.design.clone(),
        r.stage.clone(),
        r.device.clone(),
        int(r.lut),
        int(r.ff),
        match (&r.carry, &r.carry_primitive) {
            (Some(n), Some(p)) => format!("{n} {p}"),
            _ => "-".into(),
        },
        int(r.dsp),
        real(r.bram, 1),
        real(r.wns_ns, 3),
        real(r.period_ns, 3),
        real(r.fmax_mhz, 1),
    ]
}

/// The results as an aligned text table (`-` where no report gave the figure).
pub fn table(results: &[VivadoResult]) -> String {
    let rows: Vec<Vec<String>> = results.iter().map(row).collect();
    crate::base::aligned_table(&COLUMNS, &rows)
}

pub fn json(results: &[VivadoResult]) -> String {
    serde_json::to_string_pretty(results).expect("results serialize") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_values_and_unconstrained_designs() {
        let t = "| Design Timing Summary\n| ---\n\n    WNS(ns)      TNS(ns)\n    -------      -------\n        inf        0.000\n";
        assert_eq!(
            section_first_value(t, "Design Timing Summary", "WNS(ns)"),
            Ok(None)
        );
        let t = "| Clock Summary\n\nClock  Waveform(ns)       Period(ns)      Frequency(MHz)\n-----  ------------       ----------      --------------\nclk    {0.000 2.000}      4.000           250.000\n";
        assert_eq!(
            section_first_value(t, "Clock Summary", "Clock"),
            Ok(Some(4.0))
        );
        for bad in ["NaN", "nan", "-inf"] {
            let t =
                format!("| Design Timing Summary\n| ---\n\n    WNS(ns)\n    -------\n    {bad}\n");
            assert_eq!(
                section_first_value(&t, "Design Timing Summary", "WNS(ns)"),
                Err(format!(
                    "`Design Timing Summary` row has `{bad}` where a number belongs"
                ))
            );
        }
        let cut = "| Design Timing Summary\n| ---\n\n    WNS(ns)      TNS(ns)\n";
        assert!(section_first_value(cut, "Design Timing Summary", "WNS(ns)")
            .unwrap_err()
            .contains("truncated"));
    }

    #[test]
    fn stage_from_state_or_file_name() {
        assert_eq!(stage(Some("Physopt postRoute"), "x.rpt"), "routed");
        assert_eq!(stage(Some("Fully Placed"), "x.rpt"), "placed");
        assert_eq!(stage(None, "post_synth_timing.rpt"), "synthesized");
        assert_eq!(stage(None, "timing.rpt"), "");
    }
}
