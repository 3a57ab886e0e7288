//! `mitchell` (Unp-AxM) and `adam` (Pro-AdAM): logarithmic approximate multipliers
//! (ARITHMETIC.md §3).
//!
//! Both take unsigned n-bit operands (or two's complement, through the unsigned core): two
//! leading-one detectors give `kA`, `kB`; two alignment shifters give the t-bit fractions
//! `FA`, `FB`; a t-bit adder gives `c`, `s`; the antilog shifter gives
//! `P = ((2^t + s) << (kA + kB + c)) >> t`. AdAM's adder is adaptive: the low adder positions
//! that receive zeros for this operand pair (known from the LODs) recompute the top `d` bit
//! pairs as a duplicate lane; a checker zeroes every primary bit (and `c`) that disagrees with
//! its copy and raises `err`.
//!
//! With `fault_ports` (adam only), `fault_site` selects one physical output of the adaptive
//! adder (0 = none, `1 + i` = sum output `s_i` for i < t, `t + 1` = carry `c`, `t + 2` =
//! duplicate carry `c'`, larger = none) and `fault_kind` the fault (0 flip, 1 stuck-at-0,
//! 2 stuck-at-1, 3 none), with the encoding of `tmr`'s fault ports. RTL: `rtl/src/adam.rs`.

use crate::base::{
    bitlen, check_range, mask, param_map, parse_params, sign_extend, to_raw, ParamInfo, ParamMap,
    Port, SpecError,
};
use crate::units::tmr::SITE_BITS;
use crate::units::{Family, Unit};
pub use qmulgen_rtl::adam::OperandStructure;
use serde::Deserialize;

const WIDTH_PARAMS: [ParamInfo; 6] = [
    ParamInfo {
        key: "width",
        range: "2..=16",
        default: "8",
        help: "operand width n (a and b)",
    },
    ParamInfo {
        key: "frac_bits",
        range: "1..=width-1",
        default: "width-1",
        help: "fraction width t of the log adder (t < n-1 truncates)",
    },
    ParamInfo {
        key: "signed",
        range: "true/false",
        default: "false",
        help: "two's complement operands through the unsigned core (sets a_signed and b_signed)",
    },
    ParamInfo {
        key: "a_signed",
        range: "true/false",
        default: "signed",
        help: "operand a alone is two's complement (its magnitude goes through the core)",
    },
    ParamInfo {
        key: "b_signed",
        range: "true/false",
        default: "signed",
        help: "operand b alone is two's complement",
    },
    ParamInfo {
        key: "operands",
        range: "lod-right, lod-left, normalize (width >= 4), priority-right",
        default: "the smallest at (width, frac_bits), as measured",
        help: "how each operand's leading-one position and fraction are found: a leading-one detector then a right or a left shift, a normaliser that finds both stage by stage, or a priority encoder from the top then a right shift",
    },
];

pub static MITCHELL: Family = Family {
    name: "mitchell",
    summary:
        "Mitchell log multiplier: 2 LODs, fraction shifters, t-bit adder, antilog shift (Unp-AxM)",
    params: &WIDTH_PARAMS,
    sweep,
    quantize: None,
    build: |m| Ok(Box::new(LogParams::from_map(false, m)?)),
};

pub static ADAM: Family = Family {
    name: "adam",
    summary: "AdAM: Mitchell core with an adaptive adder whose idle bits duplicate and check the top bits (Pro-AdAM)",
    params: &[
        WIDTH_PARAMS[0],
        WIDTH_PARAMS[1],
        WIDTH_PARAMS[2],
        WIDTH_PARAMS[3],
        WIDTH_PARAMS[4],
        WIDTH_PARAMS[5],
        ParamInfo {
            key: "fault_ports",
            range: "true/false",
            default: "false",
            help: "add fault_site/fault_kind inputs (one adder output, flip/stuck-at)",
        },
    ],
    sweep,
    quantize: None,
    build: |m| Ok(Box::new(LogParams::from_map(true, m)?)),
};

/// Every (n, t, signed): exhaustive up to n = 12, corner cases plus random vectors above.
fn sweep() -> Vec<ParamMap> {
    let mut v = Vec::new();
    for signed in [false, true] {
        for n in 2..=16u32 {
            for t in 1..n {
                v.push(param_map([
                    ("width", n.into()),
                    ("frac_bits", t.into()),
                    ("signed", signed.into()),
                ]));
            }
        }
    }
    v
}

