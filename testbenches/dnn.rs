//! `qmulgen dnn` (ARITHMETIC.md §6): the f32 path against onnxruntime's outputs stored beside
//! the models (scripts/train_digits.py, scripts/make_onnx_cases.py), the quantized path against
//! an integer computation written here, accuracy ranges on the shipped digits model, and the
//! command's errors (one line, exit 2).

use onnx_protobuf::{
    tensor_shape_proto, AttributeProto, GraphProto, Message, ModelProto, NodeProto,
    OperatorSetIdProto, TensorProto, TypeProto, ValueInfoProto,
};
use qmulgen::base::ParamMap;
use qmulgen::net::{self, graph::Graph, quant, Tensor};
use qmulgen::spec::UnitSpec;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn path(rel: &str) -> PathBuf {
    Path::new(ROOT).join(rel)
}

/// Every array of an .npz as (shape, f32 values), read with zip + npyz here.
fn npz(rel: &str) -> HashMap<String, (Vec<usize>, Vec<f32>)> {
    let bytes = std::fs::read(path(rel)).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = HashMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().trim_end_matches(".npy").to_string();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        let npy = npyz::NpyFile::new(&data[..]).unwrap();
        let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
        let values: Vec<f32> = match npy.try_data::<f32>() {
            Ok(d) => d.map(Result::unwrap).collect(),
            Err(npy) => match npy.try_data::<u8>() {
                Ok(d) => d.map(|v| f32::from(v.unwrap())).collect(),
                Err(npy) => match npy.try_data::<i64>() {
                    Ok(d) => d.map(|v| v.unwrap() as f32).collect(),
                    Err(_) => panic!("{rel}: {name}: unexpected dtype"),
                },
            },
        };
        out.insert(name, (shape, values));
    }
    out
}

fn load(rel: &str) -> Graph {
    net::onnx::load(&std::fs::read(path(rel)).unwrap(), rel).unwrap_or_else(|e| panic!("{e:?}"))
}

/// Each row of a batch as one image of the graph's input shape.
fn rows(g: &Graph, values: &[f32]) -> Vec<Tensor> {
    let per: usize = g.image_shape().iter().product();
    values
        .chunks(per)
        .map(|c| Tensor::new(g.image_shape().to_vec(), c.to_vec()))
        .collect()
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-4 * w.abs().max(1.0),
            "{what}: value {i}: qmulgen {g}, onnxruntime {w}"
        );
    }
}

#[test]
fn f32_path_matches_onnxruntime_on_the_digits_model() {
    let g = load("models/digits_cnn.onnx");
    assert_eq!(g.image_shape(), &[1, 8, 8]);
    // Both BatchNormalizations fold into their Convs: 4 MAC layers, no Affine node.
    assert_eq!(g.layers.len(), 4);
    assert!(!g
        .nodes
        .iter()
        .any(|n| matches!(n.op, net::graph::Op::Affine { .. })));
    let data = npz("data/digits_test.npz");
    let probs = npz("models/digits_cnn_ref.npz");
    let (_, want) = &probs["probs"];
    let images = rows(&g, &data["x"].1);
    assert_eq!(images.len(), 450);
    for (i, image) in images.iter().enumerate() {
        let y = g.run_f32(image).unwrap();
        assert_close(&y.data, &want[i * 10..(i + 1) * 10], &format!("image {i}"));
    }
}

#[test]
fn f32_path_matches_onnxruntime_on_every_operator_case() {
    // conv: pads, strides, dilations, folded BN, MaxPool pads, SAME_UPPER, AveragePool without
    // pads counted, GlobalAveragePool, Gemm alpha/beta/transB, Softmax. lower: SAME_LOWER,
    // VALID, counted pads, a Reshape'd weight, Add broadcasting, BN alone. matmul: MatMul, Add,
    // Reshape from a Constant and an initializer, Add of two computed tensors.
    for case in ["conv", "lower", "matmul"] {
        let g = load(&format!("testbenches/onnx/{case}.onnx"));
        let arrays = npz(&format!("testbenches/onnx/{case}.npz"));
        let (xs, ys) = (&arrays["x"], &arrays["y"]);
        let images = rows(&g, &xs.1);
        let per_y = ys.1.len() / images.len();
        for (i, image) in images.iter().enumerate() {
            let y = g.run_f32(image).unwrap();
            assert_close(
                &y.data,
                &ys.1[i * per_y..(i + 1) * per_y],
                &format!("{case}, batch row {i}"),
            );
        }
    }
    // The lower case keeps its lone BatchNormalization as an f32 affine node.
    let g = load("testbenches/onnx/lower.onnx");
    assert!(g
        .nodes
        .iter()
        .any(|n| matches!(n.op, net::graph::Op::Affine { .. })));
}

