//! The OSLC query parameters: `oslc.where`, `oslc.select` and `oslc.orderBy` (reference §3).
//!
//! `oslc.where` supports what connectors use: comparisons `= != > >= < <=` and `in [..]`,
//! joined by `and`; strings and ISO dates in double quotes (`"%x%"` is a like, `"*"` not null),
//! numbers and booleans bare. Two timestamps compare as instants whatever their offsets, as
//! Maximo compares dates. `or` (only meaningful with `opmodeor=1`) and nested clauses are
//! refused with a 400 rather than answered wrongly.

use std::cmp::Ordering;

use chrono::DateTime;
use serde_json::{Map, Value};

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A literal in a where clause.
#[derive(Clone, Debug, PartialEq)]
enum Literal {
    Text(String),
    Number(f64),
    Bool(bool),
}

#[derive(Clone, Debug, PartialEq)]
enum Clause {
    Compare {
        attr: String,
        op: Op,
        value: Literal,
    },
    In {
        attr: String,
        values: Vec<Literal>,
    },
}

/// A parsed `oslc.where`: every clause must hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Where(Vec<Clause>);

impl Where {
    pub(crate) fn parse(text: &str) -> Result<Where, String> {
        let mut clauses = Vec::new();
        let mut rest = text.trim();
        while !rest.is_empty() {
            let (clause, after) = parse_clause(rest)?;
            clauses.push(clause);
            rest = after.trim_start();
            if rest.is_empty() {
                break;
            }
            let lower = rest.to_ascii_lowercase();
            if let Some(after_and) = lower.strip_prefix("and ") {
                rest = rest[rest.len() - after_and.len()..].trim_start();
            } else {
                return Err(format!("expected `and` before `{rest}`"));
            }
        }
        Ok(Where(clauses))
    }

    /// Whether there is no condition at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The attributes the clauses read.
    pub(crate) fn attributes(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|clause| match clause {
            Clause::Compare { attr, .. } | Clause::In { attr, .. } => attr.as_str(),
        })
    }

    pub(crate) fn matches(&self, record: &Map<String, Value>) -> bool {
        self.0.iter().all(|clause| match clause {
            Clause::Compare { attr, op, value } => compare(record.get(attr), *op, value),
            Clause::In { attr, values } => {
                values.iter().any(|v| compare(record.get(attr), Op::Eq, v))
            }
        })
    }
}

fn parse_clause(text: &str) -> Result<(Clause, &str), String> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(text.len());
    let attr = text[..end].to_ascii_lowercase();
    if attr.is_empty() {
        return Err(format!("expected an attribute name at `{text}`"));
    }
    let rest = text[end..].trim_start();
    if rest.to_ascii_lowercase().starts_with("in") && rest[2..].trim_start().starts_with('[') {
        let open = rest.find('[').expect("checked");
        let close = rest
            .find(']')
            .ok_or_else(|| format!("unclosed `[` in `{text}`"))?;
        let mut values = Vec::new();
        let mut inner = rest[open + 1..close].trim();
        while !inner.is_empty() {
            let (value, after) = parse_literal(inner)?;
            values.push(value);
            inner = after.trim_start().trim_start_matches(',').trim_start();
        }
        return Ok((Clause::In { attr, values }, &rest[close + 1..]));
    }
    let (op, len) = [
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("!=", Op::Ne),
        ("=", Op::Eq),
        (">", Op::Gt),
        ("<", Op::Lt),
    ]
    .into_iter()
    .find(|(symbol, _)| rest.starts_with(symbol))
    .map(|(symbol, op)| (op, symbol.len()))
    .ok_or_else(|| format!("expected an operator after `{attr}`"))?;
    let (value, after) = parse_literal(rest[len..].trim_start())?;
    Ok((Clause::Compare { attr, op, value }, after))
}

fn parse_literal(text: &str) -> Result<(Literal, &str), String> {
    if let Some(inner) = text.strip_prefix('"') {
        let close = inner
            .find('"')
            .ok_or_else(|| format!("unclosed string in `{text}`"))?;
        return Ok((
            Literal::Text(inner[..close].to_owned()),
            &inner[close + 1..],
        ));
    }
    let end = text
        .find(|c: char| c.is_whitespace() || c == ',' || c == ']')
        .unwrap_or(text.len());
    let word = &text[..end];
    let literal = match word {
        "true" => Literal::Bool(true),
        "false" => Literal::Bool(false),
        _ => Literal::Number(
            word.parse()
                .map_err(|_| format!("`{word}` is neither a quoted string nor a number"))?,
        ),
    };
    Ok((literal, &text[end..]))
}

