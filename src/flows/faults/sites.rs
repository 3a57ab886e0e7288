//! Site universes of a fault campaign: the architectural fault ports of `tmr`/`adam`, every
//! observed cell output of the Yosys-mapped netlist, and the LUTs' INIT bits; the unit under
//! test as a Verilator model with `fault_site`/`fault_kind` inputs.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SiteUniverse {
    Ports,
    Netlist,
}

impl SiteUniverse {
    pub fn parse(s: &str) -> Result<SiteUniverse, Failure> {
        match s {
            "ports" => Ok(SiteUniverse::Ports),
            "netlist" => Ok(SiteUniverse::Netlist),
            _ => Err(Failure::BadInput(format!(
                "--sites `{s}` is unknown, allowed: ports, netlist"
            ))),
        }
    }
}

/// The unit under test: its model (with `fault_site`/`fault_kind` inputs), site names and the
/// plain unit whose golden model gives the fault-free outputs.
pub struct Target {
    pub model: Model,
    pub sites: Vec<String>,
    /// INIT-bit sites (netlist sites with `init`): (site number, name).
    pub init_sites: Vec<(u64, String)>,
    pub plain: UnitSpec,
    /// The unit with fault ports, whose golden model classifies port injections.
    pub ports_unit: Option<UnitSpec>,
    pub lut: Option<u64>,
    pub yosys: Option<String>,
    /// The §5 path of the mapped netlist (netlist sites).
    pub path_ns: Option<f64>,
}

pub(crate) fn spec_with(
    family: &str,
    params: &ParamMap,
    fault_ports: bool,
) -> Result<UnitSpec, Failure> {
    if family == "dot" {
        return Err(crate::spec::not_for_a_dot("faults").into());
    }
    let mut p = params.clone();
    p.remove("fault_ports");
    if fault_ports {
        p.insert("fault_ports".into(), true.into());
    }
    Ok(UnitSpec::from_params(family, &p)?)
}

pub fn target(
    family: &str,
    params: &ParamMap,
    universe: SiteUniverse,
    init: bool,
    progress: &(dyn Fn(String) + Sync),
) -> Result<Target, Failure> {
    if params.get("pipeline").and_then(|v| v.as_bool()) == Some(true) {
        return Err(Failure::BadInput(
            "fault campaigns run on the combinational unit: drop --pipeline".into(),
        ));
    }
    let plain = spec_with(family, params, false)?;
    match universe {
        SiteUniverse::Ports => {
            if !matches!(family, "tmr" | "adam") {
                return Err(Failure::BadInput(format!(
                    "--sites ports: {family} has no fault ports (tmr and adam have); use --sites netlist"
                )));
            }
            let verilator = Verilator::locate().map_err(Failure::BadInput)?;
            let spec = spec_with(family, params, true)?;
            let g = emit::generate(&spec);
            progress(format!("{}: building the Verilator model ...", g.name));
            let model = Model::build(&verilator, &g).map_err(Failure::Failed)?;
            Ok(Target {
                model,
                sites: spec.unit.fault_site_names(),
                init_sites: Vec::new(),
                plain,
                ports_unit: Some(spec),
                lut: None,
                yosys: None,
                path_ns: None,
            })
        }
        SiteUniverse::Netlist => {
            let yosys = Yosys::locate().map_err(Failure::BadInput)?;
            let verilator = Verilator::locate().map_err(Failure::BadInput)?;
            let g = emit::generate(&plain);
            progress(format!("{}: synthesising (Yosys) ...", g.name));
            let (netlist, result) = synth::mapped_netlist(&yosys, &g).map_err(Failure::Failed)?;
            let inst = synth::instrument::instrument(&netlist, &g.manifest, init)
                .map_err(Failure::Failed)?;
            progress(format!(
                "{}: {} fault sites; building the Verilator model ...",
                g.name,
                inst.sites.len()
            ));
            let model = Model::build(&verilator, &inst.generated).map_err(Failure::Failed)?;
            Ok(Target {
                model,
                sites: inst.sites,
                init_sites: inst.init_sites,
                plain,
                ports_unit: None,
                lut: Some(result.stats.lut),
                yosys: Some(yosys.version),
                path_ns: Some(result.stats.path_ns),
            })
        }
    }
}

/// The sites of `t` with the kinds each takes, in site order: the output (or port) sites take
/// every kind of `kinds` but init, the INIT-bit sites take init.
pub fn fault_list(t: &Target, kinds: &[usize]) -> Vec<(u64, String, Vec<usize>)> {
    let out_kinds: Vec<usize> = kinds.iter().copied().filter(|&k| k != INIT).collect();
    let mut listed = Vec::new();
    if !out_kinds.is_empty() {
        for (i, name) in t.sites.iter().enumerate() {
            listed.push((i as u64 + 1, name.clone(), out_kinds.clone()));
        }
    }
    if kinds.contains(&INIT) {
        for (site, name) in &t.init_sites {
            listed.push((*site, name.clone(), vec![INIT]));
        }
    }
    listed
}
