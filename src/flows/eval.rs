//! The `eval` flow: the golden model's outputs for operands given as text.

use crate::base::{mask, sign_extend, Dir, Port};
use crate::flows::Failure;
use crate::spec::UnitSpec;

/// Output (name, value) pairs for `operands` in input-port order; signed ports as signed values.
pub fn eval(spec: &UnitSpec, operands: &[String]) -> Result<Vec<(String, i128)>, Failure> {
    let ports = spec.unit.ports();
    let (inputs, outputs): (Vec<_>, Vec<_>) = ports.iter().partition(|p| p.dir == Dir::Input);
    if operands.len() != inputs.len() {
        let names: Vec<&str> = inputs.iter().map(|p| p.name.as_str()).collect();
        return Err(Failure::BadInput(format!(
            "{} takes {} operands ({}), got {}",
            spec.unit.family(),
            inputs.len(),
            names.join(" "),
            operands.len()
        )));
    }
    let mut raw = Vec::new();
    for (text, port) in operands.iter().zip(&inputs) {
        raw.push(parse_operand(text, port)?);
    }
    let mut out = vec![0u64; outputs.len()];
    spec.unit.golden(&raw, &mut out);
    Ok(outputs
        .iter()
        .zip(&out)
        .map(|(p, &v)| {
            let v = if p.signed {
                sign_extend(v, p.width) as i128
            } else {
                v as i128
            };
            (p.name.clone(), v)
        })
        .collect())
}

/// An operand for `port`: unsigned 0..2^w-1, or for signed ports -2^(w-1)..2^(w-1)-1.
fn parse_operand(text: &str, port: &Port) -> Result<u64, Failure> {
    let v: i128 = text.parse().map_err(|_| {
        Failure::BadInput(format!(
            "operand {} = `{text}` is not an integer",
            port.name
        ))
    })?;
    let w = port.width as u32;
    let (lo, hi) = if port.signed {
        (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1)
    } else {
        (0, (1i128 << w) - 1)
    };
    if v < lo || v > hi {
        return Err(Failure::BadInput(format!(
            "operand {} = {v} does not fit {w} bits {}, allowed {lo}..={hi}",
            port.name,
            if port.signed { "signed" } else { "unsigned" }
        )));
    }
    Ok((v as u64) & mask(port.width))
}