fn compare(value: Option<&Value>, op: Op, literal: &Literal) -> bool {
    let value = value.filter(|v| !v.is_null());
    if let Literal::Text(pattern) = literal {
        if pattern == "*" {
            // `"*"` is "has a value", `!="*"` is "has none".
            return (value.is_some()) == (op == Op::Eq);
        }
    }
    let Some(value) = value else {
        return op == Op::Ne;
    };
    let ordering = match (value, literal) {
        (Value::String(s), Literal::Text(t)) => {
            if (op == Op::Eq || op == Op::Ne) && t.contains('%') {
                return like(s, t) == (op == Op::Eq);
            }
            match (
                DateTime::parse_from_rfc3339(s),
                DateTime::parse_from_rfc3339(t),
            ) {
                (Ok(a), Ok(b)) => a.cmp(&b),
                _ => s.as_str().cmp(t.as_str()),
            }
        }
        (Value::Number(n), Literal::Number(x)) => n
            .as_f64()
            .and_then(|v| v.partial_cmp(x))
            .unwrap_or(Ordering::Less),
        (Value::Number(n), Literal::Text(t)) => match t.parse::<f64>() {
            Ok(x) => n
                .as_f64()
                .and_then(|v| v.partial_cmp(&x))
                .unwrap_or(Ordering::Less),
            Err(_) => return op == Op::Ne,
        },
        (Value::String(s), Literal::Number(x)) => match s.parse::<f64>() {
            Ok(v) => v.partial_cmp(x).unwrap_or(Ordering::Less),
            Err(_) => return op == Op::Ne,
        },
        (Value::Bool(b), Literal::Bool(x)) => b.cmp(x),
        _ => return op == Op::Ne,
    };
    match op {
        Op::Eq => ordering == Ordering::Equal,
        Op::Ne => ordering != Ordering::Equal,
        Op::Gt => ordering == Ordering::Greater,
        Op::Ge => ordering != Ordering::Less,
        Op::Lt => ordering == Ordering::Less,
        Op::Le => ordering != Ordering::Greater,
    }
}

/// SQL `LIKE` with `%` only, case-insensitive as Maximo's searches are.
fn like(text: &str, pattern: &str) -> bool {
    let text = text.to_lowercase();
    let pattern = pattern.to_lowercase();
    let parts: Vec<&str> = pattern.split('%').collect();
    let mut pos = 0;
    for (n, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        if n == 0 {
            if !text.starts_with(part) {
                return false;
            }
            pos = part.len();
        } else if n == parts.len() - 1 {
            return text[pos..].ends_with(part);
        } else {
            match text[pos..].find(part) {
                Some(at) => pos += at + part.len(),
                None => return false,
            }
        }
    }
    true
}

/// `oslc.orderBy`: `+a,-b` (a leading space is a `+` that was not URL-encoded).
pub(crate) fn parse_order(text: &str) -> Vec<(String, bool)> {
    text.split(',')
        .filter_map(|part| {
            let descending = part.trim_start().starts_with('-');
            let name = part.trim().trim_start_matches(['+', '-']).trim();
            (!name.is_empty()).then(|| (name.to_ascii_lowercase(), !descending))
        })
        .collect()
}

