//! The `quantize` flow: real weights (text/CSV or `.npy`) to the codes of a unit's weight port
//! (`$readmemh` hex), with the family's quantizer, per tensor or per output channel, with an
//! optional mean shift (ARITHMETIC.md §1.2).

use crate::base::ParamMap;
use crate::emit;
use crate::flows::Failure;
use crate::units::{self, Quantized};
use std::path::Path;

/// Weights: numbers separated by newlines or commas; `#` starts a comment. One row per
/// non-empty line.
pub fn parse_weight_rows(text: &str, origin: &str) -> Result<Vec<Vec<f64>>, Failure> {
    let mut rows = Vec::new();
    for (line, fields) in crate::base::comma_fields(text) {
        let row = fields
            .iter()
            .map(|field| {
                field
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite())
                    .ok_or_else(|| {
                        Failure::BadInput(format!("{origin}:{line}: `{field}` is not a number"))
                    })
            })
            .collect::<Result<Vec<f64>, _>>()?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(Failure::BadInput(format!("{origin}: no weights found")));
    }
    Ok(rows)
}

/// A `.npy` file of float32/float64 of any shape: its shape and values in C order.
pub fn read_npy(bytes: &[u8], origin: &str) -> Result<(Vec<u64>, Vec<f64>), Failure> {
    let a = crate::net::data::read_npy(bytes, origin, false, "weights must be float32 or float64")?;
    if let Some(v) = a.values.iter().find(|v| !v.is_finite()) {
        return Err(Failure::BadInput(format!(
            "{origin}: holds {v}: weights must be finite"
        )));
    }
    Ok((a.shape, a.values))
}

/// The weights of `input` as channels: one channel, or with `per_channel` one per line (text)
/// or per index of the first axis (`.npy`).
pub fn read_channels(input: &Path, per_channel: bool) -> Result<Vec<Vec<f64>>, Failure> {
    let origin = input.display().to_string();
    let bytes = std::fs::read(input)
        .map_err(|e| Failure::BadInput(format!("cannot read {origin}: {e}")))?;
    if bytes.starts_with(b"\x93NUMPY") {
        let (shape, values) = read_npy(&bytes, &origin)?;
        if values.is_empty() {
            return Err(Failure::BadInput(format!("{origin}: no weights found")));
        }
        if !per_channel {
            return Ok(vec![values]);
        }
        let channels = shape.first().copied().unwrap_or(1).max(1) as usize;
        let per = values.len() / channels;
        return Ok(values.chunks(per).map(<[f64]>::to_vec).collect());
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::BadInput(format!("{origin}: neither text nor a .npy file")))?;
    let rows = parse_weight_rows(&text, &origin)?;
    Ok(if per_channel {
        rows
    } else {
        vec![rows.concat()]
    })
}

/// One channel's quantization and its error against the original weights.
pub struct ChannelReport {
    pub quantized: Quantized,
    /// Mean subtracted before quantizing (0 without the mean shift).
    pub mean: f64,
    pub mse: f64,
    pub max_abs_error: f64,
}

/// Quantize the weights of `input` for `family` with `params`, per channel or as one tensor,
/// optionally mean-shifted, write every code to `out` atomically (channel after channel), and
/// report each channel.
pub fn run(
    family: &str,
    params: &ParamMap,
    input: &Path,
    alpha: Option<f64>,
    mean_shift: bool,
    per_channel: bool,
    out: &Path,
) -> Result<Vec<ChannelReport>, Failure> {
    let fam = units::family(family)
        .ok_or_else(|| Failure::BadInput(format!("unknown family `{family}`")))?;
    let quantize = fam
        .quantize
        .ok_or_else(|| Failure::BadInput(format!("{family} has no weight quantizer")))?;
    let mut reports = Vec::new();
    let mut hex = String::new();
    for (c, weights) in read_channels(input, per_channel)?.into_iter().enumerate() {
        let mean = if mean_shift {
            weights.iter().sum::<f64>() / weights.len() as f64
        } else {
            0.0
        };
        let shifted: Vec<f64> = weights.iter().map(|w| w - mean).collect();
        let q = quantize(params, &shifted, alpha).map_err(|e| {
            if per_channel {
                Failure::BadInput(format!("channel {c}: {}", e.0))
            } else {
                Failure::BadInput(e.0)
            }
        })?;
        hex.push_str(&q.readmemh());
        reports.push(ChannelReport {
            mean,
            mse: q.mse(&shifted),
            max_abs_error: q.max_abs_error(&shifted),
            quantized: q,
        });
    }
    emit::write_file_atomically(out, &hex)
        .map_err(|e| Failure::BadInput(format!("cannot write {}: {e}", out.display())))?;
    Ok(reports)
}