/// Golden models written from ARITHMETIC.md §3.1 (Mitchell, word level) and §3.2 (AdAM's
/// adaptive adder, bit by bit, with its fault model). Unsigned n-bit operands.
pub mod golden {
    pub use crate::units::tmr::FaultKind;

    /// Position of the leading one (`x` > 0).
    pub fn msb(x: u64) -> u32 {
        63 - x.leading_zeros()
    }

    /// The t-bit left-aligned fraction of `x` > 0: `((x - 2^k) << (n-1-k)) >> (n-1-t)`.
    pub fn fraction(x: u64, n: u32, t: u32) -> u64 {
        let k = msb(x);
        ((x - (1 << k)) << (n - 1 - k)) >> (n - 1 - t)
    }

    /// The antilog: `((2^t + s) << e) >> t` with `e = kA + kB + c`.
    pub fn antilog(t: u32, s: u64, e: u32) -> u64 {
        (((1u64 << t) + s) << e) >> t
    }

    /// The §3.1 quantities of one product of non-zero operands (the §3.3 table columns).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct MitchellTrace {
        pub ka: u32,
        pub kb: u32,
        pub fa: u64,
        pub fb: u64,
        pub c: u64,
        pub s: u64,
        pub p: u64,
    }

    /// §3.1 for non-zero operands; None when `a` or `b` is 0 (P = 0).
    pub fn mitchell(n: u32, t: u32, a: u64, b: u64) -> Option<MitchellTrace> {
        if a == 0 || b == 0 {
            return None;
        }
        let (ka, kb) = (msb(a), msb(b));
        let (fa, fb) = (fraction(a, n, t), fraction(b, n, t));
        let sum = fa + fb;
        let (c, s) = (sum >> t, sum & ((1 << t) - 1));
        Some(MitchellTrace {
            ka,
            kb,
            fa,
            fb,
            c,
            s,
            p: antilog(t, s, ka + kb + c as u32),
        })
    }

    /// §3.1: the Mitchell product of unsigned n-bit operands.
    pub fn mitchell_product(n: u32, t: u32, a: u64, b: u64) -> u64 {
        mitchell(n, t, a, b).map_or(0, |m| m.p)
    }

    /// One physical output of the t-bit adaptive adder (§3.2 fault sites).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Site {
        /// Sum output of adder position i (i < t).
        Sum(u32),
        /// Primary carry out `c` (of position t-1).
        Carry,
        /// Duplicate-lane carry out `c'` (of position d-1).
        DupCarry,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Fault {
        pub site: Site,
        pub kind: FaultKind,
    }

    /// What AdAM outputs for one operand pair, with the lane plan it used.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct AdamOutcome {
        pub p: u64,
        pub err: bool,
        /// Informative positions `[t-q, t)`.
        pub q: u32,
        /// Duplicated positions.
        pub d: u32,
    }

    fn full_add(x: bool, y: bool, carry: bool) -> (bool, bool) {
        (x ^ y ^ carry, (x & y) | (x & carry) | (y & carry))
    }

    /// §3.2: AdAM on unsigned n-bit operands, the adaptive adder modelled position by position,
    /// with at most one fault on one physical adder output.
    pub fn adam_product(n: u32, t: u32, a: u64, b: u64, fault: Option<Fault>) -> AdamOutcome {
        if a == 0 || b == 0 {
            return AdamOutcome {
                p: 0,
                err: false,
                q: 0,
                d: 0,
            };
        }
        let t = t as usize;
        let (ka, kb) = (msb(a), msb(b));
        let (fa, fb) = (fraction(a, n, t as u32), fraction(b, n, t as u32));
        let bit = |x: u64, i: usize| (x >> i) & 1 == 1;
        let q = (ka.max(kb) as usize).min(t);
        let d = (t - q).min(q);

        // Sum outputs of the t physical positions; idle positions add 0 + 0 + 0.
        let mut sum = [false; 16];
        // Primary lane: positions [t-q, t), carry-in forced to 0 at t-q. The duplicate lane's
        // carry-in is the primary carry into position t-d (0 when d = q, where t-d = t-q).
        let mut carry = false;
        let mut dup_carry_in = false;
        for (i, out) in sum.iter_mut().enumerate().take(t).skip(t - q) {
            if i == t - d {
                dup_carry_in = carry;
            }
            (*out, carry) = full_add(bit(fa, i), bit(fb, i), carry);
        }
        let mut c = carry;
        // Duplicate lane: position j < d adds pair t-d+j; chain cut after position d-1.
        let mut carry = dup_carry_in;
        for (j, out) in sum[..d].iter_mut().enumerate() {
            (*out, carry) = full_add(bit(fa, t - d + j), bit(fb, t - d + j), carry);
        }
        let mut c_dup = d > 0 && carry;

        if let Some(f) = fault {
            match f.site {
                Site::Sum(i) if (i as usize) < t => sum[i as usize] = f.kind.apply(sum[i as usize]),
                Site::Sum(_) => {}
                Site::Carry => c = f.kind.apply(c),
                Site::DupCarry => c_dup = f.kind.apply(c_dup),
            }
        }

        // Checker: zero every primary bit (and c) that disagrees with its copy.
        let mut err = false;
        for j in 0..d {
            if sum[t - d + j] != sum[j] {
                sum[t - d + j] = false;
                err = true;
            }
        }
        if d > 0 && c != c_dup {
            c = false;
            err = true;
        }
        // Positions [0, t-q) (duplicate lane, idle) are masked before the output shift.
        let s: u64 = (t - q..t).filter(|&i| sum[i]).map(|i| 1u64 << i).sum();
        AdamOutcome {
            p: antilog(t as u32, s, ka + kb + u32::from(c)),
            err,
            q: q as u32,
            d: d as u32,
        }
    }

    /// The fault that `fault_site`/`fault_kind` port values select for fraction width t.
    pub fn fault_from_ports(t: u32, site: u64, kind: u64) -> Option<Fault> {
        let kind = FaultKind::from_port(kind)?;
        let t = u64::from(t);
        let site = match site {
            s if (1..=t).contains(&s) => Site::Sum((s - 1) as u32),
            s if s == t + 1 => Site::Carry,
            s if s == t + 2 => Site::DupCarry,
            _ => return None,
        };
        Some(Fault { site, kind })
    }
}

