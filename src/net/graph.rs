//! The network as qmulgen evaluates it: operators bound when the model loads (the ONNX
//! reader builds them), one image at a time (batch 1), in f32, except the MAC layers (Conv,
//! Gemm, MatMul with a constant weight), whose evaluation the caller chooses: f32, or products
//! through a unit ([`super::quant`]).

use super::Tensor;

/// Padding of a window operator: explicit `[top, left, bottom, right]` or ONNX `auto_pad`.
#[derive(Clone, Debug, PartialEq)]
pub enum Pads {
    Explicit([usize; 4]),
    SameUpper,
    SameLower,
}

/// A 2-D window: kernel, strides, dilations, padding.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    pub dilations: [usize; 2],
    pub pads: Pads,
}

impl Window {
    /// Output size and the `[top, left]` padding for an input of `h` x `w`.
    pub fn geometry(&self, h: usize, w: usize) -> Result<([usize; 2], [usize; 2]), String> {
        let mut out = [0; 2];
        let mut begin = [0; 2];
        for (axis, size) in [h, w].into_iter().enumerate() {
            let (k, s, d) = (self.kernel[axis], self.strides[axis], self.dilations[axis]);
            let span = d * (k - 1) + 1;
            let (o, b) = match &self.pads {
                Pads::Explicit(p) => {
                    let padded = size + p[axis] + p[axis + 2];
                    if padded < span {
                        return Err(format!(
                            "a {k}-wide window (dilation {d}) does not fit an input of {size} with pads {p:?}"
                        ));
                    }
                    ((padded - span) / s + 1, p[axis])
                }
                Pads::SameUpper | Pads::SameLower => {
                    let o = size.div_ceil(s);
                    let total = ((o - 1) * s + span).saturating_sub(size);
                    let b = if self.pads == Pads::SameUpper {
                        total / 2
                    } else {
                        total - total / 2
                    };
                    (o, b)
                }
            };
            out[axis] = o;
            begin[axis] = b;
        }
        Ok((out, begin))
    }

    /// For each output position and kernel tap: the input index, or `None` in the padding.
    /// Returns (out size, taps[p * kh*kw + t]).
    pub fn taps(&self, h: usize, w: usize) -> Result<([usize; 2], Vec<Option<usize>>), String> {
        let (out, begin) = self.geometry(h, w)?;
        let mut taps = Vec::with_capacity(out[0] * out[1] * self.kernel[0] * self.kernel[1]);
        for oy in 0..out[0] {
            for ox in 0..out[1] {
                for ky in 0..self.kernel[0] {
                    for kx in 0..self.kernel[1] {
                        let y = (oy * self.strides[0] + ky * self.dilations[0]) as isize
                            - begin[0] as isize;
                        let x = (ox * self.strides[1] + kx * self.dilations[1]) as isize
                            - begin[1] as isize;
                        let inside = (0..h as isize).contains(&y) && (0..w as isize).contains(&x);
                        taps.push(inside.then(|| y as usize * w + x as usize));
                    }
                }
            }
        }
        Ok((out, taps))
    }
}

/// A layer whose products go through the unit: output channel (filter) m computes
/// `bias[m] + Σ_k weight[m·K + k] · column_k`.
#[derive(Clone, Debug, PartialEq)]
pub struct MacLayer {
    /// Conv (with its window) or a dense product over the input's last axis.
    pub window: Option<Window>,
    pub out_channels: usize,
    /// Inputs per filter: C·kh·kw for a Conv, the last axis for a dense layer.
    pub fan_in: usize,
    pub weight: Vec<f32>,
    pub bias: Vec<f32>,
    /// The weights pruning measures (a Conv's own, before a BatchNormalization was folded in).
    pub prune_basis: Vec<f32>,
}

