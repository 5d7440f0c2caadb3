//! Carving task resources out of an offer.

use mesos_sdk::v1;

/// Unreserved-or-reserved scalar amount of `name` in `resources`.
pub fn scalar(resources: &[v1::Resource], name: &str) -> f64 {
    resources
        .iter()
        .filter(|r| r.name == name && r.r#type == v1::value::Type::Scalar as i32)
        .filter_map(|r| r.scalar.as_ref().map(|s| s.value))
        .sum()
}

/// What is left of an offer while tasks are fitted into it.
#[derive(Debug, Clone)]
pub struct OfferSpace {
    left: Vec<v1::Resource>,
}

impl OfferSpace {
    /// The whole of `offer`.
    pub fn new(offer: &v1::Offer) -> Self {
        Self {
            left: offer.resources.clone(),
        }
    }

    /// Takes `cpus` and `mem` from what is left, as resources copied from the offer
    /// (keeping its role, allocation and reservation fields, which Mesos checks); `None`
    /// when they do not fit.
    pub fn take(&mut self, cpus: f64, mem: f64) -> Option<Vec<v1::Resource>> {
        if scalar(&self.left, "cpus") + 1e-9 < cpus || scalar(&self.left, "mem") + 1e-9 < mem {
            return None;
        }
        let mut taken = Vec::new();
        for (name, mut want) in [("cpus", cpus), ("mem", mem)] {
            for r in self.left.iter_mut().filter(|r| r.name == name) {
                let Some(s) = r.scalar.as_mut() else { continue };
                if want <= 1e-9 {
                    break;
                }
                let amount = want.min(s.value);
                if amount <= 0.0 {
                    continue;
                }
                s.value -= amount;
                want -= amount;
                let mut piece = r.clone();
                piece.scalar = Some(v1::value::Scalar { value: amount });
                taken.push(piece);
            }
        }
        Some(taken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(name: &str, value: f64, role: Option<&str>) -> v1::Resource {
        v1::Resource {
            name: name.into(),
            r#type: v1::value::Type::Scalar as i32,
            scalar: Some(v1::value::Scalar { value }),
            allocation_info: role.map(|r| v1::resource::AllocationInfo {
                role: Some(r.into()),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn tasks_fit_until_the_offer_is_used_up() {
        let offer = v1::Offer {
            resources: vec![res("cpus", 2.0, Some("*")), res("mem", 300.0, Some("*"))],
            ..Default::default()
        };
        let mut space = OfferSpace::new(&offer);
        let first = space.take(0.5, 128.0).unwrap();
        assert_eq!(scalar(&first, "cpus"), 0.5);
        assert_eq!(scalar(&first, "mem"), 128.0);
        assert!(first.iter().all(|r| r.allocation_info.is_some()));
        assert!(space.take(0.5, 128.0).is_some());
        assert!(space.take(0.5, 128.0).is_none(), "only 44 MB left");
    }
}
