//! Resource arithmetic as Mesos does it: merging, fixed point, ranges, sets, roles.

use mesos_sdk::resources::{self, Resources, ResourcesError};
use mesos_sdk::v1;
use proptest::prelude::*;

fn r(spec: &str) -> Resources {
    Resources::parse(spec).unwrap()
}

#[test]
fn parses_the_mesos_agent_flag() {
    let res = r("cpus:4;mem:8192;disk:10000;ports:[31000-32000]");
    assert_eq!(res.cpus(), 4.0);
    assert_eq!(res.mem(), 8192.0);
    assert_eq!(res.disk(), 10000.0);
    assert_eq!(res.ports(), vec![(31000, 32000)]);
    assert_eq!(res.range_count("ports"), 1001);
    assert_eq!(res.len(), 4);
}

#[test]
fn parses_roles_sets_and_multiple_ranges() {
    let res = r(" cpus(web) : 2 ; cpus:1; zones:{b, a ,a}; ports:[5-9, 1-2]");
    assert_eq!(res.cpus(), 3.0);
    assert_eq!(res.reserved("web").cpus(), 2.0);
    assert_eq!(res.unreserved().cpus(), 1.0);
    assert_eq!(res.ports(), vec![(1, 2), (5, 9)]);
    let zones: Vec<String> = res.set_items("zones").into_iter().collect();
    assert_eq!(zones, vec!["a", "b"]);
    assert_eq!(res.reserved("web").as_slice()[0].reservations.len(), 1);
    assert_eq!(
        res.reserved("web").as_slice()[0].reservations[0].r#type,
        Some(v1::resource::reservation_info::Type::Static as i32)
    );
    // `*` is the unreserved role.
    assert_eq!(r("cpus(*):1"), r("cpus:1"));
}

#[test]
fn default_role_reserves_unannotated_entries() {
    let res = Resources::parse_with_role("cpus:2;mem(*):10;disk(db):5", "ops").unwrap();
    assert_eq!(res.reserved("ops").cpus(), 2.0);
    assert_eq!(res.unreserved().mem(), 10.0);
    assert_eq!(res.reserved("db").disk(), 5.0);
}

#[test]
fn parse_errors_are_typed() {
    let err = |s: &str| Resources::parse(s).unwrap_err();
    assert!(matches!(err("cpus:abc"), ResourcesError::BadNumber { .. }));
    assert!(matches!(err("cpus:inf"), ResourcesError::BadNumber { .. }));
    assert!(matches!(err("cpus:-1"), ResourcesError::Negative { .. }));
    assert!(matches!(err("cpus"), ResourcesError::Syntax { .. }));
    assert!(matches!(err(":4"), ResourcesError::EmptyName { .. }));
    assert!(matches!(
        err("ports:[9-1]"),
        ResourcesError::BadRange { .. }
    ));
    assert!(matches!(
        err("ports:[1-x]"),
        ResourcesError::BadRange { .. }
    ));
    assert!(matches!(err("ports:[1-2"), ResourcesError::BadValue { .. }));
    assert!(matches!(err("cpus(a:1"), ResourcesError::Syntax { .. }));
    assert!(matches!(
        err("ports:[1-2];ports:3"),
        ResourcesError::ConflictingTypes { .. }
    ));
    assert!(err("cpus:-1").to_string().contains("cpus"));
}

#[test]
fn fixed_point_scalars_cancel() {
    let a = Resources::from(vec![resources::scalar("cpus", 0.1)]);
    let b = Resources::from(vec![resources::scalar("cpus", 0.2)]);
    let c = Resources::from(vec![resources::scalar("cpus", 0.3)]);
    let zero = a + b - c;
    assert!(zero.is_empty(), "{zero:?}");
    assert_eq!(r("cpus:0.0001").cpus(), 0.0);
}

#[test]
fn subtraction_splits_ranges_and_removes_empties() {
    let left = r("ports:[1-10];cpus:1") - r("ports:[3-4];cpus:1");
    assert_eq!(left.ports(), vec![(1, 2), (5, 10)]);
    assert_eq!(left.names().into_iter().collect::<Vec<_>>(), vec!["ports"]);
    // Adding the hole back coalesces into one range.
    assert_eq!((left + r("ports:[3-4]")).ports(), vec![(1, 10)]);
    // Subtracting more than there is saturates at empty.
    assert!((r("cpus:1") - r("cpus:2")).is_empty());
}

