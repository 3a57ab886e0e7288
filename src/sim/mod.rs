//! Verilator side of verification: find Verilator, build a model of a generated module from the
//! askama-rendered C++ harness (cached by content hash), stream vectors through it and compare
//! every output with the golden model. Knows units only through [`Unit`] and the manifest.

mod vectors;
mod verilator;

pub use vectors::{splitmix64, Corners, Exhaustive, Random, VectorSource};
pub use verilator::{cache_root as verilator_cache_root, lint, record_words, Model, Verilator};

use crate::emit::Manifest;
use crate::units::Unit;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// One disagreement between the model and the golden outputs.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Mismatch {
    pub inputs: Vec<(String, u64)>,
    pub expected: Vec<(String, u64)>,
    pub actual: Vec<(String, u64)>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &[(String, u64)]| {
            v.iter()
                .map(|(n, x)| format!("{n}={x}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(
            f,
            "inputs {}: expected {}, got {}",
            show(&self.inputs),
            show(&self.expected),
            show(&self.actual)
        )
    }
}

/// Outcome of streaming vectors through a model.
#[derive(Clone, Debug, serde::Serialize)]
pub struct CheckReport {
    pub module: String,
    pub vectors: u64,
    pub mismatches: u64,
    /// The first few mismatches, in vector order.
    pub first_mismatches: Vec<Mismatch>,
    #[serde(skip)]
    pub elapsed: Duration,
}