// ---- ONNX files built here ----

fn value_info(name: &str, dims: &[i64]) -> ValueInfoProto {
    let mut t = TypeProto::new();
    let tensor = t.mut_tensor_type();
    tensor.elem_type = 1;
    for &d in dims {
        let mut dim = tensor_shape_proto::Dimension::new();
        if d < 0 {
            dim.set_dim_param("batch".into());
        } else {
            dim.set_dim_value(d);
        }
        tensor.shape.mut_or_insert_default().dim.push(dim);
    }
    let mut v = ValueInfoProto::new();
    v.name = name.into();
    v.type_ = Some(t).into();
    v
}

fn initializer(name: &str, dims: &[i64], values: &[f32]) -> TensorProto {
    let mut t = TensorProto::new();
    t.name = name.into();
    t.dims = dims.to_vec();
    t.data_type = 1;
    t.float_data = values.to_vec();
    t
}

fn node(op: &str, name: &str, inputs: &[&str], output: &str, ints: &[(&str, i64)]) -> NodeProto {
    let mut n = NodeProto::new();
    n.op_type = op.into();
    n.name = name.into();
    n.input = inputs.iter().map(|s| s.to_string()).collect();
    n.output = vec![output.into()];
    for (k, v) in ints {
        let mut a = AttributeProto::new();
        a.name = k.to_string();
        a.i = *v;
        a.type_ = onnx_protobuf::attribute_proto::AttributeType::INT.into();
        n.attribute.push(a);
    }
    n
}

fn model(nodes: Vec<NodeProto>, inits: Vec<TensorProto>, input: &[i64], out: &str) -> Vec<u8> {
    let mut g = GraphProto::new();
    g.name = "test".into();
    g.node = nodes;
    g.initializer = inits;
    g.input = vec![value_info("x", input)];
    g.output = vec![value_info(out, &[])];
    let mut m = ModelProto::new();
    m.ir_version = 8;
    let mut opset = OperatorSetIdProto::new();
    opset.version = 13;
    m.opset_import = vec![opset];
    m.graph = Some(g).into();
    m.write_to_bytes().unwrap()
}

fn unit(family: &str, yaml: &str) -> UnitSpec {
    let params: ParamMap = serde_yaml::from_str(yaml).unwrap();
    UnitSpec::from_params(family, &params).unwrap()
}