#[test]
fn sets_union_and_difference() {
    let s = r("gpus_ids:{a,b}") + r("gpus_ids:{b,c}");
    assert_eq!(s.set_items("gpus_ids").len(), 3);
    let d = &s - &r("gpus_ids:{a,c}");
    assert_eq!(d, r("gpus_ids:{b}"));
    assert!(s.contains(&r("gpus_ids:{a,c}")));
    assert!(!d.contains(&r("gpus_ids:{a}")));
}

#[test]
fn roles_and_allocations_do_not_mix() {
    let res = r("cpus:4;cpus(web):2");
    assert!(!res.contains(&r("cpus(web):3")));
    assert!(res.contains(&r("cpus(web):2;cpus:4")));
    let offered = res.clone().allocate("web");
    assert!(
        !offered.contains(&r("cpus:1")),
        "allocated resources differ in kind"
    );
    assert!(offered.contains(&r("cpus:1").allocate("web")));
    assert_eq!(offered.clone().unallocate(), res);
    assert_eq!(
        offered.to_string(),
        "cpus(allocated: web):4; cpus(allocated: web)(web):2"
    );
    assert_eq!(Resources::parse(&offered.to_string()).unwrap(), offered);
    assert_eq!(res.checked_sub(&r("cpus:5")), None);
    assert_eq!(res.checked_sub(&r("cpus:3")), Some(r("cpus:1;cpus(web):2")));
}

#[test]
fn dynamic_reservations_and_legacy_role_field() {
    let dynamic = resources::reserve_dynamic(resources::scalar("mem", 64.0), "db", Some("ops"));
    let res = Resources::from(vec![dynamic]);
    assert_eq!(res.reserved("db").mem(), 64.0);
    assert_eq!(res.to_string(), "mem(reservations: [(DYNAMIC,db,ops)]):64");
    assert_eq!(Resources::parse(&res.to_string()).unwrap(), res);
    // Static then refined dynamic reservation.
    let stacked = resources::reserve_dynamic(
        resources::reserve_static(resources::scalar("cpus", 1.0), "a"),
        "a/b",
        None,
    );
    let res = Resources::from(vec![stacked]);
    assert_eq!(res.reserved("a/b").cpus(), 1.0);
    assert_eq!(res.reserved("a").cpus(), 0.0);
    assert_eq!(res.allocatable_to("a/b").cpus(), 1.0);
    assert_eq!(res.allocatable_to("a").cpus(), 0.0);
    assert_eq!(Resources::parse(&res.to_string()).unwrap(), res);
    // The pre-refinement `role` field becomes a static reservation.
    #[allow(deprecated)]
    let legacy = v1::Resource {
        role: Some("web".into()),
        ..resources::scalar("cpus", 2.0)
    };
    assert_eq!(Resources::from(vec![legacy]), r("cpus(web):2"));
}

#[test]
fn shared_resources_are_counted_not_merged() {
    let vol = v1::Resource {
        shared: Some(v1::resource::SharedInfo {}),
        ..resources::scalar("disk", 10.0)
    };
    let two = Resources::from(vec![vol.clone(), vol.clone()]);
    assert_eq!(two.len(), 2);
    assert_eq!(two.disk(), 20.0);
    let one = &two - &Resources::from(vec![vol.clone()]);
    assert_eq!(one.len(), 1);
    assert!(one.contains(&Resources::from(vec![vol.clone()])));
    assert!(!one.contains(&two));
}

#[test]
fn invalid_resources_are_dropped_or_rejected() {
    let bad = resources::scalar("cpus", -1.0);
    assert!(Resources::from(vec![bad.clone(), resources::scalar("mem", 1.0)]).cpus() == 0.0);
    assert!(matches!(
        Resources::try_from_vec(vec![bad.clone()]),
        Err(ResourcesError::Negative { .. })
    ));
    assert!(Resources::validate(&[bad]).is_err());
    let no_value = v1::Resource {
        scalar: None,
        ..resources::scalar("cpus", 1.0)
    };
    assert!(matches!(
        Resources::validate(&[no_value]),
        Err(ResourcesError::MissingValue { .. })
    ));
}

