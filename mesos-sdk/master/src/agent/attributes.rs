//! Parsing agent attributes given as Mesos's `--attributes` flag.

use super::error::AgentError;
use mesos_sdk::v1;

/// Parses attributes written as Mesos's `--attributes` flag: `name:value` pairs separated by
/// `;` (or newlines). A value is a scalar when it is a non-negative number, ranges when it
/// starts with `[` (`[1-10,20-30]`), and text otherwise; spaces are removed, as Mesos does.
/// Sets (`{a,b}`) are not valid attribute values.
///
/// ```
/// use mesos_master::agent::parse_attributes;
/// use mesos_sdk::v1::value::Type;
///
/// let attrs = parse_attributes("rack:r1;zone:z2;level:3;ports:[1-5]").unwrap();
/// assert_eq!(attrs.len(), 4);
/// assert_eq!(attrs[0].text.as_ref().unwrap().value, "r1");
/// assert_eq!(attrs[2].r#type, Type::Scalar as i32);
/// assert_eq!(attrs[3].ranges.as_ref().unwrap().range[0].end, 5);
/// assert!(parse_attributes("rack").is_err());
/// ```
///
/// # Errors
/// [`AgentError::InvalidAttribute`] for a token without `name:value`, an empty name or
/// value, a set, or malformed ranges.
pub fn parse_attributes(spec: &str) -> Result<Vec<v1::Attribute>, AgentError> {
    spec.split([';', '\n'])
        .filter(|token| !token.is_empty())
        .map(parse_one)
        .collect()
}

fn parse_one(token: &str) -> Result<v1::Attribute, AgentError> {
    let invalid = |reason: &str| AgentError::InvalidAttribute {
        token: token.to_owned(),
        reason: reason.to_owned(),
    };
    let (name, value) = token
        .split_once(':')
        .ok_or_else(|| invalid("missing ':'"))?;
    if name.is_empty() || value.is_empty() {
        return Err(invalid("empty name or value"));
    }
    let value: String = value.chars().filter(|c| *c != ' ').collect();
    if value.is_empty() {
        return Err(invalid("empty value"));
    }
    let mut attribute = v1::Attribute {
        name: name.to_owned(),
        ..Default::default()
    };
    if value.starts_with('[') {
        attribute.r#type = v1::value::Type::Ranges as i32;
        attribute.ranges = Some(parse_ranges(&value).map_err(invalid)?);
    } else if value.contains('[') {
        return Err(invalid("unexpected '['"));
    } else if value.contains('{') {
        return Err(invalid("sets are not valid attribute values"));
    } else if let Some(scalar) = parse_scalar(&value) {
        attribute.r#type = v1::value::Type::Scalar as i32;
        attribute.scalar = Some(v1::value::Scalar { value: scalar });
    } else {
        attribute.r#type = v1::value::Type::Text as i32;
        attribute.text = Some(v1::value::Text { value });
    }
    Ok(attribute)
}

/// A finite, non-negative number; anything else is text (as in Mesos).
fn parse_scalar(value: &str) -> Option<f64> {
    let number: f64 = value.parse().ok()?;
    (number.is_finite() && number >= 0.0).then_some(number)
}

fn parse_ranges(value: &str) -> Result<v1::value::Ranges, &'static str> {
    let inner = value
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .ok_or("mismatched brackets in ranges")?;
    let mut ranges = v1::value::Ranges::default();
    for part in inner.split(',').filter(|p| !p.is_empty()) {
        let (begin, end) = part.split_once('-').ok_or("expecting begin-end ranges")?;
        let begin: u64 = begin
            .parse()
            .map_err(|_| "expecting non-negative integers")?;
        let end: u64 = end.parse().map_err(|_| "expecting non-negative integers")?;
        if begin > end {
            return Err("range begin is greater than its end");
        }
        ranges.range.push(v1::value::Range { begin, end });
    }
    if ranges.range.is_empty() {
        return Err("expecting one or more ranges");
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_text_scalar_and_ranges_like_mesos() {
        let attrs = parse_attributes("rack:r 1;level:3.5\nneg:-1;ports:[31000-32000,1-2]").unwrap();
        assert_eq!(attrs[0].name, "rack");
        assert_eq!(attrs[0].text.as_ref().unwrap().value, "r1");
        assert_eq!(attrs[1].scalar.as_ref().unwrap().value, 3.5);
        // Negative numbers are text in Mesos.
        assert_eq!(attrs[2].r#type, v1::value::Type::Text as i32);
        let ranges = &attrs[3].ranges.as_ref().unwrap().range;
        assert_eq!((ranges[0].begin, ranges[0].end), (31000, 32000));
        assert_eq!(ranges.len(), 2);
    }

    #[test]
    fn rejects_malformed_tokens() {
        for bad in [
            "rack", ":x", "rack:", "s:{a,b}", "p:[1-]", "p:[5-1]", "p:a[1-2]",
        ] {
            assert!(
                matches!(
                    parse_attributes(bad),
                    Err(AgentError::InvalidAttribute { .. })
                ),
                "{bad} should be rejected"
            );
        }
        assert!(parse_attributes("").unwrap().is_empty());
    }
}
