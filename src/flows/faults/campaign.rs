//! A campaign's result: counts per kind and per site, shards and their checked merge, and the
//! confidence margins of sampled campaigns.

use super::*;

/// One row per site and kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SiteRow {
    pub site: u64,
    pub name: String,
    pub kind: String,
    pub injections: u64,
    pub masked: u64,
    pub detected: u64,
    pub detected_equal: u64,
    pub sdc: u64,
}

/// Which slice of the site range a shard ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
    pub first_site: u64,
    pub last_site: u64,
}

/// A rate of a sampled campaign and the half-widths of its 95 % and 99 % confidence intervals
/// ([`Campaign::margins`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Margin {
    pub rate: String,
    pub value: f64,
    pub margin_95: f64,
    pub margin_99: f64,
}

/// A campaign's result (or one shard's part of it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub unit: String,
    pub family: String,
    pub params: serde_json::Value,
    pub site_universe: SiteUniverse,
    /// Number of fault sites of the unit (all shards together).
    pub sites: u64,
    pub exhaustive: bool,
    /// Operand pairs per (site, kind).
    pub pairs: u64,
    /// Bits of the two operands together (the operand space has 2^operand_bits pairs).
    pub operand_bits: u32,
    /// Seed of the random pairs (sampled campaigns).
    pub seed: Option<u64>,
    pub kinds: Vec<String>,
    pub shard: Option<Shard>,
    /// LUTs of the mapped netlist (netlist sites).
    pub lut: Option<u64>,
    pub yosys: Option<String>,
    /// The `--inputs` files that weighted the pairs.
    pub inputs: Option<Vec<String>>,
    pub flip: Option<Counts>,
    pub sa0: Option<Counts>,
    pub sa1: Option<Counts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init: Option<Counts>,
    pub rows: Vec<SiteRow>,
    /// Sampled campaigns: per kind (in `kinds` order) and pair, the injections that were
    /// masked, detected and SDC. Every site reuses the pairs, so the margins treat pairs as
    /// clusters of injections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pair_counts: Vec<Vec<[u32; 3]>>,
}

impl Campaign {
    pub fn counts(&self) -> [(&'static str, Option<&Counts>); 4] {
        [
            ("flip", self.flip.as_ref()),
            ("sa0", self.sa0.as_ref()),
            ("sa1", self.sa1.as_ref()),
            ("init", self.init.as_ref()),
        ]
    }

    pub(crate) fn counts_mut(&mut self, kind: usize) -> &mut Option<Counts> {
        match kind {
            0 => &mut self.flip,
            1 => &mut self.sa0,
            2 => &mut self.sa1,
            _ => &mut self.init,
        }
    }

    /// All kinds together.
    pub fn total(&self) -> Counts {
        self.total_of(&["flip", "sa0", "sa1", "init"])
    }

    /// The kinds named together.
    pub fn total_of(&self, kinds: &[&str]) -> Counts {
        let mut t = Counts::default();
        for (kind, c) in self.counts() {
            if let Some(c) = c.filter(|_| kinds.contains(&kind)) {
                t.add(c);
            }
        }
        t
    }

    /// Confidence margins of the rates of a sampled campaign (none when exhaustive: exact).
    /// The pairs are the sample and every site reuses them: a rate is the mean over pairs of
    /// each pair's rate over the sites, and its variance comes from the spread of those
    /// per-pair rates (cluster-robust), with the finite-population correction over pairs.
    pub fn margins(&self) -> Vec<Margin> {
        if self.exhaustive {
            return Vec::new();
        }
        let space = 2f64.powi(self.operand_bits as i32);
        let mut v = Vec::new();
        for (slot, kind) in self.kinds.iter().enumerate() {
            let Some(per_pair) = self.pair_counts.get(slot) else {
                continue;
            };
            let n = per_pair.len() as f64;
            let fpc = ((space - n) / (space - 1.0).max(1.0)).max(0.0);
            for (class, rate) in ["masked", "detected", "sdc"].iter().enumerate() {
                let per: Vec<f64> = per_pair
                    .iter()
                    .map(|c| {
                        let t = c.iter().map(|&x| f64::from(x)).sum::<f64>();
                        f64::from(c[class]) / t.max(1.0)
                    })
                    .collect();
                let mean = per.iter().sum::<f64>() / n.max(1.0);
                let s2 = per.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
                let se = (s2 / n.max(1.0) * fpc).sqrt();
                v.push(Margin {
                    rate: format!("{kind}.{rate}"),
                    value: mean,
                    margin_95: 1.96 * se,
                    margin_99: 2.576 * se,
                });
            }
        }
        v
    }
}

/// Sum shard results into the result of one run; the shards must be 1..N of the same
/// campaign, each once. Parts are named `part 1`, `part 2`, ... in errors.
pub fn merge(parts: &[Campaign]) -> Result<Campaign, Failure> {
    let named: Vec<(String, Campaign)> = parts
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("part {}", i + 1), c.clone()))
        .collect();
    merge_named(&named)
}

