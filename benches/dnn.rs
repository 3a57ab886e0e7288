//! `make bench`: quantized inference speed of `qmulgen dnn` (ARITHMETIC.md §6), one core:
//! multiply-accumulates per second through a unit's product table, exact i64 accumulation.
//! Target: >= 200 M MACs/s per core, so that the README's digits table runs in seconds and an
//! MNIST-sized network (a few M MACs per image, 10,000 images) in minutes.

use qmulgen::base::ParamMap;
use qmulgen::net::graph::{Graph, MacLayer, Node, Op, Pads, Window};
use qmulgen::net::{quant, Tensor};
use qmulgen::spec::UnitSpec;
use std::time::Instant;

fn spec(family: &str, yaml: &str) -> UnitSpec {
    let params: ParamMap = serde_yaml::from_str(yaml).expect("yaml");
    UnitSpec::from_params(family, &params).expect("valid spec")
}

/// An MNIST-sized convolution: 32 -> 64 channels, 3x3, on 14x14 (3.6 M MACs per image).
fn conv_graph() -> (Graph, Vec<Tensor>) {
    let (c, m, k) = (32, 64, 3);
    let fan_in = c * k * k;
    let weight: Vec<f32> = (0..m * fan_in)
        .map(|i| ((i as f32) * 0.618).sin())
        .collect();
    let layer = MacLayer {
        window: Some(Window {
            kernel: [k, k],
            strides: [1, 1],
            dilations: [1, 1],
            pads: Pads::Explicit([1, 1, 1, 1]),
        }),
        out_channels: m,
        fan_in,
        prune_basis: weight.clone(),
        weight,
        bias: vec![0.0; m],
    };
    let g = Graph {
        input_shape: vec![1, c, 14, 14],
        nodes: vec![Node {
            name: "conv".into(),
            op_type: "Conv".into(),
            op: Op::Mac(0),
            inputs: vec![0],
            output: 1,
        }],
        layers: vec![layer],
        values: 2,
        output: 1,
    };
    let images = (0..8)
        .map(|j| {
            let data = (0..c * 14 * 14)
                .map(|i| ((i * 7 + j * 13) % 97) as f32 / 97.0)
                .collect();
            Tensor::new(vec![c, 14, 14], data)
        })
        .collect();
    (g, images)
}

/// Seconds per pass over `images` (one thread), best of 3, and MACs per pass.
fn time(g: &Graph, f: &quant::ProductFn, images: &[Tensor]) -> (f64, u64) {
    let ranges = quant::calibrate(g, images).expect("calibrate");
    let qnet = quant::QuantNet::new(g, f, &ranges).expect("quantize");
    let mut macs = 0u64;
    g.run(&images[0], &mut |_, layer, x| {
        let y = layer.eval_f32(x)?;
        macs += layer.macs(y.len() / layer.out_channels);
        Ok(y)
    })
    .expect("run");
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = Instant::now();
        for image in images {
            std::hint::black_box(qnet.run(image).expect("run"));
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    (best, macs * images.len() as u64)
}

fn main() {
    let model = std::fs::read("models/digits_cnn.onnx").expect("models/digits_cnn.onnx");
    let digits = qmulgen::net::onnx::load(&model, "digits").expect("model");
    let data = std::fs::read("data/digits_test.npz").expect("data/digits_test.npz");
    let data =
        qmulgen::net::data::DataSet::from_npz(&data, "digits", digits.image_shape()).expect("data");
    let (conv, conv_images) = conv_graph();
    println!("\n## qmulgen dnn: quantized inference, one core (target >= 200 M MACs/s)\n");
    println!("| network | unit | MACs per pass | seconds | M MACs/s |");
    println!("|---|---|---|---|---|");
    for (family, yaml) in [
        ("exact", "{width: 8, signed: true}"),
        ("esb", "{exp_bits: 2, frac_bits: 2, act_bits: 8}"),
        ("adam", "{width: 8, frac_bits: 7}"),
    ] {
        let s = spec(family, yaml);
        let f = quant::ProductFn::new(s.unit.as_ref(), &s.module_name()).expect("product");
        for (name, g, images) in [
            ("digits CNN, 450 images", &digits, &data.images[..]),
            ("conv 32->64 3x3 14x14, 8 images", &conv, &conv_images[..]),
        ] {
            let (secs, macs) = time(g, &f, images);
            println!(
                "| {name} | {} | {macs} | {secs:.4} | {:.0} |",
                s.module_name(),
                macs as f64 / secs / 1e6
            );
        }
    }
}
