//! `make bench` fault-campaign speed: the exhaustive n = 8 netlist campaign of AdAM (every
//! site x flip/sa0/sa1 x 65,536 pairs; target under 60 s on 2 cores, >= 10 M injections/s)
//! and the exhaustive architectural campaigns of AdAM n = 8 for every t (target under 10 s in
//! all). Wall times include synthesis and model builds unless cached (second run: cached).

mod common;

use qmulgen::base::param_map;
use qmulgen::flows::faults::{self, Options, SiteUniverse};
use std::time::Instant;

fn main() {
    let options = Options::new;
    let mut targets = common::Targets::default();
    let netlist_campaign = || {
        let start = Instant::now();
        let c = faults::run(
            "adam",
            &param_map([("width", 8.into())]),
            &options(SiteUniverse::Netlist),
            &|_| {},
        )
        .expect("netlist campaign");
        (c, start.elapsed().as_secs_f64())
    };
    // First run: synthesis and the model build included unless cached; the second run has
    // both cached, so its rate is the injection rate (plus cache reads).
    let (c, first) = netlist_campaign();
    let (_, second) = netlist_campaign();
    let n = c.total().injections;
    targets.check(
        format!(
            "adam n8 t7 netlist campaign ({} sites x 3 kinds x every pair, {n} injections): {first:.1} s (target <= 60 s)",
            c.sites
        ),
        first <= 60.0,
    );
    let rate = n as f64 / second;
    targets.check(
        format!(
            "adam n8 t7 netlist campaign, cached: {:.1} M injections/s (target >= 10 M/s)",
            rate / 1e6
        ),
        rate >= 10e6,
    );

    let start = Instant::now();
    let mut n = 0;
    for t in 1..=7u32 {
        let c = faults::run(
            "adam",
            &param_map([("width", 8.into()), ("frac_bits", t.into())]),
            &options(SiteUniverse::Ports),
            &|_| {},
        )
        .expect("port campaign");
        n += c.total().injections;
    }
    let secs = start.elapsed().as_secs_f64();
    targets.check(
        format!("adam n8 t1..7 architectural sites, every pair: {n} injections in {secs:.1} s (target <= 10 s)"),
        secs <= 10.0,
    );
    targets.print("fault-campaign");
}
