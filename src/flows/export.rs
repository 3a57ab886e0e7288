//! The `export` flow: a unit's product table from its golden model, in the formats
//! approximate-DNN frameworks load (TFApprox / tf-approximate, AdaPT / TransAxx C header,
//! `.npy` for TorchApprox and numpy), each with a JSON sidecar (unit, parameters, signedness,
//! operand order, index formula, sha256 of the table file).

use crate::base::{sign_extend, to_raw, Dir};
use crate::flows::Failure;
use crate::spec::UnitSpec;
use askama::Template;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Tfapprox,
    Adapt,
    Npy,
    C,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format, Failure> {
        match s {
            "tfapprox" => Ok(Format::Tfapprox),
            "adapt" => Ok(Format::Adapt),
            "npy" => Ok(Format::Npy),
            "c" => Ok(Format::C),
            _ => Err(Failure::BadInput(format!(
                "--format `{s}` is unknown, allowed: tfapprox, adapt, npy, c"
            ))),
        }
    }
}

/// One operand port as the table sees it.
#[derive(Clone, Debug, Serialize)]
pub struct Operand {
    pub port: String,
    pub width: usize,
    pub signed: bool,
}

/// The 256 x 256 table: `entries[i * 256 + j]` is P for row operand pattern i and column
/// operand pattern j (uint8 bit patterns; `None` where a pattern is outside a narrower port).
pub struct Table {
    pub unit: String,
    pub family: String,
    pub params: serde_json::Value,
    pub row: Operand,
    pub column: Operand,
    pub product_signed: bool,
    pub entries: Vec<Option<i64>>,
}

/// The operand value an 8-bit index pattern stands for (signed ports: patterns 128..255 are
/// -128..-1), if the port can hold it.
fn operand_value(pattern: u64, op: &Operand) -> Option<u64> {
    let v = if op.signed {
        sign_extend(pattern, 8)
    } else {
        pattern as i64
    };
    let (lo, hi) = if op.signed {
        (-(1i64 << (op.width - 1)), (1i64 << (op.width - 1)) - 1)
    } else {
        (0, (1i64 << op.width) - 1)
    };
    (lo..=hi).contains(&v).then(|| to_raw(v, op.width))
}

/// A table with no entries yet: the unit, its two operands and the signedness of P (`what`
/// names the export in the error for a unit without exactly two operands).
fn describe(spec: &UnitSpec, what: &str) -> Result<Table, Failure> {
    let unit = spec.unit.as_ref();
    let ports = unit.ports();
    let inputs: Vec<Operand> = ports
        .iter()
        .filter(|p| p.dir == Dir::Input)
        .map(|p| Operand {
            port: p.name.clone(),
            width: p.width,
            signed: p.signed,
        })
        .collect();
    let name = spec.module_name();
    let [row, column] = <[Operand; 2]>::try_from(inputs).map_err(|_| {
        Failure::BadInput(format!(
            "{name}: {what} takes two operands (fault ports are not exported)"
        ))
    })?;
    let p = ports
        .iter()
        .find(|p| p.dir == Dir::Output && p.name == "p")
        .ok_or_else(|| Failure::BadInput(format!("{name}: no output p")))?;
    Ok(Table {
        unit: name,
        family: unit.family().into(),
        params: unit.params(),
        row,
        column,
        product_signed: p.signed,
        entries: Vec::new(),
    })
}

/// The golden model's P, as a signed value, for raw operands `a`, `b`.
fn golden_product(spec: &UnitSpec) -> impl Fn(u64, u64) -> i64 + '_ {
    let unit = spec.unit.as_ref();
    let outputs: Vec<_> = unit
        .ports()
        .into_iter()
        .filter(|p| p.dir == Dir::Output)
        .collect();
    let p_index = outputs.iter().position(|p| p.name == "p").unwrap_or(0);
    let (width, signed) = (outputs[p_index].width, outputs[p_index].signed);
    let n_out = outputs.len();
    move |a, b| {
        let mut out = vec![0u64; n_out];
        unit.golden(&[a, b], &mut out);
        if signed {
            sign_extend(out[p_index], width)
        } else {
            out[p_index] as i64
        }
    }
}