/// Validated parameters of `mitchell` (`protected` false) and `adam` (true).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogParams {
    pub n: u32,
    pub t: u32,
    /// Which operands are two's complement.
    pub signed: qmulgen_rtl::Signedness,
    pub protected: bool,
    pub fault_ports: bool,
    /// How the operands' positions and fractions are found.
    pub operands: OperandStructure,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogParams {
    #[serde(default = "default_width")]
    width: u32,
    frac_bits: Option<u32>,
    signed: Option<bool>,
    a_signed: Option<bool>,
    b_signed: Option<bool>,
    #[serde(default)]
    fault_ports: bool,
    operands: Option<String>,
}

fn default_width() -> u32 {
    8
}

impl LogParams {
    pub fn from_map(protected: bool, map: &ParamMap) -> Result<LogParams, SpecError> {
        let family = if protected { "adam" } else { "mitchell" };
        let raw: RawLogParams = parse_params(family, map)?;
        check_range(family, "width", raw.width, 2, 16)?;
        let t = raw.frac_bits.unwrap_or(raw.width - 1);
        check_range(family, "frac_bits", t, 1, raw.width - 1)?;
        if raw.fault_ports && !protected {
            return Err(SpecError(
                "mitchell: fault_ports is not available (no checker to observe); use adam or tmr"
                    .into(),
            ));
        }
        let operands = match raw.operands.as_deref() {
            None => OperandStructure::for_unit(protected, raw.width, t),
            Some(name) => {
                let o = OperandStructure::ALL
                    .into_iter()
                    .find(|o| o.name() == name)
                    .ok_or_else(|| {
                        let allowed: Vec<_> = OperandStructure::ALL.map(|o| o.name()).into();
                        SpecError(format!(
                            "{family}: operands = {name} is not an operand structure, allowed: {}",
                            allowed.join(", ")
                        ))
                    })?;
                if o == OperandStructure::Normalize && raw.width < 4 {
                    return Err(SpecError(format!(
                        "{family}: operands = normalize needs width >= 4, got width = {}",
                        raw.width
                    )));
                }
                o
            }
        };
        Ok(LogParams {
            n: raw.width,
            t,
            operands,
            signed: crate::base::operand_signedness(
                family,
                raw.signed,
                raw.a_signed,
                raw.b_signed,
            )?,
            protected,
            fault_ports: raw.fault_ports,
        })
    }

    /// Magnitude of an operand: the unsigned value, or |x| of a two's complement operand.
    fn magnitude(&self, x: u64, signed: bool) -> (u64, bool) {
        if signed {
            let v = sign_extend(x, self.n as usize);
            (v.unsigned_abs(), v < 0)
        } else {
            (x, false)
        }
    }

