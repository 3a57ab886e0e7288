//! Networks through a unit (ARITHMETIC.md §6): an ONNX model imported into a small graph of
//! operators ([`onnx`], [`graph`]), evaluated in f32 or with every product of its Conv / Gemm /
//! MatMul layers done by a unit's golden model ([`quant`]), after optional FPGM filter pruning
//! ([`prune`]), on images from an `.npz` file ([`data`]). A network never sees RTL: it sees a
//! product function ([`quant::ProductFn`]), built from the unit's golden model.

pub mod data;
pub mod graph;
pub mod onnx;
pub mod prune;
pub mod quant;

/// A dense f32 tensor in C order.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Tensor {
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor { shape, data }
    }
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

/// Index of the largest value (the first on ties): a classifier's top-1.
pub fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

/// Whether `label` is among the `k` largest values (ties counted against it).
pub fn in_top_k(values: &[f32], label: usize, k: usize) -> bool {
    let Some(&v) = values.get(label) else {
        return false;
    };
    values.iter().filter(|&&o| o > v).count() < k
}
