//! `gen --tb`: a self-checking Verilog-2001 testbench (`NAME_tb.v`, from the askama template
//! `templates/testbench.v`) and its vectors (`NAME_tb.hex`, `$readmemh`) from the golden model,
//! for simulators other than Verilator (Icarus, xsim, Questa). Exhaustive up to 2^16 input
//! combinations, otherwise the unit's corner cases plus seeded random vectors.

use crate::emit::Generated;
use crate::flows::Failure;
use crate::sim::{self, VectorSource};
use crate::spec::UnitSpec;
use askama::Template;

/// Input spaces up to 2^16 combinations are written out in full.
pub const EXHAUSTIVE_MAX_BITS: usize = 16;
/// Random vectors beside the corner cases above that.
pub const RANDOM_VECTORS: u64 = 4096;

struct TbPort {
    name: String,
    width: usize,
    high: usize,
    low: usize,
}

#[derive(Template)]
#[template(path = "testbench.v", escape = "none")]
struct Testbench<'a> {
    module: &'a str,
    hex: &'a str,
    what: &'a str,
    vectors: u64,
    width: usize,
    inputs: Vec<TbPort>,
    outputs: Vec<TbPort>,
    registered: bool,
    ce: bool,
    /// `rst`, `in_valid`, `out_valid`.
    valid: bool,
    latency: u32,
}

/// `(NAME_tb.v, NAME_tb.hex)` for one generated unit; a dot is refused (its testbench is the
/// cycle-level one of `verify`).
pub fn files(spec: &UnitSpec, g: &Generated, seed: u64) -> Result<[(String, String); 2], Failure> {
    let unit = spec.single_unit("gen --tb")?;
    let m = &g.manifest;
    let widths = crate::units::input_widths(unit);
    let bits: usize = widths.iter().sum();
    let sources: Vec<Box<dyn VectorSource>> = if bits <= EXHAUSTIVE_MAX_BITS {
        vec![Box::new(sim::Exhaustive::new(widths))]
    } else {
        vec![
            Box::new(sim::Corners::new(unit.corner_cases())),
            Box::new(sim::Random::new(widths, RANDOM_VECTORS, seed)),
        ]
    };
    let what: Vec<String> = sources.iter().map(|s| s.describe()).collect();
    // Bit positions in a line: the first port in the high bits.
    let width: usize = m.ports.iter().map(|p| p.width).sum();
    let mut high = width;
    let mut place = |name: &str, w: usize| {
        let port = TbPort {
            name: name.to_string(),
            width: w,
            high: high - 1,
            low: high - w,
        };
        high -= w;
        port
    };
    let inputs: Vec<TbPort> = m.inputs().map(|p| place(&p.name, p.width)).collect();
    let outputs: Vec<TbPort> = m.outputs().map(|p| place(&p.name, p.width)).collect();
    let mut hex = String::new();
    let mut vector = vec![0u64; inputs.len()];
    let mut expected = vec![0u64; outputs.len()];
    let mut words = vec![0u64; width.div_ceil(64)];
    let mut count = 0u64;
    for src in &sources {
        for k in 0..src.len() {
            src.fill(k, &mut vector);
            unit.golden(&vector, &mut expected);
            words.iter_mut().for_each(|w| *w = 0);
            for (p, v) in inputs
                .iter()
                .zip(&vector)
                .chain(outputs.iter().zip(&expected))
            {
                crate::base::put_bits(&mut words, p.low, p.width, *v);
            }
            hex.push_str(&hex_line(&words, width));
            hex.push('\n');
            count += 1;
        }
    }
    let name = &g.name;
    let hex_name = format!("{name}_tb.hex");
    let tb = Testbench {
        module: name,
        hex: &hex_name,
        what: &what.join(" + "),
        vectors: count,
        width,
        inputs,
        outputs,
        registered: m.clock.is_some(),
        ce: m.clock_enable.is_some(),
        valid: m.valid.is_some(),
        latency: m.latency,
    }
    .render()
    .expect("testbench template renders");
    Ok([
        (format!("{name}_tb.v"), format!("{}\n", tb.trim_end())),
        (hex_name, hex),
    ])
}

/// `width` bits of little-endian words as hex digits, most significant first.
fn hex_line(words: &[u64], width: usize) -> String {
    (0..width.div_ceil(4))
        .rev()
        .map(|d| {
            let nibble = crate::base::get_bits(words, 4 * d, 4.min(width - 4 * d));
            char::from_digit(nibble as u32, 16).expect("a nibble is a hex digit")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_lines_put_the_high_bits_first() {
        assert_eq!(hex_line(&[0xabc], 12), "abc");
        assert_eq!(hex_line(&[0x1f], 5), "1f");
        assert_eq!(hex_line(&[u64::MAX, 0x5], 67), "5ffffffffffffffff");
    }
}