/// Orders two records by the given attributes (missing values first, as nulls sort in Maximo's
/// ascending order on most databases).
pub(crate) fn order(
    a: &Map<String, Value>,
    b: &Map<String, Value>,
    by: &[(String, bool)],
) -> Ordering {
    for (attr, ascending) in by {
        let ordering = match (a.get(attr), b.get(attr)) {
            (Some(Value::Number(x)), Some(Value::Number(y))) => x
                .as_f64()
                .partial_cmp(&y.as_f64())
                .unwrap_or(Ordering::Equal),
            (Some(Value::String(x)), Some(Value::String(y))) => {
                match (
                    DateTime::parse_from_rfc3339(x),
                    DateTime::parse_from_rfc3339(y),
                ) {
                    (Ok(x), Ok(y)) => x.cmp(&y),
                    _ => x.cmp(y),
                }
            }
            (None | Some(Value::Null), Some(v)) if !v.is_null() => Ordering::Less,
            (Some(v), None | Some(Value::Null)) if !v.is_null() => Ordering::Greater,
            _ => Ordering::Equal,
        };
        let ordering = if *ascending {
            ordering
        } else {
            ordering.reverse()
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}

/// A parsed `oslc.select`: `None` selects every attribute (`*`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Select(Option<Vec<(String, Select)>>);

impl Select {
    pub(crate) const ALL: Select = Select(None);

    pub(crate) fn parse(text: &str) -> Select {
        let text = text.trim();
        if text.is_empty() || text == "*" {
            return Select::ALL;
        }
        let mut items = Vec::new();
        let mut depth = 0;
        let mut start = 0;
        let bytes = text.as_bytes();
        for (n, b) in bytes.iter().enumerate() {
            match b {
                b'{' => depth += 1,
                b'}' => depth -= 1,
                b',' if depth == 0 => {
                    items.push(&text[start..n]);
                    start = n + 1;
                }
                _ => {}
            }
        }
        items.push(&text[start..]);
        let mut out = Vec::new();
        for item in items {
            let item = item.trim();
            if item == "*" {
                return Select::ALL;
            }
            match item.split_once('{') {
                Some((name, inner)) => out.push((
                    name.trim().to_ascii_lowercase(),
                    Select::parse(inner.trim_end_matches('}')),
                )),
                None if !item.is_empty() => out.push((item.to_ascii_lowercase(), Select::ALL)),
                None => {}
            }
        }
        Select(Some(out))
    }

    /// The record with only the selected attributes (`href`/`localref` always kept).
    pub(crate) fn apply(&self, record: &Map<String, Value>) -> Map<String, Value> {
        let Some(items) = &self.0 else {
            return record.clone();
        };
        let mut out = Map::new();
        for key in ["href", "localref"] {
            if let Some(v) = record.get(key) {
                out.insert(key.to_owned(), v.clone());
            }
        }
        for (name, inner) in items {
            if let Some(value) = record.get(name) {
                let value = match value {
                    Value::Array(children) => Value::Array(
                        children
                            .iter()
                            .map(|c| match c {
                                Value::Object(o) => Value::Object(inner.apply(o)),
                                other => other.clone(),
                            })
                            .collect(),
                    ),
                    other => other.clone(),
                };
                out.insert(name.clone(), value);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn where_compares_dates_as_instants_and_strings_exactly() {
        let r = obj(
            json!({"changedate": "2026-01-01T10:00:00-05:00", "status": "OPERATING", "priority": 3}),
        );
        let w = |s: &str| Where::parse(s).unwrap().matches(&r);
        assert!(w(r#"changedate>"2026-01-01T14:59:59Z""#));
        assert!(!w(r#"changedate>"2026-01-01T15:00:00Z""#));
        assert!(w(r#"changedate>="2026-01-01T15:00:00+00:00""#));
        assert!(w(r#"status="OPERATING" and priority>=3"#));
        assert!(!w(r#"status="OPERATING" AND priority>3"#));
        assert!(w(r#"status in ["BROKEN","OPERATING"]"#));
        assert!(w(r#"status="%PERAT%""#));
        assert!(w(r#"status="*""#));
        assert!(w(r#"parent!="*""#));
        assert!(!w(r#"parent="X""#));
        assert!(Where::parse("status=").is_err());
        assert!(Where::parse(r#"a="1" or b="2""#).is_err());
    }

    #[test]
    fn select_keeps_href_and_children() {
        let r = obj(json!({"href": "h", "ponum": "1", "status": "APPR",
            "poline": [{"polinenum": 1, "itemnum": "x", "orderqty": 2}]}));
        let s = Select::parse("ponum,poline{polinenum,orderqty}");
        assert_eq!(
            Value::Object(s.apply(&r)),
            json!({"href": "h", "ponum": "1", "poline": [{"polinenum": 1, "orderqty": 2}]})
        );
        assert_eq!(Select::parse("*").apply(&r), r);
    }

    #[test]
    fn order_by_parses_unencoded_plus() {
        assert_eq!(
            parse_order(" changedate,-assetnum"),
            [
                ("changedate".to_owned(), true),
                ("assetnum".to_owned(), false)
            ]
        );
    }
}
