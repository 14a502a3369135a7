//! The thematic layers of the sample besides parcels: commune boundaries,
//! land-use planning zones, land-fund areas, roads, bridges, warehouses and
//! inland ports, all on the same mesh so they line up with the parcels.

use std::path::{Path, PathBuf};

use vnshp::encoding::TextEncoding;
use vnshp::shapefile::{Dims, Shape, ShapeType, WriteField};

use crate::communes::Commune;
use crate::grid::{area, Mesh, Strip};
use crate::names::{FRUITS, OPERATORS, SERVICES, STREETS, WAREHOUSE_TYPES};
use crate::out::{write_layer, LayerOut, V};
use crate::rng::Rng;
use crate::SampleError;

fn utf8<'a>(dir: &'a Path, name: &'a str, t: ShapeType, fields: Vec<WriteField>) -> LayerOut<'a> {
    LayerOut {
        dir,
        name,
        shape_type: t,
        fields,
        encoding: TextEncoding::Utf8,
        cpg: true,
        prj: true,
    }
}

const POLY: ShapeType = ShapeType::Polygon(Dims::Xy);
const LINE: ShapeType = ShapeType::PolyLine(Dims::Xy);
const POINT: ShapeType = ShapeType::Point(Dims::Xy);

/// ranh_gioi: one polygon per commune, sharing the parcels' nodes.
pub fn admin(dir: &Path, mesh: &Mesh, communes: &[Commune]) -> Result<PathBuf, SampleError> {
    let fields = vec![
        WriteField::text("MA_DVHC", 5),
        WriteField::text("TEN", 100),
        WriteField::text("CAP", 20),
        WriteField::text("MA_HUYEN", 3),
        WriteField::text("TEN_HUYEN", 60),
        WriteField::text("MA_TINH", 2),
        WriteField::text("TEN_TINH", 40),
    ];
    let recs = communes.iter().map(|c| {
        (
            Shape::Polygon(vec![mesh.block(c.cols, c.rows)]),
            vec![
                V::S(c.code.clone()),
                V::S(c.name.clone()),
                V::S(c.level.into()),
                V::S("815".into()),
                V::S("Thành phố Mỹ Tho".into()),
                V::S("82".into()),
                V::S("Tỉnh Tiền Giang".into()),
            ],
        )
    });
    write_layer(&utf8(dir, "ranh_gioi", POLY, fields), recs)
}

/// A jittered rectangle ring.
fn quad(rng: &mut Rng, x: f64, y: f64, w: f64, h: f64) -> Vec<(f64, f64)> {
    let mut j = || rng.range(-0.08, 0.08);
    let p = [
        (x + w * j(), y + h * j()),
        (x + w * (1.0 + j()), y + h * j()),
        (x + w * (1.0 + j()), y + h * (1.0 + j())),
        (x + w * j(), y + h * (1.0 + j())),
    ];
    vec![p[0], p[1], p[2], p[3], p[0]]
}

/// quy_hoach_sdd: planning zones tiling the area on their own grid.
pub fn planning(dir: &Path, mesh: &Mesh, rng: &Rng) -> Result<PathBuf, SampleError> {
    let mut r = rng.fork(21);
    let fields = vec![
        WriteField::text("KY_QH", 9),
        WriteField::text("MA_LDQH", 10),
        WriteField::text("TEN_VUNG", 150),
        WriteField::text("SO_QD", 30),
        WriteField::date("NGAY_QD"),
        WriteField::float("DIEN_TICH", 14, 1),
    ];
    let codes = [
        "ODT", "ONT", "TMD", "SKC", "CLN", "LUC", "DGT", "DYT", "DGD", "NTS", "SKK",
    ];
    let (zw, zh) = (420.0, 330.0);
    let (nx, ny) = (
        (mesh.width() / zw).ceil() as usize,
        (mesh.height() / zh).ceil() as usize,
    );
    let mut recs = Vec::new();
    for j in 0..ny {
        for i in 0..nx {
            let x = mesh.x0 + i as f64 * zw;
            let y = mesh.y0 + j as f64 * zh;
            // Shared grid corners: zones tile without gaps (the plan covers everything).
            let ring = vec![(x, y), (x + zw, y), (x + zw, y + zh), (x, y + zh), (x, y)];
            let code = *r.pick(&codes);
            let name = match code {
                "ODT" | "ONT" => format!(
                    "Khu dân cư {}",
                    r.pick(STREETS).trim_start_matches("Đường ")
                ),
                "SKK" | "SKC" => format!("Cụm công nghiệp Trung An {}", j * nx + i + 1),
                "TMD" => "Khu thương mại dịch vụ Chợ Mỹ Tho".to_string(),
                "CLN" => format!("Vùng chuyên canh {}", r.pick(FRUITS)),
                _ => format!("Vùng quy hoạch số {}", j * nx + i + 1),
            };
            let a = area(&ring);
            recs.push((
                Shape::Polygon(vec![ring]),
                vec![
                    V::S("2021-2030".into()),
                    V::S(code.into()),
                    V::S(name),
                    V::S(format!("{}/QĐ-UBND", 1000 + r.below(3000))),
                    V::D(2022, 1 + r.below(12) as u8, 1 + r.below(28) as u8),
                    V::F((a * 10.0).round() / 10.0),
                ],
            ));
        }
    }
    write_layer(&utf8(dir, "quy_hoach_sdd", POLY, fields), recs)
}

