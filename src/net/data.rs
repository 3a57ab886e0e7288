//! Data sets for `qmulgen dnn`: an `.npz` archive (numpy's `savez`, stored or deflated) with
//! `x` (images, float32/float64/uint8), `y` (integer labels) and optionally `x_calib`.

use super::Tensor;
use crate::base::Failure;
use std::io::Read;

/// Images and labels, each image in the model's input shape without the batch axis.
#[derive(Clone, Debug)]
pub struct DataSet {
    pub image_shape: Vec<usize>,
    pub images: Vec<Tensor>,
    pub labels: Vec<usize>,
    /// Calibration images: `x_calib` when the file has it.
    pub calib: Option<Vec<Tensor>>,
}

/// A `.npy` array: its shape, its values in C order (as f64), whether its dtype is an integer
/// type.
pub struct Array {
    pub shape: Vec<u64>,
    pub values: Vec<f64>,
    pub integer: bool,
}

/// Read a `.npy` of float32/float64 or, with `integers`, of an integer type, in C or Fortran
/// order; `expected` ends the error for any other dtype.
pub fn read_npy(
    bytes: &[u8],
    origin: &str,
    integers: bool,
    expected: &str,
) -> Result<Array, Failure> {
    let bad = |what: String| Failure::BadInput(format!("{origin}: {what}"));
    let npy =
        npyz::NpyFile::new(bytes).map_err(|e| bad(format!("not a readable .npy file: {e}")))?;
    let shape = npy.shape().to_vec();
    let fortran = npy.order() == npyz::Order::Fortran;
    let unsupported = bad(format!(
        "dtype {} is not supported: {expected}",
        npy.dtype().descr()
    ));
    let io = |e: std::io::Error| bad(format!("truncated .npy data: {e}"));
    macro_rules! try_dtypes {
        ($npy:expr, $($t:ty => $int:expr),*) => {{
            let npy = $npy;
            $(
                let npy = match npy.try_data::<$t>() {
                    Ok(_) if $int && !integers => return Err(unsupported),
                    Ok(data) => {
                        let v = data.collect::<std::io::Result<Vec<$t>>>().map_err(io)?;
                        let values: Vec<f64> = v.into_iter().map(|x| x as f64).collect();
                        let values = if fortran { c_order(&shape, values) } else { values };
                        return Ok(Array { shape, values, integer: $int });
                    }
                    Err(npy) => npy,
                };
            )*
            let _ = npy;
        }};
    }
    try_dtypes!(npy, f64 => false, f32 => false, u8 => true, i8 => true, i16 => true, u16 => true, i32 => true, u32 => true, i64 => true);
    Err(unsupported)
}

/// Fortran-order values (the first index varies fastest) in C order.
fn c_order(shape: &[u64], values: Vec<f64>) -> Vec<f64> {
    let mut out = vec![0.0; values.len()];
    for (f, v) in values.into_iter().enumerate() {
        let (mut rest, mut c) = (f as u64, 0u64);
        for &dim in shape {
            let i = rest % dim.max(1);
            rest /= dim.max(1);
            c = c * dim + i;
        }
        // `c` was built first axis outermost: that is the C-order index.
        out[c as usize] = v;
    }
    out
}

/// Every array in the archive, by name (without `.npy`).
fn read_npz(bytes: &[u8], origin: &str) -> Result<Vec<(String, Array)>, Failure> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| Failure::BadInput(format!("{origin}: not an .npz (zip) archive: {e}")))?;
    let mut arrays = Vec::new();
    for i in 0..zip.len() {
        let mut file = zip
            .by_index(i)
            .map_err(|e| Failure::BadInput(format!("{origin}: damaged archive entry {i}: {e}")))?;
        let name = file.name().trim_end_matches(".npy").to_string();
        let mut data = Vec::new();
        file.read_to_end(&mut data)
            .map_err(|e| Failure::BadInput(format!("{origin}: {name}: {e}")))?;
        arrays.push((
            name.clone(),
            read_npy(
                &data,
                &format!("{origin}: {name}"),
                true,
                "float32, float64 or an integer type",
            )?,
        ));
    }
    Ok(arrays)
}

/// Split `a` into images of `image_shape`: `a` is `[N, *image_shape]` or `[N, 1, *image_shape]`
/// when the model's shape has no batch axis of its own, or `[N, *input_shape]`.
fn split_images(
    a: &Array,
    name: &str,
    image_shape: &[usize],
    origin: &str,
) -> Result<Vec<Tensor>, Failure> {
    let per: usize = image_shape.iter().product();
    let dims: Vec<usize> = a.shape.iter().map(|&d| d as usize).collect();
    let fits = dims.len() > 1
        && (dims[1..] == *image_shape
            || (dims.len() > 2 && dims[1] == 1 && dims[2..] == *image_shape));
    if !fits {
        return Err(Failure::BadInput(format!(
            "{origin}: {name} has shape {dims:?}; the model takes images of shape {image_shape:?} (x must be [N, {}])",
            image_shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ")
        )));
    }
    Ok(a.values
        .chunks(per.max(1))
        .map(|c| Tensor::new(image_shape.to_vec(), c.iter().map(|&v| v as f32).collect()))
        .collect())
}

impl DataSet {
    /// Load `bytes` (an `.npz`) for a model whose images have `image_shape`.
    pub fn from_npz(bytes: &[u8], origin: &str, image_shape: &[usize]) -> Result<DataSet, Failure> {
        let arrays = read_npz(bytes, origin)?;
        let get = |name: &str| arrays.iter().find(|(n, _)| n == name).map(|(_, a)| a);
        let names = || {
            arrays
                .iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let x = get("x").ok_or_else(|| {
            Failure::BadInput(format!(
                "{origin}: no array `x` (images); it has: {}",
                names()
            ))
        })?;
        let y = get("y").ok_or_else(|| {
            Failure::BadInput(format!(
                "{origin}: no array `y` (labels); it has: {}",
                names()
            ))
        })?;
        let images = split_images(x, "x", image_shape, origin)?;
        if !y.integer || y.values.iter().any(|&v| v < 0.0) {
            return Err(Failure::BadInput(format!(
                "{origin}: y must hold non-negative integer labels"
            )));
        }
        if y.values.len() != images.len() {
            return Err(Failure::BadInput(format!(
                "{origin}: x has {} images but y has {} labels",
                images.len(),
                y.values.len()
            )));
        }
        if let Some(v) = x.values.iter().find(|v| !v.is_finite()) {
            return Err(Failure::BadInput(format!("{origin}: x holds {v}")));
        }
        let calib = get("x_calib")
            .map(|a| split_images(a, "x_calib", image_shape, origin))
            .transpose()?;
        Ok(DataSet {
            image_shape: image_shape.to_vec(),
            images,
            labels: y.values.iter().map(|&v| v as usize).collect(),
            calib,
        })
    }

    /// The calibration images: `x_calib`, else the first `n` images of `x`.
    pub fn calibration(&self, n: usize) -> &[Tensor] {
        match &self.calib {
            Some(c) => c,
            None => &self.images[..n.min(self.images.len())],
        }
    }
}