/// One Gemm layer (K = 5 inputs, M = 3 filters, transB) quantized for an exact 8-bit unit,
/// against the §6 arithmetic written out here with integers.
#[test]
fn quantized_gemm_through_exact_units_is_the_integer_computation() {
    let w: Vec<f32> = vec![
        0.50, -0.25, 0.125, 0.9, -1.2, //
        0.01, 0.02, -0.03, 0.04, 0.05, //
        -2.0, 1.5, 0.0, 0.75, -0.3,
    ];
    let b = [0.1f32, -0.2, 0.3];
    let bytes = model(
        vec![node("Gemm", "fc", &["x", "w", "b"], "y", &[("transB", 1)])],
        vec![initializer("w", &[3, 5], &w), initializer("b", &[3], &b)],
        &[-1, 5],
        "y",
    );
    let g = net::onnx::load(&bytes, "gemm").unwrap();
    let calib: Vec<Tensor> = (0..7)
        .map(|i| {
            let v: Vec<f32> = (0..5)
                .map(|k| ((i * 5 + k) as f32 * 0.37).sin() * 3.0)
                .collect();
            Tensor::new(vec![5], v)
        })
        .collect();
    let max_abs = calib
        .iter()
        .flat_map(|t| t.data.iter())
        .fold(0f32, |m, v| m.max(v.abs()));
    let ranges = quant::calibrate(&g, &calib).unwrap();
    // Fewer than 10,000 values: the 99.99th percentile (nearest rank) is the largest |x|.
    assert_eq!(ranges[0].p9999, max_abs);
    assert!(ranges[0].negative);
    let x = Tensor::new(vec![5], vec![1.3, -2.9, 0.004, 2.2, -0.6]);
    for (yaml, signed) in [("{width: 8}", false), ("{width: 8, signed: true}", true)] {
        let spec = unit("exact", yaml);
        let f = quant::ProductFn::new(spec.unit.as_ref(), "exact").unwrap();
        let qnet = quant::QuantNet::new(&g, &f, &ranges).unwrap();
        let got = qnet.run(&x).unwrap();
        // §6: unsigned ports: weights are magnitudes over (2^8 - 1) with the sign outside,
        // activations x⁺ and x⁻ on 0..255; signed ports: both symmetric over 127.
        let top = if signed { 127.0 } else { 255.0 };
        let sx = max_abs / top as f32;
        let code = |v: f32| -> i64 {
            let q = (v / sx).round();
            if signed {
                q.clamp(-127.0, 127.0) as i64
            } else {
                q.clamp(0.0, 255.0) as i64
            }
        };
        let xq: Vec<i64> = if signed {
            x.data.iter().map(|&v| code(v)).collect()
        } else {
            x.data.iter().map(|&v| code(v) - code(-v)).collect()
        };
        for m in 0..3 {
            let row = &w[m * 5..(m + 1) * 5];
            let sw = row.iter().fold(0f64, |a, v| a.max(f64::from(v.abs()))) / top;
            let acc: i64 = row
                .iter()
                .zip(&xq)
                .map(|(&wv, &xv)| (f64::from(wv) / sw).round() as i64 * xv)
                .sum();
            let want = (acc as f64 * sw * f64::from(sx)) as f32 + b[m];
            assert!(
                (got.data[m] - want).abs() < 1e-5 * want.abs().max(1.0),
                "{yaml}: filter {m}: {} vs {want}",
                got.data[m]
            );
            // And near the f32 layer (8-bit quantization error only).
            let exact: f32 = row.iter().zip(&x.data).map(|(a, b)| a * b).sum::<f32>() + b[m];
            assert!((got.data[m] - exact).abs() < 0.1, "{yaml}: filter {m}");
        }
    }
}

/// Accuracy of the shipped model through units, checked against ranges (450 test images).
#[test]
fn digits_accuracy_through_units_falls_in_expected_ranges() {
    let network = qmulgen::flows::dnn::Network::load(
        &path("models/digits_cnn.onnx"),
        &path("data/digits_test.npz"),
    )
    .unwrap();
    let specs = vec![
        unit("exact", "{width: 8, signed: true}"),
        unit("esb", "{exp_bits: 2, frac_bits: 2, act_bits: 8}"),
        unit("apot", "{mag_bits: 2, act_bits: 8}"),
        unit("apot", "{mag_bits: 4, act_bits: 8}"),
        unit("adam", "{width: 8, frac_bits: 7}"),
        unit("mitchell", "{width: 4, frac_bits: 1}"),
    ];
    let options = qmulgen::flows::dnn::Options {
        prune: vec![0.0, 0.5],
        calib: 256,
        synth: false,
        lanes: 16,
    };
    let rows = qmulgen::flows::dnn::run(&network, &specs, &options, &|_| {}).unwrap();
    let acc = |unit: &str, prune: f64| {
        rows.iter()
            .find(|r| r.unit == unit && r.prune == prune)
            .unwrap()
            .accuracy
    };
    assert_eq!(rows[0].unit, "float");
    // scripts/train_digits.py printed 0.9844 for the float model.
    assert!((0.97..=1.0).contains(&acc("float", 0.0)));
    // 8-bit exact products lose (almost) nothing.
    assert!((acc("exact_s8x8", 0.0) - acc("float", 0.0)).abs() <= 0.01);
    assert!(acc("esb_e2k2_a8", 0.0) >= 0.95);
    assert!(acc("adam_u8_t7", 0.0) >= 0.95);
    // Four APoT levels per sign cost accuracy that sixteen do not.
    assert!(acc("apot_b2_a8", 0.0) < acc("apot_b4_a8", 0.0));
    // A 4-bit Mitchell unit with one fraction bit is far coarser than 8-bit exact.
    assert!(acc("mitchell_u4_t1", 0.0) < acc("exact_s8x8", 0.0));
    // Pruning half the filters without retraining costs accuracy; the kept count is reported.
    assert!(acc("float", 0.5) < acc("float", 0.0) - 0.05);
    let pruned = rows.iter().find(|r| r.prune == 0.5).unwrap();
    assert_eq!((pruned.filters_kept, pruned.filters_total), (28, 56));
    for r in &rows {
        assert!((0.0..=1.0).contains(&r.accuracy) && (0.0..=1.0).contains(&r.agreement));
    }
    // Size: 3,592 weights (72 + 1,152 + 2,048 + 320) at the stored width: 8 bits for int8,
    // 5 for ESB e2k2 (1 + 2 + 2), 9 for 8-bit magnitudes with the sign outside.
    let size = |unit: &str| rows.iter().find(|r| r.unit == unit).unwrap().size_bits;
    assert_eq!(size("float"), 3592 * 32);
    assert_eq!(size("exact_s8x8"), 3592 * 8);
    assert_eq!(size("esb_e2k2_a8"), 3592 * 5);
    assert_eq!(size("adam_u8_t7"), 3592 * 9);
}

