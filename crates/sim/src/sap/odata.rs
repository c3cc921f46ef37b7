//! OData v2 on the wire: `/Date(ms)/` values, the system query options (`$filter`,
//! `$orderby`, `$select`, `$expand`, `$top`, `$skip`, `$skiptoken`, `$inlinecount`) and SAP
//! Gateway's error body (reference/connectors.md §4).

use std::cmp::Ordering;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{json, Map, Value};

use crate::control::json_response;

/// `Edm.DateTime`: `/Date(<ms>)/`.
pub(crate) fn date_time(ms: i64) -> String {
    format!("/Date({ms})/")
}

/// `Edm.DateTimeOffset`: `/Date(<ms>+0000)/`.
pub(crate) fn date_time_offset(ms: i64) -> String {
    format!("/Date({ms}+0000)/")
}

/// The milliseconds of a `/Date(ms)/` or `/Date(ms±hhmm)/` value (the offset only says in
/// which zone to display the instant; `ms` is UTC already).
pub(crate) fn parse_date(text: &str) -> Option<i64> {
    let inner = text.strip_prefix("/Date(")?.strip_suffix(")/")?;
    let end = inner[1..].find(['+', '-']).map_or(inner.len(), |p| p + 1);
    inner[..end].parse().ok()
}

/// An ISO 8601 value of a request body or a `datetime'…'` literal, in milliseconds.
pub(crate) fn parse_iso(text: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc).timestamp_millis());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Errors.

/// An OData error answer.
#[derive(Debug)]
pub(crate) struct ODataError {
    pub(crate) status: StatusCode,
    pub(crate) code: String,
    pub(crate) message: String,
    pub(crate) target: String,
}

impl ODataError {
    pub(crate) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ODataError {
            status,
            code: code.to_owned(),
            message: message.into(),
            target: String::new(),
        }
    }

    /// A 400 naming the property at fault.
    pub(crate) fn bad_property(code: &str, message: impl Into<String>, target: &str) -> Self {
        ODataError {
            target: target.to_owned(),
            ..Self::new(StatusCode::BAD_REQUEST, code, message)
        }
    }

    pub(crate) fn syntax(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "/IWBEP/CM_MGW_RT/022", message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "/IWBEP/CM_MGW_RT/020", message)
    }

    /// `{"error":{"code","message":{"lang","value"},"innererror":{…}}}`.
    pub(crate) fn into_response(self, transaction: &str) -> Response {
        let body = json!({"error": {
            "code": self.code,
            "message": {"lang": "en", "value": self.message},
            "innererror": {
                "application": {
                    "component_id": "PM-WOC-MO",
                    "service_namespace": "/SAP/",
                    "service_id": "",
                    "service_version": "0001",
                },
                "transactionid": transaction,
                "timestamp": gateway_timestamp(),
                "Error_Resolution": {
                    "SAP_Transaction": "Run transaction /IWFND/ERROR_LOG on SAP Gateway hub system (System Alias ) and search for entries with the timestamp above for more details",
                    "SAP_Note": "See SAP Note 1797736 for error analysis (https://service.sap.com/sap/support/notes/1797736)",
                },
                "errordetails": [{
                    "code": self.code,
                    "message": self.message,
                    "propertyref": self.target,
                    "severity": "error",
                    "target": self.target,
                    "transition": false,
                }],
            },
        }});
        json_response(self.status, serde_json::to_vec(&body).unwrap_or_default())
    }
}

/// `20261127101112.1234560`: Gateway's error timestamp (chrono has no seven-digit fraction).
fn gateway_timestamp() -> String {
    let now = Utc::now();
    format!(
        "{}.{:07}",
        now.format("%Y%m%d%H%M%S"),
        now.timestamp_subsec_micros() * 10
    )
}

