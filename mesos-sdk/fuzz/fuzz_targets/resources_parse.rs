//! Fuzzes the Mesos resource text parser (`resources::Resources::parse`, and
//! `parse_with_role`) and the arithmetic on what it returns.
//!
//! The input is UTF-8 text; a `\n` splits it into two specs `a` and `b` (the second
//! also serves as the default role for `parse_with_role`).
//!
//! Checks, for every spec that parses:
//! - no panic, and never more resources than `;`-separated entries;
//! - the `Display` form parses back to an equal collection (the documented round trip),
//!   and so does the `v1::Resource` form (`try_from_vec`, `validate`);
//! - `r ⊇ r`, `r - r` is empty, `a + b ⊇ a` and `a + b ⊇ b`, `(a + b) - b ⊆ a + b`,
//!   and scalars cancel exactly: `((a + b) - b).scalars() == a.scalars()` when both
//!   are small enough for Mesos's fixed point;
//! - `parse_with_role` with role `*` is `parse`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_sdk::resources::Resources;

/// Scalars below this (in absolute value) add and subtract exactly in Mesos's fixed
/// point with three decimals (`i64` thousandths) without saturating.
const EXACT: f64 = 1e12;

fn entries(spec: &str) -> usize {
    spec.split(';').filter(|e| !e.trim().is_empty()).count()
}

fn check_one(spec: &str) -> Option<Resources> {
    let parsed = Resources::parse(spec);
    let starred = Resources::parse_with_role(spec, "*");
    assert_eq!(parsed, starred, "parse_with_role(_, \"*\") differs from parse");
    let r = parsed.ok()?;
    assert!(r.len() <= entries(spec), "{} resources from {spec:?}", r.len());

    let text = r.to_string();
    let back = Resources::parse(&text)
        .unwrap_or_else(|e| panic!("Display form {text:?} of {spec:?} does not parse: {e}"));
    assert_eq!(back, r, "Display round trip of {spec:?} through {text:?}");

    Resources::validate(r.as_slice()).expect("parsed resources are valid");
    let rebuilt = Resources::try_from_vec(r.clone().into_vec()).expect("parsed resources are valid");
    assert_eq!(rebuilt, r, "try_from_vec round trip of {spec:?}");

    assert!(r.contains(&r));
    assert!((r.clone() - &r).is_empty(), "{spec:?} minus itself is not empty");
    Some(r)
}

fn small(r: &Resources) -> bool {
    r.iter()
        .all(|x| x.scalar.as_ref().is_none_or(|s| s.value.abs() < EXACT))
}

fn check_pair(a: &Resources, b: &Resources) {
    let sum = a.clone() + b;
    assert!(sum.contains(a), "{a} + {b} does not contain {a}");
    assert!(sum.contains(b), "{a} + {b} does not contain {b}");
    let back = sum.clone() - b;
    assert!(sum.contains(&back));
    if small(a) && small(b) {
        assert_eq!(
            back.scalars(),
            a.scalars(),
            "({a} + {b}) - {b} has other scalars than {a}"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (first, second) = text.split_once('\n').unwrap_or((text, ""));
    let a = check_one(first);
    let b = check_one(second);
    if let (Some(a), Some(b)) = (&a, &b) {
        check_pair(a, b);
    }
    // A default role that is not `*` reserves every entry without a role of its own;
    // the result, when any, still round-trips through its text.
    let role = second.trim();
    if !role.is_empty() && !role.contains([';', ':', '(', ')', ',', '[', ']']) {
        if let Ok(r) = Resources::parse_with_role(first, role) {
            let text = r.to_string();
            let back = Resources::parse(&text)
                .unwrap_or_else(|e| panic!("Display form {text:?} does not parse: {e}"));
            assert_eq!(back, r, "Display round trip through {text:?}");
        }
    }
});