/// Why a part cannot be merged: its counts contradict themselves.
pub(crate) fn check_part(c: &Campaign) -> Result<(), String> {
    for (kind, counts) in c.counts() {
        let Some(k) = counts else { continue };
        if k.masked + k.detected + k.sdc != k.injections
            || k.detected_equal > k.detected
            || k.sdc_over_5pct > k.sdc
            || k.sdc_decades.iter().sum::<u64>() != k.sdc
        {
            return Err(format!(
                "{kind}: masked {} + detected {} + sdc {} do not make its {} injections (or the SDC bins disagree)",
                k.masked, k.detected, k.sdc, k.injections
            ));
        }
        if !c.kinds.iter().any(|n| n == kind) {
            return Err(format!("{kind} counts for a campaign of {:?}", c.kinds));
        }
        let rows = c.rows.iter().filter(|r| r.kind == kind);
        let (inj, masked) = rows.fold((0, 0), |(i, m), r| (i + r.injections, m + r.masked));
        if (inj, masked) != (k.injections, k.masked) {
            return Err(format!("{kind}: its site rows do not add up to its counts"));
        }
    }
    if let Some(r) = c.rows.iter().find(|r| r.injections != c.pairs) {
        return Err(format!(
            "site {} ({}): {} injections where every site takes {} pairs",
            r.site, r.kind, r.injections, c.pairs
        ));
    }
    Ok(())
}

/// [`merge`] with the parts' file names for the errors: every part is checked (same campaign,
/// self-consistent counts, the site range its shard index gives), one line, never a panic.
pub fn merge_named(parts: &[(String, Campaign)]) -> Result<Campaign, Failure> {
    let (first_name, first) = parts
        .first()
        .ok_or_else(|| Failure::BadInput("--merge needs at least one part".into()))?;
    let count = first.shard.as_ref().map_or(1, |s| s.count);
    if count != parts.len() as u64 {
        return Err(Failure::BadInput(format!(
            "{first_name} is shard {}/{count}: {count} parts expected, {} given",
            first.shard.as_ref().map_or(1, |s| s.index),
            parts.len()
        )));
    }
    fn same(c: &Campaign) -> impl PartialEq + '_ {
        (
            (&c.unit, &c.params, c.site_universe, c.sites, c.exhaustive),
            (c.pairs, c.operand_bits, c.seed, &c.kinds, &c.inputs),
            (c.lut, &c.yosys),
        )
    }
    let mut seen = vec![false; parts.len()];
    for (name, c) in parts {
        let bad = |what: String| Failure::BadInput(format!("{name}: {what}"));
        if same(c) != same(first) {
            return Err(bad(format!(
                "not a shard of the campaign of {first_name}: unit, parameters, sites, pairs, seed, kinds, inputs and netlist (LUTs, Yosys) must agree ({} {:?} {} pairs seed {:?} vs {} {:?} {} pairs seed {:?})",
                c.unit, c.site_universe, c.pairs, c.seed, first.unit, first.site_universe, first.pairs, first.seed
            )));
        }
        let Some(s) = &c.shard else {
            return Err(bad("a complete campaign, not a shard".into()));
        };
        if s.count != count || s.index == 0 || s.index > count || seen[(s.index - 1) as usize] {
            return Err(bad(format!(
                "shard {}/{} does not fit shards of {count}, or is given twice",
                s.index, s.count
            )));
        }
        seen[(s.index - 1) as usize] = true;
        let per = c.sites.div_ceil(count);
        let range = ((s.index - 1) * per + 1, (s.index * per).min(c.sites));
        if (s.first_site, s.last_site) != range {
            return Err(bad(format!(
                "shard {}/{count} covers sites {}..={}, not {}..={}",
                s.index, s.first_site, s.last_site, range.0, range.1
            )));
        }
        check_part(c).map_err(bad)?;
        if !c.exhaustive && c.pair_counts.iter().any(|k| k.len() as u64 != c.pairs) {
            return Err(bad("its per-pair counts do not cover its pairs".into()));
        }
    }
    let mut sorted: Vec<&Campaign> = parts.iter().map(|(_, c)| c).collect();
    sorted.sort_by_key(|c| c.shard.as_ref().map_or(0, |s| s.index));
    let mut merged = Campaign {
        shard: None,
        flip: None,
        sa0: None,
        sa1: None,
        init: None,
        rows: Vec::new(),
        pair_counts: sum_tallies(sorted.iter().map(|c| c.pair_counts.clone()).collect()),
        ..first.clone()
    };
    for c in sorted {
        for (k, counts) in c.counts().into_iter().enumerate() {
            if let Some(counts) = counts.1 {
                merged
                    .counts_mut(k)
                    .get_or_insert_with(Default::default)
                    .add(counts);
            }
        }
        merged.rows.extend(c.rows.iter().cloned());
    }
    Ok(merged)
}

/// Read partial results written with `--json`, named by their paths.
pub fn read_parts(paths: &[&Path]) -> Result<Vec<(String, Campaign)>, Failure> {
    read_json_parts(paths, "qmulgen faults")
}

/// Parse each file as the JSON result of `command`, named by its path.
pub fn read_json_parts<T: serde::de::DeserializeOwned>(
    paths: &[&Path],
    command: &str,
) -> Result<Vec<(String, T)>, Failure> {
    paths
        .iter()
        .map(|p| {
            let name = p.display().to_string();
            let text = std::fs::read_to_string(p)
                .map_err(|e| Failure::BadInput(format!("{name}: {e}")))?;
            let c = serde_json::from_str(&text).map_err(|e| {
                Failure::BadInput(format!("{name}: not a {command} JSON result: {e}"))
            })?;
            Ok((name, c))
        })
        .collect()
}
