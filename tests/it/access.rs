//! Access tiers endpoint by endpoint: anonymous callers never see restricted
//! fields or non-public layers; a key sees what its scopes grant (Bearer
//! header or ?key=), restricted reads are audited, unknown and revoked keys
//! get 401, report status changes need the reports scope.

use crate::common;

use common::{fetch_tile, import_samples, start_server};
use keys::{Scope, Target};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use testkit::TestDb;

const RESTRICTED: [&str; 2] = ["ten_chu", "so_gcn"];

async fn get(c: &Client, url: &str, key: Option<&str>) -> (StatusCode, Value) {
    let mut r = c.get(url);
    if let Some(k) = key {
        r = r.bearer_auth(k);
    }
    let r = r.send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn field_names(catalog: &Value, layer: &str) -> Option<Vec<String>> {
    catalog["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == layer)
        .map(|l| {
            l["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["name"].as_str().unwrap().to_string())
                .collect()
        })
}

fn has_restricted(props: &Value) -> bool {
    RESTRICTED.iter().any(|f| props.get(f).is_some())
}

async fn audit_rows(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM geokho.audit_log")
        .fetch_one(&db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn tiers_endpoint_by_endpoint() {
    let db = TestDb::new("access").await;
    import_samples(&db).await;
    // quy_dat becomes an agency-only layer.
    sqlx::query("UPDATE geokho.layers SET public = false WHERE name = 'quy_dat'")
        .execute(&db.pool)
        .await
        .unwrap();
    let l = |n: &str| Target::Layer(n.to_string());
    let (_, officer) = keys::create(
        &db.pool,
        "Sở TN&MT",
        &[Scope::Restricted(l("thua_dat")), Scope::Reports],
    )
    .await
    .unwrap();
    let (_, agency) = keys::create(&db.pool, "Sở GTVT", &[Scope::Layers(l("quy_dat"))])
        .await
        .unwrap();
    let base = start_server(&db).await;
    let c = Client::new();
    let (o, a) = (Some(officer.as_str()), Some(agency.as_str()));

    // Catalog: layers and field lists per tier.
    let (_, anon_cat) = get(&c, &format!("{base}/catalog"), None).await;
    let anon_fields = field_names(&anon_cat, "thua_dat").unwrap();
    assert!(!anon_fields.iter().any(|f| RESTRICTED.contains(&f.as_str())));
    assert!(field_names(&anon_cat, "quy_dat").is_none());
    let (_, off_cat) = get(&c, &format!("{base}/catalog"), o).await;
    let off_fields = field_names(&off_cat, "thua_dat").unwrap();
    assert!(RESTRICTED.iter().all(|r| off_fields.iter().any(|f| f == r)));
    let (_, ag_cat) = get(&c, &format!("{base}/catalog"), a).await;
    assert!(field_names(&ag_cat, "quy_dat").is_some());
    assert!(!field_names(&ag_cat, "thua_dat")
        .unwrap()
        .iter()
        .any(|f| RESTRICTED.contains(&f.as_str())));

    // OGC API Features: items, one item, queryables, filters.
    let items = format!("{base}/ogc/collections/thua_dat/items?limit=20");
    let before = audit_rows(&db).await;
    let (s, anon) = get(&c, &items, None).await;
    assert_eq!(s, 200);
    assert!(anon["features"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| !has_restricted(&f["properties"])));
    let (_, ag) = get(&c, &items, a).await;
    assert!(ag["features"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| !has_restricted(&f["properties"])));
    assert_eq!(
        audit_rows(&db).await,
        before,
        "no restricted read, no audit"
    );
    let (s, off) = get(&c, &items, o).await;
    assert_eq!(s, 200);
    let f0 = &off["features"][0];
    let fid = f0["id"].as_i64().unwrap();
    let owner: Option<String> =
        sqlx::query_scalar("SELECT ten_chu FROM geokho_data.thua_dat WHERE fid = $1")
            .bind(fid)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(f0["properties"]["ten_chu"].as_str(), owner.as_deref());
    let (key_name, fields): (String, Vec<String>) =
        sqlx::query_as("SELECT key_name, fields FROM geokho.audit_log ORDER BY id DESC LIMIT 1")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(key_name, "Sở TN&MT");
    assert_eq!(fields, vec!["ten_chu".to_string(), "so_gcn".to_string()]);
    assert_eq!(audit_rows(&db).await, before + 1);

    let one = format!("{base}/ogc/collections/thua_dat/items/{fid}");
    assert!(!has_restricted(&get(&c, &one, None).await.1["properties"]));
    assert!(has_restricted(&get(&c, &one, o).await.1["properties"]));
    let q = format!("{base}/ogc/collections/thua_dat/queryables");
    assert!(get(&c, &q, None).await.1["properties"]
        .get("ten_chu")
        .is_none());
    assert!(get(&c, &q, o).await.1["properties"]
        .get("ten_chu")
        .is_some());
    let by_owner =
        format!("{base}/ogc/collections/thua_dat/items?filter=ten_chu%20IS%20NOT%20NULL&limit=1");
    assert_eq!(
        get(&c, &by_owner, None).await.0,
        400,
        "anonymous cannot filter on a restricted field"
    );
    assert_eq!(get(&c, &by_owner, o).await.0, 200);

    // A layer that is not public: agency key only, header or ?key=.
    let qd = format!("{base}/ogc/collections/quy_dat/items?limit=1");
    assert_eq!(get(&c, &qd, None).await.0, 404);
    assert_eq!(get(&c, &qd, o).await.0, 404);
    assert_eq!(get(&c, &qd, a).await.0, 200);
    assert_eq!(get(&c, &format!("{qd}&key={agency}"), None).await.0, 200);

    // Land officers' look-ups.
    let (ma_xa, so_to, so_thua): (String, i32, i32) =
        sqlx::query_as("SELECT ma_xa, so_to, so_thua FROM geokho_data.thua_dat WHERE fid = $1")
            .bind(fid)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let parcel = format!("{base}/land/parcels/{ma_xa}/{so_to}/{so_thua}");
    assert!(!has_restricted(
        &get(&c, &parcel, None).await.1["properties"]
    ));
    assert!(has_restricted(&get(&c, &parcel, o).await.1["properties"]));
    let near = format!("{base}/land/parcels/near?of=duong_bo&fid=1&distance_m=20&limit=5");
    for f in get(&c, &near, None).await.1["features"].as_array().unwrap() {
        assert!(!has_restricted(&f["properties"]));
    }

    // Tiles and TileJSON: the cache keeps tiers apart.
    let (lon, lat): (f64, f64) = sqlx::query_as(
        "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom), 4326) AS p FROM geokho_data.thua_dat WHERE fid = $1) x",
    )
    .bind(fid)
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let t = tiles::TileCoord::containing(lon, lat, 16);
    let tile = format!("{base}/tiles/thua_dat/{}/{}/{}.mvt", t.z, t.x, t.y);
    let owner = owner.expect("the sample parcel has an owner");
    let (_, _, anon_tile) = fetch_tile(&tile, u32::from(t.z), t.x, t.y).await;
    assert!(
        !anon_tile.text.contains("ten_chu"),
        "anonymous tile has no owners"
    );
    let audits = audit_rows(&db).await;
    let (_, _, off_tile) =
        fetch_tile(&format!("{tile}?key={officer}"), u32::from(t.z), t.x, t.y).await;
    assert!(
        off_tile.text.contains(&owner),
        "the officer's tile shows owners"
    );
    assert!(
        audit_rows(&db).await > audits,
        "a tile with owners is audited"
    );
    let (_, _, again) = fetch_tile(&tile, u32::from(t.z), t.x, t.y).await;
    assert!(
        !again.text.contains("ten_chu") && !again.text.contains(&owner),
        "no tier leak through the cache"
    );
    let tj_url = format!("{base}/tiles/thua_dat.json");
    let owners_listed = |v: &Value| {
        v["vector_layers"][0]["fields"]
            .as_object()
            .unwrap()
            .contains_key("ten_chu")
    };
    assert!(!owners_listed(&get(&c, &tj_url, None).await.1));
    assert!(owners_listed(&get(&c, &tj_url, o).await.1));
    let qd_tile = format!("{base}/tiles/quy_dat/14/13031/7718.mvt");
    assert_eq!(get(&c, &qd_tile, None).await.0, 404);
    assert!(get(&c, &qd_tile, a).await.0.is_success());

    // Shared caches (a CDN) may keep only what an anonymous caller gets.
    let cache_control = |url: String| {
        let c = c.clone();
        async move {
            let r = c.get(url).send().await.unwrap();
            assert!(r.status().is_success());
            r.headers()["cache-control"].to_str().unwrap().to_string()
        }
    };
    assert!(cache_control(tile.clone()).await.starts_with("public"));
    assert!(cache_control(tj_url.clone()).await.starts_with("public"));
    for private in [
        format!("{tile}?key={officer}"),
        format!("{tj_url}?key={officer}"),
        format!("{qd_tile}?key={agency}"),
    ] {
        assert!(
            cache_control(private.clone()).await.starts_with("private"),
            "{private}"
        );
    }

    // Bad keys: 401 with a challenge, never a silent downgrade.
    for bad in ["gk_0000000000000000000000000000000000000000", "nonsense"] {
        let r = c
            .get(format!("{base}/catalog"))
            .bearer_auth(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{bad}");
        assert!(r.headers().contains_key("www-authenticate"));
        assert_eq!(r.headers()["content-type"], "application/problem+json");
    }
    let r = c
        .get(format!("{base}/catalog?key=gk_123"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Revocation reaches the running server through NOTIFY.
    assert_eq!(get(&c, &qd, a).await.0, 200);
    keys::revoke(&db.pool, &agency[..9]).await.unwrap();
    let mut refused = false;
    for _ in 0..50 {
        if get(&c, &qd, a).await.0 == 401 {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(refused, "a revoked key is refused within 5 s");
}

#[tokio::test]
async fn report_status_needs_an_officer() {
    let db = TestDb::new("access_reports").await;
    let (_, officer) = keys::create(&db.pool, "cán bộ", &[Scope::Reports])
        .await
        .unwrap();
    let (_, other) = keys::create(&db.pool, "đối tác", &[Scope::Layers(Target::All)])
        .await
        .unwrap();
    let base = start_server(&db).await;
    let c = Client::new();
    let r = c
        .post(format!("{base}/reports"))
        .json(&serde_json::json!({"lon": 106.35, "lat": 10.35, "loai": "giao_thong", "noi_dung": "Ổ gà trên đường"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let patch = |key: Option<&str>, body: Value, id: i64| {
        let mut r = c.patch(format!("{base}/reports/{id}")).json(&body);
        if let Some(k) = key {
            r = r.bearer_auth(k);
        }
        r.send()
    };
    let st = serde_json::json!({"trang_thai": "dang_xu_ly"});
    assert_eq!(patch(None, st.clone(), id).await.unwrap().status(), 401);
    assert_eq!(
        patch(Some(&other), st.clone(), id).await.unwrap().status(),
        403
    );
    let bad = patch(
        Some(&officer),
        serde_json::json!({"trang_thai": "xong"}),
        id,
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        patch(Some(&officer), st.clone(), 999_999)
            .await
            .unwrap()
            .status(),
        404
    );
    let ok = patch(Some(&officer), st, id).await.unwrap();
    assert_eq!(ok.status(), 200);
    let v: Value = c
        .get(format!("{base}/ogc/collections/phan_anh/items/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["properties"]["trang_thai"], "dang_xu_ly");
}

#[tokio::test]
async fn admin_operations_need_an_admin_key() {
    let db = TestDb::new("access_admin").await;
    import_samples(&db).await;
    let (_, admin) = keys::create(&db.pool, "quản trị", &[Scope::Admin])
        .await
        .unwrap();
    let (_, other) = keys::create(&db.pool, "cán bộ", &[Scope::Reports])
        .await
        .unwrap();
    let base = start_server(&db).await;
    let c = Client::new();
    let stored = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM geokho.tile_store WHERE layers LIKE 'duong_bo@%'",
        )
        .fetch_one(&db.pool)
        .await
        .unwrap()
    };
    let post = |path: &str, key: Option<&str>| {
        let mut r = c.post(format!("{base}{path}"));
        if let Some(k) = key {
            r = r.bearer_auth(k);
        }
        r.send()
    };
    let seed = "/admin/layers/duong_bo/seed?minzoom=12&maxzoom=13";
    assert_eq!(post(seed, None).await.unwrap().status(), 401);
    assert_eq!(post(seed, Some(&other)).await.unwrap().status(), 403);
    assert_eq!(
        post("/admin/layers/nope/seed", Some(&admin))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        post(
            "/admin/layers/duong_bo/seed?minzoom=14&maxzoom=3",
            Some(&admin)
        )
        .await
        .unwrap()
        .status(),
        400
    );
    let r = post(seed, Some(&admin)).await.unwrap();
    assert_eq!(r.status(), 202);
    let want = r.json::<Value>().await.unwrap()["tiles"].as_i64().unwrap();
    let t0 = std::time::Instant::now();
    while stored().await < want {
        assert!(t0.elapsed().as_secs() < 30, "seeding did not finish");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let purge = "/admin/layers/duong_bo/purge";
    assert_eq!(post(purge, Some(&other)).await.unwrap().status(), 403);
    let r = post(purge, Some(&admin)).await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["store_tiles_deleted"].as_i64().unwrap(), want);
    assert_eq!(stored().await, 0);

    // Revoking a key over HTTP: admin only, then the key is refused.
    let (victim_id, victim) = keys::create(&db.pool, "tạm thời", &[Scope::Reports])
        .await
        .unwrap();
    let delete =
        |path: String, key: &str| c.delete(format!("{base}{path}")).bearer_auth(key).send();
    let me = format!("/admin/keys/{victim_id}");
    assert_eq!(delete(me.clone(), &other).await.unwrap().status(), 403);
    assert_eq!(
        delete("/admin/keys/abc".into(), &admin)
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        delete("/admin/keys/987654".into(), &admin)
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(post(purge, Some(&victim)).await.unwrap().status(), 403);
    assert_eq!(delete(me, &admin).await.unwrap().status(), 200);
    assert_eq!(
        post(purge, Some(&victim)).await.unwrap().status(),
        401,
        "a revoked key is refused at once by the server that revoked it"
    );
}
