//! The `quantize` flow: real weights from a text/CSV file to the codes of a unit's weight port
//! (`$readmemh` hex), with the family's quantizer.

use crate::base::ParamMap;
use crate::emit;
use crate::flows::Failure;
use crate::units::{self, Quantized};
use std::path::Path;

/// Weights: numbers separated by newlines or commas; `#` starts a comment.
pub fn parse_weights(text: &str, origin: &str) -> Result<Vec<f64>, Failure> {
    let mut weights = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for field in line.split(',').map(str::trim).filter(|f| !f.is_empty()) {
            let v: f64 = field
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| {
                    Failure::BadInput(format!("{origin}:{}: `{field}` is not a number", n + 1))
                })?;
            weights.push(v);
        }
    }
    if weights.is_empty() {
        return Err(Failure::BadInput(format!("{origin}: no weights found")));
    }
    Ok(weights)
}

/// Quantize the weights of `input` for `family` with `params`, write the codes to `out`
/// atomically, and return the weights with their quantization.
pub fn run(
    family: &str,
    params: &ParamMap,
    input: &Path,
    alpha: Option<f64>,
    out: &Path,
) -> Result<(Vec<f64>, Quantized), Failure> {
    let fam = units::family(family)
        .ok_or_else(|| Failure::BadInput(format!("unknown family `{family}`")))?;
    let quantize = fam
        .quantize
        .ok_or_else(|| Failure::BadInput(format!("{family} has no weight quantizer")))?;
    let text = std::fs::read_to_string(input)
        .map_err(|e| Failure::BadInput(format!("cannot read {}: {e}", input.display())))?;
    let weights = parse_weights(&text, &input.display().to_string())?;
    let q = quantize(params, &weights, alpha)?;
    emit::write_file_atomically(out, &q.readmemh())
        .map_err(|e| Failure::BadInput(format!("cannot write {}: {e}", out.display())))?;
    Ok((weights, q))
}