impl MacLayer {
    /// The input as columns: `cols[k * P + p]` is input k of output position p, `fill` in the
    /// padding; returns (cols, P, output shape).
    pub fn columns<T: Copy>(
        &self,
        shape: &[usize],
        input: &[T],
        fill: T,
    ) -> Result<(Vec<T>, usize, Vec<usize>), String> {
        match &self.window {
            Some(win) => {
                let [c, h, w] = match shape {
                    [1, c, h, w] => [*c, *h, *w],
                    _ => return Err(format!("Conv takes a [1, C, H, W] input, got {shape:?}")),
                };
                let taps_per = win.kernel[0] * win.kernel[1];
                if c * taps_per != self.fan_in {
                    return Err(format!(
                        "Conv weights take {} input channels, the input has {c}",
                        self.fan_in / taps_per
                    ));
                }
                let (out, taps) = win.taps(h, w)?;
                let p_count = out[0] * out[1];
                let mut cols = vec![fill; self.fan_in * p_count];
                for ci in 0..c {
                    let plane = &input[ci * h * w..(ci + 1) * h * w];
                    for t in 0..taps_per {
                        let row = &mut cols[(ci * taps_per + t) * p_count..][..p_count];
                        for (p, slot) in row.iter_mut().enumerate() {
                            if let Some(i) = taps[p * taps_per + t] {
                                *slot = plane[i];
                            }
                        }
                    }
                }
                Ok((cols, p_count, vec![1, self.out_channels, out[0], out[1]]))
            }
            None => {
                let k = *shape.last().unwrap_or(&0);
                if k != self.fan_in {
                    return Err(format!(
                        "the weight takes {} inputs, the input's last axis is {k} (shape {shape:?})",
                        self.fan_in
                    ));
                }
                let rows = input.len() / k.max(1);
                // Transpose [rows][K] to [K][rows].
                let mut cols = vec![fill; input.len()];
                for r in 0..rows {
                    for i in 0..k {
                        cols[i * rows + r] = input[r * k + i];
                    }
                }
                let mut out = shape.to_vec();
                if let Some(last) = out.last_mut() {
                    *last = self.out_channels;
                }
                Ok((cols, rows, out))
            }
        }
    }

    /// Lay out per-filter results `acc[m * P + p]` in the output's order.
    pub fn output(&self, per_filter: Vec<f32>, p_count: usize, shape: Vec<usize>) -> Tensor {
        if self.window.is_some() || p_count == 1 {
            return Tensor::new(shape, per_filter);
        }
        let m = self.out_channels;
        let mut data = vec![0.0; per_filter.len()];
        for c in 0..m {
            for p in 0..p_count {
                data[p * m + c] = per_filter[c * p_count + p];
            }
        }
        Tensor::new(shape, data)
    }

    /// The f32 layer.
    pub fn eval_f32(&self, x: &Tensor) -> Result<Tensor, String> {
        let (cols, p_count, shape) = self.columns(&x.shape, &x.data, 0.0f32)?;
        let mut out = vec![0.0f32; self.out_channels * p_count];
        for m in 0..self.out_channels {
            let acc = &mut out[m * p_count..][..p_count];
            acc.fill(self.bias[m]);
            for k in 0..self.fan_in {
                let w = self.weight[m * self.fan_in + k];
                if w != 0.0 {
                    for (a, c) in acc.iter_mut().zip(&cols[k * p_count..][..p_count]) {
                        *a += w * c;
                    }
                }
            }
        }
        Ok(self.output(out, p_count, shape))
    }

    /// Multiply-accumulates per image, counting only filters with a non-zero weight.
    pub fn macs(&self, p_count: usize) -> u64 {
        let live = (0..self.out_channels)
            .filter(|&m| {
                self.weight[m * self.fan_in..][..self.fan_in]
                    .iter()
                    .any(|&w| w != 0.0)
            })
            .count();
        (live * self.fan_in * p_count) as u64
    }
}

