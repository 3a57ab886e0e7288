//! Quantized inference through a unit (ARITHMETIC.md §6). The unit is seen as a product
//! function: weights on its first input port, activations on its second, P read as the
//! golden model gives it. Weights per output channel in the unit's format (the family's
//! quantizer where it has one: ESB, APoT, PoT; otherwise symmetric integers of the port's
//! width: two's complement on a signed port, magnitudes with the sign applied outside on an
//! unsigned one); activations per tensor on the activation port (unsigned, or symmetric
//! two's complement on a signed port), scale from the 99.99th percentile on calibration
//! images, a tensor that can be negative run twice on an unsigned port (x = x⁺ − x⁻). Products
//! come from a table of the golden model (every weight row × activation code) when it has at
//! most 2^22 entries, from the golden model itself otherwise; accumulation is exact (i64).

use super::graph::{Graph, MacLayer};
use super::Tensor;
use crate::base::Failure;
use crate::base::{Dir, ParamMap};
use crate::units::{self, QuantizeFn, Unit};

/// Largest product table (entries) built from the golden model.
pub const MAX_TABLE: usize = 1 << 22;

/// How real weights become the rows of the product function.
#[derive(Clone)]
enum WeightFormat {
    /// The family's quantizer; row = code. `dda`: the quantizer picks alpha itself.
    Codes {
        quantize: QuantizeFn,
        params: ParamMap,
        dda: bool,
        /// The largest level's value at alpha = 1.
        largest: f64,
    },
    /// Symmetric integers; row = two's complement code (signed port) or `{negative, magnitude}`.
    Integer { signed: bool },
}

/// A unit as a network sees it.
pub struct ProductFn<'a> {
    unit: &'a dyn Unit,
    format: WeightFormat,
    /// Widths of the weight and activation ports.
    pub weight_bits: u32,
    pub act_bits: u32,
    pub act_signed: bool,
    p_index: usize,
    p_width: usize,
    p_signed: bool,
    outputs: usize,
    /// `table[row << act_bits | x]`.
    table: Option<Vec<i64>>,
}

