//! Yosys synthesis of generated units: the redundancy of TMR and AdAM survives
//! `synth_xilinx -family xcup -nodsp -flatten` of the emitted Verilog alone.

use qmulgen::base::ParamMap;
use qmulgen::emit;
use qmulgen::spec::UnitSpec;
use qmulgen::synth::{self, NetlistStats, Yosys};

fn stats(family: &str, yaml: &str) -> NetlistStats {
    let params: ParamMap = serde_yaml::from_str(yaml).expect("yaml");
    let spec = UnitSpec::from_params(family, &params).expect("spec");
    let yosys = Yosys::locate().expect("Yosys: run `make deps`");
    let (r, _) = synth::synthesize(&yosys, &emit::generate(&spec)).expect("synthesis");
    r.stats
}

#[test]
fn tmr_keeps_three_copies_and_a_live_err() {
    let exact = stats("exact", "{width: 6}");
    let tmr = stats("tmr", "{width: 6}");
    assert!(exact.constant_outputs.is_empty(), "{exact:?}");
    assert!(
        tmr.constant_outputs.is_empty(),
        "err must stay live: {tmr:?}"
    );
    assert!(
        tmr.lut as f64 >= 2.9 * exact.lut as f64,
        "TMR {} LUTs vs exact {}: copies were merged",
        tmr.lut,
        exact.lut
    );
}

#[test]
fn adam_keeps_its_checker_and_a_live_err() {
    let mitchell = stats("mitchell", "{width: 8}");
    let adam = stats("adam", "{width: 8}");
    assert!(
        adam.constant_outputs.is_empty(),
        "err must stay live: {adam:?}"
    );
    assert!(adam.lut > mitchell.lut, "{} vs {}", adam.lut, mitchell.lut);
}

#[test]
fn registered_units_count_their_flip_flops() {
    // Input registers 4 + 4, output registers 8.
    let s = stats("exact", "{width: 4, pipeline: true}");
    assert_eq!(s.ff, 16);
}
