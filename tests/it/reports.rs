//! Citizen field reports: stored, visible in OGC API Features and in tiles
//! at once (a new layer version), validated, and rate-limited per address.

use crate::common;

use common::{fetch_tile, get_json, start_server};
use serde_json::{json, Value};
use testkit::TestDb;
use tiles::TileCoord;

#[tokio::test]
async fn reports_are_stored_served_validated_and_rate_limited() {
    let db = TestDb::new("reports").await;
    let base = start_server(&db).await;
    let client = reqwest::Client::new();
    let post = |body: Value| client.post(format!("{base}/reports")).json(&body).send();
    let v0 = get_json(&format!("{base}/ogc/collections/phan_anh")).await;
    assert!(v0["description"].as_str().unwrap().contains("0 features"));

    let (lon, lat) = (106.3601, 10.3502);
    let r = post(json!({"lon": lon, "lat": lat, "loai": "moi_truong", "noi_dung": "Rác thải đổ trộm ven rạch Bảo Định"})).await.unwrap();
    assert_eq!(r.status(), 201);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let f = get_json(&format!("{base}{loc}")).await;
    assert_eq!(f["id"].as_i64(), Some(id));
    assert_eq!(f["properties"]["trang_thai"], "moi");
    assert_eq!(
        f["properties"]["noi_dung"],
        "Rác thải đổ trộm ven rạch Bảo Định"
    );
    assert!((f["geometry"]["coordinates"][0].as_f64().unwrap() - lon).abs() < 1e-9);

    // Visible in a tile immediately (the NOTIFY reached the server's registry).
    let c = TileCoord::containing(lon, lat, 16);
    let mut found = false;
    for _ in 0..50 {
        let (_, _, d) = fetch_tile(
            &format!("{base}/tiles/phan_anh/16/{}/{}.mvt", c.x, c.y),
            16,
            c.x,
            c.y,
        )
        .await;
        if d.layers == vec![("phan_anh".to_string(), 1)] {
            assert!(d
                .text
                .contains("noi_dung (String) = Rác thải đổ trộm ven rạch Bảo Định"));
            found = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(found, "the report shows in its tile");

    // Invalid reports: 400 naming the field.
    for (body, param) in [
        (
            json!({"lon": 500, "lat": 10, "loai": "khac", "noi_dung": "x"}),
            "lon/lat",
        ),
        (
            json!({"lon": 106, "lat": 10, "loai": "bi_mat", "noi_dung": "x"}),
            "loai",
        ),
        (
            json!({"lon": 106, "lat": 10, "loai": "khac", "noi_dung": "   "}),
            "noi_dung",
        ),
        (
            json!({"lon": 106, "lat": 10, "loai": "khac", "noi_dung": "a".repeat(2001)}),
            "noi_dung",
        ),
        (json!({"lon": 106, "lat": 10, "loai": "khac"}), "body"),
        (
            json!({"lon": 106, "lat": 10, "loai": "khac", "noi_dung": "x", "trang_thai": "da_xu_ly"}),
            "body",
        ),
    ] {
        let r = post(body).await.unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(r.json::<Value>().await.unwrap()["parameter"], param);
    }
    let big = client
        .post(format!("{base}/reports"))
        .header("content-type", "application/json")
        .body(vec![b' '; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413, "body limit");

    // 5 a minute per address: this is the 2nd..5th, then 429.
    for _ in 0..4 {
        assert_eq!(
            post(json!({"lon": lon, "lat": lat, "loai": "khac", "noi_dung": "ổ gà"}))
                .await
                .unwrap()
                .status(),
            201
        );
    }
    let r = post(json!({"lon": lon, "lat": lat, "loai": "khac", "noi_dung": "ổ gà"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM geokho_data.phan_anh")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(n, 5);
}