    /// Golden product and `err` for raw operands, with an optional fault (adam only).
    pub fn product(&self, a: u64, b: u64, fault: Option<golden::Fault>) -> (u64, bool) {
        let (ma, na) = self.magnitude(a, self.signed.a);
        let (mb, nb) = self.magnitude(b, self.signed.b);
        let (p, err) = if self.protected {
            let o = golden::adam_product(self.n, self.t, ma, mb, fault);
            (o.p, o.err)
        } else {
            (golden::mitchell_product(self.n, self.t, ma, mb), false)
        };
        let p = if na != nb { -(p as i64) } else { p as i64 };
        (to_raw(p, 2 * self.n as usize), err)
    }
}

impl Unit for LogParams {
    fn family(&self) -> &'static str {
        if self.protected {
            "adam"
        } else {
            "mitchell"
        }
    }
    fn base_name(&self) -> String {
        let f = if self.fault_ports { "_f" } else { "" };
        let operands = if self.signed.a == self.signed.b {
            let s = if self.signed.a { 's' } else { 'u' };
            format!("{s}{}", self.n)
        } else {
            crate::base::operands_name(self.n, self.n, self.signed)
        };
        // A structure other than the default is part of the name (the Verilog differs).
        let structure = match self.operands {
            o if o == OperandStructure::for_unit(self.protected, self.n, self.t) => "",
            OperandStructure::DetectShiftRight => "_lodr",
            OperandStructure::DetectShiftLeft => "_lodl",
            OperandStructure::Normalize => "_nrm",
            OperandStructure::PriorityShiftRight => "_pri",
        };
        format!("{}_{operands}_t{}{structure}{f}", self.family(), self.t)
    }
    fn ports(&self) -> Vec<Port> {
        let n = self.n as usize;
        let mut ports = vec![
            Port::input("a", n, self.signed.a),
            Port::input("b", n, self.signed.b),
        ];
        if self.fault_ports {
            ports.push(Port::input("fault_site", SITE_BITS, false));
            ports.push(Port::input("fault_kind", 2, false));
        }
        ports.push(Port::output("p", 2 * n, self.signed.a || self.signed.b));
        if self.protected {
            ports.push(Port::output("err", 1, false));
        }
        ports
    }
    fn golden(&self, inputs: &[u64], outputs: &mut [u64]) {
        let fault = if self.fault_ports {
            golden::fault_from_ports(self.t, inputs[2], inputs[3])
        } else {
            None
        };
        let (p, err) = self.product(inputs[0], inputs[1], fault);
        outputs[0] = p;
        if self.protected {
            outputs[1] = u64::from(err);
        }
    }
    fn fault_site_names(&self) -> Vec<String> {
        if !self.fault_ports {
            return Vec::new();
        }
        (0..self.t)
            .map(|i| format!("s{i}"))
            .chain(["c".into(), "c'".into()])
            .collect()
    }
    /// §5 delays of the log multiplier's blocks, fitted to Yosys' mapping of each block on its
    /// own (rounded up): a leading-one detector (a LUT per two bits of n), an aligner (a
    /// shifter by k, after n-1-k for the left one), a normaliser (a zero test and a mux per
    /// stage), both operands together, the fraction adder (AdAM's:
    /// the primary and duplicate chains, the move into the idle positions), the lane plan,
    /// the checker, the exponent kA + kB + c (its adder), the antilog shifter (a 2n:1 mux per
    /// bit and the zero mux, with a level to spare), the sign's adder, an injector.
    fn leaf_ns(&self, path: &str) -> Option<f64> {
        use crate::timing::{adder_ns, LUT_NS};
        let (n, t) = (self.n as usize, self.t as usize);
        let k_bits = bitlen(n as u64 - 1) as usize;
        let e_bits = bitlen(2 * n as u64 - 1) as usize;
        let lod = LUT_NS * bitlen(n as u64).div_ceil(2) as f64;
        let align = adder_ns(k_bits) + LUT_NS * k_bits as f64;
        let normalize = 2.0 * LUT_NS * k_bits as f64;
        let magnitude = if self.signed.a || self.signed.b {
            adder_ns(n) + LUT_NS
        } else {
            0.0
        };
        // A block of a list is named by its index (`operands$lod$0`): the list names it.
        let mut names = path.rsplit('$');
        let name = match names.next()? {
            index if index.parse::<usize>().is_ok() => names.next()?,
            name => name,
        };
        Some(match name {
            "operands" => {
                use OperandStructure as S;
                magnitude
                    + match self.operands {
                        S::DetectShiftRight | S::PriorityShiftRight => lod + LUT_NS * k_bits as f64,
                        S::DetectShiftLeft => lod + align,
                        S::Normalize => normalize,
                    }
            }
            "lod" | "priority" => lod,
            "align_right" | "align_left" => align,
            "normalize" => normalize,
            "adder" if self.protected => {
                adder_ns(t) + LUT_NS * (t.saturating_sub(3) / 3).max(1) as f64
            }
            "adder" => adder_ns(t + 1),
            "informative" => LUT_NS,
            "plan" => adder_ns(bitlen(t as u64) as usize) + LUT_NS,
            "duplicate_checker" => LUT_NS * (1 + t.div_ceil(4)) as f64,
            "exponent" => adder_ns(e_bits),
            "shift" => LUT_NS * (e_bits.div_ceil(2) + 3) as f64,
            "sign" => adder_ns(2 * n),
            "injector" => adder_ns(SITE_BITS) + 2.0 * LUT_NS,
            _ => return None,
        })
    }
    fn rtl(&self) -> qmulgen_rtl::AnyBlock {
        let (n, t, s) = (self.n, self.t, self.signed);
        qmulgen_rtl::adam::block(n, t, s, self.protected, self.fault_ports, self.operands)
    }
    fn corner_cases(&self) -> Vec<Vec<u64>> {
        let m = mask(self.n as usize);
        let mut values = vec![0, m, m - 1, 0x5555 & m, 0xaaaa & m];
        for k in 0..self.n {
            values.extend([1 << k, (1 << k) - 1, ((1 << k) + 1) & m]);
        }
        values.sort_unstable();
        values.dedup();
        let pairs = values
            .iter()
            .flat_map(|&a| values.iter().map(move |&b| [a, b]));
        if !self.fault_ports {
            return pairs.map(|p| p.to_vec()).collect();
        }
        let sites = 0..=u64::from(self.t) + 3;
        pairs
            .flat_map(|[a, b]| {
                sites
                    .clone()
                    .flat_map(move |site| (0..4).map(move |kind| vec![a, b, site, kind]))
            })
            .collect()
    }
    fn params(&self) -> serde_json::Value {
        let mut p = serde_json::json!({
            "width": self.n,
            "frac_bits": self.t,
            "signed": self.signed.a,
            "operands": self.operands.name(),
        });
        if self.signed.a != self.signed.b {
            p["a_signed"] = self.signed.a.into();
            p["b_signed"] = self.signed.b.into();
            if let Some(o) = p.as_object_mut() {
                o.remove("signed");
            }
        }
        if self.protected {
            p["fault_ports"] = self.fault_ports.into();
        }
        p
    }
    fn redundant_blocks(&self) -> &'static [&'static str] {
        if self.protected {
            &qmulgen_rtl::adam::REDUNDANT_BLOCKS
        } else {
            &[]
        }
    }
    fn exact_product(&self, inputs: &[u64]) -> Option<i64> {
        let (ma, na) = self.magnitude(inputs[0], self.signed.a);
        let (mb, nb) = self.magnitude(inputs[1], self.signed.b);
        let p = (ma * mb) as i64;
        Some(if na != nb { -p } else { p })
    }
}

