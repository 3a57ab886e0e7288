//! `make bench` fault-campaign speed: the exhaustive n = 8 netlist campaign of AdAM (every
//! site x flip/sa0/sa1 x 65,536 pairs; target under 60 s on 2 cores, >= 10 M injections/s)
//! and the exhaustive architectural campaigns of AdAM n = 8 for every t (target under 10 s in
//! all). Wall times include synthesis and model builds unless cached (second run: cached).
//! Configuration upsets: the INIT-bit campaign of AdAM n = 8 (target >= 10 M injections/s),
//! every faulty product table of AdAM n8 t7 (every netlist site x sa0/sa1 and every INIT bit;
//! target under 10 s), and the network campaign of Pro-AdAM n8 t7 over every netlist site x
//! sa0/sa1 on the shipped digits model with 16 lanes (target under 5 minutes on 2 cores).

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
    // INIT upsets: every reachable INIT bit of every LUT, every pair (model cached above
    // the first run of this one builds the INIT-instrumented model; time the second).
    let init = || {
        let o = Options {
            kinds: vec![faults::INIT],
            ..options(SiteUniverse::Netlist)
        };
        let start = Instant::now();
        let c = faults::run("adam", &param_map([("width", 8.into())]), &o, &|_| {})
            .expect("init campaign");
        (c, start.elapsed().as_secs_f64())
    };
    init();
    let (c, secs) = init();
    let n = c.total().injections;
    let rate = n as f64 / secs;
    targets.check(
        format!(
            "adam n8 t7 INIT upsets ({} INIT bits x every pair, {n} injections), cached: {:.1} M injections/s (target >= 10 M/s)",
            c.sites,
            rate / 1e6
        ),
        rate >= 10e6,
    );

    let t = faults::target(
        "adam",
        &param_map([("width", 8.into()), ("frac_bits", 7.into())]),
        SiteUniverse::Netlist,
        true,
        &|_| {},
    )
    .expect("target");
    let all: Vec<(u64, u64)> = faults::fault_list(&t, &[1, 2, faults::INIT])
        .into_iter()
        .flat_map(|(site, _, kinds)| kinds.into_iter().map(move |k| (site, faults::KINDS[k].1)))
        .collect();
    let start = Instant::now();
    let chunks: Vec<&[(u64, u64)]> = all.chunks(all.len().div_ceil(2)).collect();
    std::thread::scope(|s| {
        for chunk in &chunks {
            let t = &t;
            s.spawn(move || faults::faulty_tables(t, chunk).expect("tables"));
        }
    });
    let secs = start.elapsed().as_secs_f64();
    targets.check(
        format!(
            "adam n8 t7 faulty product tables: {} (every netlist site x sa0/sa1, every INIT bit) x 65,536 pairs in {secs:.1} s (target <= 10 s)",
            all.len()
        ),
        secs <= 10.0,
    );

    let network = qmulgen::flows::dnn::Network::load(
        std::path::Path::new("models/digits_cnn.onnx"),
        std::path::Path::new("data/digits_test.npz"),
    )
    .expect("network");
    let start = Instant::now();
    let c = faults::network::run(
        &network,
        "adam",
        &param_map([("width", 8.into()), ("frac_bits", 7.into())]),
        &faults::network::NetOptions {
            universe: SiteUniverse::Netlist,
            kinds: vec![1, 2],
            lanes: 16,
            faults: None,
            seed: 1,
            images: None,
            calib: 256,
            shard: None,
        },
        &|_| {},
    )
    .expect("network campaign");
    let secs = start.elapsed().as_secs_f64();
    targets.check(
        format!(
            "Pro-AdAM n8 t7 network campaign, digits CNN, 16 lanes: {} faults x {} images in {secs:.1} s (target <= 300 s)",
            c.faults, c.images
        ),
        secs <= 300.0,
    );
    targets.print("fault-campaign");
}
