//! Vietnamese text end to end, against a real PostGIS: a DBF written in
//! cp1258, TCVN3 or VNI (no `.cpg`) is detected as such and lands as the
//! same NFC text, every vowel with every tone included; a `.cpg` beats
//! detection; `--encoding` beats both.

use crate::common;

use importer::encoding::TextEncoding;
use importer::shapefile::{Dims, Shape, ShapeType, ShapefileWriter, WriteField, WriteValue};
use importer::{import_layer, LayerKind};
use testkit::{temp_dir, TestDb};

/// Rows every encoding can write (TCVN3 has no upper-case toned letters).
const ROWS: &[&str] = &[
    "Thửa đất số 128, tờ bản đồ số 7, xã Tân Mỹ Chánh, thành phố Mỹ Tho",
    "Đất trồng cây lâu năm; đường Nguyễn Huệ, phường Bình Thạnh",
    "Nguyễn Thị Hường, Trần Văn Đức, Lê Ngọc Anh, Phạm Quốc Việt",
    "Kho bãi cảng Mỹ Tho, bến thủy nội địa trên sông Tiền",
    // Every vowel with every tone.
    "a à á ả ã ạ ă ằ ắ ẳ ẵ ặ â ầ ấ ẩ ẫ ậ",
    "e è é ẻ ẽ ẹ ê ề ế ể ễ ệ i ì í ỉ ĩ ị",
    "o ò ó ỏ õ ọ ô ồ ố ổ ỗ ộ ơ ờ ớ ở ỡ ợ",
    "u ù ú ủ ũ ụ ư ừ ứ ử ữ ự y ỳ ý ỷ ỹ ỵ đ",
    "Ăn Âm Ê Ô Ơ Ư Đ",
    "Quy hoạch sử dụng đất đến năm 2030, tầm nhìn đến năm 2050",
];

/// Upper-case toned letters: cp1258 and VNI only.
const UPPER: &str = "ỦY BAN NHÂN DÂN TỈNH TIỀN GIANG: À Á Ả Ã Ạ Ằ Ắ Ẳ Ẵ Ặ Ầ Ấ Ẩ Ẫ Ậ \
                     È É Ẻ Ẽ Ẹ Ề Ế Ể Ễ Ệ Ì Í Ỉ Ĩ Ị Ò Ó Ỏ Õ Ọ Ồ Ố Ổ Ỗ Ộ Ờ Ớ Ở Ỡ Ợ \
                     Ù Ú Ủ Ũ Ụ Ừ Ứ Ử Ữ Ự Ỳ Ý Ỷ Ỹ Ỵ";

/// Writes `rows` encoded with `enc` into `<dir>/<name>.shp` (one point each,
/// no `.cpg`), returns the `.shp`.
fn dbf_in(enc: TextEncoding, name: &str, rows: &[&str]) -> std::path::PathBuf {
    let dir = temp_dir(&format!("enc-{name}"));
    let mut w = ShapefileWriter::create(
        &dir.join(name),
        ShapeType::Point(Dims::Xy),
        vec![WriteField::text("ghi_chu", 254)],
    )
    .unwrap();
    for (i, r) in rows.iter().enumerate() {
        let bytes = enc.encode(r).unwrap_or_else(|e| panic!("{r}: {e}"));
        assert!(bytes.len() <= 254, "{r}");
        w.write(
            &Shape::Point(106.35 + i as f64 * 1e-4, 10.35),
            &[WriteValue::Text(bytes)],
        )
        .unwrap();
    }
    w.finish().unwrap()
}

async fn texts(db: &TestDb, layer: &str) -> Vec<String> {
    sqlx::query_scalar(&format!(
        "SELECT ghi_chu FROM geokho_data.{layer} ORDER BY fid"
    ))
    .fetch_all(&db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn dbfs_in_each_vietnamese_encoding_are_detected_and_land_as_nfc() {
    let db = TestDb::new("encodings").await;
    for enc in [TextEncoding::Cp1258, TextEncoding::Tcvn3, TextEncoding::Vni] {
        let mut rows = ROWS.to_vec();
        if enc != TextEncoding::Tcvn3 {
            rows.push(UPPER);
        }
        let layer = format!("enc_{}", enc.name());
        let shp = dbf_in(enc, &layer, &rows);
        let r = import_layer(
            &db.pool,
            &[shp],
            &common::opts(&layer, LayerKind::Generic, Some(4326)),
        )
        .await
        .unwrap();
        assert_eq!(
            r.files[0].encoding,
            enc.name(),
            "{}",
            r.files[0].encoding_how
        );
        assert!(
            r.files[0].encoding_how.starts_with("detected"),
            "{}",
            r.files[0].encoding_how
        );
        let got = texts(&db, &layer).await;
        assert_eq!(got, rows, "{}", enc.name());
        // Stored precomposed (NFC), whatever the encoding wrote.
        let nfc: bool = sqlx::query_scalar(&format!(
            "SELECT bool_and(ghi_chu IS NFC NORMALIZED) FROM geokho_data.{layer}"
        ))
        .fetch_one(&db.pool)
        .await
        .unwrap();
        assert!(nfc);
    }
}

#[tokio::test]
async fn a_cpg_beats_detection_and_encoding_beats_both() {
    let db = TestDb::new("encodings_cpg").await;
    // TCVN3 bytes, which detection reads as TCVN3 (above), declared 1252.
    let shp = dbf_in(TextEncoding::Tcvn3, "declared", ROWS);
    std::fs::write(shp.with_extension("cpg"), "1252\n").unwrap();
    let r = import_layer(
        &db.pool,
        std::slice::from_ref(&shp),
        &common::opts("declared", LayerKind::Generic, Some(4326)),
    )
    .await
    .unwrap();
    assert_eq!(
        (
            r.files[0].encoding.as_str(),
            r.files[0].encoding_how.as_str()
        ),
        ("latin1", ".cpg")
    );
    let as_declared: Vec<String> = ROWS
        .iter()
        .map(|s| {
            let bytes = TextEncoding::Tcvn3.encode(s).unwrap();
            bytes.iter().map(|&b| char::from(b)).collect()
        })
        .collect();
    assert_eq!(texts(&db, "declared").await, as_declared);

    let mut forced = common::opts("forced", LayerKind::Generic, Some(4326));
    forced.encoding = Some(TextEncoding::Tcvn3);
    let r = import_layer(&db.pool, &[shp], &forced).await.unwrap();
    assert_eq!(
        (
            r.files[0].encoding.as_str(),
            r.files[0].encoding_how.as_str()
        ),
        ("tcvn3", "--encoding")
    );
    assert_eq!(texts(&db, "forced").await, ROWS);
}
