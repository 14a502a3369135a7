//! Administrative units of both generations (before and from 1 July 2025)
//! and the crosswalk between them, loaded from seeds/admin_units: counts
//! equal the source files', known facts of the reform hold (checked
//! against docs, not the files), and `GET /units` answers a code in both
//! generations, a name without tones, a split commune as such, and bad
//! input as problems naming the parameter.

use serde_json::Value;
use testkit::{repo_root, TestDb};

use crate::common::start_server;

/// Rows of `seeds/admin_units/<file>` (without its header).
fn source_rows(file: &str) -> i64 {
    let text = std::fs::read_to_string(repo_root().join("seeds/admin_units").join(file)).unwrap();
    text.lines().skip(1).filter(|l| !l.is_empty()).count() as i64
}

async fn count(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(&db.pool).await.unwrap()
}

async fn get(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn both_generations_and_the_crosswalk_are_loaded_and_answered() {
    let db = TestDb::new("units").await;
    let n = |g: &str, t: &str| {
        format!("SELECT count(*) FROM geokho.admin_{t} WHERE generation = '{g}'")
    };
    // The reform's own figures: 63 provinces before, 34 after, 3,321 new communes.
    assert_eq!(count(&db, &n("pre2025", "province")).await, 63);
    assert_eq!(count(&db, &n("2025", "province")).await, 34);
    assert_eq!(count(&db, &n("2025", "commune")).await, 3321);
    assert_eq!(
        count(&db, &n("pre2025", "commune")).await,
        source_rows("communes_pre2025.csv")
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM geokho.admin_crosswalk").await,
        source_rows("crosswalk_2025.csv")
    );
    // Every former commune went somewhere; every new one came from somewhere.
    assert_eq!(
        count(&db, "SELECT count(*) FROM geokho.admin_commune c WHERE generation = 'pre2025' \
                    AND NOT EXISTS (SELECT 1 FROM geokho.admin_crosswalk x WHERE x.old_code = c.code)").await,
        0
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM geokho.admin_commune c WHERE generation = '2025' \
                    AND NOT EXISTS (SELECT 1 FROM geokho.admin_crosswalk x WHERE x.new_code = c.code)").await,
        0
    );
    // Loading again (every command migrates) changes nothing.
    let loaded_at = |db: &TestDb| {
        let pool = db.pool.clone();
        async move {
            sqlx::query_scalar::<_, String>(
                "SELECT loaded_at::text FROM geokho.reference_data WHERE name = 'admin_units'",
            )
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let before = loaded_at(&db).await;
    catalog::migrate(&db.pool).await.unwrap();
    assert_eq!(loaded_at(&db).await, before);

    let base = start_server(&db).await;
    // 28273: Phường 9 of TP Mỹ Tho (Tiền Giang) before; Phường Mỹ Phong
    // (Đồng Tháp) after, formed from Phường 9, Xã Mỹ Phong and Xã Tân Mỹ Chánh.
    let (status, body) = get(&format!("{base}/units?q=28273")).await;
    assert_eq!(status, 200, "{body}");
    let units = body["units"].as_array().unwrap();
    let of = |g: &str| {
        units
            .iter()
            .find(|u| u["generation"] == g && u["level"] == "commune")
            .unwrap_or_else(|| panic!("no {g} unit in {body}"))
    };
    let (old, new) = (of("pre2025"), of("2025"));
    assert_eq!(old["name"], "Phường 9");
    assert_eq!(old["district"], "Thành phố Mỹ Tho");
    assert_eq!(old["province"]["name"], "Tỉnh Tiền Giang");
    assert_eq!(old["became"][0]["name"], "Phường Mỹ Phong");
    assert_eq!(new["name"], "Phường Mỹ Phong");
    assert_eq!(new["province"]["name"], "Tỉnh Đồng Tháp");
    let formed: Vec<&str> = new["formed_from"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    for want in ["Phường 9", "Xã Mỹ Phong", "Xã Tân Mỹ Chánh"] {
        assert!(formed.contains(&want), "{want} not in {formed:?}");
    }
    // One generation only when asked.
    let (_, body) = get(&format!("{base}/units?q=28273&generation=2025")).await;
    assert_eq!(body["units"].as_array().unwrap().len(), 1, "{body}");
    // A name typed without tones or type finds the former commune.
    let (status, body) = get(&format!(
        "{base}/units?q=tan%20my%20chanh&generation=pre2025"
    ))
    .await;
    assert_eq!(status, 200);
    let u = &body["units"][0];
    assert_eq!(u["code"], "28291");
    assert_eq!(u["became"][0]["code"], "28273");
    assert_eq!(u["became"][0]["whole"], true);
    // A province by name, in both generations.
    let (_, body) = get(&format!("{base}/units?q=Tien%20Giang")).await;
    let p = body["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["level"] == "province")
        .unwrap();
    assert_eq!(p["code"], "82");
    assert_eq!(p["became"][0]["name"], "Tỉnh Đồng Tháp");
    // A split commune says so: several new communes, none whole.
    let split: String = sqlx::query_scalar(
        "SELECT old_code FROM geokho.admin_crosswalk WHERE NOT whole ORDER BY old_code LIMIT 1",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    let (_, body) = get(&format!("{base}/units?q={split}&generation=pre2025")).await;
    let became = body["units"][0]["became"].as_array().unwrap();
    assert!(
        became.len() >= 2 && became.iter().all(|b| b["whole"] == false),
        "{body}"
    );
    // Bad input: problems naming the parameter.
    let (status, body) = get(&format!("{base}/units?q=99999")).await;
    assert_eq!(status, 404);
    assert!(body["detail"].as_str().unwrap().contains("99999"), "{body}");
    let (status, body) = get(&format!("{base}/units?q=28273&generation=2019")).await;
    assert_eq!(
        (status, body["parameter"].as_str()),
        (400, Some("generation"))
    );
    let (status, body) = get(&format!("{base}/units")).await;
    assert_eq!((status, body["parameter"].as_str()), (400, Some("q")));
}