/// quy_dat: land-fund areas scattered over the land.
pub fn land_fund(dir: &Path, mesh: &Mesh, count: usize, rng: &Rng) -> Result<PathBuf, SampleError> {
    let mut r = rng.fork(22);
    let fields = vec![
        WriteField::text("MA_KHU_DAT", 12),
        WriteField::float("DIEN_TICH", 12, 1),
        WriteField::text("LD_HT", 10),
        WriteField::text("LD_QH", 10),
        WriteField::text("DV_QL", 150),
        WriteField::text("TT_GPMB", 60),
    ];
    let status = [
        "Đã giải phóng mặt bằng",
        "Đang bồi thường, hỗ trợ tái định cư",
        "Chưa thực hiện",
    ];
    let recs: Vec<_> = (0..count)
        .map(|k| {
            let (w, h) = (r.range(80.0, 260.0), r.range(70.0, 220.0));
            let x = mesh.x0 + r.range(0.0, mesh.width() - w);
            let y = mesh.y0 + r.range(150.0, mesh.height() - h);
            let ring = quad(&mut r, x, y, w, h);
            let a = area(&ring);
            (
                Shape::Polygon(vec![ring]),
                vec![
                    V::S(format!("QD-{:04}", k + 1)),
                    V::F((a * 10.0).round() / 10.0),
                    V::S(r.pick(&["LUC", "CLN", "HNK", "BCS"]).to_string()),
                    V::S(r.pick(&["ODT", "TMD", "SKC", "DGD", "DYT"]).to_string()),
                    V::S("Trung tâm Phát triển quỹ đất tỉnh Tiền Giang".into()),
                    V::S(r.pick(&status).to_string()),
                ],
            )
        })
        .collect();
    write_layer(&utf8(dir, "quy_dat", POLY, fields), recs)
}

/// Class of a road: (cap_quan_ly, name, lanes, width m, surface, speed km/h).
fn road_class(
    dir: char,
    k: usize,
    r: &mut Rng,
) -> (&'static str, String, i64, f64, &'static str, i64) {
    match (dir, k) {
        ('h', 1) => ("QL", "Quốc lộ 50".into(), 4, 15.0, "Bê tông nhựa", 60),
        ('v', 2) => ("ĐT", "Đường tỉnh 864".into(), 2, 9.0, "Bê tông nhựa", 50),
        ('h', 3) | ('v', 0) => (
            "ĐH",
            format!("Đường huyện {}", 90 + k),
            2,
            7.0,
            "Láng nhựa",
            40,
        ),
        _ if r.chance(0.5) => (
            "ĐĐT",
            r.pick(STREETS).to_string(),
            2,
            7.5,
            "Bê tông nhựa",
            40,
        ),
        _ => (
            "ĐX",
            format!("Đường liên ấp {}", k + 1),
            1,
            3.5,
            "Bê tông xi măng",
            30,
        ),
    }
}

/// A road segment with its attributes, for roads and bridges.
struct Segment {
    line: Vec<(f64, f64)>,
    class: (&'static str, String, i64, f64, &'static str, i64),
    one_way: bool,
    bridge: bool,
}

