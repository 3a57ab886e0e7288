//! Classification of injections against the fault-free output: masked, detected, SDC (with
//! the SDC's relative error in decades), counted per kind, optionally weighted by the data's
//! pair frequencies and tallied per pair for the margins of sampled campaigns.

use super::*;

/// SDC magnitude `|p_faulty - p| / max(1, |p|)` in decades: bin upper edges.
pub const SDC_DECADES: [&str; 7] = ["<1e-4", "<1e-3", "<1e-2", "<1e-1", "<1", "<10", ">=10"];

/// Counts of one fault kind. `weighted_*` are sums of pair weights (the product of the
/// operands' frequencies in the `--inputs` files), integers so that shards merge exactly.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub injections: u64,
    pub masked: u64,
    pub detected: u64,
    /// Detected injections whose p still equals the fault-free p.
    pub detected_equal: u64,
    pub sdc: u64,
    /// SDCs with a relative error above 5 %.
    pub sdc_over_5pct: u64,
    /// SDCs by relative error, bins of [`SDC_DECADES`].
    pub sdc_decades: [u64; 7],
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub weighted: Option<WeightedCounts>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WeightedCounts {
    pub total: u128,
    pub masked: u128,
    pub detected: u128,
    pub sdc: u128,
}

impl Counts {
    pub(crate) fn add(&mut self, o: &Counts) {
        self.injections += o.injections;
        self.masked += o.masked;
        self.detected += o.detected;
        self.detected_equal += o.detected_equal;
        self.sdc += o.sdc;
        self.sdc_over_5pct += o.sdc_over_5pct;
        for (a, b) in self.sdc_decades.iter_mut().zip(o.sdc_decades) {
            *a += b;
        }
        if let Some(w) = &o.weighted {
            let s = self.weighted.get_or_insert_with(Default::default);
            s.total += w.total;
            s.masked += w.masked;
            s.detected += w.detected;
            s.sdc += w.sdc;
        }
    }

    /// Share of the SDCs above 5 % relative error, in %.
    pub fn sdc_over_5pct_share(&self) -> f64 {
        100.0 * self.sdc_over_5pct as f64 / self.sdc.max(1) as f64
    }

    /// Rate of `n` over the injections, in %.
    pub fn percent(&self, n: u64) -> f64 {
        100.0 * n as f64 / self.injections.max(1) as f64
    }
}

pub(crate) fn decade(relative: f64) -> usize {
    let mut bin = 0;
    let mut edge = 1e-4;
    while bin < 6 && relative >= edge {
        bin += 1;
        edge *= 10.0;
    }
    bin
}

/// How one run reads the model's outputs and classifies them.
pub(crate) struct Classes<'a> {
    /// Width and signedness of p.
    pub(crate) p: (usize, bool),
    pub(crate) weights: Option<&'a [u128]>,
    /// Tally each pair's classes (sampled campaigns: the margins need them).
    pub(crate) tally_pairs: bool,
}

impl Classes<'_> {
    pub(crate) fn value(&self, raw: u64) -> i64 {
        match self.p {
            (width, true) => sign_extend(raw, width),
            _ => raw as i64,
        }
    }

    pub(crate) fn sdc(&self, c: &mut Counts, p0: u64, p: u64) {
        let (v0, v) = (self.value(p0), self.value(p));
        let rel = (v - v0).unsigned_abs() as f64 / (v0.unsigned_abs().max(1)) as f64;
        c.sdc_decades[decade(rel)] += 1;
        c.sdc_over_5pct += u64::from(rel > 0.05);
    }

    pub(crate) fn weigh(&self, c: &mut Counts, pair: usize, class: usize) {
        if let Some(w) = self.weights {
            let w = w[pair];
            let s = c.weighted.get_or_insert_with(Default::default);
            s.total += w;
            match class {
                0 => s.masked += w,
                1 => s.detected += w,
                _ => s.sdc += w,
            }
        }
    }

    /// One scalar injection; `tally` counts its class for its pair (sampled campaigns).
    pub(crate) fn one(
        &self,
        c: &mut Counts,
        pair: usize,
        (p0, p, err): (u64, u64, bool),
        tally: Option<&mut [[u32; 3]]>,
    ) {
        c.injections += 1;
        let class = if err {
            c.detected += 1;
            c.detected_equal += u64::from(p == p0);
            1
        } else if p == p0 {
            c.masked += 1;
            0
        } else {
            c.sdc += 1;
            self.sdc(c, p0, p);
            2
        };
        self.weigh(c, pair, class);
        if let Some(t) = tally {
            t[pair][class] += 1;
        }
    }

    /// 64 injections at once: `p`/`p0` bit-sliced, `err` a lane word, `lanes` the valid lanes,
    /// the block's first pair `first_pair`; `tally` as for [`Classes::one`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn block(
        &self,
        c: &mut Counts,
        first_pair: usize,
        lanes: u64,
        p0: &[u64],
        p: &[u64],
        err: u64,
        tally: Option<&mut [[u32; 3]]>,
    ) {
        let differ = p0.iter().zip(p).fold(0, |d, (a, b)| d | (a ^ b));
        let (err, differ) = (err & lanes, differ & lanes);
        let sdc = differ & !err;
        c.injections += u64::from(lanes.count_ones());
        c.detected += u64::from(err.count_ones());
        c.detected_equal += u64::from((err & !differ).count_ones());
        c.masked += u64::from((lanes & !err & !differ).count_ones());
        c.sdc += u64::from(sdc.count_ones());
        if let Some(t) = tally {
            for (class, mut rest) in [lanes & !err & !differ, err, sdc].into_iter().enumerate() {
                while rest != 0 {
                    t[first_pair + rest.trailing_zeros() as usize][class] += 1;
                    rest &= rest - 1;
                }
            }
        }
        let mut rest = sdc;
        while rest != 0 {
            let lane = rest.trailing_zeros();
            rest &= rest - 1;
            self.sdc(c, lane_value(p0, lane), lane_value(p, lane));
        }
        if self.weights.is_some() {
            for lane in 0..64 {
                if (lanes >> lane) & 1 == 1 {
                    let class = if (err >> lane) & 1 == 1 {
                        1
                    } else if (differ >> lane) & 1 == 1 {
                        2
                    } else {
                        0
                    };
                    self.weigh(c, first_pair + lane as usize, class);
                }
            }
        }
    }
}

/// Per-pair class counts summed over threads (or shards).
pub(crate) fn sum_tallies(parts: Vec<Vec<Vec<[u32; 3]>>>) -> Vec<Vec<[u32; 3]>> {
    let mut parts = parts.into_iter().filter(|p| !p.is_empty());
    let Some(mut sum) = parts.next() else {
        return Vec::new();
    };
    for p in parts {
        for (a, b) in sum.iter_mut().zip(p) {
            for (x, y) in a.iter_mut().zip(b) {
                for k in 0..3 {
                    x[k] += y[k];
                }
            }
        }
    }
    sum
}
