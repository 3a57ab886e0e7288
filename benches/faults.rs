//! `make bench` fault-campaign speed: the exhaustive n = 8 netlist campaign of AdAM (every
//! site x flip/sa0/sa1 x 65,536 pairs; target under 60 s on 2 cores, >= 10 M injections/s)
//! and the exhaustive architectural campaigns of AdAM n = 8 for every t (target under 10 s in
//! all). Wall times include synthesis and model builds unless cached (second run: cached).

use qmulgen::base::param_map;
use qmulgen::flows::faults::{self, Options, SiteUniverse};
use std::time::Instant;

fn main() {
    let options = Options::new;
    let mut rows = Vec::new();

    let start = Instant::now();
    let c = faults::run(
        "adam",
        &param_map([("width", 8.into())]),
        &options(SiteUniverse::Netlist),
        &|_| {},
    )
    .expect("netlist campaign");
    let secs = start.elapsed().as_secs_f64();
    let n = c.total().injections;
    rows.push((
        format!("adam n8 t7 netlist, {} sites, every pair", c.sites),
        format!(
            "{n} injections in {secs:.1} s ({:.1} M/s incl. setup)",
            n as f64 / secs / 1e6
        ),
        secs <= 60.0,
    ));

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
    rows.push((
        "adam n8 t1..7 architectural sites, every pair".into(),
        format!("{n} injections in {secs:.1} s"),
        secs <= 10.0,
    ));

    println!("\n{:<52}  {:<48}  target", "fault campaign", "time");
    for (what, figure, met) in rows {
        println!(
            "{what:<52}  {figure:<48}  {}",
            if met { "met" } else { "MISSED" }
        );
    }
}