/// Plain-text answers (CSRF failures, logon errors) as SAP's ICF sends them.
pub(crate) fn text_response(
    status: StatusCode,
    body: &str,
    content_type: &'static str,
) -> Response {
    let mut response = Response::new(axum::body::Body::from(body.to_owned()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

// ---------------------------------------------------------------------------------------------
// $filter.

/// A literal in a filter.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Literal {
    Text(String),
    /// `datetime'…'` / `datetimeoffset'…'`, in milliseconds.
    Time(i64),
    Number(f64),
    Bool(bool),
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A parsed `$filter`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Filter {
    Compare(String, Op, Literal),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `substringof('x', Field)`, `startswith(Field, 'x')`.
    Contains(String, String),
    StartsWith(String, String),
}

impl Filter {
    /// Whether `record` satisfies the filter.
    pub(crate) fn matches(&self, record: &Map<String, Value>) -> bool {
        match self {
            Filter::And(a, b) => a.matches(record) && b.matches(record),
            Filter::Or(a, b) => a.matches(record) || b.matches(record),
            Filter::Not(a) => !a.matches(record),
            Filter::Contains(field, text) => record
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(|v| v.to_lowercase().contains(&text.to_lowercase())),
            Filter::StartsWith(field, text) => record
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(|v| v.starts_with(text.as_str())),
            Filter::Compare(field, op, literal) => {
                let value = record.get(field).unwrap_or(&Value::Null);
                let ordering = compare(value, literal);
                match (op, ordering) {
                    (Op::Eq, Some(o)) => o == Ordering::Equal,
                    (Op::Ne, Some(o)) => o != Ordering::Equal,
                    (Op::Ne, None) => true,
                    (Op::Gt, Some(o)) => o == Ordering::Greater,
                    (Op::Ge, Some(o)) => o != Ordering::Less,
                    (Op::Lt, Some(o)) => o == Ordering::Less,
                    (Op::Le, Some(o)) => o != Ordering::Greater,
                    _ => false,
                }
            }
        }
    }

    /// The lower bound this filter puts on `field` for every record it lets through, in
    /// milliseconds, and whether it is strict (`gt`): the tighter bound of `and`, the looser
    /// bound of an `or` whose both sides have one (so keyset filters such as
    /// `T gt X or (T eq X and Key gt 'K')` still let a listing start at `X`).
    pub(crate) fn time_lower_bound(&self, field: &str) -> Option<(i64, bool)> {
        match self {
            Filter::Compare(f, Op::Gt, Literal::Time(t)) if f == field => Some((*t, true)),
            Filter::Compare(f, Op::Ge | Op::Eq, Literal::Time(t)) if f == field => {
                Some((*t, false))
            }
            Filter::And(a, b) => match (a.time_lower_bound(field), b.time_lower_bound(field)) {
                (Some(x), Some(y)) => Some(tighter(x, y)),
                (x, y) => x.or(y),
            },
            Filter::Or(a, b) => {
                let (x, y) = (a.time_lower_bound(field)?, b.time_lower_bound(field)?);
                // The looser of two bounds is the one that is not the tighter.
                Some(if tighter(x, y) == x { y } else { x })
            }
            _ => None,
        }
    }

    /// The lower bound top-level `and` conjuncts put on the text of `field` (`Key gt 'K'`,
    /// `Key ge 'K'`), and whether it is strict.
    pub(crate) fn text_lower_bound(&self, field: &str) -> Option<(String, bool)> {
        match self {
            Filter::Compare(f, Op::Gt, Literal::Text(v)) if f == field => Some((v.clone(), true)),
            Filter::Compare(f, Op::Ge, Literal::Text(v)) if f == field => Some((v.clone(), false)),
            Filter::And(a, b) => match (a.text_lower_bound(field), b.text_lower_bound(field)) {
                (Some(x), Some(y)) => Some(if (&x.0, x.1) >= (&y.0, y.1) { x } else { y }),
                (x, y) => x.or(y),
            },
            _ => None,
        }
    }

    /// The value `field eq '…'` pins, if a top-level conjunct does.
    pub(crate) fn key_equals(&self, field: &str) -> Option<String> {
        match self {
            Filter::Compare(f, Op::Eq, Literal::Text(v)) if f == field => Some(v.clone()),
            Filter::And(a, b) => a.key_equals(field).or_else(|| b.key_equals(field)),
            _ => None,
        }
    }
}

/// The tighter of two lower bounds `(t, strict)`: the later instant, or at the same instant
/// the strict one.
fn tighter(x: (i64, bool), y: (i64, bool)) -> (i64, bool) {
    if x >= y {
        x
    } else {
        y
    }
}

/// Compares a record value with a literal the way Gateway does for the value's EDM type.
fn compare(value: &Value, literal: &Literal) -> Option<Ordering> {
    match (value, literal) {
        (Value::Null, Literal::Null) => Some(Ordering::Equal),
        (Value::String(s), Literal::Null) => s.is_empty().then_some(Ordering::Equal),
        (Value::String(s), Literal::Time(t)) => Some(parse_date(s)?.cmp(t)),
        (Value::String(s), Literal::Text(t)) => Some(s.as_str().cmp(t.as_str())),
        (Value::String(s), Literal::Number(n)) => s.parse::<f64>().ok()?.partial_cmp(n),
        (Value::Number(a), Literal::Number(n)) => a.as_f64()?.partial_cmp(n),
        (Value::Bool(a), Literal::Bool(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// Parses a `$filter` expression.
pub(crate) fn parse_filter(text: &str) -> Result<Filter, String> {
    let tokens = tokenize(text)?;
    let mut parser = Parser { tokens, pos: 0 };
    let filter = parser.or()?;
    if parser.pos != parser.tokens.len() {
        return Err(format!("unexpected '{}'", parser.tokens[parser.pos].text()));
    }
    Ok(filter)
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Lit(Literal),
    Open,
    Close,
    Comma,
}

impl Token {
    fn text(&self) -> String {
        match self {
            Token::Word(w) => w.clone(),
            Token::Lit(l) => format!("{l:?}"),
            Token::Open => "(".into(),
            Token::Close => ")".into(),
            Token::Comma => ",".into(),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            ',' => {
                out.push(Token::Comma);
                i += 1;
            }
            '\'' => {
                let (s, next) = quoted(&chars, i)?;
                out.push(Token::Lit(Literal::Text(s)));
                i = next;
            }
            _ => {
                let start = i;
                while i < chars.len() && !matches!(chars[i], ' ' | '(' | ')' | ',' | '\'') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                // `datetime'…'`, `datetimeoffset'…'`, `guid'…'`: a typed literal.
                if i < chars.len() && chars[i] == '\'' {
                    let (s, next) = quoted(&chars, i)?;
                    i = next;
                    let literal = match word.to_ascii_lowercase().as_str() {
                        "datetime" | "datetimeoffset" => Literal::Time(
                            parse_iso(&s).ok_or_else(|| format!("invalid {word} literal '{s}'"))?,
                        ),
                        _ => Literal::Text(s),
                    };
                    out.push(Token::Lit(literal));
                    continue;
                }
                let literal = match word.as_str() {
                    "true" => Some(Literal::Bool(true)),
                    "false" => Some(Literal::Bool(false)),
                    "null" => Some(Literal::Null),
                    w if w.starts_with(|c: char| c.is_ascii_digit() || c == '-') => {
                        let number = w.trim_end_matches(['M', 'm', 'd', 'L', 'f']);
                        Some(Literal::Number(
                            number.parse().map_err(|_| format!("invalid number {w}"))?,
                        ))
                    }
                    _ => None,
                };
                out.push(match literal {
                    Some(l) => Token::Lit(l),
                    None => Token::Word(word),
                });
            }
        }
    }
    Ok(out)
}

/// A single-quoted string starting at `chars[start]`; `''` is a quote.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        if chars[i] == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            return Ok((out, i + 1));
        }
        out.push(chars[i]);
        i += 1;
    }
    Err("unterminated string literal".into())
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.pos), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, token: Token) -> Result<(), String> {
        match self.next() {
            Some(t) if t == token => Ok(()),
            other => Err(format!(
                "expected '{}', found {}",
                token.text(),
                other.map_or("end".into(), |t| t.text())
            )),
        }
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        if self.peek_word("not") {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        match self.next() {
            Some(Token::Open) => {
                let inner = self.or()?;
                self.expect(Token::Close)?;
                Ok(inner)
            }
            Some(Token::Word(w)) if w == "substringof" || w == "startswith" => {
                self.expect(Token::Open)?;
                let a = self.next();
                self.expect(Token::Comma)?;
                let b = self.next();
                self.expect(Token::Close)?;
                let call = match (w.as_str(), a, b) {
                    ("substringof", Some(Token::Lit(Literal::Text(t))), Some(Token::Word(f))) => {
                        Filter::Contains(f, t)
                    }
                    ("startswith", Some(Token::Word(f)), Some(Token::Lit(Literal::Text(t)))) => {
                        Filter::StartsWith(f, t)
                    }
                    _ => return Err(format!("invalid arguments to {w}")),
                };
                // `substringof(…) eq true` is how v2 clients usually write it.
                if self.peek_word("eq") {
                    self.pos += 1;
                    return match self.next() {
                        Some(Token::Lit(Literal::Bool(true))) => Ok(call),
                        Some(Token::Lit(Literal::Bool(false))) => Ok(Filter::Not(Box::new(call))),
                        _ => Err("expected true or false".into()),
                    };
                }
                Ok(call)
            }
            Some(Token::Word(field)) => {
                let op = match self.next() {
                    Some(Token::Word(op)) => match op.to_ascii_lowercase().as_str() {
                        "eq" => Op::Eq,
                        "ne" => Op::Ne,
                        "gt" => Op::Gt,
                        "ge" => Op::Ge,
                        "lt" => Op::Lt,
                        "le" => Op::Le,
                        other => return Err(format!("unknown operator '{other}'")),
                    },
                    other => {
                        return Err(format!(
                            "expected an operator after {field}, found {}",
                            other.map_or("end".into(), |t| t.text())
                        ))
                    }
                };
                match self.next() {
                    Some(Token::Lit(l)) => Ok(Filter::Compare(field, op, l)),
                    other => Err(format!(
                        "expected a literal, found {}",
                        other.map_or("end".into(), |t| t.text())
                    )),
                }
            }
            other => Err(format!(
                "unexpected {}",
                other.map_or("end".into(), |t| t.text())
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// $orderby.

/// One `$orderby` term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OrderBy {
    pub(crate) field: String,
    pub(crate) descending: bool,
}

pub(crate) fn parse_orderby(text: &str) -> Result<Vec<OrderBy>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|term| {
            let mut parts = term.split_whitespace();
            let field = parts.next().unwrap_or_default().to_owned();
            let descending = match parts.next().map(str::to_ascii_lowercase).as_deref() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(other) => return Err(format!("invalid sort order '{other}'")),
            };
            Ok(OrderBy { field, descending })
        })
        .collect()
}

/// Orders two records by `$orderby` terms.
pub(crate) fn order(a: &Map<String, Value>, b: &Map<String, Value>, terms: &[OrderBy]) -> Ordering {
    for term in terms {
        let x = a.get(&term.field).unwrap_or(&Value::Null);
        let y = b.get(&term.field).unwrap_or(&Value::Null);
        let o = match (x, y) {
            (Value::String(s), Value::String(t)) => match (parse_date(s), parse_date(t)) {
                (Some(p), Some(q)) => p.cmp(&q),
                _ => s.cmp(t),
            },
            (Value::Number(p), Value::Number(q)) => p
                .as_f64()
                .partial_cmp(&q.as_f64())
                .unwrap_or(Ordering::Equal),
            (Value::Bool(p), Value::Bool(q)) => p.cmp(q),
            (Value::Null, Value::Null) => Ordering::Equal,
            (Value::Null, _) => Ordering::Less,
            (_, Value::Null) => Ordering::Greater,
            _ => Ordering::Equal,
        };
        let o = if term.descending { o.reverse() } else { o };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("/Date(1492041600000)/"), Some(1_492_041_600_000));
        assert_eq!(
            parse_date("/Date(1492098664000+0000)/"),
            Some(1_492_098_664_000)
        );
        assert_eq!(parse_date("/Date(-1000)/"), Some(-1000));
        assert_eq!(parse_date(""), None);
        assert_eq!(parse_iso("2024-01-15T00:00:00Z"), Some(1_705_276_800_000));
        assert_eq!(parse_iso("2024-01-15T00:00:00"), Some(1_705_276_800_000));
    }

    #[test]
    fn filters_parse_and_match() {
        let f = parse_filter(
            "LastChangeDateTime gt datetimeoffset'2024-01-15T00:00:00Z' and (MaintenanceOrderType eq 'PM01' or MaintPriority eq '1')",
        )
        .unwrap();
        assert_eq!(
            f.time_lower_bound("LastChangeDateTime"),
            Some((1_705_276_800_000, true))
        );
        let mut r = Map::new();
        r.insert(
            "LastChangeDateTime".into(),
            json!("/Date(1705276800001+0000)/"),
        );
        r.insert("MaintenanceOrderType".into(), json!("PM02"));
        r.insert("MaintPriority".into(), json!("1"));
        assert!(f.matches(&r));
        r.insert("MaintPriority".into(), json!("2"));
        assert!(!f.matches(&r));
        let k = parse_filter("Supplier eq '17300001'").unwrap();
        assert_eq!(k.key_equals("Supplier").as_deref(), Some("17300001"));
        assert!(parse_filter("Supplier eq").is_err());
        assert!(parse_filter("substringof('pump', EquipmentName) eq true").is_ok());
    }
}
