//! Fault campaigns (`qmulgen faults`): counts derived by hand for a tiny TMR, architectural
//! campaigns recounted from the golden fault model, netlist campaigns that see the kept
//! redundancy (TMR and AdAM detect, Mitchell and exact never do), shards that merge into the
//! one-run result, and bad input.

use qmulgen::base::{param_map, ParamMap};
use qmulgen::flows::faults::{self, Campaign, Counts, Options, SiteUniverse};
use qmulgen::units::adam::golden::{adam_product, Fault, Site};
use qmulgen::units::tmr::FaultKind;
use std::process::Command;

fn run(family: &str, params: ParamMap, o: &Options) -> Campaign {
    faults::run(family, &params, o, &|_| {}).unwrap_or_else(|e| panic!("{e:?}"))
}

fn counts(c: &Campaign, kind: &str) -> Counts {
    let all = c.counts();
    all.iter()
        .find(|(k, _)| *k == kind)
        .and_then(|(_, c)| (*c).cloned())
        .expect("kind was run")
}

/// (injections, masked, detected, detected_equal, sdc)
fn tuple(c: &Counts) -> (u64, u64, u64, u64, u64) {
    (c.injections, c.masked, c.detected, c.detected_equal, c.sdc)
}

/// TMR 2x2, faults on each copy's 4 product bits (12 sites), 16 operand pairs.
/// A flip always changes its copy: outvoted (p equal) and flagged, so 192 detected with p
/// equal. A stuck-at changes the copy only where the product bit differs from the stuck value.
/// Products 0..3 x 0..3 = 0,0,0,0, 0,1,2,3, 0,2,4,6, 0,3,6,9: bit 0 is set in 4 of them,
/// bit 1 in 6, bit 2 in 3, bit 3 in 1, so 14 of the 64 (pair, bit) cases per copy are 1:
/// sa0 is detected 3 x 14 = 42 times, sa1 3 x 50 = 150 times; never an SDC.
#[test]
fn tmr_2x2_port_faults_are_masked_or_detected_never_sdc() {
    let c = run(
        "tmr",
        param_map([("width", 2.into())]),
        &Options::new(SiteUniverse::Ports),
    );
    assert_eq!((c.sites, c.pairs, c.exhaustive), (12, 16, true));
    assert_eq!(tuple(&counts(&c, "flip")), (192, 0, 192, 192, 0));
    assert_eq!(tuple(&counts(&c, "sa0")), (192, 150, 42, 42, 0));
    assert_eq!(tuple(&counts(&c, "sa1")), (192, 42, 150, 150, 0));
    assert_eq!(c.rows.len(), 36);
}

/// AdAM n = 5, t = 4 at its t + 2 = 6 adder sites: the campaign's counts equal a recount with
/// the golden fault model of ARITHMETIC.md §3.2 (and every injection was confirmed in
/// Verilator, or the run would have failed).
#[test]
fn adam_port_campaign_matches_a_recount_from_the_golden_fault_model() {
    let (n, t) = (5u32, 4u32);
    let c = run(
        "adam",
        param_map([("width", n.into()), ("frac_bits", t.into())]),
        &Options::new(SiteUniverse::Ports),
    );
    let sites: Vec<Site> = (0..t)
        .map(Site::Sum)
        .chain([Site::Carry, Site::DupCarry])
        .collect();
    assert_eq!(c.sites, sites.len() as u64);
    for (name, kind) in [
        ("flip", FaultKind::Flip),
        ("sa0", FaultKind::StuckAt0),
        ("sa1", FaultKind::StuckAt1),
    ] {
        let mut want = Counts::default();
        for &site in &sites {
            for a in 0..1u64 << n {
                for b in 0..1u64 << n {
                    let free = adam_product(n, t, a, b, None).p;
                    let o = adam_product(n, t, a, b, Some(Fault { site, kind }));
                    want.injections += 1;
                    if o.err {
                        want.detected += 1;
                        want.detected_equal += u64::from(o.p == free);
                    } else if o.p == free {
                        want.masked += 1;
                    } else {
                        want.sdc += 1;
                    }
                }
            }
        }
        assert_eq!(tuple(&counts(&c, name)), tuple(&want), "{name}");
        assert!(want.sdc > 0 && want.detected > 0 && want.masked > 0);
    }
}

