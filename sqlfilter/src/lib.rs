//! CQL2 filters (`?filter=`, text or JSON) compiled into SQL for one layer,
//! used by tiles and by OGC API - Features alike: property names must be
//! fields the caller may see (quoted from the catalog), every literal
//! becomes a bound parameter, and over-complex filters are refused.

use catalog::{quote_ident, Field, FieldType, GEOM_3857_COLUMN};
use cql2::Expr;

/// Most operators and operands a filter may have.
pub const MAX_NODES: usize = 64;
/// Deepest nesting a filter may have.
pub const MAX_DEPTH: usize = 12;

/// A bound parameter of a compiled filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Text(String),
    Float(f64),
    Bool(bool),
}

/// A compiled filter: SQL using `$first..` placeholders and their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SqlFilter {
    pub sql: String,
    pub params: Vec<Param>,
}

/// Why a filter was refused (the HTTP layer answers 400).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum FilterError {
    #[error("filter is not valid CQL2 text: {0}")]
    Syntax(String),
    #[error("filter uses unknown or non-public field '{0}'")]
    UnknownField(String),
    #[error("filter is too complex (at most {MAX_NODES} terms and {MAX_DEPTH} levels)")]
    TooComplex,
    #[error("filter: {0}")]
    Unsupported(String),
}

struct Compiler<'a> {
    fields: &'a [&'a Field],
    next: usize,
    params: Vec<Param>,
    nodes: usize,
    spatial: SpatialTarget,
}

/// Where spatial predicates apply: a geometry column of the layer table
/// (from the catalog) and its SRID; filter geometries are WGS 84 lon/lat.
#[derive(Debug, Clone, Copy)]
pub struct SpatialTarget {
    pub column: &'static str,
    pub srid: i32,
}

impl SpatialTarget {
    /// The Web Mercator column, for tiles.
    pub const WEB_MERCATOR: SpatialTarget = SpatialTarget {
        column: GEOM_3857_COLUMN,
        srid: 3857,
    };
}

/// The language of a filter (`filter-lang`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterLang {
    Cql2Text,
    Cql2Json,
}

/// Compiles a CQL2 filter against `fields`, numbering parameters from `first`.
///
/// ```
/// use catalog::{Field, FieldType};
/// use sqlfilter::{compile_filter, FilterLang, SpatialTarget};
/// let f = Field { name: "loai_dat".into(), field_type: FieldType::Text, restricted: false, source: None };
/// let t = SpatialTarget::WEB_MERCATOR;
/// let sql = compile_filter("loai_dat = 'LUC'", FilterLang::Cql2Text, &[&f], 5, t).unwrap();
/// assert_eq!(sql.sql, "(\"loai_dat\" = $5::text)");
/// let json = r#"{"op":"=","args":[{"property":"loai_dat"},"LUC"]}"#;
/// assert_eq!(compile_filter(json, FilterLang::Cql2Json, &[&f], 5, t).unwrap(), sql);
/// assert!(compile_filter("ten_chu = 'x'", FilterLang::Cql2Text, &[&f], 5, t).is_err());
/// ```
pub fn compile_filter(
    text: &str,
    lang: FilterLang,
    fields: &[&Field],
    first: usize,
    spatial: SpatialTarget,
) -> Result<SqlFilter, FilterError> {
    if text.len() > 4096 {
        return Err(FilterError::TooComplex);
    }
    // cql2 0.5 panics on some input (e.g. a number beyond f64, `1e400`):
    // a bad filter must be a 400, never a dropped connection.
    let parsed = std::panic::catch_unwind(|| match lang {
        FilterLang::Cql2Text => cql2::parse_text(text).map_err(|e| e.to_string()),
        FilterLang::Cql2Json => cql2::parse_json(text).map_err(|e| e.to_string()),
    });
    let expr = match parsed {
        Ok(Ok(e)) => e,
        Ok(Err(e)) => return Err(FilterError::Syntax(first_line(&e))),
        Err(_) => {
            return Err(FilterError::Syntax(
                "the filter could not be parsed (a number out of range?)".into(),
            ))
        }
    };
    let mut c = Compiler {
        fields,
        next: first,
        params: Vec::new(),
        nodes: 0,
        spatial,
    };
    let sql = c.bool_expr(&expr, 0)?;
    Ok(SqlFilter {
        sql,
        params: c.params,
    })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(200).collect()
}

fn op_sql(op: &str) -> Option<&'static str> {
    Some(match op {
        "=" => "=",
        "<>" => "<>",
        "<" => "<",
        "<=" => "<=",
        ">" => ">",
        ">=" => ">=",
        _ => return None,
    })
}