#[cfg(test)]
mod tests {
    use super::golden::*;
    use super::*;
    use crate::units::tmr::{KIND_FLIP, KIND_STUCK0, KIND_STUCK1};

    fn unit(family: &str, yaml: &str) -> LogParams {
        let m: ParamMap = serde_yaml::from_str(yaml).unwrap();
        LogParams::from_map(family == "adam", &m).unwrap()
    }

    /// One §3.3 row: n, t, A, B, exact, P, (kA, kB), (FA, FB), (c, s), (q, d).
    type WorkedExample = (
        u32,
        u32,
        u64,
        u64,
        u64,
        u64,
        (u32, u32),
        (u64, u64),
        (u64, u64),
        (u32, u32),
    );

    /// §3.3 worked examples.
    #[test]
    fn worked_examples() {
        #[rustfmt::skip]
        let rows: [WorkedExample; 8] = [
            (8, 7, 13, 11, 143, 128, (3, 3), (80, 48), (1, 0), (3, 3)),
            (8, 7, 3, 5, 15, 14, (1, 2), (64, 32), (0, 96), (2, 2)),
            (8, 7, 96, 64, 6144, 6144, (6, 6), (64, 0), (0, 64), (6, 1)),
            (8, 7, 17, 130, 2210, 2208, (4, 7), (8, 2), (0, 10), (7, 0)),
            (8, 7, 200, 150, 30000, 28416, (7, 7), (72, 22), (0, 94), (7, 0)),
            (8, 7, 255, 255, 65025, 65024, (7, 7), (127, 127), (1, 126), (7, 0)),
            (4, 3, 7, 7, 49, 48, (2, 2), (6, 6), (1, 4), (2, 1)),
            (4, 3, 15, 9, 135, 128, (3, 3), (7, 1), (1, 0), (3, 0)),
        ];
        for (n, t, a, b, exact, p, k, f, cs, qd) in rows {
            assert_eq!(a * b, exact);
            let m = mitchell(n, t, a, b).unwrap();
            assert_eq!((m.ka, m.kb), k, "{a}x{b}");
            assert_eq!((m.fa, m.fb), f, "{a}x{b}");
            assert_eq!((m.c, m.s), cs, "{a}x{b}");
            assert_eq!(m.p, p, "{a}x{b}");
            let o = adam_product(n, t, a, b, None);
            assert_eq!((o.p, o.err, (o.q, o.d)), (p, false, qd), "{a}x{b}");
        }
    }