impl<'a> ProductFn<'a> {
    /// The product function of `unit` (two input ports and an output `p`).
    pub fn new(unit: &'a dyn Unit, name: &str) -> Result<ProductFn<'a>, Failure> {
        let ports = unit.ports();
        let inputs: Vec<_> = ports.iter().filter(|p| p.dir == Dir::Input).collect();
        let outputs: Vec<_> = ports.iter().filter(|p| p.dir == Dir::Output).collect();
        let [w, x] = inputs[..] else {
            return Err(Failure::BadInput(format!(
                "{name}: a network needs a unit with two operands, weight and activation (fault ports are for `faults`)"
            )));
        };
        let p_index = outputs
            .iter()
            .position(|p| p.name == "p")
            .ok_or_else(|| Failure::BadInput(format!("{name}: no output p")))?;
        let family = units::family(unit.family())
            .ok_or_else(|| Failure::BadInput(format!("{name}: not a unit family")))?;
        let format = match family.quantize {
            Some(quantize) => {
                let params: ParamMap = serde_json::from_value(unit.params())
                    .map_err(|e| Failure::Failed(format!("{name}: parameters: {e}")))?;
                WeightFormat::Codes {
                    quantize,
                    dda: quantize(&params, &[1.0, -1.0], None).is_ok(),
                    largest: quantize(&params, &[1e30], Some(1.0))?.values[0],
                    params,
                }
            }
            None => WeightFormat::Integer { signed: w.signed },
        };
        let mut f = ProductFn {
            unit,
            format,
            weight_bits: w.width as u32,
            act_bits: x.width as u32,
            act_signed: x.signed,
            p_index,
            p_width: outputs[p_index].width,
            p_signed: outputs[p_index].signed,
            outputs: outputs.len(),
            table: None,
        };
        let entries = f.rows() << f.act_bits;
        if entries <= MAX_TABLE {
            let mut out = vec![0u64; f.outputs];
            let cols = 1usize << f.act_bits;
            f.table = Some(
                (0..entries)
                    .map(|i| f.golden_product(i / cols, (i % cols) as u64, &mut out))
                    .collect(),
            );
        }
        Ok(f)
    }

    /// Rows of the product function: weight codes (with the outside sign for unsigned integers).
    fn rows(&self) -> usize {
        match self.format {
            WeightFormat::Integer { signed: false } => 2usize << self.weight_bits,
            _ => 1usize << self.weight_bits,
        }
    }

    /// Bits a stored weight takes (the sign kept beside an unsigned port's magnitude).
    pub fn stored_weight_bits(&self) -> u32 {
        match self.format {
            WeightFormat::Integer { signed: false } => self.weight_bits + 1,
            _ => self.weight_bits,
        }
    }

    /// The weight port's code of a row, and whether the sign outside negates P.
    fn decode_row(&self, row: usize) -> (u64, bool) {
        match self.format {
            WeightFormat::Integer { signed: false } => (
                row as u64 & crate::base::mask(self.weight_bits as usize),
                row >> self.weight_bits != 0,
            ),
            _ => (row as u64, false),
        }
    }

    /// P of a row from the raw `p` port value.
    fn row_product(&self, row: usize, raw: u64) -> i64 {
        let p = if self.p_signed {
            crate::base::sign_extend(raw, self.p_width)
        } else {
            raw as i64
        };
        if self.decode_row(row).1 {
            -p
        } else {
            p
        }
    }

    fn golden_product(&self, row: usize, x: u64, out: &mut [u64]) -> i64 {
        self.unit.golden(&[self.decode_row(row).0, x], out);
        self.row_product(row, out[self.p_index])
    }

    /// Widths of the weight and activation ports together.
    pub fn operand_bits(&self) -> u32 {
        self.weight_bits + self.act_bits
    }

    /// Lane `lane` of `lanes` with the product function `faulty(code, x) -> (raw p, err)` of
    /// a faulty unit (ARITHMETIC.md §6: MAC j of every output runs on lane j mod lanes).
    pub fn faulty_lane(
        &self,
        lane: usize,
        lanes: usize,
        faulty: &dyn Fn(u64, u64) -> (u64, bool),
    ) -> FaultyLane {
        let cols = 1usize << self.act_bits;
        let entries = self.rows() * cols;
        let mut table = Vec::with_capacity(entries);
        let mut err = Vec::with_capacity(entries);
        for i in 0..entries {
            let (row, x) = (i / cols, (i % cols) as u64);
            let (p, e) = faulty(self.decode_row(row).0, x);
            table.push(self.row_product(row, p));
            err.push(e);
        }
        FaultyLane {
            lane,
            lanes,
            table,
            err,
        }
    }

    /// One filter's weights as rows, and the real value of one unit of the unit's weight
    /// integer (the filter's scale).
    pub fn quantize_filter(&self, w: &[f32]) -> Result<(Vec<u32>, f64), Failure> {
        let w64: Vec<f64> = w.iter().map(|&v| f64::from(v)).collect();
        let max = w64.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if max == 0.0 {
            return Ok((vec![0; w.len()], 0.0));
        }
        match &self.format {
            WeightFormat::Codes {
                quantize,
                params,
                dda,
                largest,
            } => {
                // DDA where the family has it (ESB), else max|w| on the largest level.
                let alpha = (!*dda || w.len() < 2).then(|| max / largest);
                let q = quantize(params, &w64, alpha)?;
                Ok((q.codes.iter().map(|&c| c as u32).collect(), q.step))
            }
            WeightFormat::Integer { signed } => {
                let n = self.weight_bits;
                let top = if *signed {
                    (1i64 << (n - 1)) - 1
                } else {
                    (1i64 << n) - 1
                };
                let scale = max / top as f64;
                let rows = w64
                    .iter()
                    .map(|&v| {
                        let q = ((v / scale).round() as i64).clamp(-top, top);
                        if *signed {
                            (q as u64 & crate::base::mask(n as usize)) as u32
                        } else {
                            (u32::from(q < 0) << n) | q.unsigned_abs() as u32
                        }
                    })
                    .collect();
                Ok((rows, scale))
            }
        }
    }

    /// Activation code of a real value at scale `s`.
    #[inline]
    fn act_code(&self, v: f32, s: f32) -> u16 {
        let q = (v / s).round();
        if self.act_signed {
            let top = ((1i32 << (self.act_bits - 1)) - 1) as f32;
            let q = q.clamp(-top, top) as i32;
            (q as u32 & ((1u32 << self.act_bits) - 1)) as u16
        } else {
            q.clamp(0.0, ((1u32 << self.act_bits) - 1) as f32) as u16
        }
    }
}

/// One lane of the dot with a faulty product function ([`ProductFn::faulty_lane`]).
pub struct FaultyLane {
    lane: usize,
    lanes: usize,
    table: Vec<i64>,
    err: Vec<bool>,
}

/// What calibration saw at a MAC layer's input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InputRange {
    /// 99.99th percentile of |x| (of x when it is never negative).
    pub p9999: f32,
    pub negative: bool,
}

