//! Land look-ups run together (features::LandLookups) answer exactly what
//! each look-up alone answers: hundreds of concurrent parcel-at-point
//! look-ups through one statement slot (points inside parcels, outside the
//! province, VN-2000 x/y, a point PROJ refuses) against
//! `features::parcel_at` one by one, and planning reports (parcels with
//! and without overlaps, ids that do not exist) against
//! `features::planning_report`, with far fewer statements than look-ups;
//! and through the server, concurrent HTTP look-ups share statements.

use crate::common;

use catalog::{Field, Layer};
use common::import_samples;
use features::LandLookups;
use sqlx::PgPool;
use testkit::TestDb;

async fn parcels_layer(pool: &PgPool) -> Layer {
    catalog::list_layers(pool)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.kind == catalog::LayerKind::Parcels)
        .unwrap()
}

/// A result as comparable text: the feature JSON, "none" or "error".
fn text(r: &Result<Option<features::Parcel>, features::FeaturesError>) -> String {
    match r {
        Ok(Some(p)) => serde_json::to_string(p).unwrap(),
        Ok(None) => "none".into(),
        Err(_) => "error".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_look_ups_equal_single_ones() {
    let db = TestDb::new("parcel_batch").await;
    import_samples(&db).await;
    let pool = &db.pool;
    let l = parcels_layer(pool).await;
    // Points: parcel centroids (lon/lat and VN-2000), their neighbourhood
    // and the outside of the layer's bounds.
    let inside: Vec<(f64, f64, f64, f64)> = sqlx::query_as(
        "SELECT ST_X(c), ST_Y(c), ST_X(n), ST_Y(n) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) c, \
         ST_PointOnSurface(geom) n FROM geokho_data.thua_dat ORDER BY fid LIMIT 120) s",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(inside.len(), 120);
    let [w, s, e, n] = l.bounds.unwrap();
    let mut points: Vec<(f64, f64, i32)> = Vec::new();
    for (i, (lon, lat, x, y)) in inside.iter().enumerate() {
        match i % 3 {
            0 => points.push((*lon, *lat, 4326)),
            1 => points.push((*x, *y, l.srid)),
            _ => points.push((lon + 0.0004, lat - 0.0003, 4326)),
        }
    }
    for i in 0..40 {
        let t = i as f64 / 40.0;
        points.push((w - 0.05 + (e - w + 0.1) * t, n + 0.02, 4326)); // north of the layer
        points.push((w + (e - w) * t, s + (n - s) * (1.0 - t), 4326)); // across it
    }
    // Parcel corners (VN-2000): on the boundary of every parcel sharing
    // them, so the answer is the smallest id among several.
    let corners: Vec<(f64, f64)> = sqlx::query_as(
        "SELECT ST_X(v), ST_Y(v) FROM (SELECT ST_PointN(ST_ExteriorRing(ST_GeometryN(geom, 1)), 1) v \
         FROM geokho_data.thua_dat ORDER BY fid LIMIT 20) s",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    points.extend(corners.iter().map(|&(x, y)| (x, y, l.srid)));
    // Outside another VN-2000 zone's projection domain: PROJ refuses it and
    // the statement fails.
    let other = if l.srid == 9205 { 9206 } else { 9205 };
    points.push((1e10, 1e10, other));

    let visible: Vec<&Field> = l.fields.iter().filter(|f| !f.restricted).collect();
    let mut want = Vec::new();
    for &(x, y, srid) in &points {
        want.push(text(
            &features::parcel_at(pool, &l, &visible, x, y, srid).await,
        ));
    }
    assert!(
        want.iter().filter(|t| t.starts_with('{')).count() >= 100,
        "{want:?}"
    );
    assert!(want.iter().any(|t| t == "none"));
    let shared = sqlx::query_scalar::<_, i64>(
        "SELECT count(*) FROM (SELECT ST_PointN(ST_ExteriorRing(ST_GeometryN(geom, 1)), 1) v \
         FROM geokho_data.thua_dat ORDER BY fid LIMIT 20) s, geokho_data.thua_dat p WHERE ST_Intersects(p.geom, s.v)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(
        shared > 30,
        "corners shared by several parcels: {shared} hits for 20"
    );
    assert!(
        want.iter().any(|t| t == "error"),
        "the bad point fails alone"
    );

    // One statement slot: everything queued behind the first look-up shares
    // statements. With the bad point and without it; searching in SQL and
    // narrowed by the layer's boxes held in memory.
    let index = features::ParcelIndexes::default()
        .build(pool, &l)
        .await
        .unwrap()
        .expect("the sample's parcels are indexed");
    for (with_bad, ix) in [
        (true, None),
        (false, None),
        (true, Some(&*index)),
        (false, Some(&*index)),
    ] {
        let lookups = LandLookups::new(1);
        let n = if with_bad {
            points.len()
        } else {
            points.len() - 1
        };
        let got = futures::future::join_all(
            points[..n]
                .iter()
                .map(|&(x, y, srid)| lookups.parcel_at(pool, &l, &visible, (x, y), srid, ix)),
        )
        .await;
        let got: Vec<String> = got.iter().map(text).collect();
        assert_eq!(
            got,
            want[..n],
            "with the bad point: {with_bad}, index: {}",
            ix.is_some()
        );
        let narrowed = lookups.narrowed();
        if ix.is_some() {
            assert!(narrowed >= 100, "{narrowed} look-ups narrowed by the index");
        } else {
            assert_eq!(narrowed, 0);
        }
        let statements = lookups.statements();
        assert!(
            statements < n as u64 / 4,
            "{statements} statements for {n} look-ups"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batched_planning_reports_equal_single_ones() {
    let db = TestDb::new("planning_batch").await;
    import_samples(&db).await;
    let pool = &db.pool;
    let layers = catalog::list_layers(pool).await.unwrap();
    let parcels = parcels_layer(pool).await;
    let zones: Vec<(&Layer, Vec<&Field>)> = layers
        .iter()
        .filter(|z| {
            matches!(
                z.kind,
                catalog::LayerKind::Planning | catalog::LayerKind::LandFund
            )
        })
        .map(|z| (z, z.fields.iter().filter(|f| !f.restricted).collect()))
        .collect();
    assert_eq!(zones.len(), 2);
    // Every parcel overlapping a zone, as many without, and missing ids.
    let mut fids: Vec<i64> = sqlx::query_scalar(
        "(SELECT p.fid FROM geokho_data.thua_dat p WHERE EXISTS (SELECT 1 FROM geokho_data.quy_hoach_sdd z \
          WHERE ST_Intersects(z.geom, p.geom)) ORDER BY fid LIMIT 150) UNION ALL \
         (SELECT fid FROM geokho_data.thua_dat ORDER BY fid DESC LIMIT 50)",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    fids.extend([-1, 0, i64::MAX]);
    let text = |r: Result<Option<features::PlanningReport>, features::FeaturesError>| match r {
        Ok(Some(p)) => serde_json::to_string(&p).unwrap(),
        Ok(None) => "none".into(),
        Err(e) => panic!("{e}"),
    };
    let mut want = Vec::new();
    for &fid in &fids {
        want.push(text(
            features::planning_report(pool, &parcels, fid, &zones).await,
        ));
    }
    assert!(
        want.iter().filter(|t| t.contains("share_pct")).count() >= 100,
        "{want:?}"
    );
    assert_eq!(want.iter().filter(|t| *t == "none").count(), 3);

    let lookups = LandLookups::new(1);
    let got: Vec<String> = futures::future::join_all(
        fids.iter()
            .map(|&fid| lookups.planning_report(pool, &parcels, fid, &zones)),
    )
    .await
    .into_iter()
    .map(text)
    .collect();
    assert_eq!(got, want);
    assert!(
        lookups.statements() < fids.len() as u64 / 4,
        "{} statements for {} reports",
        lookups.statements(),
        fids.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_http_look_ups_share_statements() {
    let db = TestDb::new("parcel_batch_http").await;
    import_samples(&db).await;
    let pool = &db.pool;
    let l = parcels_layer(pool).await;
    let state = api::AppState::new(pool.clone(), None, 1 << 20)
        .await
        .unwrap()
        .with_lookup_statements(Some(1));
    let base = common::serve(state.clone()).await;
    let points: Vec<(f64, f64)> = sqlx::query_as(
        "SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) c \
         FROM geokho_data.thua_dat ORDER BY fid LIMIT 80) s",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(points.len(), 80);
    let visible: Vec<&Field> = l.fields.iter().filter(|f| !f.restricted).collect();
    let mut want = Vec::new();
    for &(lon, lat) in &points {
        let p = features::parcel_at(pool, &l, &visible, lon, lat, 4326)
            .await
            .unwrap()
            .expect("a parcel at its own point");
        want.push(serde_json::to_value(&p).unwrap());
    }
    let c = reqwest::Client::new();
    let got = futures::future::join_all(points.iter().map(|(lon, lat)| {
        let c = c.clone();
        let url = format!("{base}/land/parcels/at?lon={lon}&lat={lat}");
        async move {
            let r = c.get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.json::<serde_json::Value>().await.unwrap()
        }
    }))
    .await;
    assert_eq!(got, want);
    let (n, statements) = (state.land.lookups(), state.land.statements());
    assert_eq!(n, 80);
    assert!(statements < n, "{statements} statements for {n} look-ups");
    // The server holds the layer's boxes: every look-up was narrowed.
    assert_eq!(state.land.narrowed(), 80);
    // They ran on the look-ups' own connection (one: one statement at a
    // time), as generic plans: never planned again per point.
    let plans: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements \
         WHERE statement LIKE '%ST_Intersects%' AND statement NOT LIKE '%pg_prepared%'",
    )
    .fetch_all(&state.lookups)
    .await
    .unwrap();
    let runs: i64 = plans.iter().map(|p| p.1 + p.2).sum();
    assert_eq!(
        runs as u64, statements,
        "look-up statements on the look-ups' connection: {plans:?}"
    );
    assert!(plans.iter().all(|p| p.2 == 0), "custom plans: {plans:?}");
}
