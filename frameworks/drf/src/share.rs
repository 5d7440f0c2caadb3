//! Dominant shares: the quantity DRF equalises.

use serde::{Deserialize, Serialize};

/// An amount of the two resources the demo uses: CPUs and memory (MB).
///
/// ```
/// use drf_demo::share::Amount;
/// let cluster = Amount::new(9.0, 18432.0);
/// let a = Amount::new(3.0, 12288.0);
/// assert!((a.dominant_share(&cluster) - 2.0 / 3.0).abs() < 1e-9);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Amount {
    /// CPUs.
    pub cpus: f64,
    /// Memory in MB.
    pub mem: f64,
}

impl Amount {
    /// An amount of `cpus` CPUs and `mem` MB.
    pub const fn new(cpus: f64, mem: f64) -> Self {
        Self { cpus, mem }
    }

    /// The sum of two amounts.
    pub fn plus(&self, other: &Amount) -> Amount {
        Amount::new(self.cpus + other.cpus, self.mem + other.mem)
    }

    /// `self` minus `other`, floored at zero per resource.
    pub fn saturating_minus(&self, other: &Amount) -> Amount {
        Amount::new(
            (self.cpus - other.cpus).max(0.0),
            (self.mem - other.mem).max(0.0),
        )
    }

    /// `self` scaled by `n` (e.g. one task's size times the task count).
    pub fn times(&self, n: f64) -> Amount {
        Amount::new(self.cpus * n, self.mem * n)
    }

    /// Whether `self` fits into `available`, allowing for floating-point noise
    /// (Mesos itself compares scalars at a fixed precision of 0.001).
    pub fn fits_in(&self, available: &Amount) -> bool {
        const EPS: f64 = 1e-3;
        self.cpus <= available.cpus + EPS && self.mem <= available.mem + EPS
    }

    /// The dominant share of `self` in a cluster of `total`: the largest of
    /// `cpus / total.cpus` and `mem / total.mem`. Resources the cluster has none of
    /// are ignored, so an empty cluster gives 0.
    pub fn dominant_share(&self, total: &Amount) -> f64 {
        let share = |used: f64, total: f64| if total > 0.0 { used / total } else { 0.0 };
        share(self.cpus, total.cpus).max(share(self.mem, total.mem))
    }
}

/// Reads the `cpus` and `mem` scalars out of a Mesos resource string such as
/// `cpus:9;mem:18432;ports:[31000-32000]`. Other resources are ignored; a resource
/// may carry a role suffix (`cpus(*):4`). Returns `None` for malformed scalars.
///
/// ```
/// use drf_demo::share::{parse_resource_string, Amount};
/// assert_eq!(parse_resource_string("cpus:4;mem:4096"), Some(Amount::new(4.0, 4096.0)));
/// assert_eq!(parse_resource_string("cpus:x"), None);
/// ```
pub fn parse_resource_string(text: &str) -> Option<Amount> {
    let mut amount = Amount::default();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once(':')?;
        let name = name.split('(').next().unwrap_or(name).trim();
        let value = value.trim();
        match name {
            "cpus" => amount.cpus += parse_scalar(value)?,
            "mem" => amount.mem += parse_scalar(value)?,
            _ => {}
        }
    }
    Some(amount)
}

fn parse_scalar(value: &str) -> Option<f64> {
    value
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominant_share_takes_the_larger_fraction() {
        let cluster = Amount::new(9.0, 18432.0);
        // B in the paper: 2 tasks of <3 CPU, 1 GB>.
        let b = Amount::new(3.0, 1024.0).times(2.0);
        assert!((b.dominant_share(&cluster) - 2.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            Amount::new(1.0, 1.0).dominant_share(&Amount::default()),
            0.0
        );
    }

    #[test]
    fn resource_strings_with_roles_and_ranges() {
        assert_eq!(
            parse_resource_string("cpus(*):2; mem:1024 ;ports:[1-2];cpus:1"),
            Some(Amount::new(3.0, 1024.0))
        );
        assert_eq!(parse_resource_string("mem"), None);
        assert_eq!(parse_resource_string("mem:-1"), None);
    }

    #[test]
    fn fitting_tolerates_rounding() {
        let free = Amount::new(0.3, 512.0);
        assert!(Amount::new(0.1 + 0.2, 512.0).fits_in(&free));
        assert!(!Amount::new(0.5, 512.0).fits_in(&free));
    }
}