    /// §3.3 fault examples (n = 8, t = 7, single flips).
    #[test]
    fn fault_examples() {
        let flip = |site| {
            Some(Fault {
                site,
                kind: FaultKind::Flip,
            })
        };
        let rows = [
            (13, 11, Site::Sum(5), 128, 128, true),
            (13, 11, Site::Carry, 128, 64, true),
            (100, 90, Site::Sum(6), 8064, 6016, true),
            (100, 90, Site::Sum(3), 8064, 7808, false),
            (200, 150, Site::Sum(6), 28416, 20224, false),
            (3, 5, Site::Sum(1), 14, 10, true),
        ];
        for (a, b, site, free, faulty, err) in rows {
            assert_eq!(adam_product(8, 7, a, b, None).p, free, "{a}x{b}");
            let o = adam_product(8, 7, a, b, flip(site));
            assert_eq!((o.p, o.err), (faulty, err), "{a}x{b} {site:?}");
        }
        // The rows' "1→0" / "0→1" hold: s5 of 13×11 is 0, s6 of 100×90 and of 200×150 is 1.
        let bit = |a: u64, b: u64, i: u32| (mitchell(8, 7, a, b).unwrap().s >> i) & 1;
        assert_eq!(
            (bit(13, 11, 5), bit(100, 90, 6), bit(100, 90, 3)),
            (0, 1, 1)
        );
        assert_eq!(bit(200, 150, 6), 1);
    }

    /// §3.2: fault-free AdAM equals Mitchell with err = 0, every n <= 10, every t, every pair.
    #[test]
    fn fault_free_adam_is_mitchell_exhaustively() {
        for n in 2..=10u32 {
            for t in 1..n {
                for a in 0..1u64 << n {
                    for b in 0..1u64 << n {
                        let o = adam_product(n, t, a, b, None);
                        assert_eq!(
                            (o.p, o.err),
                            (mitchell_product(n, t, a, b), false),
                            "n={n} t={t} {a}x{b}"
                        );
                    }
                }
            }
        }
    }

    /// §3.1: P <= A·B always, exact when t = n-1 and A, B are powers of two.
    #[test]
    fn mitchell_never_overestimates() {
        for (n, t) in [(6, 5), (6, 2), (8, 7), (8, 3)] {
            for a in 0..1u64 << n {
                for b in 0..1u64 << n {
                    assert!(mitchell_product(n, t, a, b) <= a * b, "n={n} t={t} {a}x{b}");
                }
            }
        }
        assert_eq!(mitchell_product(8, 7, 64, 4), 256);
    }

    fn all_faults(t: u32) -> Vec<Fault> {
        let mut sites: Vec<Site> = (0..t).map(Site::Sum).collect();
        sites.extend([Site::Carry, Site::DupCarry]);
        sites
            .into_iter()
            .flat_map(|site| {
                [FaultKind::Flip, FaultKind::StuckAt0, FaultKind::StuckAt1]
                    .map(|kind| Fault { site, kind })
            })
            .collect()
    }