/// Tabulate `spec`'s golden model over every pair of 8-bit operand patterns.
pub fn table(spec: &UnitSpec) -> Result<Table, Failure> {
    let mut t = describe(spec, "a product table")?;
    if let Some(wide) = [&t.row, &t.column].into_iter().find(|o| o.width > 8) {
        return Err(Failure::BadInput(format!(
            "{}: port {} is {} bits; tables take operands of at most 8 bits",
            t.unit, wide.port, wide.width
        )));
    }
    let product = golden_product(spec);
    t.entries = (0..256u64)
        .flat_map(|i| (0..256u64).map(move |j| (i, j)))
        .map(
            |(i, j)| match (operand_value(i, &t.row), operand_value(j, &t.column)) {
                (Some(a), Some(b)) => Some(product(a, b)),
                _ => None,
            },
        )
        .collect();
    Ok(t)
}

/// The smallest numpy integer dtype (`<i2`, `<u2`, `<i4`) that holds every entry.
fn npy_dtype(t: &Table) -> &'static str {
    let (lo, hi) = t
        .entries
        .iter()
        .flatten()
        .fold((0i64, 0i64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if lo >= i64::from(i16::MIN) && hi <= i64::from(i16::MAX) {
        "<i2"
    } else if lo >= 0 && hi <= i64::from(u16::MAX) {
        "<u2"
    } else {
        "<i4"
    }
}

/// A 256 x 256 C-order `.npy` of `values` (npyz writes the header).
fn npy_bytes<T: npyz::AutoSerialize>(values: impl Iterator<Item = T>) -> std::io::Result<Vec<u8>> {
    use npyz::WriterBuilder;
    let mut bytes = Vec::new();
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[256, 256])
        .writer(&mut bytes)
        .begin_nd()?;
    writer.extend(values)?;
    writer.finish()?;
    Ok(bytes)
}

/// The file bytes of `t` in `format`, named `name` (the C array name for `adapt`).
pub fn encode(t: &Table, format: Format, name: &str) -> Result<Vec<u8>, Failure> {
    let value = |e: &Option<i64>| e.unwrap_or(0);
    match format {
        Format::Tfapprox => {
            if t.row.signed || t.column.signed || t.product_signed {
                return Err(Failure::BadInput(format!(
                    "{}: tfapprox tables are unsigned (uint8 operands, uint16 products); this unit is signed: use --format adapt or npy",
                    t.unit
                )));
            }
            let mut bytes = Vec::with_capacity(2 << 16);
            for e in &t.entries {
                let v = u16::try_from(value(e)).map_err(|_| {
                    Failure::BadInput(format!("{}: a product exceeds uint16", t.unit))
                })?;
                bytes.extend_from_slice(&v.to_le_bytes());
            }
            Ok(bytes)
        }
        Format::Adapt => {
            let mut text = format!(
                "// Product table of {unit} for AdaPT / TransAxx, generated by qmulgen from the golden model.\n\
                 // {name}[i][j] = P({row} = i, {col} = j), i and j the uint8 bit patterns of the operands{signed}.\n\
                 #include <stdint.h>\n\nconst int16_t {name}[256][256] = {{\n",
                unit = t.unit,
                row = t.row.port,
                col = t.column.port,
                signed = if t.row.signed || t.column.signed {
                    " (patterns 128..255 are -128..-1)"
                } else {
                    ""
                },
            );
            for (i, row) in t.entries.chunks(256).enumerate() {
                let cells: Result<Vec<String>, Failure> = row
                    .iter()
                    .map(|e| {
                        i16::try_from(value(e))
                            .map(|v| v.to_string())
                            .map_err(|_| {
                                Failure::BadInput(format!(
                                    "{}: product {} ({} = {i}) does not fit int16; AdaPT tables hold int16 (use --format npy)",
                                    t.unit,
                                    value(e),
                                    t.row.port
                                ))
                            })
                    })
                    .collect();
                text.push_str(&format!("  {{{}}},\n", cells?.join(",")));
            }
            text.push_str("};\n");
            Ok(text.into_bytes())
        }
        Format::C => Err(Failure::BadInput(
            "--format c is a model, not a table: use c_model".into(),
        )),
        Format::Npy => {
            let values = t.entries.iter().map(value);
            let bytes = match npy_dtype(t) {
                "<i2" => npy_bytes(values.map(|v| v as i16)),
                "<u2" => npy_bytes(values.map(|v| v as u16)),
                _ => npy_bytes(values.map(|v| v as i32)),
            }
            .map_err(|e| Failure::Failed(format!("cannot encode the .npy: {e}")))?;
            Ok(bytes)
        }
    }
}

