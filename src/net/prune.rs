//! Filter pruning by geometric median (FPGM, He et al. CVPR 2019), as ARITHMETIC.md §6 has it
//! for post-pruning quantization (PPQ, Makenali et al. 2025): in each MAC layer, the fraction
//! r of filters with the smallest sum of Euclidean distances to the layer's other filters
//! (the most replaceable ones) get zero weights, before quantization.
//!
//! OUR DEFINITION where §6 is silent: the count pruned is `M - max(1, floor(M·(1-r)))`, as
//! FPGM's code keeps `int(M·(1-r))`; ties go to the lower filter index; distances are taken on
//! a Conv's own weights, before a BatchNormalization was folded in (FPGM prunes the Conv's
//! weights); the bias stays (FPGM masks weights only); the layer that computes the network's
//! output is left alone, since its filters are the classes.

use super::graph::{Graph, MacLayer, Op};
use crate::base::Failure;

/// Filters kept and in all, over the pruned layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Kept {
    pub kept: usize,
    pub total: usize,
}

/// The filters FPGM zeroes in a layer at ratio `r`, by index, in ascending order.
pub fn fpgm_filters(layer: &MacLayer, r: f64) -> Vec<usize> {
    let (m, k) = (layer.out_channels, layer.fan_in);
    let keep = ((m as f64 * (1.0 - r)).floor() as usize).clamp(1, m);
    let filter = |i: usize| &layer.prune_basis[i * k..(i + 1) * k];
    let mut sums: Vec<(f64, usize)> = (0..m)
        .map(|i| {
            let d: f64 = (0..m)
                .map(|j| {
                    filter(i)
                        .iter()
                        .zip(filter(j))
                        .map(|(a, b)| f64::from(a - b).powi(2))
                        .sum::<f64>()
                        .sqrt()
                })
                .sum();
            (d, i)
        })
        .collect();
    sums.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut pruned: Vec<usize> = sums[..m - keep].iter().map(|s| s.1).collect();
    pruned.sort_unstable();
    pruned
}

/// Check a pruning ratio: 0 <= r < 1.
pub fn check_ratio(r: f64) -> Result<f64, Failure> {
    if (0.0..1.0).contains(&r) {
        Ok(r)
    } else {
        Err(Failure::BadInput(format!(
            "--prune = {r} is out of range, allowed 0 <= r < 1 (the fraction of filters zeroed)"
        )))
    }
}

/// The MAC layer whose output is the network's (through non-MAC operators only), if any.
fn output_layer(g: &Graph) -> Option<usize> {
    g.nodes.iter().rev().find_map(|n| match n.op {
        Op::Mac(l) => Some(l),
        _ => None,
    })
}

/// `g` with FPGM applied at ratio `r` (a copy), and the filters kept.
pub fn prune(g: &Graph, r: f64) -> (Graph, Kept) {
    let mut out = g.clone();
    let last = output_layer(g);
    let mut kept = Kept::default();
    for (l, layer) in out.layers.iter_mut().enumerate() {
        if Some(l) == last {
            continue;
        }
        let zeroed = if r > 0.0 {
            fpgm_filters(layer, r)
        } else {
            Vec::new()
        };
        let k = layer.fan_in;
        for &f in &zeroed {
            layer.weight[f * k..(f + 1) * k].fill(0.0);
        }
        kept.total += layer.out_channels;
        kept.kept += layer.out_channels - zeroed.len();
    }
    (out, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(filters: &[[f32; 2]]) -> MacLayer {
        let weight: Vec<f32> = filters.iter().flatten().copied().collect();
        MacLayer {
            window: None,
            out_channels: filters.len(),
            fan_in: 2,
            prune_basis: weight.clone(),
            weight,
            bias: vec![0.0; filters.len()],
        }
    }

    #[test]
    fn fpgm_zeroes_the_filters_nearest_the_geometric_median() {
        // Four corners of a square and its centre. Centre: 4·sqrt(2) = 5.66; a corner:
        // sqrt(2) + 2 + 2 + 2·sqrt(2) = 8.24. r = 0.2 keeps floor(4) = 4: the centre goes.
        let layer = dense(&[
            [1.0, 1.0],
            [-1.0, 1.0],
            [0.0, 0.0],
            [1.0, -1.0],
            [-1.0, -1.0],
        ]);
        assert_eq!(fpgm_filters(&layer, 0.2), vec![2]);
        assert_eq!(fpgm_filters(&layer, 0.0), Vec::<usize>::new());
        // Points 0, 1, 2, 4, 10 on a line: sums 17, 14, 13, 15, 33. r = 0.5 keeps floor(2.5)
        // = 2 (the extremes); the three with the smallest sums go.
        let layer = dense(&[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [4.0, 0.0], [10.0, 0.0]]);
        assert_eq!(fpgm_filters(&layer, 0.5), vec![1, 2, 3]);
        // r = 0.9 still keeps one filter.
        assert_eq!(fpgm_filters(&layer, 0.9).len(), 4);
        // A far outlier is never the median's neighbour.
        let layer = dense(&[[0.0, 0.0], [0.1, 0.0], [9.0, 9.0], [0.0, 0.1]]);
        assert!(!fpgm_filters(&layer, 0.5).contains(&2));
        assert_eq!(fpgm_filters(&layer, 0.5).len(), 2);
    }

    #[test]
    fn ratios_outside_0_to_1_are_refused() {
        for r in [-0.1, 1.0, 1.5, f64::NAN] {
            assert!(matches!(check_ratio(r), Err(Failure::BadInput(_))), "{r}");
        }
        assert_eq!(check_ratio(0.0).ok(), Some(0.0));
    }
}
