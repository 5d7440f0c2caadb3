//! Scalar totals by resource name, in Mesos's fixed point (thousandths).
//!
//! Resource names are numbered once ([`Names`]), so that adding an offer to a share
//! and computing a dominant share compare integers, not strings.

use mesos_sdk::resources::Resources;
use smallvec::SmallVec;

fn fixed(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}

/// The scalar resource names seen so far, numbered in the order first seen.
#[derive(Clone, Debug, Default)]
pub(crate) struct Names {
    names: Vec<String>,
}

impl Names {
    fn id(&mut self, name: &str) -> usize {
        match self.names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.names.push(name.to_owned());
                self.names.len() - 1
            }
        }
    }

    /// The scalars of `r` times `sign` (in order, one entry per resource), by name
    /// number, written into `out` (which is cleared first).
    pub(crate) fn scalars(&mut self, r: &Resources, sign: i64, out: &mut Vec<(usize, i64)>) {
        out.clear();
        for res in r.iter() {
            if let Some(s) = res.scalar {
                out.push((self.id(&res.name), fixed(s.value) * sign));
            }
        }
    }
}

/// Scalar quantities by name number (see [`Names`]), ignoring roles and reservations.
/// The first four (typically cpus, mem, disk and gpus) are stored inline, so that reading
/// a share costs no pointer chase.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Quantities {
    items: SmallVec<[i64; 4]>,
}

impl Quantities {
    /// Adds a delta from [`Names::scalars`]; no quantity goes below zero.
    pub(crate) fn apply(&mut self, delta: &[(usize, i64)]) {
        for &(i, v) in delta {
            if i >= self.items.len() {
                if v <= 0 {
                    continue;
                }
                self.items.resize(i + 1, 0);
            }
            self.items[i] = (self.items[i] + v).max(0);
        }
    }

    /// Adds `sign` times a delta from [`Names::scalars`]; no quantity goes below zero.
    pub(crate) fn apply_signed(&mut self, delta: &[(usize, i64)], sign: i64) {
        for &(i, v) in delta {
            self.apply(&[(i, v * sign)]);
        }
    }

    /// Every quantity, as a delta for [`Quantities::apply`], written into `out` (which is
    /// cleared first).
    pub(crate) fn delta(&self, out: &mut Vec<(usize, i64)>) {
        out.clear();
        out.extend(
            self.items
                .iter()
                .copied()
                .enumerate()
                .filter(|&(_, v)| v != 0),
        );
    }

    /// Whether every quantity is zero.
    pub(crate) fn is_empty(&self) -> bool {
        self.items.iter().all(|&v| v == 0)
    }

    /// Sets every quantity to zero.
    pub(crate) fn clear(&mut self) {
        self.items.clear();
    }

    /// The dominant share: the largest `self[name] / total[name]` over names `total` has.
    pub(crate) fn share(&self, total: &Quantities) -> f64 {
        self.items
            .iter()
            .zip(&total.items)
            .filter(|&(_, &t)| t > 0)
            .map(|(&v, &t)| v as f64 / t as f64)
            .fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(names: &mut Names, q: &mut Quantities, spec: &str, sign: i64) {
        let mut delta = Vec::new();
        names.scalars(&Resources::parse(spec).unwrap(), sign, &mut delta);
        q.apply(&delta);
    }

    #[test]
    fn share_is_the_largest_fraction() {
        let mut names = Names::default();
        let mut total = Quantities::default();
        apply(&mut names, &mut total, "cpus:9;mem:18432;ports:[1-9]", 1);
        let mut a = Quantities::default();
        apply(&mut names, &mut a, "cpus:1;mem:4096", 1);
        assert!((a.share(&total) - 4096.0 / 18432.0).abs() < 1e-12);
        apply(&mut names, &mut a, "cpus:1;mem:4096", -1);
        assert_eq!(a.share(&total), 0.0);
    }

    #[test]
    fn names_the_total_lacks_do_not_count_and_nothing_goes_negative() {
        let mut names = Names::default();
        let mut total = Quantities::default();
        apply(&mut names, &mut total, "cpus:4", 1);
        let mut a = Quantities::default();
        apply(&mut names, &mut a, "gpus:1;cpus:1", 1);
        assert_eq!(a.share(&total), 0.25);
        apply(&mut names, &mut a, "cpus:3", -1);
        apply(&mut names, &mut a, "disk:5", -1);
        assert_eq!(a.share(&total), 0.0);
        apply(&mut names, &mut a, "cpus:2", 1);
        assert_eq!(a.share(&total), 0.5);
    }
}