/// The JSON sidecar of an exported table.
pub fn sidecar(t: &Table, format: Format, file_name: &str, bytes: &[u8]) -> String {
    let index = match format {
        Format::Tfapprox => "16-bit little-endian word k = (row << 8) | column holds P".to_string(),
        Format::Adapt => "NAME[row][column]".to_string(),
        Format::Npy => "array[row, column] (C order, shape (256, 256))".to_string(),
        Format::C => "function NAME(row, column) of the raw bit patterns".to_string(),
    };
    let v = serde_json::json!({
        "unit": t.unit,
        "family": t.family,
        "parameters": t.params,
        "format": format,
        "file": file_name,
        "sha256": crate::emit::sha256_hex(bytes),
        "row_operand": t.row,
        "column_operand": t.column,
        "operand_order": format!(
            "row = first input port `{}`, column = second input port `{}`{}",
            t.row.port,
            t.column.port,
            if t.row.port == "w" { " (weight x activation units: the activation is the column)" } else { "" }
        ),
        "index": index,
        "index_patterns": "row and column are the operands' uint8 bit patterns; signed operands: 128..255 are -128..-1",
        "out_of_range_entries": "0 (patterns a narrower operand cannot hold)",
        "product_signed": t.product_signed,
        "dtype": match format {
            Format::Tfapprox => "uint16",
            Format::C => "int64_t",
            Format::Adapt => "int16",
            Format::Npy => match npy_dtype(t) {
                "<i2" => "int16",
                "<u2" => "uint16",
                _ => "int32",
            },
        },
    });
    serde_json::to_string_pretty(&v).expect("sidecar serializes") + "\n"
}

enum Body {
    Exact,
    Levels(Vec<i64>),
    Mitchell(u32, u32, bool),
}

#[derive(Template)]
#[template(path = "export.c", escape = "none")]
struct CModel<'a> {
    unit: &'a str,
    name: &'a str,
    params: String,
    row: &'a str,
    column: &'a str,
    row_width: usize,
    column_width: usize,
    row_signed: bool,
    column_signed: bool,
    body: Body,
}

/// A self-contained C function computing `spec`'s unit bit-exactly, for any operand width:
/// exact/tmr multiply; esb/apot/pot look the weight's signed level up (P = level · x, their
/// products being exact by construction); mitchell/adam run §3.1 (fault-free AdAM is Mitchell).
/// Returns the table-like description (for the sidecar) and the C text.
pub fn c_model(spec: &UnitSpec, name: &str) -> Result<(Table, Vec<u8>), Failure> {
    let table = describe(spec, "the C model")?;
    let params = &table.params;
    let body = match table.family.as_str() {
        "exact" | "tmr" => Body::Exact,
        "mitchell" | "adam" => {
            let get = |k: &str| params[k].as_u64().unwrap_or(0) as u32;
            Body::Mitchell(get("width"), get("frac_bits"), params["signed"] == true)
        }
        _ => {
            let product = golden_product(spec);
            Body::Levels(
                (0..1u64 << table.row.width)
                    .map(|w| product(w, 1))
                    .collect(),
            )
        }
    };
    let text = CModel {
        unit: &table.unit,
        name,
        params: params.to_string(),
        row: &table.row.port,
        column: &table.column.port,
        row_width: table.row.width,
        column_width: table.column.width,
        row_signed: table.row.signed,
        column_signed: table.column.signed,
        body,
    }
    .render()
    .map_err(|e| Failure::Failed(format!("cannot render the C model: {e}")))?;
    Ok((table, text.into_bytes()))
}
