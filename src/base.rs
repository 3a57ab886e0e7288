//! The base layer every family builds on: ports, parameter descriptions and parsing, errors,
//! bit helpers. Knows no family.

use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt;

pub use qmulgen_rtl::{bitlen, mask};

/// Parameters of one unit as YAML keys and values (CLI flags are mapped to the same keys).
pub type ParamMap = BTreeMap<String, serde_yaml::Value>;

/// A bad specification: one line that names the field and what is allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError(pub String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

/// Failure of a flow: bad input (exit status 2) or a failed check or tool (exit status 1).
#[derive(Debug)]
pub enum Failure {
    BadInput(String),
    Failed(String),
}

impl From<SpecError> for Failure {
    fn from(e: SpecError) -> Self {
        Failure::BadInput(e.0)
    }
}

/// Deserialize a family's parameter struct from a [`ParamMap`], with errors naming the family.
pub fn parse_params<T: DeserializeOwned>(family: &str, map: &ParamMap) -> Result<T, SpecError> {
    let mapping: serde_yaml::Mapping = map
        .iter()
        .map(|(k, v)| (serde_yaml::Value::String(k.clone()), v.clone()))
        .collect();
    serde_path_to_error::deserialize(serde_yaml::Value::Mapping(mapping)).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            SpecError(format!("{family}: {}", e.inner()))
        } else {
            SpecError(format!("{family}: {path}: {}", e.inner()))
        }
    })
}

/// Check that `value` of parameter `key` lies in `lo..=hi`.
pub fn check_range(family: &str, key: &str, value: u32, lo: u32, hi: u32) -> Result<(), SpecError> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(SpecError(format!(
            "{family}: {key} = {value} is out of range, allowed {lo}..={hi}"
        )))
    }
}

/// Per-operand signedness from `signed` (both operands) and `a_signed` / `b_signed`: a
/// per-operand key may repeat `signed`, not contradict it.
pub fn operand_signedness(
    family: &str,
    signed: Option<bool>,
    a_signed: Option<bool>,
    b_signed: Option<bool>,
) -> Result<qmulgen_rtl::Signedness, SpecError> {
    let pick = |key: &str, own: Option<bool>| match (own, signed) {
        (Some(v), Some(both)) if v != both => Err(SpecError(format!(
            "{family}: {key} = {v} contradicts signed = {both}; give one of them"
        ))),
        (Some(v), _) => Ok(v),
        (None, both) => Ok(both.unwrap_or(false)),
    };
    Ok(qmulgen_rtl::Signedness {
        a: pick("a_signed", a_signed)?,
        b: pick("b_signed", b_signed)?,
    })
}

/// `u8x8` / `s12x12`, or `s8xu8` for a signed a and an unsigned b: how module names show the
/// operands' widths and signedness.
pub fn operands_name(a_bits: u32, b_bits: u32, signed: qmulgen_rtl::Signedness) -> String {
    let letter = |s: bool| if s { 's' } else { 'u' };
    let (a, b) = (letter(signed.a), letter(signed.b));
    if a == b {
        format!("{a}{a_bits}x{b_bits}")
    } else {
        format!("{a}{a_bits}x{b}{b_bits}")
    }
}

/// A [`ParamMap`] from `(key, value)` pairs.
pub fn param_map<const N: usize>(pairs: [(&str, serde_yaml::Value); N]) -> ParamMap {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Description of one parameter, used by `qmulgen list`, `--help` and error messages.
#[derive(Clone, Copy)]
pub struct ParamInfo {
    pub key: &'static str,
    pub range: &'static str,
    pub default: &'static str,
    pub help: &'static str,
}

/// Direction of a port of a generated module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dir {
    Input,
    Output,
}

/// One port of a unit's combinational core (a pipeline adds `clk` and `ce`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Port {
    pub name: String,
    pub dir: Dir,
    pub width: usize,
    /// True when the value on the port is read as two's complement.
    pub signed: bool,
}

impl Port {
    pub fn input(name: &str, width: usize, signed: bool) -> Port {
        Port {
            name: name.into(),
            dir: Dir::Input,
            width,
            signed,
        }
    }
    pub fn output(name: &str, width: usize, signed: bool) -> Port {
        Port {
            name: name.into(),
            dir: Dir::Output,
            width,
            signed,
        }
    }
}

/// OR `width` (<= 64) bits of `value` into little-endian 64-bit words at bit `offset`.
pub fn put_bits(words: &mut [u64], offset: usize, width: usize, value: u64) {
    let value = value & crate::base::mask(width);
    let (w, s) = (offset / 64, offset % 64);
    words[w] |= value << s;
    if s + width > 64 {
        words[w + 1] |= value >> (64 - s);
    }
}

/// Read `width` (<= 64) bits at bit `offset` of little-endian 64-bit words.
pub fn get_bits(words: &[u64], offset: usize, width: usize) -> u64 {
    let (w, s) = (offset / 64, offset % 64);
    let mut v = words[w] >> s;
    if s + width > 64 {
        v |= words[w + 1] << (64 - s);
    }
    v & mask(width)
}

/// Read the low `width` bits of `raw` as two's complement.
pub fn sign_extend(raw: u64, width: usize) -> i64 {
    let shift = 64 - width as u32;
    ((raw << shift) as i64) >> shift
}

/// The low `width` bits of `value` as a raw two's-complement pattern.
pub fn to_raw(value: i64, width: usize) -> u64 {
    (value as u64) & mask(width)
}

/// The comma-separated fields of every line of `text` that has any, with its 1-based line
/// number; `#` starts a comment. The text format of weight and operand files.
pub fn comma_fields(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(n, line)| {
        let fields: Vec<&str> = line
            .split('#')
            .next()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .collect();
        (!fields.is_empty()).then_some((n + 1, fields))
    })
}

/// Rows under a header as aligned text: the first column left-aligned, the others right-aligned.
pub fn aligned_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].len())
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut t = String::new();
    for r in std::iter::once(&header).chain(rows) {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (v, w))| {
                if c == 0 {
                    format!("{v:<w$}")
                } else {
                    format!("{v:>w$}")
                }
            })
            .collect();
        t.push_str(cells.join("  ").trim_end());
        t.push('\n');
    }
    t
}
