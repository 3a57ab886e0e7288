//! Vivado hand-off: out-of-context synthesis/implementation script and XDC per module, rendered
//! from askama templates; [`report`] reads Vivado's reports back.

pub mod report;

use crate::emit::Manifest;
use askama::Template;

/// ZCU102's device.
pub const PART: &str = "xczu9eg-ffvb1156-2-e";

#[derive(Template)]
#[template(path = "vivado_ooc.tcl", escape = "none")]
struct OocScript<'a> {
    module: &'a str,
    part: &'a str,
    xdc: &'a str,
}

#[derive(Template)]
#[template(path = "unit.xdc", escape = "none")]
struct Constraints<'a> {
    module: &'a str,
    registered: bool,
    clock_mhz: String,
    period_ns: String,
}

#[derive(Template)]
#[template(path = "ip.tcl", escape = "none")]
struct IpScript<'a> {
    module: &'a str,
    part: &'a str,
    vendor: &'a str,
    library: &'a str,
    version: &'a str,
    description: String,
    clock: Option<String>,
    freq_hz: u64,
    reset: bool,
    axis: bool,
}

/// `NAME_ip.tcl`: packages the module as a Vivado IP (`ipx::package_project`) with the vendor
/// `qmulgen.org`, library `qmulgen`, the qmulgen version, the clock (and its frequency for a
/// dot), the reset and the AXI4-Stream interfaces where the module has them.
pub fn ip_script(manifest: &Manifest, clock_mhz: f64, part: &str) -> (String, String) {
    let m = &manifest.module;
    let has = |name: &str| manifest.ports.iter().any(|p| p.name == name);
    let description = format!(
        "qmulgen {} {}, latency {}",
        manifest.family, manifest.params, manifest.latency
    )
    .replace(['{', '}', '[', ']', '"'], "");
    let text = IpScript {
        module: m,
        part,
        vendor: "qmulgen.org",
        library: "qmulgen",
        version: env!("CARGO_PKG_VERSION"),
        description,
        clock: manifest.clock.clone(),
        freq_hz: (clock_mhz * 1e6).round() as u64,
        reset: has("rst") || manifest.valid.is_some(),
        axis: has("s_axis_tdata"),
    }
    .render()
    .expect("ip template renders");
    (format!("{m}_ip.tcl"), format!("{}\n", text.trim_end()))
}

/// `(NAME_ooc.tcl, NAME_ooc.xdc)` file names and texts for one module, for `part`. The XDC is
/// for out-of-context runs only (the script marks it so): added to a project it does not
/// constrain the user's top.
pub fn files(manifest: &Manifest, clock_mhz: f64, part: &str) -> [(String, String); 2] {
    let m = &manifest.module;
    let xdc_name = format!("{m}_ooc.xdc");
    let tcl = OocScript {
        module: m,
        part,
        xdc: &xdc_name,
    }
    .render()
    .expect("tcl template renders");
    let xdc = Constraints {
        module: m,
        registered: manifest.latency > 0,
        clock_mhz: format!("{clock_mhz}"),
        period_ns: format!("{:.3}", 1000.0 / clock_mhz),
    }
    .render()
    .expect("xdc template renders");
    // Every generated text file ends with one newline (askama drops the template's last).
    let line_end = |t: String| format!("{}\n", t.trim_end());
    [
        (format!("{m}_ooc.tcl"), line_end(tcl)),
        (xdc_name, line_end(xdc)),
    ]
}