    /// §3.2 "zeroing guarantees that a detected fault never increases P", over every single
    /// fault site and kind for n = 8; and a fault that changes nothing is never flagged.
    #[test]
    fn detected_faults_never_increase_the_product() {
        let (n, t) = (8, 7);
        let mut detected = 0u64;
        for fault in all_faults(t) {
            for a in 1..256u64 {
                for b in 1..256u64 {
                    let free = adam_product(n, t, a, b, None).p;
                    let o = adam_product(n, t, a, b, Some(fault));
                    if o.err {
                        detected += 1;
                        assert!(o.p <= free, "{a}x{b} {fault:?}: {} > {free}", o.p);
                    }
                }
            }
        }
        assert!(detected > 0);
        // A stuck-at-1 on an idle position never matters: 13×11 has q = 3, d = 3, idle s3.
        let stuck = Fault {
            site: Site::Sum(3),
            kind: FaultKind::StuckAt1,
        };
        assert_eq!(adam_product(8, 7, 13, 11, Some(stuck)).p, 128);
        assert!(!adam_product(8, 7, 13, 11, Some(stuck)).err);
    }

    /// §3.2 protection classes for uniform 8-bit operands, t = 7.
    #[test]
    fn protection_classes_for_uniform_8_bit_operands() {
        let (mut full, mut partial, mut none) = (0u64, 0u64, 0u64);
        for a in 1..256u64 {
            for b in 1..256u64 {
                let m = msb(a).max(msb(b));
                if 2 * m <= 7 {
                    full += 1;
                } else if m < 7 {
                    partial += 1;
                } else {
                    none += 1;
                }
            }
        }
        let pct = |x: u64| format!("{:.2}", 100.0 * x as f64 / 65025.0);
        assert_eq!(
            (pct(full), pct(partial), pct(none)),
            ("0.35".into(), "24.46".into(), "75.20".into())
        );
        // And the lane plan agrees: d = q exactly in the full class, d = 0 in none.
        for (a, b, d) in [(15, 15, 3), (100, 3, 1), (128, 1, 0)] {
            assert_eq!(adam_product(8, 7, a, b, None).d, d);
        }
    }

    /// §3.3 exhaustive error metrics of the fault-free core, to the printed digits, for both
    /// families (fault-free AdAM is Mitchell).
    #[test]
    fn error_metric_table() {
        let rows = [
            (
                4, 3, "47.27", "2.1758", "0.00967", "3.001", 16, "11.111", "-2.1758",
            ),
            (
                8, 7, "93.09", "606.398", "0.00933", "3.788", 4096, "11.111", "-606.398",
            ),
            (
                8,
                4,
                "97.39",
                "1157.250",
                "0.01780",
                "6.619",
                6833,
                "17.255",
                "-1157.250",
            ),
            (
                8,
                3,
                "98.17",
                "1808.861",
                "0.02782",
                "10.345",
                10081,
                "23.527",
                "-1808.861",
            ),
        ];
        for family in ["mitchell", "adam"] {
            for (n, t, er, med, nmed, mred, wce, wcre, mean) in rows {
                let u = unit(family, &format!("{{width: {n}, frac_bits: {t}}}"));
                let (pairs, sampling) = crate::flows::metrics::operand_pairs(&u, None, 1).unwrap();
                assert_eq!(sampling.pairs(), 1 << (2 * n));
                let m = crate::flows::metrics::golden_metrics(&u, pairs.as_ref());
                let digits = |x: f64, like: &str| {
                    let d = like.split('.').nth(1).map_or(0, str::len);
                    format!("{x:.d$}")
                };
                let got = (
                    digits(100.0 * m.er, er),
                    digits(m.med, med),
                    digits(m.nmed, nmed),
                    digits(100.0 * m.mred, mred),
                    m.wce,
                    digits(100.0 * m.wcre, wcre),
                    digits(m.mean_error, mean),
                );
                let want = (
                    er.into(),
                    med.into(),
                    nmed.into(),
                    mred.into(),
                    wce,
                    wcre.into(),
                    mean.into(),
                );
                assert_eq!(got, want, "{family} n={n} t={t}");
            }
        }
    }

    #[test]
    fn port_encoding_selects_sites_and_kinds() {
        assert_eq!(fault_from_ports(7, 0, KIND_FLIP), None);
        assert_eq!(
            fault_from_ports(7, 1, KIND_STUCK1),
            Some(Fault {
                site: Site::Sum(0),
                kind: FaultKind::StuckAt1
            })
        );
        assert_eq!(
            fault_from_ports(7, 8, KIND_FLIP).map(|f| f.site),
            Some(Site::Carry)
        );
        assert_eq!(
            fault_from_ports(7, 9, KIND_STUCK0).map(|f| f.site),
            Some(Site::DupCarry)
        );
        assert_eq!(fault_from_ports(7, 10, KIND_FLIP), None);
        assert_eq!(fault_from_ports(7, 3, 3), None);
    }

