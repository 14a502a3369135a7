//! The in-memory road graph against pgRouting, and against a new import:
//! costs between many vertex pairs of the sample province equal
//! `pgr_dijkstraCost`'s over the same edges table (one-way roads, a truck
//! weight that closes a bridge, travel time and length), and after a new
//! roads import the server routes on the new network, not the graph it
//! built before.

use crate::common;

use std::collections::HashMap;

use common::{import_samples, sample_layer, start_server};
use features::{Cost, Graphs, RoadNetwork};
use serde_json::Value;
use sqlx::PgPool;
use testkit::TestDb;

/// The roads network of the sample with its bridges layer.
async fn network(pool: &PgPool) -> RoadNetwork {
    let layers = catalog::list_layers(pool).await.unwrap();
    let get = |n: &str| layers.iter().find(|l| l.name == n).unwrap().clone();
    RoadNetwork::new(get("duong_bo"), vec![get("cau")])
}

/// pgRouting's cost between every pair of `from` x `to` with the edges of
/// `closed` left out (cost per `cost`); missing pairs have no path.
async fn pgr_costs(
    pool: &PgPool,
    cost: Cost,
    closed: &[i64],
    from: &[i64],
    to: &[i64],
) -> HashMap<(i64, i64), f64> {
    let (c, r) = match cost {
        Cost::Time => ("cost_s", "reverse_cost_s"),
        Cost::Length => ("length_m", "CASE WHEN one_way THEN -1 ELSE length_m END"),
    };
    let edges = format!(
        "SELECT id, source, target, {c} AS cost, {r} AS reverse_cost FROM geokho_data.duong_bo__edges \
         WHERE id NOT IN (SELECT unnest(current_setting('geokho.test_closed')::int8[]))"
    );
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SELECT set_config('geokho.test_closed', $1, true)")
        .bind(format!(
            "{{{}}}",
            closed
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
    let rows: Vec<(i64, i64, f64)> = sqlx::query_as(
        "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCost($1, $2::int8[], $3::int8[], true)",
    )
    .bind(edges)
    .bind(from)
    .bind(to)
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    rows.into_iter().map(|(s, t, c)| ((s, t), c)).collect()
}

#[tokio::test]
async fn in_memory_costs_equal_pgr_dijkstra() {
    let db = TestDb::new("route_graph").await;
    import_samples(&db).await;
    let pool = &db.pool;
    let net = network(pool).await;
    let graphs = Graphs::default();
    let g = graphs.build(pool, &net).await.unwrap();
    let (edges, vertices): (i64, i64) = sqlx::query_as(
        "SELECT count(*), (SELECT count(*) FROM (SELECT source FROM geokho_data.duong_bo__edges \
         UNION SELECT target FROM geokho_data.duong_bo__edges) v) FROM geokho_data.duong_bo__edges",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(
        (g.edge_count() as i64, g.vertex_count() as i64),
        (edges, vertices)
    );
    eprintln!(
        "sample graph: {vertices} vertices, {edges} edges, {} bytes",
        g.heap_bytes()
    );

    // Vertices drawn at random (fixed seed), plus both ends of the longest
    // one-way edge and of an edge a bridge closes.
    let all: Vec<i64> = sqlx::query_scalar(
        "SELECT source FROM geokho_data.duong_bo__edges UNION SELECT target FROM geokho_data.duong_bo__edges ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut pick = Vec::new();
    for _ in 0..40 {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        pick.push(all[(seed >> 33) as usize % all.len()]);
    }
    let (os, ot): (i64, i64) = sqlx::query_as(
        "SELECT source, target FROM geokho_data.duong_bo__edges WHERE one_way ORDER BY length_m DESC LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let weight: f64 = sqlx::query_scalar("SELECT min(tai_trong) + 1 FROM geokho_data.cau")
        .fetch_one(pool)
        .await
        .unwrap();
    let mut tx = pool.begin().await.unwrap();
    let (closed, bridges) = features::closed_edges(&mut tx, &net, Some(weight))
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(
        bridges > 0 && !closed.is_empty(),
        "{weight} t closes a bridge"
    );
    let (bs, bt): (i64, i64) =
        sqlx::query_as("SELECT source, target FROM geokho_data.duong_bo__edges WHERE id = $1")
            .bind(closed[0])
            .fetch_one(pool)
            .await
            .unwrap();
    pick.extend([os, ot, bs, bt]);
    pick.sort_unstable();
    pick.dedup();
    eprintln!("{} vertices, every ordered pair", pick.len());

    let mut found = HashMap::new();
    for (cost, shut) in [
        (Cost::Time, &[][..]),
        (Cost::Time, &closed[..]),
        (Cost::Length, &closed[..]),
    ] {
        let want = pgr_costs(pool, cost, shut, &pick, &pick).await;
        let mut reached = 0;
        for s in &pick {
            let tree = g.search(cost, &g.closed(shut), &[(*s, 0.0)], |_, _| true);
            for t in pick.iter().filter(|t| *t != s) {
                let got = tree.cost(*t);
                match (got, want.get(&(*s, *t))) {
                    (Some(a), Some(b)) => {
                        assert!(
                            (a - b).abs() <= 1e-6 * b.abs().max(1.0),
                            "{cost:?} {s}->{t}: {a} vs pgRouting {b}"
                        );
                        reached += 1;
                    }
                    (None, None) => {}
                    (a, b) => panic!("{cost:?} {s}->{t}: {a:?} vs pgRouting {b:?}"),
                }
                // The path found adds up to its cost.
                if let Some((from, edges, _, sum)) = tree.path(*t, cost) {
                    assert_eq!(from, *s);
                    assert!(!edges.is_empty());
                    assert!((sum - got.unwrap()).abs() <= 1e-6 * sum.max(1.0));
                }
                found.insert((cost as u8, shut.len(), *s, *t), got);
            }
        }
        assert!(
            reached > pick.len() * 10,
            "{cost:?}: {reached} pairs reached"
        );
    }
    let time = |n: usize, s: i64, t: i64| found[&(Cost::Time as u8, n, s, t)];
    // One-way: along the edge cheaper than against it.
    assert!(
        time(0, os, ot).unwrap() < time(0, ot, os).unwrap_or(f64::INFINITY),
        "the one-way edge is one way"
    );
    // The closed bridge: a detour (or no way) for the heavy truck.
    let heavy = time(closed.len(), bs, bt).unwrap_or(f64::INFINITY);
    assert!(
        heavy > time(0, bs, bt).unwrap(),
        "the bridge is closed at {weight} t"
    );
}

/// WGS 84 of the point at `f` along edge `id`.
async fn on_edge(pool: &PgPool, id: i64, f: f64) -> (f64, f64) {
    sqlx::query_as(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_LineInterpolatePoint(geom, $2), 4326) AS p \
         FROM geokho_data.duong_bo__edges WHERE id = $1) x",
    )
    .bind(id)
    .bind(f)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn route(base: &str, a: (f64, f64), z: (f64, f64)) -> (u16, Value) {
    let r = reqwest::get(format!(
        "{base}/logistics/route?from={},{}&to={},{}",
        a.0, a.1, z.0, z.1
    ))
    .await
    .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// A route that must go against a one-way road; the roads imported again
/// with every road two-way (GDAL rewrites `mot_chieu`): the server's next
/// routes use the new network (and say its version), shorter now.
#[tokio::test]
async fn after_a_new_roads_import_routes_use_the_new_network() {
    let db = TestDb::new("route_graph_import").await;
    import_samples(&db).await;
    let pool = &db.pool;
    let base = start_server(&db).await;
    // The longest one-way edge E without a twin the other way between the
    // same vertices, the shortest two-way edges touching its target (A) and
    // its source (Z), and points on A and Z a tenth of their length from E.
    type Pick = (i64, i64, f64, i64, f64, f64);
    let (e, a, fa, z, fz, bound): Pick = sqlx::query_as(
        "WITH e AS (SELECT * FROM geokho_data.duong_bo__edges e WHERE one_way AND NOT EXISTS \
           (SELECT 1 FROM geokho_data.duong_bo__edges y WHERE y.id <> e.id \
            AND least(y.source, y.target) = least(e.source, e.target) \
            AND greatest(y.source, y.target) = greatest(e.source, e.target)) \
           ORDER BY length_m DESC LIMIT 1) \
         SELECT e.id, a.id, CASE WHEN a.source = e.target THEN 0.1 ELSE 0.9 END::float8, \
                z.id, CASE WHEN z.source = e.source THEN 0.1 ELSE 0.9 END::float8, \
                a.length_m / 10 + e.length_m + z.length_m / 10 FROM e, \
         LATERAL (SELECT * FROM geokho_data.duong_bo__edges x WHERE x.id <> e.id AND NOT x.one_way \
                  AND e.target IN (x.source, x.target) ORDER BY length_m LIMIT 1) a, \
         LATERAL (SELECT * FROM geokho_data.duong_bo__edges x WHERE x.id <> e.id AND NOT x.one_way \
                  AND e.source IN (x.source, x.target) ORDER BY length_m LIMIT 1) z",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    let (from, to) = (on_edge(pool, a, fa).await, on_edge(pool, z, fz).await);
    let v1: i64 = sqlx::query_scalar("SELECT version FROM geokho.layers WHERE name = 'duong_bo'")
        .fetch_one(pool)
        .await
        .unwrap();
    let (st, before) = route(&base, from, to).await;
    if st == 200 {
        assert_eq!(before["properties"]["network_version"], v1);
        let len = before["properties"]["length_m"].as_f64().unwrap();
        assert!(len > bound + 1.0, "edge {e} is one way: {len} vs {bound}");
    } else {
        assert_eq!(st, 404, "{before}");
    }

    // Version 2: the same roads, all two-way.
    let (files, opts) = sample_layer("duong_bo");
    let dir = testkit::temp_dir("route_graph_import");
    let out = dir.join("duong_bo.shp");
    let ok = std::process::Command::new("ogr2ogr")
        .args(["-lco", "ENCODING=UTF-8", "-dialect", "SQLite", "-sql"])
        .arg(
            "SELECT TEN_DUONG, CAP_QL, SO_LAN, BE_RONG, KET_CAU, TOC_DO, '0' AS MOT_CHIEU, geometry FROM duong_bo",
        )
        .arg(&out)
        .arg(&files[0])
        .status()
        .unwrap();
    assert!(ok.success());
    importer::import_layer(pool, &[out], &opts).await.unwrap();
    let (v2, one_way): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT version FROM geokho.layers WHERE name = 'duong_bo'), \
         (SELECT count(*) FROM geokho_data.duong_bo__edges WHERE one_way)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(v2 > v1);
    assert_eq!(one_way, 0);

    // The server hears of it (NOTIFY) within moments; every answer is of
    // one version: the old one before, the new one after.
    let mut after = Value::Null;
    for _ in 0..100 {
        let (st, r) = route(&base, from, to).await;
        if st == 200 && r["properties"]["network_version"] == v2 {
            after = r;
            break;
        }
        if st == 200 {
            assert_eq!(r["properties"]["network_version"], v1);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let p = &after["properties"];
    assert_eq!(p["network_version"], v2, "routes use version {v2}");
    let len = p["length_m"].as_f64().unwrap();
    assert!(
        len <= bound + 1.0,
        "now against E's old direction: {len} vs {bound}"
    );
    assert_eq!(after["geometry"]["type"], "LineString", "one line");
    // The line passes the middle of E.
    let near: bool = sqlx::query_scalar(
        "SELECT ST_DWithin(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326), 9210), \
         (SELECT ST_LineInterpolatePoint(geom, 0.5) FROM geokho_data.duong_bo__edges WHERE id = $2), 1)",
    )
    .bind(after["geometry"].to_string())
    .bind(e)
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(near, "the route runs along edge {e}");
}

/// Requests that find the same graph missing load it once: the others wait
/// for that load and share its graph.
#[tokio::test]
async fn concurrent_requests_load_a_missing_graph_once() {
    let db = TestDb::new("route_graph_once").await;
    import_samples(&db).await;
    let pool = &db.pool;
    let net = network(pool).await;
    let version = net.roads.version;
    let graphs = Graphs::default();
    let got = futures::future::join_all((0..8).map(|_| async {
        let mut tx = pool.begin_with("BEGIN READ ONLY").await.unwrap();
        graphs.for_version(&mut tx, &net, version).await.unwrap()
    }))
    .await;
    assert_eq!(graphs.loads(), 1, "loads for 8 requests at once");
    assert!(got.iter().all(|g| std::sync::Arc::ptr_eq(g, &got[0])));
    assert_eq!(got[0].version, version);
}