fn arb_resources() -> impl Strategy<Value = Resources> {
    let scalar = (
        prop_oneof!["cpus", "mem", "disk"],
        0u32..100_000,
        prop::option::of(prop_oneof!["a", "b"]),
    )
        .prop_map(|(n, v, role)| {
            let s = resources::scalar(&n, f64::from(v) / 1000.0);
            match role {
                Some(role) => resources::reserve_static(s, &role),
                None => s,
            }
        });
    let range = prop::collection::vec((0u64..200, 0u64..20), 1..4).prop_map(|v| {
        let v: Vec<(u64, u64)> = v.into_iter().map(|(b, l)| (b, b + l)).collect();
        resources::ranges("ports", &v)
    });
    let set = prop::collection::vec(prop_oneof!["x", "y", "z", "w"], 1..4).prop_map(|v| {
        let v: Vec<&str> = v.iter().map(String::as_str).collect();
        resources::set("zones", &v)
    });
    prop::collection::vec(prop_oneof![scalar, range, set], 0..8).prop_map(Resources::from)
}

/// Drops from `b` the range and set values `a` already has, so that `a + b - b == a`
/// holds (a union is not invertible where ranges or sets overlap).
fn disjoint_from(a: &Resources, b: Resources) -> Resources {
    let non_scalar: Resources = b
        .iter()
        .filter(|x| x.ranges.is_some() || x.set.is_some())
        .cloned()
        .collect();
    b.scalars() + (&non_scalar - a)
}

proptest! {
    #[test]
    fn add_then_sub_is_identity(a in arb_resources(), b in arb_resources()) {
        let b = disjoint_from(&a, b);
        let sum = &a + &b;
        prop_assert!(sum.contains(&a));
        prop_assert!(sum.contains(&b));
        prop_assert_eq!(&sum - &b, a.clone());
        prop_assert_eq!(sum.checked_sub(&a).map(|x| x + &a), Some(sum.clone()));
    }

    #[test]
    fn addition_commutes(a in arb_resources(), b in arb_resources()) {
        let ab = &a + &b;
        let ba = &b + &a;
        prop_assert!(ab.contains(&ba) && ba.contains(&ab));
        prop_assert_eq!(ab.cpus(), ba.cpus());
    }

    #[test]
    fn display_parses_back(a in arb_resources()) {
        let again = Resources::parse(&a.to_string()).unwrap();
        prop_assert_eq!(again, a);
    }

    /// What the master's allocator relies on when resources come back: what is held of
    /// a part it contains is that part (`held - (held - part) == part`).
    #[test]
    fn a_contained_part_is_all_held(a in arb_resources(), b in arb_resources()) {
        let part = disjoint_from(&a, b);
        let held = &a + &part;
        prop_assert!(held.contains(&part));
        let kept = &held - &(&held - &part);
        prop_assert!(kept.contains(&part) && part.contains(&kept), "{} against {}", kept, part);
    }

    #[test]
    fn sub_never_grows_and_is_contained(a in arb_resources(), b in arb_resources()) {
        let d = &a - &b;
        prop_assert!(a.contains(&d));
        prop_assert!(d.cpus() <= a.cpus());
    }
}

#[test]
#[allow(deprecated)]
fn converts_to_the_pre_refinement_format_and_back() {
    let dynamic = resources::reserve_dynamic(resources::scalar("mem", 64.0), "db", Some("ops"));
    let res = r("cpus:1;disk(web):5") + Resources::from(vec![dynamic]);
    let old = res.to_pre_refinement().unwrap();
    let by_name = |n: &str| old.iter().find(|x| x.name == n).unwrap().clone();
    assert_eq!(by_name("cpus").role.as_deref(), Some("*"));
    assert_eq!(by_name("disk").role.as_deref(), Some("web"));
    assert!(by_name("disk").reservation.is_none());
    assert_eq!(by_name("mem").role.as_deref(), Some("db"));
    assert_eq!(
        by_name("mem").reservation.unwrap().principal.as_deref(),
        Some("ops")
    );
    assert!(old.iter().all(|x| x.reservations.is_empty()));
    // Reading the old format back gives the same resources.
    assert_eq!(Resources::from(old), res);
    // The endpoint format keeps both.
    let endpoint = res.to_endpoint_format();
    assert!(
        endpoint.iter().any(|x| x.name == "mem"
            && x.reservations.len() == 1
            && x.role.as_deref() == Some("db"))
    );
    // Refined reservations cannot be downgraded.
    let refined = resources::reserve_dynamic(
        resources::reserve_static(resources::scalar("cpus", 1.0), "a"),
        "a/b",
        None,
    );
    assert!(matches!(
        Resources::from(vec![refined]).to_pre_refinement(),
        Err(ResourcesError::RefinedReservation { .. })
    ));
}