/// Calibrate every MAC layer's input on `images` with the f32 network.
pub fn calibrate(g: &Graph, images: &[Tensor]) -> Result<Vec<InputRange>, Failure> {
    // Per layer: every |x| seen, and whether any x was negative.
    let mut seen: Vec<(Vec<f32>, bool)> = vec![(Vec::new(), false); g.layers.len()];
    for image in images {
        g.run(image, &mut |l, layer, x| {
            seen[l].0.extend(x.data.iter().map(|v| v.abs()));
            seen[l].1 |= x.data.iter().any(|&v| v < 0.0);
            layer.eval_f32(x)
        })
        .map_err(Failure::BadInput)?;
    }
    Ok(seen
        .into_iter()
        .map(|(mut v, negative)| {
            let p9999 = if v.is_empty() {
                0.0
            } else {
                let rank = ((0.9999 * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
                *v.select_nth_unstable_by(rank, f32::total_cmp).1
            };
            InputRange { p9999, negative }
        })
        .collect())
}

/// One MAC layer quantized for a unit.
struct QuantLayer {
    rows: Vec<u32>,
    w_scale: Vec<f64>,
    x_scale: f32,
    /// Run twice, x⁺ and x⁻ (an unsigned activation port and a tensor that can be negative).
    split: bool,
    /// Filters with a non-zero product row somewhere.
    live: Vec<bool>,
}

/// A network quantized for one unit.
pub struct QuantNet<'a> {
    graph: &'a Graph,
    product: &'a ProductFn<'a>,
    layers: Vec<QuantLayer>,
}

impl<'a> QuantNet<'a> {
    pub fn new(
        graph: &'a Graph,
        product: &'a ProductFn<'a>,
        ranges: &[InputRange],
    ) -> Result<QuantNet<'a>, Failure> {
        let top = if product.act_signed {
            (1u32 << (product.act_bits - 1)) - 1
        } else {
            (1u32 << product.act_bits) - 1
        };
        let mut layers = Vec::new();
        for (layer, range) in graph.layers.iter().zip(ranges) {
            let k = layer.fan_in;
            let mut rows = Vec::with_capacity(layer.weight.len());
            let mut w_scale = Vec::with_capacity(layer.out_channels);
            let mut live = Vec::with_capacity(layer.out_channels);
            for m in 0..layer.out_channels {
                let (r, s) = product.quantize_filter(&layer.weight[m * k..(m + 1) * k])?;
                live.push(s != 0.0);
                rows.extend(r);
                w_scale.push(s);
            }
            let x_scale = if range.p9999 > 0.0 {
                range.p9999 / top as f32
            } else {
                1.0
            };
            layers.push(QuantLayer {
                rows,
                w_scale,
                x_scale,
                split: range.negative && !product.act_signed,
                live,
            });
        }
        Ok(QuantNet {
            graph,
            product,
            layers,
        })
    }

    /// Σ_k P(row[m][k], x[k][p]) for every filter m and position p, into `acc`.
    #[allow(clippy::too_many_arguments)]
    fn accumulate(
        &self,
        q: &QuantLayer,
        layer: &MacLayer,
        cols: &[u16],
        p_count: usize,
        sign: i64,
        acc: &mut [i64],
        faulty: Option<&FaultyLane>,
    ) -> bool {
        let k_count = layer.fan_in;
        let f = self.product;
        let mut err = false;
        for m in 0..layer.out_channels {
            if !q.live[m] {
                continue;
            }
            let out = &mut acc[m * p_count..][..p_count];
            let rows = &q.rows[m * k_count..][..k_count];
            match &f.table {
                Some(table) => {
                    let width = 1usize << f.act_bits;
                    for (k, &row) in rows.iter().enumerate() {
                        let at = row as usize * width;
                        let xs = &cols[k * p_count..][..p_count];
                        match faulty.filter(|l| k % l.lanes == l.lane) {
                            None => {
                                let products = &table[at..][..width];
                                for (a, &x) in out.iter_mut().zip(xs) {
                                    *a += sign * products[x as usize];
                                }
                            }
                            Some(l) => {
                                let products = &l.table[at..][..width];
                                let errs = &l.err[at..][..width];
                                for (a, &x) in out.iter_mut().zip(xs) {
                                    *a += sign * products[x as usize];
                                    err |= errs[x as usize];
                                }
                            }
                        }
                    }
                }
                None => {
                    let mut outputs = vec![0u64; f.outputs];
                    for (k, &row) in rows.iter().enumerate() {
                        for (a, &x) in out.iter_mut().zip(&cols[k * p_count..][..p_count]) {
                            *a += sign * f.golden_product(row as usize, u64::from(x), &mut outputs);
                        }
                    }
                }
            }
        }
        err
    }

    fn layer(
        &self,
        l: usize,
        layer: &MacLayer,
        x: &Tensor,
        faulty: Option<&FaultyLane>,
        err: &mut bool,
    ) -> Result<Tensor, String> {
        let q = &self.layers[l];
        let f = self.product;
        let parts: Vec<(i64, f32)> = if q.split {
            vec![(1, 1.0), (-1, -1.0)]
        } else {
            vec![(1, 1.0)]
        };
        let mut acc: Vec<i64> = Vec::new();
        let mut shape = Vec::new();
        let mut p_count = 0;
        for (sign, flip) in parts {
            let codes: Vec<u16> = x
                .data
                .iter()
                .map(|&v| f.act_code(v * flip, q.x_scale))
                .collect();
            let (cols, p, s) = layer.columns(&x.shape, &codes, 0u16)?;
            if acc.is_empty() {
                acc = vec![0; layer.out_channels * p];
            }
            *err |= self.accumulate(q, layer, &cols, p, sign, &mut acc, faulty);
            (shape, p_count) = (s, p);
        }
        let xs = f64::from(q.x_scale);
        let y: Vec<f32> = acc
            .iter()
            .enumerate()
            .map(|(i, &a)| {
                let m = i / p_count.max(1);
                (a as f64 * q.w_scale[m] * xs) as f32 + layer.bias[m]
            })
            .collect();
        Ok(layer.output(y, p_count, shape))
    }

    /// The quantized network on one image.
    pub fn run(&self, image: &Tensor) -> Result<Tensor, String> {
        Ok(self.run_faulty(image, None)?.0)
    }

    /// The quantized network on one image with a faulty lane: the output and whether any of
    /// the lane's MACs raised `err`.
    pub fn run_faulty(
        &self,
        image: &Tensor,
        faulty: Option<&FaultyLane>,
    ) -> Result<(Tensor, bool), String> {
        let mut err = false;
        let y = self.graph.run(image, &mut |l, layer, x| {
            self.layer(l, layer, x, faulty, &mut err)
        })?;
        Ok((y, err))
    }
}