#[test]
fn netlist_campaigns_see_the_kept_redundancy() {
    let o = Options::new(SiteUniverse::Netlist);
    let w = |n: u32| param_map([("width", n.into())]);
    let exact = run("exact", w(3), &o);
    let tmr = run("tmr", w(3), &o);
    let mitchell = run("mitchell", w(5), &o);
    let adam = run("adam", w(5), &o);
    for c in [&exact, &tmr, &mitchell, &adam] {
        assert!(c.exhaustive);
        assert!(c.sites >= c.lut.expect("netlist LUTs"), "{}", c.unit);
    }
    assert_eq!(exact.total().detected, 0);
    assert_eq!(mitchell.total().detected, 0);
    assert!(tmr.total().detected > 0 && adam.total().detected > 0);
    let sdc = |c: &Campaign| {
        let t = c.total();
        t.percent(t.sdc)
    };
    // Outside the voter, every single fault in TMR is outvoted.
    assert!(
        sdc(&tmr) < 0.5 * sdc(&exact),
        "TMR {} % vs exact {} %",
        sdc(&tmr),
        sdc(&exact)
    );
    assert!(exact.total().sdc > 0);
}

#[test]
fn three_shards_merge_into_the_one_run_result() {
    let params = param_map([("width", 4.into())]);
    let whole = run("adam", params.clone(), &Options::new(SiteUniverse::Netlist));
    let parts: Vec<Campaign> = (1..=3)
        .map(|i| {
            let mut o = Options::new(SiteUniverse::Netlist);
            o.shard = Some((i, 3));
            run("adam", params.clone(), &o)
        })
        .collect();
    let merged = faults::merge(&parts).expect("shards merge");
    assert_eq!(faults::json(&merged), faults::json(&whole));
    assert_eq!(faults::csv(&merged), faults::csv(&whole));
    // A shard missing or given twice is refused.
    assert!(faults::merge(&parts[..2]).is_err());
    assert!(faults::merge(&[parts[0].clone(), parts[0].clone(), parts[2].clone()]).is_err());
    // Doctored parts are refused with one line naming the part, never a panic.
    let refused = |parts: Vec<Campaign>, what: &str| {
        let named: Vec<(String, Campaign)> = parts
            .into_iter()
            .enumerate()
            .map(|(i, c)| (format!("p{i}.json"), c))
            .collect();
        match faults::merge_named(&named) {
            Err(qmulgen::base::Failure::BadInput(m)) => {
                assert!(m.contains(".json") && !m.contains('\n'), "{what}: {m}")
            }
            other => panic!("{what}: {:?}", other.map(|c| c.unit)),
        }
    };
    let doctored = |f: &dyn Fn(&mut Campaign)| {
        let mut p = parts.clone();
        f(&mut p[1]);
        p
    };
    refused(
        doctored(&|c| c.flip.as_mut().unwrap().masked *= 3),
        "more masked than injections",
    );
    refused(
        doctored(&|c| c.shard.as_mut().unwrap().count = u64::MAX),
        "a huge shard count",
    );
    refused(doctored(&|c| c.lut = Some(1)), "another netlist");
    refused(doctored(&|c| c.yosys = Some("0.1".into())), "another Yosys");
    refused(
        doctored(&|c| c.shard.as_mut().unwrap().first_site += 1),
        "a wrong site range",
    );
    refused(doctored(&|c| c.operand_bits += 1), "other operands");
}

/// Sampled campaigns reuse their pairs at every site: the margins must hold for that design.
/// AdAM n = 6, t = 5, port flips: 200 random pairs, 40 seeds, against the exhaustive rates.
#[test]
fn sampled_margins_cover_the_exhaustive_rate() {
    let params = param_map([("width", 6.into()), ("frac_bits", 5.into())]);
    let mut o = Options::new(SiteUniverse::Ports);
    o.kinds = vec![0];
    let full = run("adam", params.clone(), &o).flip.unwrap();
    let truth = |n: u64| n as f64 / full.injections as f64;
    let (detected, sdc) = (truth(full.detected), truth(full.sdc));
    assert!(detected > 0.05 && sdc > 0.05, "{detected} {sdc}");
    let seeds = 40u64;
    let mut covered = [0u64; 2];
    for seed in 1..=seeds {
        o.vectors = Some(200);
        o.seed = seed;
        let c = run("adam", params.clone(), &o);
        assert!(!c.exhaustive);
        let m = c.margins();
        for (i, (name, truth)) in [("flip.detected", detected), ("flip.sdc", sdc)]
            .into_iter()
            .enumerate()
        {
            let g = m.iter().find(|x| x.rate == name).unwrap();
            covered[i] += u64::from((g.value - truth).abs() <= g.margin_95);
        }
    }
    for c in covered {
        assert!(c * 100 >= 85 * seeds, "covered {covered:?} of {seeds}");
    }
}

