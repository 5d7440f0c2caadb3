//! Scalar totals by resource name, in Mesos's fixed point (thousandths).

use crate::resources::Resources;

/// Scalar quantities by name (e.g. `cpus`, `mem`), ignoring roles and reservations.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Quantities {
    items: Vec<(String, i64)>,
}

fn fixed(v: f64) -> i64 {
    (v * 1000.0).round() as i64
}

impl Quantities {
    /// Adds (`sign = 1`) or removes (`sign = -1`) the scalars of `r`.
    pub(crate) fn apply(&mut self, r: &Resources, sign: i64) {
        for res in r.iter() {
            let Some(s) = res.scalar else { continue };
            let v = fixed(s.value) * sign;
            match self.items.iter_mut().find(|(n, _)| *n == res.name) {
                Some((_, have)) => *have = (*have + v).max(0),
                None if v > 0 => self.items.push((res.name.clone(), v)),
                None => {}
            }
        }
    }

    /// The dominant share: the largest `self[name] / total[name]` over names `total` has.
    pub(crate) fn share(&self, total: &Quantities) -> f64 {
        self.items
            .iter()
            .filter_map(|(name, v)| {
                let t = total.get(name);
                (t > 0).then(|| *v as f64 / t as f64)
            })
            .fold(0.0, f64::max)
    }

    fn get(&self, name: &str) -> i64 {
        self.items
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, v)| *v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn share_is_the_largest_fraction() {
        let mut total = Quantities::default();
        total.apply(
            &Resources::parse("cpus:9;mem:18432;ports:[1-9]").unwrap(),
            1,
        );
        let mut a = Quantities::default();
        a.apply(&Resources::parse("cpus:1;mem:4096").unwrap(), 1);
        assert!((a.share(&total) - 4096.0 / 18432.0).abs() < 1e-12);
        a.apply(&Resources::parse("cpus:1;mem:4096").unwrap(), -1);
        assert_eq!(a.share(&total), 0.0);
    }
}
