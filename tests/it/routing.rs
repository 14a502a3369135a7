//! Truck routing and road-network searches over the sample province: the
//! network built at import, bridge load limits, one-way roads, warehouses
//! by road distance, the route to the nearest warehouse, bad input; and the
//! network travelling with its layer through re-import and rollback.
//! Every route is checked against PostGIS (its length, what it passes).

use crate::common;

use common::{get_json, import_samples, sample_layer, start_server};
use serde_json::Value;
use sqlx::PgPool;
use testkit::TestDb;

/// WGS 84 of native (EPSG:9210) `x`, `y`.
async fn lon_lat(pool: &PgPool, x: f64, y: f64) -> (f64, f64) {
    sqlx::query_as(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 9210), 4326) AS p) x",
    )
    .bind(x)
    .bind(y)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn route(base: &str, from: (f64, f64), to: (f64, f64), extra: &str) -> reqwest::Response {
    reqwest::get(format!(
        "{base}/logistics/route?from={},{}&to={},{}{extra}",
        from.0, from.1, to.0, to.1
    ))
    .await
    .unwrap()
}

/// Length (m, native SRID) of a GeoJSON geometry and whether it passes
/// within 5 m of a bridge whose load limit is below `weight`.
async fn measure(pool: &PgPool, g: &Value, weight: f64) -> (f64, i64) {
    sqlx::query_as(
        "SELECT ST_Length(r), (SELECT count(*) FROM geokho_data.cau b WHERE b.tai_trong < $2 AND ST_DWithin(b.geom, r, 5)) \
         FROM (SELECT ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326), 9210) AS r) x",
    )
    .bind(g.to_string())
    .bind(weight)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn routes_respect_bridges_and_one_way_roads() {
    let db = TestDb::new("routing").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    let pool = &db.pool;

    // The network: one edge per road part, every edge between two vertices.
    let (edges, parts, one_way, bad_rev): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM geokho_data.duong_bo__edges), \
                (SELECT sum(ST_NumGeometries(geom)) FROM geokho_data.duong_bo)::int8, \
                (SELECT count(*) FROM geokho_data.duong_bo__edges WHERE one_way), \
                (SELECT count(*) FROM geokho_data.duong_bo__edges e JOIN geokho_data.duong_bo r USING (fid) \
                 WHERE (e.reverse_cost_s < 0) <> r.mot_chieu)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(edges, parts);
    assert!(one_way > 0, "the sample has one-way roads");
    assert_eq!(
        bad_rev, 0,
        "one-way edges and only they have no reverse cost"
    );

    // The weakest bridge; points 250 m either side of it on its road.
    let (bx, by, limit, max_limit): (f64, f64, f64, f64) = sqlx::query_as(
        "SELECT ST_X(geom), ST_Y(geom), tai_trong, (SELECT max(tai_trong) FROM geokho_data.cau) \
         FROM geokho_data.cau ORDER BY tai_trong, fid LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let west = lon_lat(pool, bx - 250.0, by).await;
    let east = lon_lat(pool, bx + 250.0, by).await;

    let r = route(&base, west, east, "").await;
    assert_eq!(r.status(), 200);
    let free: Value = r.json().await.unwrap();
    let p = &free["properties"];
    let (len, over_weak) = measure(pool, &free["geometry"], limit + 0.5).await;
    assert_eq!(
        over_weak, 1,
        "without a weight the direct way crosses the weakest bridge"
    );
    assert!((len - 500.0).abs() < 5.0, "straight along the road: {len}");
    let reported = p["length_m"].as_f64().unwrap();
    assert!(
        (reported - len).abs() < 1.0,
        "length_m {reported} vs PostGIS {len}"
    );
    let legs_sum: f64 = p["legs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["length_m"].as_f64().unwrap())
        .sum();
    assert!(
        (legs_sum - reported).abs() < 1.0,
        "legs add up: {legs_sum} vs {reported}"
    );
    assert!(p["duration_s"].as_f64().unwrap() > 0.0);
    assert_eq!(p["closed_bridges"], 0);

    // A truck heavier than that bridge goes round by a stronger one.
    let w = limit + 1.0;
    let heavy: Value = route(&base, west, east, &format!("&weight={w}"))
        .await
        .json()
        .await
        .unwrap();
    let hp = &heavy["properties"];
    let (hlen, over) = measure(pool, &heavy["geometry"], w).await;
    assert_eq!(over, 0, "no bridge below {w} t on the route");
    assert!(hlen > len + 100.0, "the detour is longer: {hlen} vs {len}");
    let weaker: i64 =
        sqlx::query_scalar("SELECT count(*) FROM geokho_data.cau WHERE tai_trong < $1")
            .bind(w)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(hp["closed_bridges"].as_i64().unwrap(), weaker);
    assert!((hp["length_m"].as_f64().unwrap() - hlen).abs() < 1.0);

    // Heavier than every bridge: the canal cannot be crossed.
    let r = route(&base, west, east, &format!("&weight={}", max_limit + 1.0)).await;
    assert_eq!(r.status(), 404);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("bridges"),
        "{body}"
    );
    // ... but the same truck still drives on its own side.
    let west2 = lon_lat(pool, bx - 600.0, by).await;
    let r = route(&base, west, west2, &format!("&weight={}", max_limit + 1.0)).await;
    assert_eq!(r.status(), 200);

    // One-way: along the digitised direction the stretch itself, against
    // it a detour (or no route at all).
    let (ax, ay, zx, zy, elen): (f64, f64, f64, f64, f64) = sqlx::query_as(
        "SELECT ST_X(a), ST_Y(a), ST_X(z), ST_Y(z), length_m FROM ( \
           SELECT ST_LineInterpolatePoint(geom, 0.3) AS a, ST_LineInterpolatePoint(geom, 0.7) AS z, length_m \
           FROM geokho_data.duong_bo__edges WHERE one_way ORDER BY length_m DESC LIMIT 1) x",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let (a, z) = (lon_lat(pool, ax, ay).await, lon_lat(pool, zx, zy).await);
    let fwd: Value = route(&base, a, z, "").await.json().await.unwrap();
    let fwd_len = fwd["properties"]["length_m"].as_f64().unwrap();
    assert!(
        (fwd_len - 0.4 * elen).abs() < 2.0,
        "forward {fwd_len} vs {}",
        0.4 * elen
    );
    let r = route(&base, z, a, "").await;
    if r.status() == 200 {
        let back: Value = r.json().await.unwrap();
        let back_len = back["properties"]["length_m"].as_f64().unwrap();
        assert!(
            back_len > fwd_len + 100.0,
            "against a one-way road: {back_len}"
        );
    } else {
        assert_eq!(r.status(), 404);
    }

    // Bad input: 400 naming the parameter.
    for (q, param) in [
        ("/logistics/route?to=106.35,10.34", "from"),
        ("/logistics/route?from=106.35&to=106.35,10.34", "from"),
        ("/logistics/route?from=106.35,10.34&to=abc,1", "to"),
        ("/logistics/route?from=106.35,10.34&to=106.35,95", "to"),
        (
            "/logistics/route?from=106.35,10.34&to=106.36,10.34&weight=-3",
            "weight",
        ),
        (
            "/logistics/route?from=106.35,10.34&to=106.36,10.34&network=nope",
            "network",
        ),
        // 20 km from every road.
        ("/logistics/route?from=106.35,10.34&to=106.55,10.34", "to"),
    ] {
        let r = reqwest::get(format!("{base}{q}")).await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
        assert_eq!(
            r.headers()["content-type"],
            "application/problem+json",
            "{q}"
        );
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["parameter"], param, "{q}: {b}");
    }
}

/// The first search of a route reads only the edges in a box around its
/// ends (grown by at least 3 km). A truck that can cross the canal only by a
/// bridge 6 km away has no way inside that box: the search falls back to the
/// whole network and finds the detour.
#[tokio::test]
async fn a_detour_beyond_the_search_box_is_found() {
    let db = TestDb::new("routing_fallback").await;
    let pool = &db.pool;
    // A province tall enough for the detour (the committed sample is 2 km).
    let dir = testkit::temp_dir("routing_fallback");
    samples::generate(
        &dir,
        &samples::SampleOptions {
            parcels: 60_000,
            ..Default::default()
        },
    )
    .unwrap();
    for l in importer::manifest::load(&dir.join("layers.toml")).unwrap() {
        if !["duong_bo", "cau"].contains(&l.layer.as_str()) {
            continue;
        }
        let (files, opts) = l.into_import(2);
        importer::import_layer(pool, &files, &opts).await.unwrap();
    }
    // Only the northernmost bridge carries 20 t; the trip crosses the canal
    // at the southernmost one.
    let (sx, sy, nx, ny): (f64, f64, f64, f64) = sqlx::query_as(
        "SELECT ST_X(s.geom), ST_Y(s.geom), ST_X(n.geom), ST_Y(n.geom) FROM \
         (SELECT geom FROM geokho_data.cau ORDER BY ST_Y(geom) LIMIT 1) s, \
         (SELECT geom FROM geokho_data.cau ORDER BY ST_Y(geom) DESC LIMIT 1) n",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(ny - sy > 5_000.0, "bridges {sy}..{ny} span the canal");
    sqlx::query(
        "UPDATE geokho_data.cau SET tai_trong = CASE WHEN ST_Y(geom) = $1 THEN 40 ELSE 5 END",
    )
    .bind(ny)
    .execute(pool)
    .await
    .unwrap();
    let base = start_server(&db).await;
    let west = lon_lat(pool, sx - 250.0, sy).await;
    let east = lon_lat(pool, sx + 250.0, sy).await;

    // A light truck crosses straight over.
    let light: Value = route(&base, west, east, "").await.json().await.unwrap();
    let (len, _) = measure(pool, &light["geometry"], 0.0).await;
    assert!((len - 500.0).abs() < 5.0, "straight over: {len}");

    let r = route(&base, west, east, "&weight=20").await;
    assert_eq!(r.status(), 200, "the detour is found");
    let heavy: Value = r.json().await.unwrap();
    let (hlen, weak) = measure(pool, &heavy["geometry"], 20.0).await;
    assert_eq!(weak, 0, "no bridge under 20 t on the route");
    let (north, by_north): (f64, bool) = sqlx::query_as(
        "SELECT ST_YMax(r), ST_DWithin(r, ST_SetSRID(ST_MakePoint($2, $3), 9210), 5) \
         FROM (SELECT ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326), 9210) AS r) x",
    )
    .bind(heavy["geometry"].to_string())
    .bind(nx)
    .bind(ny)
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(by_north, "over the only bridge that carries 20 t");
    // The ends' edges span well under 2 km, so the first box reaches at
    // most ~3.6 km north of them: the path lies outside it.
    assert!(
        north - sy > 4_500.0,
        "the detour leaves the first search's box: {north} vs {sy}"
    );
    assert!(
        hlen > 2.0 * (ny - sy),
        "up to the bridge and back: {hlen} m"
    );
    let p = &heavy["properties"];
    assert!((p["length_m"].as_f64().unwrap() - hlen).abs() < 1.0);
    let weaker: i64 =
        sqlx::query_scalar("SELECT count(*) FROM geokho_data.cau WHERE tai_trong < 20")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(p["closed_bridges"].as_i64().unwrap(), weaker);
}

#[tokio::test]
async fn warehouses_by_road() {
    let db = TestDb::new("reach").await;
    import_samples(&db).await;
    let base = start_server(&db).await;
    let pool = &db.pool;
    let (lon, lat) = (106.355, 10.3484);
    let max = 800.0;

    let found = get_json(&format!(
        "{base}/logistics/warehouses/reachable?lon={lon}&lat={lat}&distance_m={max}&limit=100"
    ))
    .await;
    let f = found["features"].as_array().unwrap();
    assert!(
        f.len() >= 5 && f.len() < 100,
        "all within {max} m fit one page: {found}"
    );
    let net: Vec<f64> = f.iter().map(|x| x["network_m"].as_f64().unwrap()).collect();
    assert!(
        net.windows(2).all(|w| w[0] <= w[1]),
        "nearest by road first"
    );
    assert!(net.iter().all(|d| *d <= max));
    for x in f {
        let straight = x["straight_m"].as_f64().unwrap();
        assert!(x["network_m"].as_f64().unwrap() >= straight - 1.0, "{x}");
    }
    // Every warehouse within `max` in a straight line and not listed is
    // farther than `max` by road: its route is longer.
    let listed: Vec<i64> = f.iter().map(|x| x["id"].as_i64().unwrap()).collect();
    let near: Vec<(i64, f64, f64)> = sqlx::query_as(
        "SELECT fid, ST_X(ST_Transform(geom, 4326)), ST_Y(ST_Transform(geom, 4326)) FROM geokho_data.kho_bai \
         WHERE ST_DWithin(geom, ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 4326), 9210), $3) ORDER BY fid",
    )
    .bind(lon)
    .bind(lat)
    .bind(max)
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(
        near.len() > listed.len(),
        "some are near by air but far by road"
    );
    for (fid, wx, wy) in near.iter().filter(|n| !listed.contains(&n.0)).take(5) {
        let r: Value = route(&base, (lon, lat), (*wx, *wy), "")
            .await
            .json()
            .await
            .unwrap();
        let len = r["properties"]["length_m"].as_f64().unwrap();
        assert!(
            len > max * 0.9,
            "warehouse {fid} left out but {len} m by road"
        );
    }
    // The network distance is the shortest: no route is shorter.
    for x in f.iter().take(3) {
        let c = &x["geometry"]["coordinates"];
        let to = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        let r: Value = route(&base, (lon, lat), to, "").await.json().await.unwrap();
        let access = found["from"]["distance_m"].as_f64().unwrap()
            + r["properties"]["to"]["distance_m"].as_f64().unwrap();
        let len = r["properties"]["length_m"].as_f64().unwrap() + access;
        assert!(
            len + 1.0 >= x["network_m"].as_f64().unwrap(),
            "route {len} shorter than network_m {x}"
        );
    }

    // The route to the nearest cold store: it is one, and none of the other
    // nearby cold stores is faster to reach.
    let cold = "Kho%20l%E1%BA%A1nh";
    let best = get_json(&format!(
        "{base}/logistics/route/nearest-warehouse?lon={lon}&lat={lat}&loai_kho={cold}"
    ))
    .await;
    let to = &best["properties"]["to"];
    assert_eq!(to["properties"]["loai_kho"], "Kho lạnh");
    let t_best = best["properties"]["duration_s"].as_f64().unwrap();
    assert!(best["properties"]["length_m"].as_f64().unwrap() > 0.0);
    let others = get_json(&format!(
        "{base}/logistics/warehouses/near?lon={lon}&lat={lat}&loai_kho={cold}&limit=5"
    ))
    .await;
    for o in others["features"].as_array().unwrap() {
        let c = &o["geometry"]["coordinates"];
        let r: Value = route(
            &base,
            (lon, lat),
            (c[0].as_f64().unwrap(), c[1].as_f64().unwrap()),
            "",
        )
        .await
        .json()
        .await
        .unwrap();
        let t = r["properties"]["duration_s"].as_f64().unwrap();
        assert!(
            t + 1.0 >= t_best,
            "warehouse {} is faster: {t} < {t_best}",
            o["id"]
        );
    }

    for q in [
        "/logistics/warehouses/reachable?lon=106.35&lat=10.34",
        "/logistics/warehouses/reachable?lon=106.35&lat=10.34&distance_m=0",
        "/logistics/warehouses/reachable?lon=106.35&lat=10.34&distance_m=1e9",
        "/logistics/route/nearest-warehouse?lat=10.34",
    ] {
        let r = reqwest::get(format!("{base}{q}")).await.unwrap();
        assert_eq!(r.status(), 400, "{q}");
    }
    let r = reqwest::get(format!(
        "{base}/logistics/route/nearest-warehouse?lon={lon}&lat={lat}&loai_kho=none"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_network_travels_with_its_layer() {
    let db = TestDb::new("network_versions").await;
    let pool = &db.pool;
    let (files, opts) = sample_layer("duong_bo");
    let edges = |pool: PgPool| async move {
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM geokho_data.duong_bo__edges")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    importer::import_layer(pool, &files, &opts).await.unwrap();
    let first = edges(pool.clone()).await;
    // A second version made of the first ten roads only (cut by GDAL).
    let dir = testkit::temp_dir("network_versions");
    let out = dir.join("duong_bo.shp");
    let st = std::process::Command::new("ogr2ogr")
        .args(["-limit", "10", "-lco", "ENCODING=UTF-8"])
        .arg(&out)
        .arg(&files[0])
        .status()
        .unwrap();
    assert!(st.success());
    importer::import_layer(pool, &[dir.join("duong_bo.shp")], &opts)
        .await
        .unwrap();
    assert_eq!(edges(pool.clone()).await, 10);
    let hist: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'geokho_history' AND tablename ~ '^duong_bo_v[0-9]+__edges$'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(hist, 1, "the previous network is kept with its layer");
    catalog::rollback(pool, "duong_bo").await.unwrap();
    assert_eq!(
        edges(pool.clone()).await,
        first,
        "rollback restores the network"
    );
}