// ---- the command ----

fn qmulgen(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_qmulgen"))
        .current_dir(ROOT)
        .args(args)
        .output()
        .unwrap()
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("qmulgen-dnn-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn refused(out: &std::process::Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

const MODEL: &str = "models/digits_cnn.onnx";
const DATA: &str = "data/digits_test.npz";

#[test]
fn dnn_writes_rows_with_the_float_network_first() {
    let d = scratch("json");
    let json = d.join("rows.json");
    let csv = d.join("rows.csv");
    let out = qmulgen(&[
        "dnn",
        "--model",
        MODEL,
        "--data",
        DATA,
        "esb",
        "--exp-bits",
        "2",
        "--frac-bits",
        "1",
        "--act-bits",
        "8",
        "--prune",
        "0.25",
        "--no-synth",
        "--json",
        json.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["unit"], "float");
    assert_eq!(rows[1]["unit"], "esb_e2k1_a8");
    assert_eq!(rows[1]["family"], "esb");
    for r in &rows {
        for key in [
            "accuracy",
            "agreement",
            "size_bits",
            "bops",
            "filters_kept",
            "prune",
        ] {
            assert!(r[key].is_number(), "{key} in {r}");
        }
        assert!(r["luts"].is_null());
        assert_eq!(r["prune"], 0.25);
        // floor(8·0.75) + floor(16·0.75) + floor(32·0.75) = 6 + 12 + 24.
        assert_eq!(r["filters_kept"], 42);
    }
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.starts_with("unit,prune,accuracy"));
    assert_eq!(text.lines().count(), 3);
}

#[test]
fn bad_models_and_data_are_refused_in_one_line() {
    let d = scratch("bad");
    // Unsupported operators: every one named, with its node.
    let bytes = model(
        vec![
            node("Sigmoid", "squash", &["x"], "s", &[]),
            node("LeakyRelu", "leaky", &["s"], "y", &[]),
        ],
        vec![],
        &[-1, 4],
        "y",
    );
    let unsupported = d.join("unsupported.onnx");
    std::fs::write(&unsupported, bytes).unwrap();
    let unsupported = unsupported.to_str().unwrap();
    // `dnn` on a model with the shipped data: refused in one line, exit 2.
    let refuse_model = |model: &str| {
        refused(&qmulgen(&[
            "dnn",
            "--model",
            model,
            "--data",
            DATA,
            "exact",
            "--width",
            "8",
            "--no-synth",
        ]))
    };
    let err = refuse_model(unsupported);
    assert!(err.contains("node `squash`: operator Sigmoid"), "{err}");
    assert!(err.contains("node `leaky`: operator LeakyRelu"), "{err}");
    // A truncated model and a file that is not ONNX.
    let full = std::fs::read(path(MODEL)).unwrap();
    let truncated = d.join("truncated.onnx");
    std::fs::write(&truncated, &full[..full.len() / 3]).unwrap();
    for bad in [truncated.to_str().unwrap(), DATA, "README.md"] {
        let err = refuse_model(bad);
        assert!(err.contains(bad), "{err}");
    }
    // Data whose images do not fit the model's input: both shapes named.
    let err = refused(&qmulgen(&[
        "dnn",
        "--model",
        MODEL,
        "--data",
        "testbenches/onnx/conv.npz",
        "exact",
        "--width",
        "8",
        "--no-synth",
    ]));
    assert!(
        err.contains("[3, 2, 9, 7]") && err.contains("[1, 8, 8]"),
        "{err}"
    );
    // Pruning ratios outside [0, 1), a unit with fault ports, a dot.
    for args in [
        &["--prune", "1.0", "exact", "--width", "8"][..],
        &["--prune-sweep", "0,-0.1", "exact", "--width", "8"],
        &["adam", "--width", "8", "--fault-ports"],
        &["dot", "--lanes", "4", "--lane", "exact", "--width", "8"],
    ] {
        let mut all = vec!["dnn", "--model", MODEL, "--data", DATA, "--no-synth"];
        all.extend_from_slice(args);
        let err = refused(&qmulgen(&all));
        assert!(!err.is_empty());
    }
}

// ---- network fault campaigns ----

fn npy<T: npyz::AutoSerialize + Copy>(shape: &[u64], values: &[T]) -> Vec<u8> {
    use npyz::WriterBuilder;
    let mut bytes = Vec::new();
    let mut w = npyz::WriteOptions::new()
        .default_dtype()
        .shape(shape)
        .writer(&mut bytes)
        .begin_nd()
        .unwrap();
    w.extend(values.iter().copied()).unwrap();
    w.finish().unwrap();
    bytes
}

fn write_npz(path: &Path, arrays: &[(&str, Vec<u8>)]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in arrays {
        zip.start_file(format!("{name}.npy"), opts).unwrap();
        std::io::Write::write_all(&mut zip, bytes).unwrap();
    }
    zip.finish().unwrap();
}

/// A tiny network (one Gemm, K = 8 inputs, M = 6 classes) through TMR u4x4 with port faults
/// on a dot of 3 lanes, against an independent loop: §6 quantization written out here, the
/// faulty product (the golden fault model) applied to MACs k = 0, 3, 6 (lane 0 of 3).
#[test]
fn network_campaign_classes_match_an_independent_recount() {
    let (k_in, m_out, lanes) = (8usize, 6usize, 3usize);
    let w: Vec<f32> = (0..k_in * m_out)
        .map(|i| ((i as f32) * 1.7).sin())
        .collect();
    let b: Vec<f32> = (0..m_out).map(|i| (i as f32) * 0.05 - 0.1).collect();
    let bytes = model(
        vec![node("Gemm", "fc", &["x", "w", "b"], "y", &[("transB", 1)])],
        vec![
            initializer("w", &[m_out as i64, k_in as i64], &w),
            initializer("b", &[m_out as i64], &b),
        ],
        &[-1, k_in as i64],
        "y",
    );
    let d = scratch("netfaults");
    let model_path = d.join("tiny.onnx");
    std::fs::write(&model_path, &bytes).unwrap();
    // Non-negative inputs (no x⁺/x⁻ split); labels = the f32 network's top-1.
    let n = 40usize;
    let x: Vec<f32> = (0..n * k_in)
        .map(|i| ((i * 37 % 101) as f32) / 25.0)
        .collect();
    let g = net::onnx::load(&bytes, "tiny").unwrap();
    let labels: Vec<i64> = x
        .chunks(k_in)
        .map(|c| {
            net::argmax(
                &g.run_f32(&Tensor::new(vec![k_in], c.to_vec()))
                    .unwrap()
                    .data,
            ) as i64
        })
        .collect();
    let data_path = d.join("tiny.npz");
    write_npz(
        &data_path,
        &[
            ("x", npy(&[n as u64, k_in as u64], &x)),
            ("y", npy(&[n as u64], &labels)),
        ],
    );
    let network = qmulgen::flows::dnn::Network::load(&model_path, &data_path).unwrap();
    let params: ParamMap = serde_yaml::from_str("{width: 4}").unwrap();
    let options = qmulgen::flows::faults::network::NetOptions {
        universe: qmulgen::flows::faults::SiteUniverse::Ports,
        kinds: vec![1, 2],
        lanes: lanes as u32,
        faults: None,
        seed: 1,
        images: None,
        calib: 256,
        shard: None,
    };
    let run = |o: &qmulgen::flows::faults::network::NetOptions| {
        qmulgen::flows::faults::network::run(&network, "tmr", &params, o, &|_| {}).unwrap()
    };
    let c = run(&options);

    // Independent recount. §6 on unsigned 4-bit ports: weights |w|/s rounded, s = max|w|/15
    // per filter, the sign applied outside; activations x/s_x rounded, s_x = max x / 15 (the
    // 99.99th percentile of fewer than 10,000 values is the largest).
    let ports = UnitSpec::from_params(
        "tmr",
        &serde_yaml::from_str::<ParamMap>("{width: 4, fault_ports: true}").unwrap(),
    )
    .unwrap();
    let sites = ports.unit.fault_site_names().len() as u64;
    let sx = x.iter().fold(0f32, |m, v| m.max(*v)) / 15.0;
    let infer = |image: &[f32], fault: Option<(u64, u64)>| -> (Vec<f32>, bool) {
        let xq: Vec<u64> = image
            .iter()
            .map(|v| (v / sx).round().clamp(0.0, 15.0) as u64)
            .collect();
        let mut err = false;
        let y = (0..m_out)
            .map(|m| {
                let row = &w[m * k_in..(m + 1) * k_in];
                let sw = row.iter().fold(0f64, |a, v| a.max(f64::from(v.abs()))) / 15.0;
                let mut acc = 0i64;
                for k in 0..k_in {
                    let mag = (f64::from(row[k].abs()) / sw).round() as u64;
                    let (site, kind) = match fault {
                        Some(f) if k % lanes == 0 => f,
                        _ => (0, 3),
                    };
                    let mut out = [0u64; 2];
                    ports.unit.golden(&[mag, xq[k], site, kind], &mut out);
                    err |= out[1] != 0;
                    let p = out[0] as i64;
                    acc += if row[k] < 0.0 { -p } else { p };
                }
                (acc as f64 * sw * f64::from(sx)) as f32 + b[m]
            })
            .collect();
        (y, err)
    };
    let images: Vec<(&[f32], usize)> = x
        .chunks(k_in)
        .zip(&labels)
        .filter(|(img, &l)| net::argmax(&infer(img, None).0) == l as usize)
        .map(|(img, &l)| (img, l as usize))
        .collect();
    assert_eq!(c.images, images.len() as u64);
    assert!(c.images >= 30, "{} images", c.images);
    assert_eq!(c.faults, 2 * sites);
    for row in &c.rows {
        let kind = if row.kind == "sa0" { 1 } else { 2 };
        let mut want = [0u64; 4];
        for (img, label) in &images {
            let (y, err) = infer(img, Some((row.site, kind)));
            if err {
                want[1] += 1;
                continue;
            }
            want[if net::argmax(&y) == *label { 0 } else { 2 }] += 1;
            want[3] += u64::from(!net::in_top_k(&y, *label, 5));
        }
        assert_eq!(
            [row.masked, row.detected, row.sdc1, row.sdc5],
            want,
            "{} {}",
            row.name,
            row.kind
        );
    }
    // TMR: some faults are detected, and a fault in one copy never changes a top-1 silently.
    assert!(c.detected > 0);
    assert_eq!(c.sdc1, 0);
    assert_eq!(c.critical, 0);

    // Three shards merge into exactly the one-run result.
    let parts: Vec<(String, _)> = (1..=3)
        .map(|i| {
            let o = qmulgen::flows::faults::network::NetOptions {
                shard: Some((i, 3)),
                ..options.clone()
            };
            (format!("part{i}"), run(&o))
        })
        .collect();
    let merged = qmulgen::flows::faults::network::merge(&parts).unwrap();
    assert_eq!(merged, c);
    // A doctored part is refused, naming it.
    let mut bad = parts.clone();
    bad[1].1.rows[0].masked += 1000;
    let e = qmulgen::flows::faults::network::merge(&bad).unwrap_err();
    assert!(
        matches!(&e, qmulgen::base::Failure::BadInput(m) if m.contains("part2")),
        "{e:?}"
    );
    let e = qmulgen::flows::faults::network::merge(&parts[..2]).unwrap_err();
    assert!(
        matches!(&e, qmulgen::base::Failure::BadInput(m) if m.contains("3/3")),
        "{e:?}"
    );
}

#[test]
fn dnn_faults_refuses_bad_input_in_one_line() {
    for args in [
        &["adam", "--width", "8", "--kinds", "sa2"][..],
        &["adam", "--width", "8", "--kinds", "flip"],
        &["adam", "--width", "12"],
        &["tmr", "--width", "4", "--sites", "ports", "--kinds", "init"],
        &["adam", "--width", "8", "--faults", "0"],
    ] {
        let mut all = vec!["dnn-faults", "--model", MODEL, "--data", DATA];
        all.extend_from_slice(args);
        let err = refused(&qmulgen(&all));
        assert!(!err.is_empty(), "{args:?}");
    }
    let err = refused(&qmulgen(&[
        "dnn-faults",
        "--model",
        "README.md",
        "--data",
        DATA,
        "adam",
        "--width",
        "8",
    ]));
    assert!(err.contains("not an ONNX model"), "{err}");
}