fn segments(mesh: &Mesh, rng: &Rng) -> Vec<Segment> {
    let mut r = rng.fork(23);
    let road_cols: Vec<usize> = (0..mesh.cols.len())
        .filter(|&i| matches!(mesh.cols[i], Strip::Road(_)))
        .collect();
    let road_rows: Vec<usize> = (0..mesh.rows.len())
        .filter(|&j| matches!(mesh.rows[j], Strip::Road(_)))
        .collect();
    let canal: Vec<usize> = (0..mesh.cols.len())
        .filter(|&i| mesh.cols[i] == Strip::River)
        .collect();
    let river_top = mesh.y0
        + mesh.ys[(0..mesh.rows.len())
            .rfind(|&j| mesh.rows[j] == Strip::River)
            .map_or(0, |j| j + 1)];
    let mut out = Vec::new();
    // Horizontal roads: cut at every vertical road and at both canal banks.
    for (k, &j) in road_rows.iter().enumerate() {
        let class = road_class('h', k, &mut r);
        let y = mesh.row_mid(j);
        let mut cuts: Vec<f64> = vec![mesh.x0, mesh.x0 + mesh.width()];
        cuts.extend(road_cols.iter().map(|&i| mesh.col_mid(i)));
        for &c in &canal {
            cuts.extend([mesh.x0 + mesh.xs[c], mesh.x0 + mesh.xs[c + 1]]);
        }
        cuts.sort_by(f64::total_cmp);
        let one_way = class.0 == "ĐĐT" && r.chance(0.5);
        for w in cuts.windows(2) {
            let bridge = canal
                .iter()
                .any(|&c| (w[0] - (mesh.x0 + mesh.xs[c])).abs() < 1e-6);
            out.push(Segment {
                line: vec![(w[0], y), (w[1], y)],
                class: class.clone(),
                one_way,
                bridge,
            });
        }
    }
    // Vertical roads: from the river bank north, cut at every horizontal road.
    for (k, &i) in road_cols.iter().enumerate() {
        let class = road_class('v', k, &mut r);
        let x = mesh.col_mid(i);
        let mut cuts: Vec<f64> = vec![river_top, mesh.y0 + mesh.height()];
        cuts.extend(road_rows.iter().map(|&j| mesh.row_mid(j)));
        cuts.sort_by(f64::total_cmp);
        let one_way = class.0 == "ĐĐT" && r.chance(0.5);
        for w in cuts.windows(2) {
            out.push(Segment {
                line: vec![(x, w[0]), (x, w[1])],
                class: class.clone(),
                one_way,
                bridge: false,
            });
        }
    }
    out
}

/// `root/duong_bo` (connected network: segments meet at shared end points)
/// and `root/cau` (bridges where roads cross the canal).
pub fn transport(root: &Path, mesh: &Mesh, rng: &Rng) -> Result<(PathBuf, PathBuf), SampleError> {
    let segs = segments(mesh, rng);
    let mut r = rng.fork(24);
    let road_fields = vec![
        WriteField::text("TEN_DUONG", 100),
        WriteField::text("CAP_QL", 10),
        WriteField::int("SO_LAN", 2),
        WriteField::float("BE_RONG", 5, 1),
        WriteField::text("KET_CAU", 40),
        WriteField::int("TOC_DO", 3),
        WriteField::logical("MOT_CHIEU"),
    ];
    let roads = segs.iter().map(|s| {
        let c = &s.class;
        (
            Shape::PolyLine(vec![s.line.clone()]),
            vec![
                V::S(c.1.clone()),
                V::S(c.0.into()),
                V::I(c.2),
                V::F(c.3),
                V::S(c.4.into()),
                V::I(c.5),
                V::B(s.one_way),
            ],
        )
    });
    let roads = write_layer(
        &utf8(&root.join("duong_bo"), "duong_bo", LINE, road_fields),
        roads,
    )?;
    let bridge_fields = vec![
        WriteField::text("TEN_CAU", 80),
        WriteField::text("TUYEN", 100),
        WriteField::float("TAI_TRONG", 5, 1),
        WriteField::float("TINH_KHONG", 4, 1),
        WriteField::float("CHIEU_DAI", 6, 1),
    ];
    let bridges: Vec<_> = segs
        .iter()
        .filter(|s| s.bridge)
        .enumerate()
        .map(|(k, s)| {
            let (a, b) = (s.line[0], s.line[1]);
            (
                Shape::Point((a.0 + b.0) / 2.0, a.1),
                vec![
                    V::S(format!("Cầu Bảo Định {}", k + 1)),
                    V::S(s.class.1.clone()),
                    V::F(*r.pick(&[5.0, 10.0, 13.0, 18.0, 25.0, 30.0])),
                    V::F(r.range(2.5, 6.0).round()),
                    V::F(((b.0 - a.0) * 10.0).round() / 10.0),
                ],
            )
        })
        .collect();
    let bridges = write_layer(
        &utf8(&root.join("cau"), "cau", POINT, bridge_fields),
        bridges,
    )?;
    Ok((roads, bridges))
}