/// An operator, its attributes read and checked when the model loaded.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Mac(usize),
    /// Add with a constant (broadcast), or of two computed tensors.
    Add(Option<Tensor>),
    Relu,
    MaxPool(Window),
    AveragePool {
        window: Window,
        count_pads: bool,
    },
    GlobalAveragePool,
    Flatten(usize),
    Reshape(Vec<i64>),
    /// A BatchNormalization that could not be folded: per channel (axis 1) `x·scale + shift`.
    Affine {
        scale: Vec<f32>,
        shift: Vec<f32>,
    },
    Softmax(isize),
}

/// A node: its operator, input values and output value (indices into the value table).
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub name: String,
    pub op_type: String,
    pub op: Op,
    pub inputs: Vec<usize>,
    pub output: usize,
}

/// The imported network: nodes in evaluation order, MAC layers by index.
#[derive(Clone, Debug)]
pub struct Graph {
    /// The input's shape with a batch axis of 1.
    pub input_shape: Vec<usize>,
    pub nodes: Vec<Node>,
    pub layers: Vec<MacLayer>,
    pub values: usize,
    pub output: usize,
}

/// How the MAC layers are evaluated: `mac(layer index, layer, input)`.
pub type MacEval<'a> = dyn FnMut(usize, &MacLayer, &Tensor) -> Result<Tensor, String> + 'a;

impl Graph {
    /// The image shape without the batch axis.
    pub fn image_shape(&self) -> &[usize] {
        &self.input_shape[1..]
    }

    /// Evaluate one image (without the batch axis); MAC layers through `mac`.
    pub fn run(&self, image: &Tensor, mac: &mut MacEval) -> Result<Tensor, String> {
        let mut values: Vec<Option<Tensor>> = vec![None; self.values];
        values[0] = Some(Tensor::new(self.input_shape.clone(), image.data.clone()));
        for node in &self.nodes {
            let arg = |i: usize| -> Result<&Tensor, String> {
                values[node.inputs[i]]
                    .as_ref()
                    .ok_or_else(|| format!("{}: input {i} is not computed", node.name))
            };
            let x = arg(0)?;
            let y = match &node.op {
                Op::Mac(l) => mac(*l, &self.layers[*l], x),
                Op::Add(Some(c)) => broadcast_add(x, c),
                Op::Add(None) => broadcast_add(x, arg(1)?),
                Op::Relu => Ok(Tensor::new(
                    x.shape.clone(),
                    x.data.iter().map(|v| v.max(0.0)).collect(),
                )),
                Op::MaxPool(w) => pool(x, w, f32::NEG_INFINITY, |a, v| a.max(v), |a, _| a),
                Op::AveragePool { window, count_pads } => {
                    let full = (window.kernel[0] * window.kernel[1]) as f32;
                    pool(
                        x,
                        window,
                        0.0,
                        |a, v| a + v,
                        |a, n| a / if *count_pads { full } else { n as f32 },
                    )
                }
                Op::GlobalAveragePool => global_average(x),
                Op::Flatten(axis) => {
                    let outer: usize = x.shape[..(*axis).min(x.shape.len())].iter().product();
                    Ok(Tensor::new(
                        vec![outer, x.len() / outer.max(1)],
                        x.data.clone(),
                    ))
                }
                Op::Reshape(shape) => reshape(x, shape),
                Op::Affine { scale, shift } => affine(x, scale, shift),
                Op::Softmax(axis) => softmax(x, *axis),
            }
            .map_err(|e| format!("node `{}` ({}): {e}", node.name, node.op_type))?;
            values[node.output] = Some(y);
        }
        values[self.output]
            .take()
            .ok_or_else(|| "the graph output is never computed".into())
    }

    /// The f32 network.
    pub fn run_f32(&self, image: &Tensor) -> Result<Tensor, String> {
        self.run(image, &mut |_, layer, x| layer.eval_f32(x))
    }
}

