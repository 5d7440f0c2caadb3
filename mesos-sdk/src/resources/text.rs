//! The Mesos text form of resources: parsing and [`Display`](std::fmt::Display).

use std::collections::HashMap;
use std::fmt;

use super::{Resources, ResourcesError, resource, value};
use crate::v1;
use crate::v1::resource::reservation_info::Type as ReservationType;
use crate::v1::value::Type as ValueType;

pub(super) fn parse(spec: &str, default_role: Option<&str>) -> Result<Resources, ResourcesError> {
    let mut out = Resources::new();
    let mut types: HashMap<String, i32> = HashMap::new();
    for entry in spec.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let r = parse_entry(entry, default_role)?;
        let t = *types.entry(r.name.clone()).or_insert(r.r#type);
        if t != r.r#type {
            return Err(ResourcesError::ConflictingTypes {
                name: r.name,
                first: resource::type_name(t),
                second: resource::type_name(r.r#type),
            });
        }
        if let Some(r) = resource::normalize(r)? {
            out.add_normalized(r);
        }
    }
    Ok(out)
}

fn syntax(entry: &str) -> ResourcesError {
    ResourcesError::Syntax {
        entry: entry.to_owned(),
    }
}

fn bad_value(name: &str, text: &str) -> ResourcesError {
    ResourcesError::BadValue {
        name: name.to_owned(),
        text: text.to_owned(),
    }
}

/// Splits at the first `:` outside parentheses.
fn split_top_colon(entry: &str) -> Option<(&str, &str)> {
    let mut depth = 0i32;
    for (i, c) in entry.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ':' if depth == 0 => return Some((&entry[..i], &entry[i + 1..])),
            _ => {}
        }
    }
    None
}

/// Splits `(a)(b(c))` into `["a", "b(c)"]`.
fn groups<'a>(name: &str, mut s: &'a str) -> Result<Vec<&'a str>, ResourcesError> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(out);
        }
        if !s.starts_with('(') {
            return Err(bad_value(name, s));
        }
        let mut depth = 0i32;
        let mut end = None;
        for (i, c) in s.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end.ok_or_else(|| bad_value(name, s))?;
        out.push(&s[1..end]);
        s = &s[end + 1..];
    }
}

fn parse_entry(entry: &str, default_role: Option<&str>) -> Result<v1::Resource, ResourcesError> {
    let (head, val) = split_top_colon(entry).ok_or_else(|| syntax(entry))?;
    let (name, annotations) = match head.find('(') {
        Some(i) => (head[..i].trim(), &head[i..]),
        None => (head.trim(), ""),
    };
    if name.is_empty() {
        return Err(ResourcesError::EmptyName {
            entry: entry.to_owned(),
        });
    }
    if name.contains([')', '[', ']', '{', '}', ',']) {
        return Err(syntax(entry));
    }
    let mut r = parse_value(name, val.trim())?;
    let mut role_seen = false;
    for g in groups(name, annotations)? {
        let g = g.trim();
        if let Some(role) = g.strip_prefix("allocated:") {
            let role = role.trim();
            if role.is_empty() {
                return Err(bad_value(name, g));
            }
            r.allocation_info = Some(v1::resource::AllocationInfo {
                role: Some(role.to_owned()),
            });
        } else if let Some(list) = g.strip_prefix("reservations:") {
            r.reservations = parse_reservations(name, list.trim())?;
            role_seen = true;
        } else if g.is_empty() || role_seen {
            return Err(bad_value(name, g));
        } else {
            role_seen = true;
            if g != "*" {
                r = super::reserve_static(r, g);
            }
        }
    }
    if !role_seen {
        if let Some(role) = default_role.filter(|r| *r != "*") {
            r = super::reserve_static(r, role);
        }
    }
    Ok(r)
}

fn parse_reservations(
    name: &str,
    list: &str,
) -> Result<Vec<v1::resource::ReservationInfo>, ResourcesError> {
    let inner = list
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .ok_or_else(|| bad_value(name, list))?;
    let mut out = Vec::new();
    for tuple in groups(name, &inner.replace("),", ")"))? {
        let parts: Vec<&str> = tuple.split(',').map(str::trim).collect();
        let kind = match parts.first().copied() {
            Some("STATIC") => ReservationType::Static,
            Some("DYNAMIC") => ReservationType::Dynamic,
            _ => return Err(bad_value(name, tuple)),
        };
        let (role, principal) = match parts.as_slice() {
            [_, role] => (*role, None),
            [_, role, principal] => (*role, Some(*principal)),
            _ => return Err(bad_value(name, tuple)),
        };
        // Parentheses would end the tuple early when the text is read back.
        if role.is_empty()
            || role == "*"
            || role.contains(['(', ')'])
            || principal.is_some_and(|p| p.contains(['(', ')']))
        {
            return Err(bad_value(name, tuple));
        }
        out.push(super::reservation(kind, role, principal));
    }
    Ok(out)
}

