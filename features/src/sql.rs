//! A small SQL builder: text with `$n` placeholders and their values, so
//! conditions from several sources (bbox, filter) number parameters in order.

use sqlfilter::{Param, SqlFilter};

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