/// Numpy broadcasting of `b` onto `a` (the result has `a`'s shape or the broadcast shape).
fn broadcast_add(a: &Tensor, b: &Tensor) -> Result<Tensor, String> {
    let rank = a.shape.len().max(b.shape.len());
    let pad = |s: &[usize]| {
        let mut v = vec![1; rank - s.len()];
        v.extend_from_slice(s);
        v
    };
    let (sa, sb) = (pad(&a.shape), pad(&b.shape));
    let mut shape = Vec::with_capacity(rank);
    for (x, y) in sa.iter().zip(&sb) {
        shape.push(match (x, y) {
            (x, y) if x == y => *x,
            (1, y) => *y,
            (x, 1) => *x,
            _ => {
                return Err(format!(
                    "shapes {:?} and {:?} do not broadcast",
                    a.shape, b.shape
                ))
            }
        });
    }
    let n: usize = shape.iter().product();
    let strides = |s: &[usize]| {
        let mut st = vec![0; rank];
        let mut acc = 1;
        for i in (0..rank).rev() {
            st[i] = if s[i] == 1 { 0 } else { acc };
            acc *= s[i];
        }
        st
    };
    let (ta, tb) = (strides(&sa), strides(&sb));
    let mut data = Vec::with_capacity(n);
    let mut idx = vec![0usize; rank];
    for _ in 0..n {
        let ia: usize = idx.iter().zip(&ta).map(|(i, s)| i * s).sum();
        let ib: usize = idx.iter().zip(&tb).map(|(i, s)| i * s).sum();
        data.push(a.data[ia] + b.data[ib]);
        for axis in (0..rank).rev() {
            idx[axis] += 1;
            if idx[axis] < shape[axis] {
                break;
            }
            idx[axis] = 0;
        }
    }
    Ok(Tensor::new(shape, data))
}

fn nchw(x: &Tensor) -> Result<[usize; 3], String> {
    match x.shape[..] {
        [1, c, h, w] => Ok([c, h, w]),
        _ => Err(format!("takes a [1, C, H, W] input, got {:?}", x.shape)),
    }
}

/// A window reduction per channel: `step(acc, v)` over the taps inside the input, then
/// `finish(acc, taps inside)`.
fn pool(
    x: &Tensor,
    win: &Window,
    init: f32,
    step: impl Fn(f32, f32) -> f32,
    finish: impl Fn(f32, usize) -> f32,
) -> Result<Tensor, String> {
    let [c, h, w] = nchw(x)?;
    let (out, taps) = win.taps(h, w)?;
    let per = win.kernel[0] * win.kernel[1];
    let mut data = Vec::with_capacity(c * out[0] * out[1]);
    for ci in 0..c {
        let plane = &x.data[ci * h * w..][..h * w];
        for p in 0..out[0] * out[1] {
            let (mut acc, mut n) = (init, 0);
            for i in taps[p * per..][..per].iter().flatten() {
                acc = step(acc, plane[*i]);
                n += 1;
            }
            data.push(finish(acc, n));
        }
    }
    Ok(Tensor::new(vec![1, c, out[0], out[1]], data))
}

fn global_average(x: &Tensor) -> Result<Tensor, String> {
    let [c, h, w] = nchw(x)?;
    let data = x
        .data
        .chunks(h * w)
        .map(|p| p.iter().sum::<f32>() / (h * w) as f32)
        .collect();
    Ok(Tensor::new(vec![1, c, 1, 1], data))
}

fn reshape(x: &Tensor, shape: &[i64]) -> Result<Tensor, String> {
    Ok(Tensor::new(reshape_shape(&x.shape, shape)?, x.data.clone()))
}

