//! Tiles encoded in Rust (z >= 14, `tiles::encode`) against the same tiles
//! encoded by PostGIS (`ST_AsMVT(ST_AsMVTGeom(..))`, the SQL of
//! `tiles::layer_tile_sql`), both decoded by GDAL's MVT driver: the same
//! features with the same ids and attribute values, and geometries of the
//! same type and measure (area, length, position), polygons, lines and
//! points alike.

use crate::common;

use std::collections::BTreeMap;

use common::{import_samples, ogr_decode_with};
use testkit::{temp_dir, TestDb};

/// One decoded feature: its attributes ("name (Type) = value" lines, the
/// id among them) and its geometry's WKT.
#[derive(Debug, Default)]
struct Feature {
    attrs: String,
    wkt: String,
}

/// The features of ogrinfo's text, sorted by attributes.
fn features(text: &str) -> Vec<Feature> {
    let mut out = Vec::new();
    let mut cur: Option<Feature> = None;
    for line in text.lines() {
        if line.starts_with("OGRFeature(") {
            out.extend(cur.take());
            cur = Some(Feature::default());
        } else if let Some(f) = cur.as_mut() {
            let l = line.trim();
            if l.contains(" = ") {
                f.attrs.push_str(l);
                f.attrs.push_str(" | ");
            } else if l.ends_with(')') || l.ends_with("EMPTY") {
                f.wkt = l.to_string();
            }
        }
    }
    out.extend(cur);
    out.sort_by(|a, b| a.attrs.cmp(&b.attrs));
    out
}

/// A geometry's measure for comparison: polygons their area (exteriors
/// minus holes), lines their length, points their coordinates summed; and
/// the type word; and for polygons the length of their outlines. Both
/// encoders snap to the grid, drop points on straight runs and clip on the
/// grid, but PostGIS's clipper (wagyu) may round a point where a ring
/// crosses the buffer's edge one unit away from ours, and repairs what
/// snapping makes invalid: measures are compared with a tolerance, not
/// vertex by vertex.
fn measure(wkt: &str) -> (String, f64, f64) {
    let kind: String = wkt
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    // Nesting depth of each coordinate list: rings sit at depth 2 in a
    // POLYGON and 3 in a MULTIPOLYGON; the first ring of a polygon is its exterior.
    let ring_depth = if kind == "MULTIPOLYGON" { 3 } else { 2 };
    let (mut depth, mut total, mut outline) = (0usize, 0.0f64, 0.0f64);
    let length = |r: &[(f64, f64)]| {
        r.windows(2)
            .map(|w| (w[1].0 - w[0].0).hypot(w[1].1 - w[0].1))
            .sum::<f64>()
    };
    let (mut ring, mut first_ring) = (Vec::<(f64, f64)>::new(), true);
    let mut num = String::new();
    let mut pt: Vec<f64> = Vec::new();
    for ch in wkt[kind.len()..].chars() {
        if ch.is_ascii_digit() || ch == '.' || ch == '-' || ch == 'e' || ch == '+' {
            num.push(ch);
            continue;
        }
        if !num.is_empty() {
            pt.push(num.parse().unwrap());
            num.clear();
        }
        if (ch == ',' || ch == ')') && pt.len() >= 2 {
            ring.push((pt[0], pt[1]));
            pt.clear();
        }
        match ch {
            '(' => {
                depth += 1;
                if depth == ring_depth - 1 {
                    first_ring = true;
                }
            }
            ')' => {
                if kind.ends_with("POLYGON") && depth == ring_depth {
                    let a: f64 = ring
                        .windows(2)
                        .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
                        .sum::<f64>()
                        .abs()
                        / 2.0;
                    total += if first_ring { a } else { -a };
                    outline += length(&ring);
                    first_ring = false;
                    ring.clear();
                } else if kind.ends_with("LINESTRING") {
                    total += length(&ring);
                    ring.clear();
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    if kind.ends_with("POINT") {
        total = ring.iter().map(|p| p.0 + p.1).sum();
    }
    (kind.trim_start_matches("MULTI").to_string(), total, outline)
}

#[tokio::test]
async fn rust_encoding_matches_st_asmvt() {
    let db = TestDb::new("mvt_encoding").await;
    import_samples(&db).await;
    let dir = temp_dir("mvt-encoding");
    let mut compared: BTreeMap<String, usize> = BTreeMap::new();
    for name in ["thua_dat", "duong_bo", "kho_bai", "ranh_gioi"] {
        let l = catalog::get_layer(&db.pool, name).await.unwrap().unwrap();
        let t = tiles::TileLayer {
            layer: &l,
            fields: l.public_fields().collect(),
            filter: None,
        };
        for z in [14u8, 16, 17] {
            let mut done = 0;
            for c in tiles::tiles_in(l.bounds.unwrap(), z).step_by(7) {
                if done == 3 {
                    break;
                }
                let sql = tiles::layer_tile_sql(&t, z, None);
                let (pg, n, _): (Option<Vec<u8>>, i64, i64) = sqlx::query_as(&sql)
                    .bind(i32::from(c.z))
                    .bind(c.x as i32)
                    .bind(c.y as i32)
                    .bind(i32::from(c.z))
                    .fetch_one(&db.pool)
                    .await
                    .unwrap();
                if n == 0 {
                    continue;
                }
                let ours = tiles::render(&db.pool, std::slice::from_ref(&t), c, usize::MAX)
                    .await
                    .unwrap();
                let (a, b) = (dir.join("pg.mvt"), dir.join("rust.mvt"));
                std::fs::write(&a, pg.unwrap()).unwrap();
                std::fs::write(&b, &ours).unwrap();
                let want = ogr_decode_with(&a, z.into(), c.x, c.y, &["CLIP=NO"]);
                let got = ogr_decode_with(&b, z.into(), c.x, c.y, &["CLIP=NO"]);
                assert_eq!(got.layers, want.layers, "{name} {c:?}: layers and counts");
                let (g, w) = (features(&got.text), features(&want.text));
                let attrs = |v: &[Feature]| v.iter().map(|f| f.attrs.clone()).collect::<Vec<_>>();
                assert_eq!(attrs(&g), attrs(&w), "{name} {c:?}: ids and attributes");
                // One tile unit in metres: the grid both encoders snap to.
                let unit = 2.0 * 20_037_508.342789244 / f64::from(1u32 << z) / 4096.0;
                for (ours, pg) in g.iter().zip(&w) {
                    let ((ko, mo, outline), (kp, mp, _)) = (measure(&ours.wkt), measure(&pg.wkt));
                    assert_eq!(ko, kp, "{name} {c:?} {}: geometry type", ours.attrs);
                    // Area: the outline moved by half a unit on average (or 8
                    // square units); length: 1 % or 4 units; points: exact grid.
                    let tol = match ko.as_str() {
                        "POLYGON" => (0.5 * unit * outline).max(8.0 * unit * unit),
                        "LINESTRING" => (0.01 * mp.abs()).max(4.0 * unit),
                        _ => unit * 1e-3,
                    };
                    assert!(
                        (mo - mp).abs() <= tol,
                        "{name} {c:?} {}: ours {mo} vs PostGIS {mp} ({ko})\nours {}\npg {}",
                        ours.attrs,
                        ours.wkt,
                        pg.wkt
                    );
                }
                *compared.entry(name.to_string()).or_default() += 1;
                done += 1;
            }
        }
    }
    assert!(
        compared.values().all(|n| *n >= 3) && compared.len() == 4,
        "{compared:?}"
    );
}
