//! ONNX import with `onnx-protobuf` (pure Rust, generated from onnx.proto; no protoc, no
//! runtime download). Every node is bound to its operator when the model loads, constants are
//! folded (initializers, Constant nodes, Reshape of a constant: such weights count as weights),
//! a BatchNormalization that follows a Conv alone is folded into it, and every unsupported
//! operator is reported at once. The shapes are checked by running a zero image.

use super::graph::{Graph, MacLayer, Node, Op, Pads, Window};
use super::Tensor;
use crate::base::Failure;
use onnx_protobuf::{attribute_proto::AttributeType, Message, ModelProto, NodeProto, TensorProto};
use std::collections::HashMap;

/// The operators qmulgen evaluates (opset 13 semantics).
pub const SUPPORTED: &[&str] = &[
    "Conv",
    "Gemm",
    "MatMul",
    "Add",
    "Relu",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "Flatten",
    "Reshape",
    "BatchNormalization",
    "Softmax",
    "Constant",
];

/// A constant: shape and values (integers kept exactly for shapes).
#[derive(Clone, Debug)]
struct Const {
    dims: Vec<usize>,
    values: Vec<f64>,
}

impl Const {
    fn f32s(&self) -> Vec<f32> {
        self.values.iter().map(|&v| v as f32).collect()
    }
    fn tensor(&self) -> Tensor {
        Tensor::new(self.dims.clone(), self.f32s())
    }
}

fn tensor_values(t: &TensorProto) -> Result<Const, String> {
    let dims: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| format!("tensor `{}` has dimension {d}", t.name)))
        .collect::<Result<_, _>>()?;
    let n: usize = dims.iter().product();
    let raw = &t.raw_data;
    let values: Vec<f64> = match t.data_type {
        1 if raw.is_empty() => t.float_data.iter().map(|&v| f64::from(v)).collect(),
        1 => raw
            .chunks_exact(4)
            .map(|b| f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect(),
        11 if raw.is_empty() => t.double_data.clone(),
        11 => raw
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            .collect(),
        7 if raw.is_empty() => t.int64_data.iter().map(|&v| v as f64).collect(),
        7 => raw
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])) as f64)
            .collect(),
        6 if raw.is_empty() => t.int32_data.iter().map(|&v| f64::from(v)).collect(),
        6 => raw
            .chunks_exact(4)
            .map(|b| f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect(),
        other => {
            return Err(format!(
                "tensor `{}` has data type {other}; supported: float, double, int32, int64",
                t.name
            ))
        }
    };
    if !t.external_data.is_empty() {
        return Err(format!(
            "tensor `{}` keeps its data in an external file",
            t.name
        ));
    }
    if values.len() != n {
        return Err(format!(
            "tensor `{}` has {} values for shape {dims:?}",
            t.name,
            values.len()
        ));
    }
    Ok(Const { dims, values })
}

/// Typed attribute getters of one node.
struct Attrs<'a>(&'a NodeProto);

impl Attrs<'_> {
    fn get(&self, name: &str) -> Option<&onnx_protobuf::AttributeProto> {
        self.0.attribute.iter().find(|a| a.name == name)
    }
    fn int(&self, name: &str, default: i64) -> i64 {
        self.get(name).map_or(default, |a| a.i)
    }
    fn float(&self, name: &str, default: f32) -> f32 {
        self.get(name).map_or(default, |a| a.f)
    }
    fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.get(name).map(|a| a.ints.clone())
    }
    fn string(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }
}

fn pair(v: Option<Vec<i64>>, default: usize, what: &str) -> Result<[usize; 2], String> {
    match v.as_deref() {
        None => Ok([default; 2]),
        Some([a, b]) if *a > 0 && *b > 0 => Ok([*a as usize, *b as usize]),
        Some(other) => Err(format!(
            "{what} = {other:?}: two positive values expected (2-D)"
        )),
    }
}

