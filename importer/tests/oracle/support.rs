//! Helpers of the outside oracle: the corpus location, loading a file with
//! `shp2pgsql -D | psql`, and the per-record comparison of geokho's table
//! with shp2pgsql's (records, geometry, every attribute column).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use importer::shapefile::{Dims, Shape, ShapeType, ShapefileWriter};
use sqlx::{PgPool, Row};

/// The fetched corpus (`make oracle` sets GEOKHO_CORPUS).
pub fn corpus() -> PathBuf {
    let c = std::env::var("GEOKHO_CORPUS").unwrap_or_else(|_| {
        panic!("GEOKHO_CORPUS is not set: `make oracle` fetches the corpus and runs this test")
    });
    let x = PathBuf::from(c).join("x");
    assert!(
        x.join("postgis-loader").is_dir(),
        "{} has no postgis-loader/: run `make oracle` (it runs fetch-corpus.sh)",
        x.display()
    );
    x
}

/// Loads `file` into `oracle.<table>` with `shp2pgsql -D -s srid <extra>`.
pub fn shp2pgsql(
    url: &str,
    file: &Path,
    table: &str,
    srid: i32,
    extra: &[&str],
) -> Result<(), String> {
    let mut args: Vec<String> = vec!["-D".into(), "-s".into(), srid.to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(file.display().to_string());
    args.push(format!("oracle.{table}"));
    let out = Command::new("shp2pgsql")
        .args(&args)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("shp2pgsql: {e} (install the Debian package postgis)"))?;
    if !out.status.success() || out.stdout.is_empty() {
        return Err(format!(
            "shp2pgsql {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let mut psql = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("psql: {e}"))?;
    use std::io::Write;
    psql.stdin
        .take()
        .expect("stdin")
        .write_all(&out.stdout)
        .map_err(|e| format!("psql stdin: {e}"))?;
    let r = psql.wait_with_output().map_err(|e| format!("psql: {e}"))?;
    if !r.status.success() {
        return Err(format!(
            "psql loading shp2pgsql's output failed: {}",
            String::from_utf8_lossy(&r.stderr).trim()
        ));
    }
    Ok(())
}

/// Columns of a table in order, with their types, without the given ones.
async fn columns(pool: &PgPool, schema: &str, table: &str, skip: &[&str]) -> Vec<(String, String)> {
    sqlx::query(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
    )
    .bind(schema)
    .bind(table)
    .fetch_all(pool)
    .await
    .expect("columns")
    .into_iter()
    .map(|r| (r.get::<String, _>(0), r.get::<String, _>(1)))
    .filter(|(n, _)| !skip.contains(&n.as_str()) && !n.starts_with("geom_3857"))
    .collect()
}

fn numeric(t: &str) -> bool {
    matches!(
        t,
        "integer" | "bigint" | "smallint" | "double precision" | "numeric" | "real"
    )
}

/// How shp2pgsql's geometry is normalised before comparing, per our Z/M policy.
pub fn normalise_theirs(dims: Dims) -> &'static str {
    match dims {
        // shp2pgsql loads Z shape types as XYZM; geokho keeps XYZ (M dropped).
        Dims::Xyz => "ST_Force3DZ(s.geom)",
        Dims::Xy | Dims::Xym => "s.geom",
    }
}

/// Differences between `geokho_data.<ours>` and `oracle.<theirs>`: one line each.
pub async fn compare(pool: &PgPool, ours: &str, theirs: &str, dims: Option<Dims>) -> Vec<String> {
    let mut diffs = Vec::new();
    let n = |sql: String| async move {
        sqlx::query_scalar::<_, i64>(&sql)
            .fetch_one(pool)
            .await
            .unwrap_or(-1)
    };
    let (a, b) = (
        n(format!("SELECT count(*) FROM geokho_data.{ours}")).await,
        n(format!("SELECT count(*) FROM oracle.{theirs}")).await,
    );
    if a != b {
        diffs.push(format!("records: geokho {a}, shp2pgsql {b}"));
    }
    let join = format!("FROM geokho_data.{ours} g FULL JOIN oracle.{theirs} s ON g.fid = s.gid");
    match dims {
        Some(d) => {
            let sql = format!(
                "SELECT coalesce(g.fid, s.gid), ST_AsEWKT(g.geom), ST_AsEWKT({t}) {join} \
                 WHERE NOT ((g.geom IS NULL AND s.geom IS NULL) OR ST_OrderingEquals(g.geom, {t})) \
                 ORDER BY 1 LIMIT 3",
                t = normalise_theirs(d)
            );
            for r in sqlx::query(&sql)
                .fetch_all(pool)
                .await
                .expect("geometry comparison")
            {
                diffs.push(format!(
                    "record {}: geometry {:?} vs shp2pgsql {:?}",
                    r.get::<i64, _>(0),
                    r.get::<Option<String>, _>(1),
                    r.get::<Option<String>, _>(2)
                ));
            }
            // Our Z/M policy, asserted: XY -> 0, XYM -> 1, XYZ (M dropped) -> 2.
            let flag = match d {
                Dims::Xy => 0,
                Dims::Xym => 1,
                Dims::Xyz => 2,
            };
            let off = n(format!(
                "SELECT count(*) FROM geokho_data.{ours} WHERE geom IS NOT NULL AND ST_Zmflag(geom) <> {flag}"
            ))
            .await;
            if off != 0 {
                diffs.push(format!("{off} geometries with Z/M flags other than {flag}"));
            }
            let missing = n(format!(
                "SELECT count(*) FROM geokho_data.{ours} WHERE (geom IS NULL) <> (geom_3857 IS NULL)"
            ))
            .await;
            if missing != 0 {
                diffs.push(format!("{missing} records lack one of geom / geom_3857"));
            }
        }
        None => {
            let non_null = n(format!(
                "SELECT count(*) FROM geokho_data.{ours} WHERE geom IS NOT NULL"
            ))
            .await;
            if non_null != 0 {
                diffs.push(format!("{non_null} geometries where shp2pgsql loads none"));
            }
        }
    }
    let g = columns(pool, "geokho_data", ours, &["fid", "geom", "zmin"]).await;
    let s = columns(pool, "oracle", theirs, &["gid", "geom"]).await;
    if g.len() != s.len() {
        diffs.push(format!("columns: geokho {g:?}, shp2pgsql {s:?}"));
        return diffs;
    }
    for ((gc, gt), (sc, st)) in g.iter().zip(&s) {
        let (gq, sq) = (format!("g.\"{gc}\""), format!("s.\"{sc}\""));
        let same = if numeric(gt) && numeric(st) {
            format!(
                "({gq} IS NULL AND {sq} IS NULL) OR abs({gq}::float8 - {sq}::float8) <= 1e-9 * greatest(1, abs({sq}::float8))"
            )
        } else if gt == st && gt != "text" {
            format!("{gq} IS NOT DISTINCT FROM {sq}")
        } else {
            format!("{gq}::text IS NOT DISTINCT FROM {sq}::text")
        };
        let sql = format!(
            "SELECT coalesce(g.fid, s.gid), {gq}::text, {sq}::text {join} WHERE NOT ({same}) ORDER BY 1 LIMIT 3"
        );
        for r in sqlx::query(&sql)
            .fetch_all(pool)
            .await
            .expect("attribute comparison")
        {
            diffs.push(format!(
                "record {}: {gc} ({gt}) {:?} vs shp2pgsql {sc} ({st}) {:?}",
                r.get::<i64, _>(0),
                r.get::<Option<String>, _>(1),
                r.get::<Option<String>, _>(2)
            ));
        }
    }
    diffs
}

/// Copies a lone `.dbf` into `dir` beside a `.shp`/`.shx` of as many null
/// shapes, so geokho reads the same attribute table shp2pgsql loads with -n.
pub fn with_null_shapes(dbf: &Path, dir: &Path) -> PathBuf {
    let records = {
        let b = std::fs::read(dbf).expect("read dbf");
        u32::from_le_bytes(b[4..8].try_into().expect("4 bytes"))
    };
    let stem = dbf.file_stem().expect("stem").to_string_lossy().to_string();
    let base = dir.join(&stem);
    let mut w = ShapefileWriter::create(&base, ShapeType::Null, vec![]).expect("create");
    for _ in 0..records {
        w.write(&Shape::Null, &[]).expect("write");
    }
    let shp = w.finish().expect("finish");
    std::fs::copy(dbf, base.with_extension("dbf")).expect("copy dbf");
    shp
}

/// The shape type in a `.shp` header.
pub fn shape_type(shp: &Path) -> Option<ShapeType> {
    let b = std::fs::read(shp).ok()?;
    ShapeType::from_code(i32::from_le_bytes(b.get(32..36)?.try_into().ok()?))
}