impl CheckReport {
    pub fn passed(&self) -> bool {
        self.mismatches == 0 && self.vectors > 0
    }
    pub fn vectors_per_second(&self) -> f64 {
        self.vectors as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

const KEEP_MISMATCHES: usize = 10;
const BLOCK: u64 = 16384;

/// Stream every vector of `source` through `model` and compare with `unit`'s golden model.
pub fn check(
    model: &Model,
    unit: &dyn Unit,
    source: &dyn VectorSource,
) -> std::io::Result<CheckReport> {
    let manifest = model.manifest();
    let mut expected = vec![0u64; manifest.outputs().count()];
    let mut mismatches = 0u64;
    let mut first = Vec::new();
    let start = Instant::now();
    let vectors = stream(model, source, |inputs, actual| {
        unit.golden(inputs, &mut expected);
        if actual != expected.as_slice() {
            mismatches += 1;
            if first.len() < KEEP_MISMATCHES {
                first.push(describe(manifest, inputs, &expected, actual));
            }
        }
    })?;
    Ok(CheckReport {
        module: manifest.module.clone(),
        vectors,
        mismatches,
        first_mismatches: first,
        elapsed: start.elapsed(),
    })
}

/// Stream every vector of `source` through `model` and hand each (inputs, model outputs) to
/// `visit`, in vector order. Vectors are produced twice (by a writer thread and here), so
/// nothing is buffered in between. Returns the number of vectors.
pub fn stream(
    model: &Model,
    source: &dyn VectorSource,
    mut visit: impl FnMut(&[u64], &[u64]),
) -> std::io::Result<u64> {
    let manifest = model.manifest();
    let registered = manifest.latency > 0;
    let valid = manifest.valid.is_some();
    let n_in = manifest.inputs().count();
    let n_out = manifest.outputs().count();
    let words_in = n_in + usize::from(registered);
    // A record: the outputs, then out_valid for a unit with a valid pipeline.
    let words_out = n_out + usize::from(valid);
    let in_masks: Vec<u64> = manifest
        .inputs()
        .map(|p| crate::base::mask(p.width))
        .collect();
    let total = source.len();
    let mut child = model.spawn()?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");

    let in_masks = &in_masks;
    let result = std::thread::scope(|s| -> std::io::Result<()> {
        let writer = s.spawn(move || -> std::io::Result<()> {
            let mut vec = vec![0u64; n_in];
            let mut buf: Vec<u8> = Vec::with_capacity(BLOCK as usize * words_in * 8);
            let mut i = 0;
            while i < total {
                buf.clear();
                let end = (i + BLOCK).min(total);
                for k in i..end {
                    source.fill(k, &mut vec);
                    for (x, m) in vec.iter().zip(in_masks) {
                        buf.extend_from_slice(&(x & m).to_le_bytes());
                    }
                    if registered {
                        buf.extend_from_slice(&control_word(k).to_le_bytes());
                    }
                }
                stdin.write_all(&buf)?;
                i = end;
            }
            drop(stdin);
            Ok(())
        });

        let mut vec = vec![0u64; n_in];
        let mut actual = vec![0u64; words_out];
        let mut held = vec![0u64; words_out];
        let mut raw = vec![0u8; 2 * BLOCK as usize * words_out * 8];
        // The control word of vector clock c (the flush clocks repeat the last vector's).
        let word_at = |c: u64| control_word(c.min(total.saturating_sub(1)));
        let mut valid_chain = ValidChain::new(manifest.latency as usize);
        for c in 0..u64::from(manifest.latency.saturating_sub(1)) {
            valid_chain.clock(word_at(c));
        }
        let latency = u64::from(manifest.latency);
        // The record of vector j is preceded by a hold record when the vector whose ce = 1
        // clock produced it (j + latency - 1) came after a ce = 0 clock with valid outputs.
        let has_hold = |j: u64| {
            let k = j + latency.saturating_sub(1);
            registered && k < total && k >= latency && ce_off_before(k)
        };
        let decode = |words: &[u8], into: &mut [u64]| {
            for (a, w) in into.iter_mut().zip(words.chunks_exact(8)) {
                *a = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            }
        };
        let record = words_out * 8;
        let mut violation = None;
        let mut i = 0;
        while i < total {
            let end = (i + BLOCK).min(total);
            let records = (end - i) + (i..end).filter(|&j| has_hold(j)).count() as u64;
            let bytes = records as usize * record;
            stdout.read_exact(&mut raw[..bytes])?;
            let mut at = 0;
            for k in i..end {
                if has_hold(k) {
                    decode(&raw[at..at + record], &mut held);
                    at += record;
                    // `actual` still holds the record before: what the outputs must keep. The
                    // first violation is reported after the stream is drained (returning now
                    // would leave the writer blocked on a model that nobody reads).
                    if held != actual && violation.is_none() {
                        violation = Some(hold_violation(
                            manifest,
                            source,
                            k + latency - 1,
                            &actual,
                            &held,
                        ));
                    }
                }
                decode(&raw[at..at + record], &mut actual);
                at += record;
                source.fill(k, &mut vec);
                for (x, m) in vec.iter_mut().zip(in_masks) {
                    *x &= m;
                }
                if valid {
                    // The record of vector k follows the clock of vector k + latency - 1 (the
                    // last vector's control word during the flush).
                    let expected = u64::from(valid_chain.clock(word_at(k + latency - 1)));
                    if actual[n_out] != expected && violation.is_none() {
                        violation = Some(std::io::Error::other(format!(
                            "{}: out_valid is {} for vector {k}, expected {expected} (its in_valid {}; a rst clears the valid pipeline)",
                            manifest.module,
                            actual[n_out],
                            control_word(k) >> 1 & 1,
                        )));
                    }
                }
                visit(&vec, &actual[..n_out]);
            }
            i = end;
        }
        writer.join().expect("writer thread")?;
        violation.map_or(Ok(()), Err)
    });
    finish(child, result, &manifest.module)?;
    Ok(total)
}

/// Run `cycles` clock cycles through a clocked model without `ce` (the cycle harness):
/// `fill(k, record)` appends cycle k's record, each input port as [`record_words`] words in port
/// order (called on a writer thread, in order, while the model runs). Returns the outputs every
/// cycle shows (sampled before its clock edge), in the same layout.
pub fn run_cycles(
    model: &Model,
    cycles: usize,
    fill: &mut (dyn FnMut(usize, &mut Vec<u64>) + Send),
) -> std::io::Result<Vec<u64>> {
    let manifest = model.manifest();
    let words_out: usize = manifest.outputs().map(|p| record_words(p.width)).sum();
    let mut child = model.spawn()?;
    let mut stdin = child.stdin.take().expect("piped stdin");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut out = vec![0u64; cycles * words_out];
    let result = std::thread::scope(|s| -> std::io::Result<()> {
        let writer = s.spawn(move || -> std::io::Result<()> {
            let mut record = Vec::new();
            let mut bytes = Vec::new();
            for start in (0..cycles).step_by(BLOCK as usize) {
                bytes.clear();
                for k in start..(start + BLOCK as usize).min(cycles) {
                    record.clear();
                    fill(k, &mut record);
                    bytes.extend(record.iter().flat_map(|w| w.to_le_bytes()));
                }
                stdin.write_all(&bytes)?;
            }
            drop(stdin);
            Ok(())
        });
        let mut raw = vec![0u8; out.len() * 8];
        stdout.read_exact(&mut raw)?;
        for (w, b) in out.iter_mut().zip(raw.chunks_exact(8)) {
            *w = u64::from_le_bytes(b.try_into().expect("8 bytes"));
        }
        writer.join().expect("writer thread")
    });
    finish(child, result, &manifest.module)?;
    Ok(out)
}

/// Wait for a model's process; the streaming result first, then its exit status.
fn finish(
    mut child: std::process::Child,
    result: std::io::Result<()>,
    module: &str,
) -> std::io::Result<()> {
    let status = child.wait()?;
    result?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "Verilator model of {module} exited with {status}"
        )))
    }
}