/// The window of a Conv or pooling node (kernel from the attribute or the weight).
fn window(a: &Attrs, kernel: Option<[usize; 2]>) -> Result<Window, String> {
    let kernel = match (a.ints("kernel_shape"), kernel) {
        (Some(k), _) => pair(Some(k), 1, "kernel_shape")?,
        (None, Some(k)) => k,
        (None, None) => return Err("kernel_shape is missing".into()),
    };
    let pads = match a.string("auto_pad").as_deref() {
        None | Some("NOTSET") => match a.ints("pads").as_deref() {
            None => Pads::Explicit([0; 4]),
            Some([t, l, b, r]) if [t, l, b, r].iter().all(|&&p| p >= 0) => {
                Pads::Explicit([*t as usize, *l as usize, *b as usize, *r as usize])
            }
            Some(other) => return Err(format!("pads = {other:?}: four values expected (2-D)")),
        },
        Some("VALID") => Pads::Explicit([0; 4]),
        Some("SAME_UPPER") => Pads::SameUpper,
        Some("SAME_LOWER") => Pads::SameLower,
        Some(other) => return Err(format!("auto_pad = {other} is not an ONNX value")),
    };
    if a.int("ceil_mode", 0) != 0 {
        return Err("ceil_mode = 1 is not supported".into());
    }
    Ok(Window {
        kernel,
        strides: pair(a.ints("strides"), 1, "strides")?,
        dilations: pair(a.ints("dilations"), 1, "dilations")?,
        pads,
    })
}

/// Load an ONNX model from `bytes` (`origin` names the file in errors).
pub fn load(bytes: &[u8], origin: &str) -> Result<Graph, Failure> {
    let bad = |what: String| Failure::BadInput(format!("{origin}: {what}"));
    let model = ModelProto::parse_from_bytes(bytes).map_err(|e| {
        bad(format!(
            "not an ONNX model (truncated or another format): {e}"
        ))
    })?;
    let graph = model
        .graph
        .as_ref()
        .filter(|g| !g.node.is_empty())
        .ok_or_else(|| bad("not an ONNX model: it has no graph nodes".into()))?;
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map_or(0, |o| o.version);

    let mut consts: HashMap<String, Const> = HashMap::new();
    for t in &graph.initializer {
        consts.insert(t.name.clone(), tensor_values(t).map_err(bad)?);
    }
    let input = graph
        .input
        .iter()
        .find(|i| !consts.contains_key(&i.name))
        .ok_or_else(|| bad("the graph has no input besides its initializers".into()))?;
    let dims = input
        .type_
        .tensor_type()
        .shape
        .dim
        .iter()
        .enumerate()
        .map(|(i, d)| match (i, d.has_dim_value(), d.dim_value()) {
            (0, _, _) => Ok(1),
            (_, true, v) if v > 0 => Ok(v as usize),
            _ => Err(bad(format!(
                "input `{}`: axis {i} has no fixed size; qmulgen needs the image shape",
                input.name
            ))),
        })
        .collect::<Result<Vec<usize>, _>>()?;
    if dims.len() < 2 {
        return Err(bad(format!(
            "input `{}` has shape {dims:?}; expected a batch axis and the image's axes",
            input.name
        )));
    }

    // Consumers per value, to fold a BatchNormalization only into a Conv it alone reads.
    let mut consumers: HashMap<&str, usize> = HashMap::new();
    for n in &graph.node {
        for i in &n.input {
            *consumers.entry(i.as_str()).or_default() += 1;
        }
    }
    for o in &graph.output {
        *consumers.entry(o.name.as_str()).or_default() += 1;
    }

    let mut ids: HashMap<String, usize> = HashMap::from([(input.name.clone(), 0)]);
    let mut nodes: Vec<Node> = Vec::new();
    let mut layers: Vec<MacLayer> = Vec::new();
    let mut unsupported = Vec::new();
    let mut errors = Vec::new();
    for (index, n) in graph.node.iter().enumerate() {
        let name = if n.name.is_empty() {
            format!("#{index}")
        } else {
            n.name.clone()
        };
        let Some(output) = n.output.first() else {
            errors.push(format!("node `{name}` ({}): no output", n.op_type));
            continue;
        };
        if !n.domain.is_empty() && n.domain != "ai.onnx" {
            unsupported.push(format!(
                "node `{name}`: operator {}::{}",
                n.domain, n.op_type
            ));
            continue;
        }
        if !SUPPORTED.contains(&n.op_type.as_str()) {
            unsupported.push(format!(
                "node `{name}`: operator {} (opset {opset})",
                n.op_type
            ));
            continue;
        }
        let ctx = Context {
            consts: &consts,
            ids: &ids,
            nodes: &nodes,
            consumers: &consumers,
            opset,
        };
        match bind(n, &Attrs(n), &ctx, &mut layers) {
            Ok(Bound::Const(c)) => {
                consts.insert(output.clone(), c);
            }
            Ok(Bound::Alias(id)) => {
                ids.insert(output.clone(), id);
            }
            Ok(Bound::Op(op, inputs)) => {
                let id = ids.len() + 1;
                ids.insert(output.clone(), id);
                nodes.push(Node {
                    name,
                    op_type: n.op_type.clone(),
                    op,
                    inputs,
                    output: id,
                });
            }
            Err(e) => errors.push(format!("node `{name}` ({}): {e}", n.op_type)),
        }
    }
    if !unsupported.is_empty() {
        return Err(bad(format!(
            "{} not supported (supported: {})",
            unsupported.join("; "),
            SUPPORTED.join(", ")
        )));
    }
    if let Some(e) = errors.first() {
        return Err(bad(e.clone()));
    }
    let out_name = &graph
        .output
        .first()
        .ok_or_else(|| bad("the graph has no output".into()))?
        .name;
    let output = *ids
        .get(out_name)
        .ok_or_else(|| bad(format!("output `{out_name}` is not computed by any node")))?;
    let g = Graph {
        input_shape: dims,
        nodes,
        layers,
        values: ids.values().max().copied().unwrap_or(0) + 1,
        output,
    };
    let zero = Tensor::new(
        g.image_shape().to_vec(),
        vec![0.0; g.image_shape().iter().product()],
    );
    g.run_f32(&zero).map_err(bad)?;
    Ok(g)
}

