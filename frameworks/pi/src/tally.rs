//! Counting results and turning them into an estimate of π.

use serde::{Deserialize, Serialize};

/// Hits out of samples: the result of one task, or of many merged.
///
/// ```
/// use mesos_pi::tally::Tally;
///
/// let mut total = Tally::new(785, 1000);
/// total.merge(Tally::new(786, 1000));
/// assert_eq!(total, Tally::new(1571, 2000));
/// let est = total.estimate().unwrap();
/// assert!((est.pi - 3.142).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Samples inside the quarter circle.
    pub hits: u64,
    /// Samples drawn.
    pub samples: u64,
}

/// An estimate of π with its uncertainty.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The estimate, `4 · hits / samples`.
    pub pi: f64,
    /// Absolute difference from [`std::f64::consts::PI`].
    pub error: f64,
    /// Standard error of the estimate, `4 · sqrt(p (1 − p) / n)` with `p = hits / samples`.
    pub std_error: f64,
}

impl Tally {
    /// A tally of `hits` out of `samples`.
    pub const fn new(hits: u64, samples: u64) -> Self {
        Self { hits, samples }
    }

    /// Adds another tally into this one (saturating, so hostile input cannot wrap it).
    pub fn merge(&mut self, other: Tally) {
        self.hits = self.hits.saturating_add(other.hits);
        self.samples = self.samples.saturating_add(other.samples);
    }

    /// The estimate of π, or `None` when there are no samples yet.
    pub fn estimate(&self) -> Option<Estimate> {
        if self.samples == 0 {
            return None;
        }
        let n = self.samples as f64;
        let p = self.hits as f64 / n;
        let pi = 4.0 * p;
        Some(Estimate {
            pi,
            error: (pi - std::f64::consts::PI).abs(),
            std_error: 4.0 * (p * (1.0 - p) / n).sqrt(),
        })
    }
}

impl std::iter::Sum for Tally {
    fn sum<I: Iterator<Item = Tally>>(iter: I) -> Self {
        let mut t = Tally::default();
        iter.for_each(|x| t.merge(x));
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_tally_has_no_estimate() {
        assert_eq!(Tally::default().estimate(), None);
    }

    #[test]
    fn standard_error_matches_the_binomial_formula() {
        let e = Tally::new(3, 4).estimate().unwrap();
        assert_eq!(e.pi, 3.0);
        assert!((e.std_error - 4.0 * (0.75f64 * 0.25 / 4.0).sqrt()).abs() < 1e-15);
        assert!((e.error - (std::f64::consts::PI - 3.0)).abs() < 1e-15);
    }

    #[test]
    fn sum_merges_and_saturates() {
        let t: Tally = [Tally::new(1, 2), Tally::new(3, 4)].into_iter().sum();
        assert_eq!(t, Tally::new(4, 6));
        let mut big = Tally::new(u64::MAX, u64::MAX);
        big.merge(Tally::new(1, 1));
        assert_eq!(big, Tally::new(u64::MAX, u64::MAX));
    }
}