/// With --inputs, a sampled campaign draws its pairs from the data: data holding one value per
/// operand give exactly the exhaustive campaign's rates weighted by the same data.
#[test]
fn sampled_campaigns_draw_pairs_from_the_inputs() {
    let d = std::env::temp_dir().join(format!("qmulgen-faults-inputs-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let (a, b) = (d.join("a.txt"), d.join("b.txt"));
    std::fs::write(&a, "13\n13\n").unwrap();
    std::fs::write(&b, "11\n").unwrap();
    let params = param_map([("width", 5.into())]);
    let mut o = Options::new(SiteUniverse::Ports);
    o.inputs = Some([a, b]);
    let exhaustive = run("adam", params.clone(), &o);
    o.vectors = Some(64);
    let sampled = run("adam", params, &o);
    let w = exhaustive.total().weighted.unwrap();
    let t = sampled.total();
    assert!(t.weighted.is_none());
    let pct = |x: u128, n: u128| x as f64 / n as f64;
    assert_eq!(
        pct(w.detected, w.total),
        pct(u128::from(t.detected), u128::from(t.injections))
    );
    assert_eq!(
        pct(w.sdc, w.total),
        pct(u128::from(t.sdc), u128::from(t.injections))
    );
    // Every sampled pair is (13, 11): its margins are 0.
    assert!(
        sampled.margins().iter().all(|m| m.margin_95 < 1e-9),
        "{:?}",
        sampled.margins()
    );
}

#[test]
fn bad_fault_campaign_input_is_one_line_and_exit_2() {
    let bin = env!("CARGO_BIN_EXE_qmulgen");
    for (args, needle) in [
        (
            vec!["faults", "tmr", "--width", "4", "--kinds", "flip,sa2"],
            "unknown fault kind `sa2`",
        ),
        (
            vec!["faults", "exact", "--width", "4", "--sites", "ports"],
            "no fault ports",
        ),
        (
            vec!["faults", "tmr", "--width", "4", "--sites", "wires"],
            "--sites `wires`",
        ),
        (
            vec!["faults", "tmr", "--width", "4", "--shard", "4/3"],
            "--shard `4/3`",
        ),
        (
            vec!["faults", "tmr", "--width", "4", "--pipeline"],
            "combinational",
        ),
        (
            vec!["faults", "--merge", "Cargo.toml"],
            "not a qmulgen faults JSON",
        ),
        (
            vec![
                "faults",
                "adam",
                "--width",
                "16",
                "--vectors",
                "18446744073709551615",
            ],
            "--vectors 18446744073709551615 is more than",
        ),
        (
            vec![
                "faults", "adam", "--width", "8", "--sites", "ports", "--kinds", "init",
            ],
            "use --sites netlist",
        ),
    ] {
        let o = Command::new(bin)
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: `{err}` lacks `{needle}`");
    }
}

#[test]
fn init_upsets_in_a_tmr_copy_are_masked_or_detected() {
    let mut o = Options::new(SiteUniverse::Netlist);
    o.kinds = vec![faults::INIT];
    let c = run("tmr", param_map([("width", 4.into())]), &o);
    // Every row is one reachable INIT bit over all 256 pairs.
    assert_eq!(
        c.init.as_ref().unwrap().injections,
        c.rows.len() as u64 * 256
    );
    assert!(c
        .rows
        .iter()
        .all(|r| r.kind == "init" && r.name.contains(" INIT[")));
    // Yosys keeps the copies apart (keep_hierarchy): their cells are named copies__k.
    let in_copies: Vec<_> = c
        .rows
        .iter()
        .filter(|r| r.name.contains("copies__"))
        .collect();
    assert!(
        in_copies.len() > 50,
        "{} INIT bits in the copies",
        in_copies.len()
    );
    for r in &in_copies {
        assert_eq!(r.sdc, 0, "{} {}", r.name, r.sdc);
    }
    assert!(in_copies.iter().any(|r| r.detected > 0));
    // The voter is a single point of failure: some of its upsets reach p unseen.
    assert!(c
        .rows
        .iter()
        .any(|r| !r.name.contains("copies__") && r.sdc > 0));
}

/// A list of vectors.
struct Listed(Vec<Vec<u64>>);

impl qmulgen::sim::VectorSource for Listed {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }
    fn fill(&self, index: u64, out: &mut [u64]) {
        out.copy_from_slice(&self.0[index as usize]);
    }
    fn describe(&self) -> String {
        format!("{} listed vectors", self.0.len())
    }
}

/// A hand-made netlist on the ports of exact u2x2 (a[2], b[2], p[4]): p[0] = XOR3(a0, b0, b1)
/// as a LUT3, p[1] = LUT2(a1, constant 1) with INIT 0110 (so ~a1), p[2] = p[3] = 0. Flipping
/// INIT bit k must change p exactly for the input patterns whose LUT inputs spell k.
#[test]
fn an_init_flip_changes_exactly_the_patterns_that_read_the_bit() {
    use qmulgen::synth::{Bit, Cell, Netlist, Pin};
    let pin = |name: &str, output: bool, bits: Vec<Bit>| Pin {
        name: name.into(),
        output,
        bits,
    };
    let net = Bit::Net;
    let lut = |name: &str, init: &str, ins: Vec<Bit>, out: u64| Cell {
        name: name.into(),
        kind: format!("LUT{}", ins.len()),
        init: Some(init.into()),
        inputs: ins
            .iter()
            .filter_map(|b| match b {
                Bit::Net(n) => Some(*n),
                _ => None,
            })
            .collect(),
        outputs: vec![out],
        pins: ins
            .iter()
            .enumerate()
            .map(|(i, b)| pin(&format!("I{i}"), false, vec![*b]))
            .chain([pin("O", true, vec![net(out)])])
            .collect(),
    };
    let netlist = Netlist {
        cells: vec![
            lut("xor3", "10010110", vec![net(2), net(4), net(5)], 6),
            lut("inv", "0110", vec![net(3), Bit::Const(true)], 7),
        ],
        ports: vec![
            pin("a", false, vec![net(2), net(3)]),
            pin("b", false, vec![net(4), net(5)]),
            pin(
                "p",
                true,
                vec![net(6), net(7), Bit::Const(false), Bit::Const(false)],
            ),
        ],
        constant_outputs: Vec::new(),
    };
    let spec = qmulgen::spec::UnitSpec::from_params(
        "exact",
        &param_map([("a_bits", 2.into()), ("b_bits", 2.into())]),
    )
    .unwrap();
    let g = qmulgen::emit::generate(&spec);
    let inst = qmulgen::synth::instrument::instrument(&netlist, &g.manifest, true).unwrap();
    // Output sites 1, 2; INIT numbers 3..=10 (LUT3) and 11..=14 (LUT2, only 13 and 14 reachable).
    assert_eq!(inst.sites.len(), 2);
    let numbers: Vec<u64> = inst.init_sites.iter().map(|s| s.0).collect();
    assert_eq!(numbers, vec![3, 4, 5, 6, 7, 8, 9, 10, 13, 14]);
    let verilator = qmulgen::sim::Verilator::locate().unwrap();
    let model = qmulgen::sim::Model::build(&verilator, &inst.generated).unwrap();
    // Lane l holds pattern l: a = l & 3, b = l >> 2 (16 lanes used).
    let word = |f: &dyn Fn(u64) -> bool| (0..16u64).fold(0u64, |w, l| w | (u64::from(f(l)) << l));
    let bit = |l: u64, i: u32| (l >> i) & 1 == 1;
    let inputs = [0, 1, 2, 3].map(|i| word(&|l| bit(l, i)));
    let mut vectors = vec![];
    for site in std::iter::once(0).chain(numbers.iter().copied()) {
        let mut v = inputs.to_vec();
        v.extend([site, 3]);
        vectors.push(v);
    }
    let mut outputs = Vec::new();
    qmulgen::sim::stream(&model, &Listed(vectors), |_, out| {
        outputs.push(out.to_vec())
    })
    .unwrap();
    let lanes = (1u64 << 16) - 1;
    let p0 = word(&|l| bit(l, 0) ^ bit(l, 2) ^ bit(l, 3));
    let p1 = word(&|l| !bit(l, 1));
    assert_eq!((outputs[0][0] & lanes, outputs[0][1] & lanes), (p0, p1));
    for (i, &site) in numbers.iter().enumerate() {
        let out = &outputs[i + 1];
        let (flip0, flip1) = if site <= 10 {
            // LUT3 inputs (a0, b0, b1) spell k = site - 3.
            let k = site - 3;
            let reads = |l: u64| {
                u64::from(bit(l, 0)) | u64::from(bit(l, 2)) << 1 | u64::from(bit(l, 3)) << 2 == k
            };
            (word(&reads), 0)
        } else {
            // LUT2 inputs (a1, 1) spell k = site - 11.
            let k = site - 11;
            (0, word(&|l| (u64::from(bit(l, 1)) | 2) == k))
        };
        assert_ne!(flip0 | flip1, 0, "site {site} is reachable");
        assert_eq!(out[0] & lanes, p0 ^ flip0, "site {site}: p[0]");
        assert_eq!(out[1] & lanes, p1 ^ flip1, "site {site}: p[1]");
        assert_eq!(out[2] & lanes, 0);
    }
}
