//! The older wire formats of reservations, for peers that predate "reservation
//! refinement" (frameworks without the `RESERVATION_REFINEMENT` capability) and for
//! HTTP endpoints, which carry both forms.

use super::{Resources, ResourcesError};
use crate::v1;
use crate::v1::resource::reservation_info::Type as ReservationType;

impl Resources {
    /// The resources in the pre-refinement format Mesos sends to frameworks without the
    /// `RESERVATION_REFINEMENT` capability: `role` is set (`*` when unreserved), a dynamic
    /// reservation's principal and labels go to `reservation`, `reservations` is empty.
    ///
    /// # Errors
    /// [`ResourcesError::RefinedReservation`] if a resource has more than one
    /// reservation, which the old format cannot express.
    pub fn to_pre_refinement(&self) -> Result<Vec<v1::Resource>, ResourcesError> {
        self.iter()
            .map(|r| {
                if r.reservations.len() > 1 {
                    return Err(ResourcesError::RefinedReservation {
                        name: r.name.clone(),
                    });
                }
                let mut out = downgrade(r);
                out.reservations.clear();
                Ok(out)
            })
            .collect()
    }

    /// The resources as Mesos's HTTP endpoints show them: `reservations` kept, and for
    /// resources with at most one reservation also the old `role`/`reservation` fields.
    pub fn to_endpoint_format(&self) -> Vec<v1::Resource> {
        self.iter()
            .map(|r| {
                if r.reservations.len() > 1 {
                    r.clone()
                } else {
                    downgrade(r)
                }
            })
            .collect()
    }
}

/// Sets `role` and `reservation` from a resource with at most one reservation.
#[allow(deprecated)]
fn downgrade(r: &v1::Resource) -> v1::Resource {
    let mut out = r.clone();
    match r.reservations.first() {
        None => out.role = Some("*".to_owned()),
        Some(res) => {
            if res.r#type == Some(ReservationType::Dynamic as i32) {
                out.reservation = Some(v1::resource::ReservationInfo {
                    r#type: None,
                    role: None,
                    principal: res.principal.clone(),
                    labels: res.labels.clone(),
                });
            }
            out.role = res.role.clone();
        }
    }
    out
}