/// The shape ONNX Reshape gives a tensor of shape `from` (`-1` inferred, `0` copied).
pub fn reshape_shape(from: &[usize], shape: &[i64]) -> Result<Vec<usize>, String> {
    let len: usize = from.iter().product();
    let mut out: Vec<usize> = Vec::with_capacity(shape.len());
    let mut infer = None;
    for (i, &d) in shape.iter().enumerate() {
        match d {
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            0 => out.push(*from.get(i).ok_or("0 names a missing axis")?),
            d if d > 0 => out.push(d as usize),
            _ => return Err(format!("bad shape {shape:?}")),
        }
    }
    let known: usize = out.iter().product();
    if let Some(i) = infer {
        if known == 0 || !len.is_multiple_of(known) {
            return Err(format!("cannot reshape {from:?} to {shape:?}"));
        }
        out[i] = len / known;
    }
    if out.iter().product::<usize>() != len {
        return Err(format!("cannot reshape {from:?} to {shape:?}"));
    }
    Ok(out)
}

fn affine(x: &Tensor, scale: &[f32], shift: &[f32]) -> Result<Tensor, String> {
    let c = *x.shape.get(1).ok_or("needs a channel axis")?;
    if c != scale.len() {
        return Err(format!("{} channels, the input has {c}", scale.len()));
    }
    let inner: usize = x.shape[2..].iter().product();
    let data = x
        .data
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let ch = (i / inner.max(1)) % c;
            v * scale[ch] + shift[ch]
        })
        .collect();
    Ok(Tensor::new(x.shape.clone(), data))
}

fn softmax(x: &Tensor, axis: isize) -> Result<Tensor, String> {
    let rank = x.shape.len() as isize;
    let axis = if axis < 0 { axis + rank } else { axis };
    if !(0..rank).contains(&axis) {
        return Err(format!("axis {axis} out of range for rank {rank}"));
    }
    // Opset 13: over one axis.
    let axis = axis as usize;
    let n = x.shape[axis];
    let inner: usize = x.shape[axis + 1..].iter().product();
    let outer = x.len() / (n * inner).max(1);
    let mut data = x.data.clone();
    for o in 0..outer {
        for i in 0..inner {
            let at = |j: usize| o * n * inner + j * inner + i;
            let max = (0..n)
                .map(|j| x.data[at(j)])
                .fold(f32::NEG_INFINITY, f32::max);
            let sum: f32 = (0..n).map(|j| (x.data[at(j)] - max).exp()).sum();
            for j in 0..n {
                data[at(j)] = (x.data[at(j)] - max).exp() / sum;
            }
        }
    }
    Ok(Tensor::new(x.shape.clone(), data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_splits_the_odd_pixel_as_onnx_says() {
        // Input 5, kernel 2, stride 2: output 3, total pad 1: SAME_UPPER puts it at the end,
        // SAME_LOWER at the beginning.
        let mut w = Window {
            kernel: [2, 2],
            strides: [2, 2],
            dilations: [1, 1],
            pads: Pads::SameUpper,
        };
        assert_eq!(w.geometry(5, 5).unwrap(), ([3, 3], [0, 0]));
        w.pads = Pads::SameLower;
        assert_eq!(w.geometry(5, 5).unwrap(), ([3, 3], [1, 1]));
        w.pads = Pads::Explicit([1, 0, 0, 0]);
        assert_eq!(w.geometry(5, 4).unwrap(), ([3, 2], [1, 0]));
    }

    #[test]
    fn broadcasting_follows_numpy() {
        let a = Tensor::new(vec![1, 2, 2, 1], vec![1.0, 2.0, 3.0, 4.0]);
        let b = Tensor::new(vec![2, 1, 1], vec![10.0, 20.0]);
        let y = broadcast_add(&a, &b).unwrap();
        assert_eq!(y.data, vec![11.0, 12.0, 23.0, 24.0]);
        // [1, 2, 2, 1] against [3, 1]: axis 2 has 2 against 3.
        assert!(broadcast_add(&a, &Tensor::new(vec![3, 1], vec![0.0; 3])).is_err());
        // [1, 2, 2, 1] + [3] broadcasts to [1, 2, 2, 3].
        assert_eq!(
            broadcast_add(&a, &Tensor::new(vec![3], vec![0.0; 3]))
                .unwrap()
                .shape,
            vec![1, 2, 2, 3]
        );
    }
}