/// `f` over every image, on all cores, in order.
pub fn map_images<T: Send>(
    images: &[Tensor],
    f: &(dyn Fn(&Tensor) -> Result<T, String> + Sync),
) -> Result<Vec<T>, String> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(images.len().max(1));
    let chunk = images.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = images
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Result<Vec<T>, String>>()))
            .collect();
        let mut out = Vec::with_capacity(images.len());
        for h in handles {
            out.extend(
                h.join()
                    .map_err(|_| "an evaluation thread panicked".to_string())??,
            );
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::graph::{Node, Op};

    fn dense_graph(weight: Vec<f32>, m: usize) -> Graph {
        let fan_in = weight.len() / m;
        Graph {
            input_shape: vec![1, fan_in],
            nodes: vec![Node {
                name: "fc".into(),
                op_type: "Gemm".into(),
                op: Op::Mac(0),
                inputs: vec![0],
                output: 1,
            }],
            layers: vec![MacLayer {
                window: None,
                out_channels: m,
                fan_in,
                prune_basis: weight.clone(),
                weight,
                bias: vec![0.0; m],
            }],
            values: 2,
            output: 1,
        }
    }

    #[test]
    fn the_golden_path_agrees_with_the_product_table() {
        // Mitchell n = 6, t = 2: an approximate unit, unsigned, so the sign goes outside.
        let params: ParamMap = serde_yaml::from_str("{width: 6, frac_bits: 2}").unwrap();
        let unit = (units::family("mitchell").unwrap().build)(&params).unwrap();
        let table = ProductFn::new(unit.as_ref(), "m").unwrap();
        let mut golden = ProductFn::new(unit.as_ref(), "m").unwrap();
        golden.table = None;
        assert!(table.table.is_some());
        let w: Vec<f32> = (0..24).map(|i| (i as f32 * 0.7).cos()).collect();
        let g = dense_graph(w, 3);
        let images: Vec<Tensor> = (0..5)
            .map(|j| {
                Tensor::new(
                    vec![8],
                    (0..8).map(|i| ((i + j) as f32 * 1.3).sin()).collect(),
                )
            })
            .collect();
        let ranges = calibrate(&g, &images).unwrap();
        let a = QuantNet::new(&g, &table, &ranges).unwrap();
        let b = QuantNet::new(&g, &golden, &ranges).unwrap();
        for x in &images {
            assert_eq!(a.run(x).unwrap(), b.run(x).unwrap());
        }
        // Rows: magnitudes 0..63 and their negatives; P(-m, x) = -P(m, x).
        assert_eq!(table.rows(), 128);
        let mut out = vec![0; 1];
        assert_eq!(
            table.golden_product(64 | 37, 21, &mut out),
            -table.golden_product(37, 21, &mut out)
        );
    }

    #[test]
    fn activation_codes_clamp_to_the_port() {
        let params: ParamMap = serde_yaml::from_str("{width: 4, signed: true}").unwrap();
        let unit = (units::family("exact").unwrap().build)(&params).unwrap();
        let f = ProductFn::new(unit.as_ref(), "e").unwrap();
        // Signed 4-bit: symmetric -7..7 as two's complement patterns.
        assert_eq!(f.act_code(100.0, 1.0), 7);
        assert_eq!(f.act_code(-100.0, 1.0), 0b1001);
        assert_eq!(f.act_code(-2.4, 1.0), 0b1110);
        let params: ParamMap = serde_yaml::from_str("{width: 4}").unwrap();
        let unit = (units::family("exact").unwrap().build)(&params).unwrap();
        let f = ProductFn::new(unit.as_ref(), "e").unwrap();
        assert_eq!(f.act_code(-3.0, 1.0), 0);
        assert_eq!(f.act_code(15.4, 1.0), 15);
        assert_eq!(f.act_code(99.0, 1.0), 15);
        // Weights: magnitudes over 15 with the sign in the row's top bit.
        let (rows, scale) = f.quantize_filter(&[1.5, -0.75, 0.0]).unwrap();
        assert_eq!(scale, 0.1);
        assert_eq!(rows, vec![15, 16 | 8, 0]);
    }
}
