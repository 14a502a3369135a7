//! Tiles encoded in Rust (z >= 14, `tiles::encode`) against the same tiles
//! encoded by PostGIS (`ST_AsMVT(ST_AsMVTGeom(..))`, the SQL of
//! `tiles::layer_tile_sql`), both decoded by GDAL's MVT driver: the same
//! features with the same ids and attribute values, polygons, lines and
//! points alike.

mod common;

use std::collections::BTreeMap;

use common::{import_samples, ogr_decode};
use testkit::{temp_dir, TestDb};

/// Feature blocks of ogrinfo's text: "id | attr = value | ..." (geometry left out).
fn features(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("OGRFeature(") {
            if let Some(f) = cur.take() {
                out.push(f);
            }
            cur = Some(rest.to_string());
        } else if let Some(f) = cur.as_mut() {
            if line.contains(" = ") {
                f.push_str(" | ");
                f.push_str(line.trim());
            }
        }
    }
    out.extend(cur);
    out.sort();
    out
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
                let want = ogr_decode(&a, z.into(), c.x, c.y);
                let got = ogr_decode(&b, z.into(), c.x, c.y);
                if got.layers != want.layers {
                    let (g, w) = (features(&got.text), features(&want.text));
                    let extra: Vec<_> = g.iter().filter(|f| !w.contains(f)).collect();
                    let id = extra
                        .first()
                        .and_then(|f| f.split(':').nth(1))
                        .and_then(|s| s.split(' ').next())
                        .unwrap_or("");
                    let block: String = got
                        .text
                        .split("OGRFeature(")
                        .find(|b| b.split(':').nth(1).and_then(|s| s.lines().next()) == Some(id))
                        .unwrap_or("")
                        .chars()
                        .take(600)
                        .collect();
                    panic!("{name} {c:?}: {:?} vs {:?}; only in ours: {extra:?}\n{block}\nOURS {g:#?}\nPG {w:#?}", got.layers, want.layers);
                }
                assert_eq!(
                    features(&got.text),
                    features(&want.text),
                    "{name} {c:?}: ids and attributes"
                );
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
