use qmulgen::spec::{ParamMap, UnitSpec};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut m = ParamMap::new();
    m.insert("a_bits".into(), args[1].parse::<u32>().unwrap().into());
    m.insert("b_bits".into(), args[2].parse::<u32>().unwrap().into());
    m.insert("signed".into(), (args[3] == "s").into());
    m.insert("pipeline".into(), (args[4] == "p").into());
    let spec = UnitSpec::from_params("exact", &m).unwrap();
    let g = qmulgen::rtl::generate(&spec);
    let v = qmulgen::sim::Verilator::locate().unwrap();
    println!("{:?}", qmulgen::sim::lint(&v, &g));
    let model = qmulgen::sim::Model::build(&v, &g).unwrap();
    println!("build {:?}", model.build_time);
    for src in qmulgen::sim::default_sources(spec.unit.as_ref(), 1_000_000, 1) {
        let r = qmulgen::sim::check(&model, spec.unit.as_ref(), src.as_ref()).unwrap();
        println!(
            "{} {} vectors {} mismatches {:.1} Mvec/s {:?}",
            src.describe(),
            r.vectors,
            r.mismatches,
            r.vectors_per_second() / 1e6,
            r.first_mismatches.first()
        );
    }
}