    #[test]
    fn signed_goes_through_the_unsigned_core() {
        let u = unit("adam", "{width: 8, signed: true}");
        let raw = |v: i64| to_raw(v, 8);
        // -13 × 11 = -(13×11 ≈ 128); -128 × -128 = 2^14 exactly; 0 stays 0.
        assert_eq!(u.product(raw(-13), 11, None), (to_raw(-128, 16), false));
        assert_eq!(u.product(raw(-128), raw(-128), None), (1 << 14, false));
        assert_eq!(u.product(raw(-5), 0, None), (0, false));
        assert_eq!(u.exact_product(&[raw(-13), 11]), Some(-143));
    }

    #[test]
    fn one_signed_operand_takes_its_magnitude_and_its_sign() {
        // int8 a x uint8 b: -13 × 200 = -(13 × 200 through the core); 200 stays 200, where a
        // signed b would read it as -56 and flip the sign.
        let mixed = unit("adam", "{width: 8, a_signed: true}");
        let unsigned = unit("adam", "{width: 8}");
        let raw = |v: i64| to_raw(v, 8);
        let (magnitude, _) = unsigned.product(13, 200, None);
        assert_eq!(
            mixed.product(raw(-13), 200, None),
            (to_raw(-(magnitude as i64), 16), false)
        );
        assert_eq!(mixed.product(13, 200, None), (magnitude, false));
        assert_eq!(mixed.exact_product(&[raw(-13), 200]), Some(-2600));
        assert_eq!(mixed.base_name(), "adam_s8xu8_t7");
        let both = unit("adam", "{width: 8, signed: true}");
        assert_ne!(
            both.product(raw(-13), 200, None),
            mixed.product(raw(-13), 200, None)
        );
    }

    #[test]
    fn parameters_are_validated_with_the_field_and_range() {
        let err = |fam: &str, yaml: &str| {
            let m: ParamMap = serde_yaml::from_str(yaml).unwrap();
            LogParams::from_map(fam == "adam", &m).unwrap_err().0
        };
        assert_eq!(
            err("adam", "{width: 17}"),
            "adam: width = 17 is out of range, allowed 2..=16"
        );
        assert_eq!(
            err("mitchell", "{width: 8, frac_bits: 8}"),
            "mitchell: frac_bits = 8 is out of range, allowed 1..=7"
        );
        assert!(err("adam", "{with: 8}").contains("unknown field `with`"));
        assert!(err("mitchell", "{fault_ports: true}").contains("fault_ports"));
        let u = unit("adam", "{width: 12}");
        assert_eq!(
            (u.n, u.t, u.base_name()),
            (12, 11, "adam_u12_t11".to_string())
        );
        let u = unit("mitchell", "{width: 12, frac_bits: 11, signed: true}");
        assert_eq!(u.base_name(), "mitchell_s12_t11");
    }

    #[test]
    fn operand_structure_is_a_parameter_named_when_not_the_default() {
        let err = |yaml: &str| {
            let m: ParamMap = serde_yaml::from_str(yaml).unwrap();
            LogParams::from_map(false, &m).unwrap_err().0
        };
        assert_eq!(
            err("{width: 8, operands: barrel}"),
            "mitchell: operands = barrel is not an operand structure, allowed: lod-right, lod-left, normalize, priority-right"
        );
        assert_eq!(
            err("{width: 3, operands: normalize}"),
            "mitchell: operands = normalize needs width >= 4, got width = 3"
        );
        // Each structure by name; the module name says so unless it is the default.
        for (structure, suffix) in [
            (OperandStructure::DetectShiftRight, "_lodr"),
            (OperandStructure::DetectShiftLeft, "_lodl"),
            (OperandStructure::Normalize, "_nrm"),
            (OperandStructure::PriorityShiftRight, "_pri"),
        ] {
            for (n, t) in [(8, 7), (9, 5), (12, 4)] {
                let u = unit(
                    "adam",
                    &format!(
                        "{{width: {n}, frac_bits: {t}, operands: {}}}",
                        structure.name()
                    ),
                );
                assert_eq!(u.operands, structure);
                let default = OperandStructure::for_unit(true, n, t) == structure;
                let name = format!("adam_u{n}_t{t}{}", if default { "" } else { suffix });
                assert_eq!(u.base_name(), name);
            }
        }
        // The default is a table over every (n, t) with n >= 4; below, the detectors.
        assert_eq!(
            unit("mitchell", "{width: 3}").operands,
            OperandStructure::DetectShiftRight
        );
        assert_eq!(
            unit("mitchell", "{width: 12, frac_bits: 4}").operands,
            OperandStructure::Normalize
        );
    }
}