impl Compiler<'_> {
    fn tick(&mut self, depth: usize) -> Result<(), FilterError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES || depth > MAX_DEPTH {
            return Err(FilterError::TooComplex);
        }
        Ok(())
    }

    fn bind(&mut self, p: Param, cast: &str) -> String {
        self.params.push(p);
        self.next += 1;
        format!("${}::{cast}", self.next - 1)
    }

    fn field(&self, name: &str) -> Result<&Field, FilterError> {
        self.fields
            .iter()
            .copied()
            .find(|f| f.name == name)
            .ok_or_else(|| FilterError::UnknownField(name.chars().take(64).collect()))
    }

    fn bool_expr(&mut self, e: &Expr, depth: usize) -> Result<String, FilterError> {
        self.tick(depth)?;
        let Expr::Operation { op, args } = e else {
            return match e {
                Expr::Bool(b) => Ok(if *b { "TRUE" } else { "FALSE" }.into()),
                _ => Err(FilterError::Unsupported("expected a condition".into())),
            };
        };
        let op = op.to_ascii_lowercase();
        match (op.as_str(), args.as_slice()) {
            ("and" | "or", list) if !list.is_empty() => {
                let parts = list
                    .iter()
                    .map(|a| self.bool_expr(a, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(format!(
                    "({})",
                    parts.join(if op == "and" { " AND " } else { " OR " })
                ))
            }
            ("not", [a]) => Ok(format!("(NOT {})", self.bool_expr(a, depth + 1)?)),
            ("isnull", [a]) => Ok(format!("({} IS NULL)", self.property(a)?.0)),
            ("like", [a, b]) => {
                let (col, t) = self.property(a)?;
                if t != FieldType::Text {
                    return Err(FilterError::Unsupported("LIKE needs a text field".into()));
                }
                let v = self.value(b, t, depth + 1)?;
                Ok(format!("({col} LIKE {v})"))
            }
            ("between", [a, lo, hi]) => {
                let (col, t) = self.property(a)?;
                let (lo, hi) = (self.value(lo, t, depth + 1)?, self.value(hi, t, depth + 1)?);
                Ok(format!("({col} BETWEEN {lo} AND {hi})"))
            }
            ("in", [a, list]) => {
                let Expr::Array(items) = list.as_ref() else {
                    return Err(FilterError::Unsupported("IN needs a list".into()));
                };
                let (col, t) = self.property(a)?;
                let vals = items
                    .iter()
                    .map(|i| self.value(i, t, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                if vals.is_empty() {
                    return Ok("FALSE".into());
                }
                Ok(format!("({col} IN ({}))", vals.join(", ")))
            }
            ("s_intersects", [a, b]) => self.spatial(a, b),
            (o, [a, b]) if op_sql(o).is_some() => {
                let (col, t) = self.property(a)?;
                let v = self.value(b, t, depth + 1)?;
                Ok(format!("({col} {} {v})", op_sql(o).expect("checked")))
            }
            (o, _) => Err(FilterError::Unsupported(format!(
                "operator '{}' is not supported",
                o.chars().take(32).collect::<String>()
            ))),
        }
    }

    fn property(&self, e: &Expr) -> Result<(String, FieldType), FilterError> {
        match e {
            Expr::Property { property } => {
                let f = self.field(property)?;
                Ok((quote_ident(&f.name), f.field_type))
            }
            _ => Err(FilterError::Unsupported(
                "the left side of a comparison must be a field name".into(),
            )),
        }
    }

    fn value(&mut self, e: &Expr, t: FieldType, depth: usize) -> Result<String, FilterError> {
        self.tick(depth)?;
        let wrong = |what: &str| {
            Err(FilterError::Unsupported(format!(
                "a {what} cannot be compared with a {} field",
                t.sql()
            )))
        };
        match (e, t) {
            (Expr::Literal(s), FieldType::Text) => Ok(self.bind(Param::Text(s.clone()), "text")),
            (Expr::Literal(s), FieldType::Date) => Ok(self.bind(Param::Text(s.clone()), "date")),
            (Expr::Date { date }, FieldType::Date) => match date.as_ref() {
                Expr::Literal(s) => Ok(self.bind(Param::Text(s.clone()), "date")),
                _ => wrong("date expression"),
            },
            (Expr::Float(x), FieldType::Int4 | FieldType::Int8 | FieldType::Float8) => {
                Ok(self.bind(Param::Float(*x), "double precision"))
            }
            (Expr::Bool(b), FieldType::Bool) => Ok(self.bind(Param::Bool(*b), "boolean")),
            (Expr::Float(_), _) => wrong("number"),
            (Expr::Literal(_), _) => wrong("string"),
            (Expr::Bool(_), _) => wrong("boolean"),
            _ => Err(FilterError::Unsupported(
                "only literal values may be compared".into(),
            )),
        }
    }

    fn spatial(&mut self, a: &Expr, b: &Expr) -> Result<String, FilterError> {
        let geom_prop = |e: &Expr| matches!(e, Expr::Property { property } if property == "geom" || property == "geometry");
        let other = if geom_prop(a) {
            b
        } else if geom_prop(b) {
            a
        } else {
            return Err(FilterError::Unsupported(
                "S_INTERSECTS needs the property 'geometry'".into(),
            ));
        };
        let col = quote_ident(self.spatial.column);
        let srid = self.spatial.srid;
        match other {
            Expr::BBox { bbox } if bbox.len() == 4 => {
                let mut n = Vec::new();
                for v in bbox {
                    match v.as_ref() {
                        Expr::Float(x) if x.is_finite() => n.push(*x),
                        _ => return Err(FilterError::Unsupported("BBOX needs 4 numbers".into())),
                    }
                }
                let p: Vec<String> = n
                    .into_iter()
                    .map(|x| self.bind(Param::Float(x), "double precision"))
                    .collect();
                Ok(format!("ST_Intersects({col}, ST_Transform(ST_MakeEnvelope({}, {}, {}, {}, 4326), {srid}))", p[0], p[1], p[2], p[3]))
            }
            Expr::Geometry(g) => {
                let wkt = g
                    .to_wkt()
                    .map_err(|e| FilterError::Unsupported(format!("geometry: {e}")))?;
                let p = self.bind(Param::Text(wkt), "text");
                Ok(format!(
                    "ST_Intersects({col}, ST_Transform(ST_GeomFromText({p}, 4326), {srid}))"
                ))
            }
            _ => Err(FilterError::Unsupported(
                "S_INTERSECTS needs a BBOX or a geometry literal".into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ct(text: &str, fields: &[&Field], first: usize) -> Result<SqlFilter, FilterError> {
        compile_filter(
            text,
            FilterLang::Cql2Text,
            fields,
            first,
            SpatialTarget::WEB_MERCATOR,
        )
    }

    fn fields() -> Vec<Field> {
        let f = |n: &str, t| Field {
            name: n.into(),
            field_type: t,
            restricted: false,
            source: None,
        };
        vec![
            f("loai_dat", FieldType::Text),
            f("dien_tich", FieldType::Float8),
            f("so_to", FieldType::Int4),
        ]
    }

    #[test]
    fn compiles_common_filters_with_bound_values() {
        let fs = fields();
        let refs: Vec<&Field> = fs.iter().collect();
        let f = ct("loai_dat IN ('LUC','CLN') AND dien_tich > 1000", &refs, 5).unwrap();
        assert_eq!(
            f.sql,
            "((\"loai_dat\" IN ($5::text, $6::text)) AND (\"dien_tich\" > $7::double precision))"
        );
        assert_eq!(
            f.params,
            vec![
                Param::Text("LUC".into()),
                Param::Text("CLN".into()),
                Param::Float(1000.0)
            ]
        );
        let f = ct(
            "S_INTERSECTS(geometry, BBOX(106.3, 10.3, 106.4, 10.4))",
            &refs,
            1,
        )
        .unwrap();
        assert!(
            f.sql.starts_with("ST_Intersects(\"geom_3857\""),
            "{}",
            f.sql
        );
        assert_eq!(f.params.len(), 4);
    }

    #[test]
    fn injection_and_unknown_fields_and_type_mismatches_are_refused() {
        let fs = fields();
        let refs: Vec<&Field> = fs.iter().collect();
        let f = ct("loai_dat = 'x; DROP TABLE y; --'", &refs, 1).unwrap();
        assert_eq!(f.params, vec![Param::Text("x; DROP TABLE y; --".into())]);
        assert_eq!(f.sql, "(\"loai_dat\" = $1::text)");
        // Whatever the CQL2 parser makes of quote tricks, no filter text becomes SQL.
        if let Ok(f) = ct("loai_dat = 'x''; DROP TABLE y; --'", &refs, 1) {
            assert_eq!(f.sql, "(\"loai_dat\" = $1::text)");
        }
        assert!(matches!(
            ct("ten_chu = 'a'", &refs, 1),
            Err(FilterError::UnknownField(_))
        ));
        let r = ct("\"x\"\"; drop\" = 1", &refs, 1);
        assert!(r.is_err(), "{r:?}");
        assert!(ct("loai_dat > 5", &refs, 1).is_err());
        let r = ct("loai_dat = ", &refs, 1);
        assert!(r.is_err(), "{r:?}");
        let long = (0..100)
            .map(|i| format!("so_to = {i}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        assert_eq!(ct(&long, &refs, 1), Err(FilterError::TooComplex));
        // The parser panics on this; the panic must become a syntax error.
        assert!(matches!(
            ct("so_to = 1e400", &refs, 1),
            Err(FilterError::Syntax(_))
        ));
    }
}
