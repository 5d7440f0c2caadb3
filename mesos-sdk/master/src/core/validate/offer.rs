//! Mesos's offer validation for ACCEPT (`offer::validate` in
//! `src/master/validation.cpp`): the validators run in Mesos's order over all offers.

use std::collections::HashSet;

use mesos_sdk::v1;

/// What an outstanding offer is: its framework, agent and allocation role.
pub(crate) struct OfferOwner<'a> {
    pub(crate) framework_id: &'a str,
    pub(crate) agent_id: &'a str,
    pub(crate) role: &'a str,
}

/// Validates the offers of an ACCEPT by `framework_id`; `lookup` finds an outstanding
/// offer. On success, the agent they are all on.
pub(crate) fn offers<'a>(
    ids: &[v1::OfferId],
    framework_id: &str,
    lookup: impl Fn(&str) -> Option<OfferOwner<'a>>,
) -> Result<&'a str, String> {
    if ids.is_empty() {
        return Err("No offers specified".into());
    }
    let mut seen = HashSet::new();
    if let Some(dup) = ids.iter().find(|id| !seen.insert(id.value.as_str())) {
        return Err(format!("Duplicate offer {} in offer list", dup.value));
    }
    let mut owners = Vec::with_capacity(ids.len());
    for id in ids {
        match lookup(&id.value) {
            Some(owner) => owners.push((id, owner)),
            None => return Err(format!("Offer {} is no longer valid", id.value)),
        }
    }
    if let Some((id, owner)) = owners.iter().find(|(_, o)| o.framework_id != framework_id) {
        return Err(format!(
            "Offer {} has invalid framework {} while framework {framework_id} is expected",
            id.value, owner.framework_id
        ));
    }
    let (_, first) = &owners[0];
    if let Some((id, owner)) = owners.iter().find(|(_, o)| o.role != first.role) {
        return Err(format!(
            "Aggregated offers must be allocated to the same role. Offer {} uses role '{} but another is using role '{}",
            id.value, owner.role, first.role
        ));
    }
    if let Some((id, owner)) = owners.iter().find(|(_, o)| o.agent_id != first.agent_id) {
        return Err(format!(
            "Aggregated offers must belong to one single agent. Offer {} uses agent {} and agent {}",
            id.value, owner.agent_id, first.agent_id
        ));
    }
    Ok(first.agent_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(v: &str) -> v1::OfferId {
        v1::OfferId { value: v.into() }
    }

    fn lookup(offer: &str) -> Option<OfferOwner<'static>> {
        let (framework_id, agent_id, role) = match offer {
            "o1" => ("f", "a1", "*"),
            "o2" => ("f", "a2", "*"),
            "o3" => ("g", "a1", "*"),
            "o4" => ("f", "a1", "web"),
            "o5" => ("f", "a1", "*"),
            _ => return None,
        };
        Some(OfferOwner {
            framework_id,
            agent_id,
            role,
        })
    }

    #[test]
    fn offers_follow_mesos_offer_validate_in_order() {
        assert_eq!(offers(&[id("o1"), id("o5")], "f", lookup), Ok("a1"));
        let cases = [
            (vec![], "No offers specified"),
            (vec![id("o1"), id("o1")], "Duplicate offer o1 in offer list"),
            (vec![id("o1"), id("zz")], "Offer zz is no longer valid"),
            (
                vec![id("o1"), id("o3")],
                "Offer o3 has invalid framework g while framework f is expected",
            ),
            (
                vec![id("o1"), id("o4")],
                "Aggregated offers must be allocated to the same role. Offer o4 uses role 'web but another is using role '*",
            ),
            (
                vec![id("o1"), id("o2")],
                "Aggregated offers must belong to one single agent. Offer o2 uses agent a2 and agent a1",
            ),
        ];
        for (ids, message) in cases {
            assert_eq!(offers(&ids, "f", lookup).unwrap_err(), message);
        }
    }
}