fn parse_value(name: &str, val: &str) -> Result<v1::Resource, ResourcesError> {
    if let Some(rest) = val.strip_prefix('[') {
        let inner = rest.strip_suffix(']').ok_or_else(|| bad_value(name, val))?;
        let mut out = Vec::new();
        for part in inner.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let bad = || ResourcesError::BadRange {
                name: name.to_owned(),
                range: part.to_owned(),
            };
            let (b, e) = part.split_once('-').ok_or_else(bad)?;
            let b: u64 = b.trim().parse().map_err(|_| bad())?;
            let e: u64 = e.trim().parse().map_err(|_| bad())?;
            if b > e {
                return Err(bad());
            }
            out.push((b, e));
        }
        Ok(super::ranges(name, &out))
    } else if let Some(rest) = val.strip_prefix('{') {
        let inner = rest.strip_suffix('}').ok_or_else(|| bad_value(name, val))?;
        let items: Vec<&str> = inner
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        Ok(super::set(name, &items))
    } else {
        let bad = || ResourcesError::BadNumber {
            name: name.to_owned(),
            value: val.to_owned(),
        };
        let v: f64 = val.parse().map_err(|_| bad())?;
        if !v.is_finite() {
            return Err(bad());
        }
        if v < 0.0 {
            return Err(ResourcesError::Negative {
                name: name.to_owned(),
                value: v,
            });
        }
        Ok(super::scalar(name, v))
    }
}

/// The Mesos text form of one resource as it is written, without normalizing it (so
/// also of an invalid one), e.g. `cpus(allocated: *):0.5` or `ports:[31000-31005]`.
pub fn text_of(resource: &v1::Resource) -> impl fmt::Display + '_ {
    One(resource)
}

struct One<'a>(&'a v1::Resource);

impl fmt::Display for One<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        f.write_str(&r.name)?;
        if let Some(role) = r.allocation_info.as_ref().and_then(|a| a.role.as_deref()) {
            write!(f, "(allocated: {role})")?;
        }
        match r.reservations.as_slice() {
            [] => {}
            [only]
                if only.r#type == Some(ReservationType::Static as i32)
                    && only.principal.is_none() =>
            {
                write!(f, "({})", only.role.as_deref().unwrap_or("*"))?;
            }
            all => {
                f.write_str("(reservations: [")?;
                for (i, res) in all.iter().enumerate() {
                    let kind = match res.r#type.map(ReservationType::try_from) {
                        Some(Ok(ReservationType::Dynamic)) => "DYNAMIC",
                        Some(Ok(ReservationType::Static)) => "STATIC",
                        _ => "UNKNOWN",
                    };
                    let sep = if i == 0 { "" } else { "," };
                    write!(f, "{sep}({kind},{}", res.role.as_deref().unwrap_or("*"))?;
                    if let Some(p) = &res.principal {
                        write!(f, ",{p}")?;
                    }
                    f.write_str(")")?;
                }
                f.write_str("])")?;
            }
        }
        if let Some(disk) = &r.disk {
            match &disk.persistence {
                Some(p) => write!(f, "[{}]", p.id)?,
                None => f.write_str("[disk]")?,
            }
        }
        if r.revocable.is_some() {
            f.write_str("{REV}")?;
        }
        if r.shared.is_some() {
            f.write_str("<SHARED>")?;
        }
        f.write_str(":")?;
        match ValueType::try_from(r.r#type) {
            Ok(ValueType::Scalar) => write!(f, "{}", r.scalar.map_or(0.0, |s| s.value)),
            Ok(ValueType::Ranges) => {
                let rs = r.ranges.as_ref().map(value::ranges_of).unwrap_or_default();
                f.write_str("[")?;
                for (i, (b, e)) in rs.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{b}-{e}")?;
                }
                f.write_str("]")
            }
            Ok(ValueType::Set) => {
                let items = r
                    .set
                    .as_ref()
                    .map(|s| s.item.join(", "))
                    .unwrap_or_default();
                write!(f, "{{{items}}}")
            }
            _ => f.write_str("?"),
        }
    }
}

/// The Mesos text form, entries separated by `"; "`, e.g.
/// `cpus:4; mem:8192; ports:[31000-32000]` or `cpus(allocated: web)(web):2`.
impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}", One(r))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `resources_parse` fuzz target: a reservation role with parentheses
    /// was accepted, but its `Display` form read back as another role and a principal.
    #[test]
    fn reservation_roles_with_parentheses_are_refused() {
        for spec in [
            "cpus(reservations: [(STATIC,a(),,p)]):2.1",
            "cpus(reservations: [(STATIC,a(b))]):1",
            "cpus(reservations: [(DYNAMIC,a,p(q))]):1",
        ] {
            assert!(
                matches!(parse(spec, None), Err(ResourcesError::BadValue { .. })),
                "{spec:?} accepted"
            );
        }
        let ok = parse("cpus(reservations: [(STATIC,a),(DYNAMIC,a/b,p)]):1", None).unwrap();
        assert_eq!(parse(&ok.to_string(), None).unwrap(), ok);
    }
}
