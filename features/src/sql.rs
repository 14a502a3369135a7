//! A small SQL builder: text with `$n` placeholders and their values, so
//! conditions from several sources (bbox, filter) number parameters in order.

use catalog::{quote_ident, Field};
use sqlfilter::{Param, SqlFilter};

/// `jsonb_build_object('a', <alias>."a", ...)` of `fields` (names from the
/// catalog), or an empty object when there are none.
///
/// ```ignore
/// jsonb_properties(&[so_thua, loai_dat], Some("p"))
///   == r#"jsonb_build_object('so_thua', p."so_thua", 'loai_dat', p."loai_dat")"#
/// ```
pub(crate) fn jsonb_properties(fields: &[&Field], alias: Option<&str>) -> String {
    if fields.is_empty() {
        return "'{}'::jsonb".into();
    }
    let prefix = alias.map(|a| format!("{a}.")).unwrap_or_default();
    let pairs: Vec<String> = fields
        .iter()
        .map(|f| format!("'{}', {prefix}{}", f.name, quote_ident(&f.name)))
        .collect();
    format!("jsonb_build_object({})", pairs.join(", "))
}

/// A value bound to a placeholder.
#[derive(Debug, Clone)]
pub enum Bind {
    Int(i64),
    Float(f64),
    Text(String),
    Bool(bool),
    Ints(Vec<i64>),
    Floats(Vec<f64>),
}

/// Conditions and their bound values.
#[derive(Debug, Default)]
pub struct Where {
    pub conds: Vec<String>,
    pub binds: Vec<Bind>,
}

impl Where {
    /// Binds `v`; returns its placeholder.
    pub fn bind(&mut self, v: Bind) -> String {
        self.binds.push(v);
        format!("${}", self.binds.len())
    }

    /// Number the next placeholder will get.
    pub fn next_param(&self) -> usize {
        self.binds.len() + 1
    }

    /// Adds a compiled filter (compiled with `next_param()` as its first number).
    pub fn add_filter(&mut self, f: SqlFilter) {
        self.conds.push(f.sql);
        self.binds.extend(f.params.into_iter().map(|p| match p {
            Param::Text(s) => Bind::Text(s),
            Param::Float(x) => Bind::Float(x),
            Param::Bool(b) => Bind::Bool(b),
        }));
    }

    /// ` WHERE a AND b`, or nothing.
    pub fn clause(&self) -> String {
        if self.conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.conds.join(" AND "))
        }
    }
}

/// Binds every value of `binds` to a query, in order.
pub fn bind_all<'q, O>(
    mut q: sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    binds: &'q [Bind],
) -> sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    for b in binds {
        q = match b {
            Bind::Int(i) => q.bind(*i),
            Bind::Float(x) => q.bind(*x),
            Bind::Text(s) => q.bind(s.as_str()),
            Bind::Bool(v) => q.bind(*v),
            Bind::Ints(v) => q.bind(v.as_slice()),
            Bind::Floats(v) => q.bind(v.as_slice()),
        };
    }
    q
}