enum Bound {
    /// Folded to a constant.
    Const(Const),
    /// The output is another value (a folded BatchNormalization).
    Alias(usize),
    Op(Op, Vec<usize>),
}

/// What a node is bound against: the constants and values so far, the consumers of each value.
struct Context<'a> {
    consts: &'a HashMap<String, Const>,
    ids: &'a HashMap<String, usize>,
    nodes: &'a [Node],
    consumers: &'a HashMap<&'a str, usize>,
    opset: i64,
}

fn bind(
    n: &NodeProto,
    a: &Attrs,
    ctx: &Context,
    layers: &mut Vec<MacLayer>,
) -> Result<Bound, String> {
    let Context {
        consts,
        ids,
        nodes,
        consumers,
        opset,
    } = *ctx;
    let input = |i: usize| n.input.get(i).filter(|s| !s.is_empty());
    let konst = |i: usize| input(i).and_then(|s| consts.get(s));
    let value = |i: usize| -> Result<usize, String> {
        let s = input(i).ok_or_else(|| format!("input {i} is missing"))?;
        ids.get(s)
            .copied()
            .ok_or_else(|| format!("input `{s}` is not computed before this node"))
    };
    let weight = |i: usize, what: &str| -> Result<&Const, String> {
        konst(i).ok_or_else(|| {
            format!(
                "the {what} must be a constant (an initializer, a Constant or a Reshape of one)"
            )
        })
    };
    let op = n.op_type.as_str();
    Ok(match op {
        "Constant" => {
            let attr = n.attribute.first().ok_or("no value")?;
            match attr.type_.enum_value() {
                Ok(AttributeType::TENSOR) => Bound::Const(tensor_values(&attr.t)?),
                Ok(AttributeType::FLOAT) => Bound::Const(Const {
                    dims: vec![],
                    values: vec![f64::from(attr.f)],
                }),
                Ok(AttributeType::INT) => Bound::Const(Const {
                    dims: vec![],
                    values: vec![attr.i as f64],
                }),
                Ok(AttributeType::INTS) => Bound::Const(Const {
                    dims: vec![attr.ints.len()],
                    values: attr.ints.iter().map(|&v| v as f64).collect(),
                }),
                Ok(AttributeType::FLOATS) => Bound::Const(Const {
                    dims: vec![attr.floats.len()],
                    values: attr.floats.iter().map(|&v| f64::from(v)).collect(),
                }),
                _ => return Err(format!("value attribute `{}` is not supported", attr.name)),
            }
        }
        "Reshape" => {
            let shape: Vec<i64> = weight(1, "shape")?
                .values
                .iter()
                .map(|&v| v as i64)
                .collect();
            if a.int("allowzero", 0) != 0 {
                return Err("allowzero = 1 is not supported".into());
            }
            match konst(0) {
                Some(c) => {
                    let t = super::graph::reshape_shape(&c.dims, &shape)?;
                    Bound::Const(Const {
                        dims: t,
                        values: c.values.clone(),
                    })
                }
                None => Bound::Op(Op::Reshape(shape), vec![value(0)?]),
            }
        }
        "Conv" => {
            let w = weight(1, "weight")?;
            let [m, c, kh, kw] = w.dims[..] else {
                return Err(format!(
                    "weight of shape {:?}: only 2-D convolutions ([M, C, kH, kW])",
                    w.dims
                ));
            };
            if a.int("group", 1) != 1 {
                return Err(format!(
                    "group = {} is not supported (group 1 only)",
                    a.int("group", 1)
                ));
            }
            let win = window(a, Some([kh, kw]))?;
            if win.kernel != [kh, kw] {
                return Err(format!(
                    "kernel_shape {:?} differs from the weight's {:?}",
                    win.kernel,
                    [kh, kw]
                ));
            }
            let bias = match konst(2) {
                Some(b) if b.values.len() == m => b.f32s(),
                Some(b) => {
                    return Err(format!(
                        "bias has {} values for {m} filters",
                        b.values.len()
                    ))
                }
                None if input(2).is_some() => return Err("the bias must be a constant".into()),
                None => vec![0.0; m],
            };
            let weight = w.f32s();
            layers.push(MacLayer {
                window: Some(win),
                out_channels: m,
                fan_in: c * kh * kw,
                prune_basis: weight.clone(),
                weight,
                bias,
            });
            Bound::Op(Op::Mac(layers.len() - 1), vec![value(0)?])
        }
        "Gemm" | "MatMul" => {
            if konst(0).is_some() && input(1).is_some_and(|s| ids.contains_key(s)) {
                return Err("the weight is on the left (A); qmulgen takes it as B".into());
            }
            let b = weight(1, "weight (B)")?;
            let [k0, k1] = b.dims[..] else {
                return Err(format!("weight of shape {:?}: a matrix expected", b.dims));
            };
            let (alpha, beta, trans_b) = if op == "Gemm" {
                if a.int("transA", 0) != 0 {
                    return Err("transA = 1 is not supported".into());
                }
                (
                    a.float("alpha", 1.0),
                    a.float("beta", 1.0),
                    a.int("transB", 0) != 0,
                )
            } else {
                (1.0, 1.0, false)
            };
            let (k, m) = if trans_b { (k1, k0) } else { (k0, k1) };
            let mut weight = vec![0.0f32; m * k];
            for o in 0..m {
                for i in 0..k {
                    let v = if trans_b {
                        b.values[o * k + i]
                    } else {
                        b.values[i * m + o]
                    };
                    weight[o * k + i] = v as f32 * alpha;
                }
            }
            let bias = match konst(2) {
                None if input(2).is_some() => return Err("C must be a constant".into()),
                None => vec![0.0; m],
                Some(c) if c.values.len() == m => {
                    c.values.iter().map(|&v| v as f32 * beta).collect()
                }
                Some(c) if c.values.len() == 1 => vec![c.values[0] as f32 * beta; m],
                Some(c) => {
                    return Err(format!(
                        "C of shape {:?} does not broadcast to {m} outputs",
                        c.dims
                    ))
                }
            };
            layers.push(MacLayer {
                window: None,
                out_channels: m,
                fan_in: k,
                prune_basis: weight.clone(),
                weight,
                bias,
            });
            Bound::Op(Op::Mac(layers.len() - 1), vec![value(0)?])
        }
        "Add" => match (konst(0), konst(1)) {
            (Some(_), Some(_)) => return Err("adds two constants".into()),
            (None, Some(c)) => Bound::Op(Op::Add(Some(c.tensor())), vec![value(0)?]),
            (Some(c), None) => Bound::Op(Op::Add(Some(c.tensor())), vec![value(1)?]),
            (None, None) => Bound::Op(Op::Add(None), vec![value(0)?, value(1)?]),
        },
        "Relu" => Bound::Op(Op::Relu, vec![value(0)?]),
        "MaxPool" => {
            if a.int("storage_order", 0) != 0 || n.output.len() > 1 {
                return Err("MaxPool's indices output is not supported".into());
            }
            Bound::Op(Op::MaxPool(window(a, None)?), vec![value(0)?])
        }
        "AveragePool" => Bound::Op(
            Op::AveragePool {
                window: window(a, None)?,
                count_pads: a.int("count_include_pad", 0) != 0,
            },
            vec![value(0)?],
        ),
        "GlobalAveragePool" => Bound::Op(Op::GlobalAveragePool, vec![value(0)?]),
        "Flatten" => {
            let axis = a.int("axis", 1);
            if axis < 0 {
                return Err(format!("axis = {axis}: negative axes are not supported"));
            }
            Bound::Op(Op::Flatten(axis as usize), vec![value(0)?])
        }
        "Softmax" => {
            // Opset 13 made -1 the default (and softmax per axis); before, 1 on a 2-D view.
            let default = if opset >= 13 { -1 } else { 1 };
            Bound::Op(
                Op::Softmax(a.int("axis", default) as isize),
                vec![value(0)?],
            )
        }
        "BatchNormalization" => {
            if a.int("training_mode", 0) != 0 || n.output.len() > 1 {
                return Err("training mode is not supported".into());
            }
            let [g, b, mean, var] = [1, 2, 3, 4].map(|i| weight(i, "statistics"));
            let (g, b, mean, var) = (g?, b?, mean?, var?);
            let eps = f64::from(a.float("epsilon", 1e-5));
            let c = g.values.len();
            if [b, mean, var].iter().any(|t| t.values.len() != c) {
                return Err("scale, B, mean and var differ in length".into());
            }
            let scale: Vec<f64> = (0..c)
                .map(|i| g.values[i] / (var.values[i] + eps).sqrt())
                .collect();
            let shift: Vec<f64> = (0..c)
                .map(|i| b.values[i] - mean.values[i] * scale[i])
                .collect();
            let x = value(0)?;
            let producer = nodes.iter().find(|nd| nd.output == x);
            let foldable = producer.and_then(|p| match p.op {
                Op::Mac(l)
                    if layers[l].window.is_some()
                        && consumers.get(input(0).map_or("", |s| s.as_str())) == Some(&1)
                        && layers[l].out_channels == c =>
                {
                    Some(l)
                }
                _ => None,
            });
            match foldable {
                Some(l) => {
                    let layer = &mut layers[l];
                    let k = layer.fan_in;
                    for m in 0..c {
                        for w in &mut layer.weight[m * k..(m + 1) * k] {
                            *w = (f64::from(*w) * scale[m]) as f32;
                        }
                        layer.bias[m] = (f64::from(layer.bias[m]) * scale[m] + shift[m]) as f32;
                    }
                    Bound::Alias(x)
                }
                None => Bound::Op(
                    Op::Affine {
                        scale: scale.iter().map(|&v| v as f32).collect(),
                        shift: shift.iter().map(|&v| v as f32).collect(),
                    },
                    vec![x],
                ),
            }
        }
        other => return Err(format!("operator {other} is not supported")),
    })
}