/// kho_bai: warehouses beside roads. Written without a `.prj`, as a logistics
/// firm's file often arrives: the manifest supplies the CRS.
pub fn warehouses(
    dir: &Path,
    mesh: &Mesh,
    count: usize,
    rng: &Rng,
) -> Result<PathBuf, SampleError> {
    let mut r = rng.fork(25);
    let segs = segments(mesh, rng);
    let fields = vec![
        WriteField::text("TEN", 120),
        WriteField::text("DIA_CHI", 200),
        WriteField::text("LOAI_KHO", 40),
        WriteField::float("DT_M2", 10, 1),
        WriteField::int("SUC_CHUA", 8),
        WriteField::text("DICH_VU", 200),
        WriteField::text("DV_KT", 120),
        WriteField::text("MA_SO_THUE", 10),
    ];
    let recs: Vec<_> = (0..count)
        .map(|k| {
            let s = &segs[r.below(segs.len())];
            let (a, b) = (s.line[0], s.line[1]);
            let t = r.range(0.1, 0.9);
            let side = if r.chance(0.5) { 1.0 } else { -1.0 };
            let off = side * r.range(18.0, 40.0);
            let (x, y) = if (a.1 - b.1).abs() < 1e-9 {
                (a.0 + (b.0 - a.0) * t, a.1 + off)
            } else {
                (a.0 + off, a.1 + (b.1 - a.1) * t)
            };
            let kind = *r.pick(WAREHOUSE_TYPES);
            let mut services: Vec<&str> = (0..1 + r.below(4)).map(|_| *r.pick(SERVICES)).collect();
            services.sort();
            services.dedup();
            let area = r.range(300.0, 20_000.0).round();
            (
                Shape::Point(x, y),
                vec![
                    V::S(format!("{} {} số {}", kind, "Mỹ Tho", k + 1)),
                    V::S(format!("{}, thành phố Mỹ Tho, tỉnh Tiền Giang", s.class.1)),
                    V::S(kind.into()),
                    V::F(area),
                    V::I((area * r.range(0.5, 2.0)) as i64),
                    V::S(services.join("; ")),
                    V::S(r.pick(OPERATORS).to_string()),
                    V::S(format!("12{:08}", r.below(100_000_000))),
                ],
            )
        })
        .collect();
    let out = LayerOut {
        prj: false,
        ..utf8(dir, "kho_bai", POINT, fields)
    };
    write_layer(&out, recs)
}

/// cang_ben: inland ports and landings on the north bank of the river.
pub fn ports(dir: &Path, mesh: &Mesh, count: usize, rng: &Rng) -> Result<PathBuf, SampleError> {
    let mut r = rng.fork(26);
    let bank = mesh.y0
        + mesh.ys[(0..mesh.rows.len())
            .rfind(|&j| mesh.rows[j] == Strip::River)
            .map_or(0, |j| j + 1)];
    let fields = vec![
        WriteField::text("TEN", 120),
        WriteField::text("LOAI", 60),
        WriteField::text("TUYEN_SONG", 60),
        WriteField::int("CONG_SUAT", 9),
        WriteField::float("TAI_TRONG", 6, 1),
    ];
    let kinds = [
        "Cảng hàng hóa",
        "Bến hàng hóa",
        "Bến khách ngang sông",
        "Bến thủy nội địa",
    ];
    let recs: Vec<_> = (0..count)
        .map(|k| {
            let x = mesh.x0 + mesh.width() * (k as f64 + 0.5) / count as f64;
            let kind = *r.pick(&kinds);
            (
                Shape::Point(x, bank - 10.0),
                vec![
                    V::S(if k == 0 {
                        "Cảng Mỹ Tho".into()
                    } else {
                        format!("{kind} Mỹ Tho {k}")
                    }),
                    V::S(kind.into()),
                    V::S("Sông Tiền".into()),
                    V::I(50_000 * (1 + r.below(40)) as i64),
                    V::F(*r.pick(&[100.0, 300.0, 500.0, 1000.0, 3000.0])),
                ],
            )
        })
        .collect();
    write_layer(&utf8(dir, "cang_ben", POINT, fields), recs)
}