/// Registered models get a ce = 0 clock with inverted inputs before every 7th vector.
fn ce_off_before(k: u64) -> bool {
    k % 7 == 3
}

/// A registered model's control word for vector k: bit 0, a ce = 0 clock before it
/// ([`ce_off_before`]); bit 1, its `in_valid` (a fixed pseudo-random pattern, 3 in 4 set);
/// bit 2, a `rst` with it (every 61st vector). Units without a valid pipeline ignore bits 1, 2.
fn control_word(k: u64) -> u64 {
    let mixed = k.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 59;
    u64::from(ce_off_before(k))
        | u64::from(!mixed.is_multiple_of(4)) << 1
        | u64::from(k % 61 == 30) << 2
}

/// The valid pipeline as the checker models it: `latency` registers that load while `ce`, all
/// cleared by a `rst` clock (ce = 0 clocks hold them, and see no rst).
struct ValidChain {
    stages: std::collections::VecDeque<bool>,
}

impl ValidChain {
    fn new(latency: usize) -> Self {
        ValidChain {
            stages: std::iter::repeat_n(false, latency).collect(),
        }
    }

    /// One vector clock with control word `control`; returns `out_valid` after it.
    fn clock(&mut self, control: u64) -> bool {
        if control >> 2 & 1 == 1 {
            self.stages.iter_mut().for_each(|v| *v = false);
        } else {
            self.stages.pop_back();
            self.stages.push_front(control >> 1 & 1 == 1);
        }
        self.stages.back().copied().unwrap_or(false)
    }
}

/// The error for outputs that changed during a ce = 0 clock (before vector `k`).
fn hold_violation(
    manifest: &Manifest,
    source: &dyn VectorSource,
    k: u64,
    before: &[u64],
    after: &[u64],
) -> std::io::Error {
    let mut inputs = vec![0u64; manifest.inputs().count()];
    source.fill(k, &mut inputs);
    let m = describe(manifest, &inputs, before, after);
    std::io::Error::other(format!(
        "{}: outputs changed during a clock with ce = 0 before vector {k} (an output register ignores ce): {}",
        manifest.module,
        m.to_string()
            .replacen("expected", "held", 1)
            .replacen(", got", ", became", 1)
    ))
}

fn describe(manifest: &Manifest, inputs: &[u64], expected: &[u64], actual: &[u64]) -> Mismatch {
    let named = |ports: Vec<String>, values: &[u64]| {
        ports.into_iter().zip(values.iter().copied()).collect()
    };
    Mismatch {
        inputs: named(manifest.inputs().map(|p| p.name.clone()).collect(), inputs),
        expected: named(
            manifest.outputs().map(|p| p.name.clone()).collect(),
            expected,
        ),
        actual: named(manifest.outputs().map(|p| p.name.clone()).collect(), actual),
    }
}

/// What `verify` runs by default: exhaustive up to 2^24 input combinations, otherwise the
/// unit's corner cases plus `random` seeded vectors.
pub fn default_sources(unit: &dyn Unit, random: u64, seed: u64) -> Vec<Box<dyn VectorSource>> {
    let widths = crate::units::input_widths(unit);
    let bits: usize = widths.iter().sum();
    if bits <= EXHAUSTIVE_MAX_BITS {
        vec![Box::new(Exhaustive::new(widths))]
    } else {
        vec![
            Box::new(Corners::new(unit.corner_cases())),
            Box::new(Random::new(widths, random, seed)),
        ]
    }
}

/// Input spaces up to 2^24 combinations are checked exhaustively.
pub const EXHAUSTIVE_MAX_BITS: usize = 24;
