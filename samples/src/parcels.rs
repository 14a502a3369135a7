//! Cadastral parcels (thửa đất): one per mesh cell, per-commune shapefiles,
//! land use by position (roads, river, road frontage, field blocks), owners,
//! certificates, and a few deliberately invalid rings as real data has.

use std::path::{Path, PathBuf};

use vnshp::encoding::TextEncoding;
use vnshp::shapefile::{Dims, Shape, ShapeType, WriteField};

use crate::communes::Commune;
use crate::grid::{area, Mesh, Strip};
use crate::names::{AP, DEM, HO, STREETS, TEN};
use crate::out::{write_layer, LayerOut, V};
use crate::rng::Rng;
use crate::SampleError;

/// Index of the commune whose parcel file is written in TCVN3 without `.cpg`.
pub const TCVN3_COMMUNE: usize = 2;
/// At most this many parcels get a self-touching ring (a spike).
const INVALID_PARCELS: usize = 5;

fn fields() -> Vec<WriteField> {
    vec![
        WriteField::text("MA_XA", 5),
        WriteField::int("SO_TO", 4),
        WriteField::int("SO_THUA", 6),
        WriteField::float("DIEN_TICH", 12, 1),
        WriteField::text("LOAI_DAT", 10),
        WriteField::text("DIA_CHI", 254),
        WriteField::text("TEN_CHU", 120),
        WriteField::text("SO_GCN", 15),
        WriteField::text("TT_GCN", 60),
        WriteField::date("NGAY_CAP"),
    ]
}

const FIELD_USES: &[(&str, u32)] = &[
    ("LUC", 30),
    ("CLN", 30),
    ("LUK", 8),
    ("HNK", 8),
    ("NTS", 5),
    ("ONT", 6),
    ("BCS", 1),
    ("MNC", 1),
    ("DTL", 1),
    ("NTD", 1),
    ("TSC", 1),
    ("DGD", 1),
    ("DYT", 1),
    ("SKC", 2),
    ("TMD", 2),
];

fn weighted(rng: &mut Rng) -> &'static str {
    let total: u32 = FIELD_USES.iter().map(|(_, w)| w).sum();
    let mut r = (rng.next_u64() % u64::from(total)) as u32;
    for (code, w) in FIELD_USES {
        if r < *w {
            return code;
        }
        r -= w;
    }
    "LUC"
}

fn land_use(
    m: &Mesh,
    i: usize,
    j: usize,
    urban: bool,
    rng: &mut Rng,
    blocks: &Rng,
) -> &'static str {
    let (c, r) = (m.cols[i], m.rows[j]);
    if c == Strip::River || r == Strip::River {
        return "SON";
    }
    if matches!(c, Strip::Road(_)) || matches!(r, Strip::Road(_)) {
        return "DGT";
    }
    let near_road = |s: Option<&Strip>| matches!(s, Some(Strip::Road(_)));
    let frontage = near_road(m.cols.get(i + 1))
        || (i > 0 && near_road(m.cols.get(i - 1)))
        || near_road(m.rows.get(j + 1))
        || (j > 0 && near_road(m.rows.get(j - 1)));
    if frontage && rng.chance(0.8) {
        return if rng.chance(0.12) {
            "TMD"
        } else if urban {
            "ODT"
        } else {
            "ONT"
        };
    }
    if urban && rng.chance(0.5) {
        return "ODT";
    }
    if j < 6 && rng.chance(0.4) {
        return "NTS";
    }
    // Fields come in blocks of similar use.
    let mut b = blocks.fork(((i / 4) as u64) << 32 | (j / 3) as u64);
    if rng.chance(0.85) {
        weighted(&mut b)
    } else {
        weighted(rng)
    }
}

fn owner(rng: &mut Rng, use_code: &str, commune: &Commune) -> String {
    match use_code {
        "DGT" | "SON" | "DTL" | "MNC" | "TSC" | "DGD" | "DYT" | "NTD" | "BCS" => {
            format!("UBND {}", commune.name)
        }
        _ => format!("{} {} {}", rng.pick(HO), rng.pick(DEM), rng.pick(TEN)),
    }
}

/// A ring with a zero-width spike on its third edge: self-touching, invalid,
/// the same area (ST_MakeValid removes the spike).
fn with_spike(ring: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let (c, d) = (ring[2], ring[3]);
    let mid = ((c.0 + d.0) / 2.0, (c.1 + d.1) / 2.0);
    let centre = ((ring[0].0 + c.0) / 2.0, (ring[0].1 + c.1) / 2.0);
    let tip = (
        mid.0 + (centre.0 - mid.0) * 0.3,
        mid.1 + (centre.1 - mid.1) * 0.3,
    );
    let mut r = ring[..3].to_vec();
    r.extend([mid, tip, mid]);
    r.extend_from_slice(&ring[3..]);
    r
}

/// Writes the parcels of every commune; returns the files and the parcel count.
pub fn write(
    dir: &Path,
    mesh: &Mesh,
    communes: &[Commune],
    one_file: bool,
    rng: &Rng,
) -> Result<(Vec<PathBuf>, usize), SampleError> {
    let blocks = rng.fork(7);
    let mut files = Vec::new();
    let mut total = 0usize;
    let mut invalid = 0usize;
    let mut all = Vec::new();
    for (ci, c) in communes.iter().enumerate() {
        let mut r = rng.fork(1000 + ci as u64);
        let mut records = Vec::new();
        let mut sheet_counts = std::collections::HashMap::new();
        for j in c.rows.0..c.rows.1 {
            for i in c.cols.0..c.cols.1 {
                let mut ring = mesh.cell(i, j);
                let use_code = land_use(mesh, i, j, c.urban(), &mut r, &blocks);
                let sheet_x = ((mesh.xs[i] - mesh.xs[c.cols.0]) / 500.0) as i64;
                let sheet_y = ((mesh.ys[j] - mesh.ys[c.rows.0]) / 500.0) as i64;
                let so_to = 1 + sheet_y * 10 + sheet_x;
                let so_thua = sheet_counts
                    .entry(so_to)
                    .and_modify(|n| *n += 1)
                    .or_insert(1i64);
                let dien_tich = (area(&ring) * 10.0).round() / 10.0;
                total += 1;
                if invalid < INVALID_PARCELS
                    && use_code != "DGT"
                    && use_code != "SON"
                    && total % 997 == 500
                {
                    ring = with_spike(&ring);
                    invalid += 1;
                }
                let issued = !matches!(use_code, "DGT" | "SON" | "MNC" | "DTL") && r.chance(0.85);
                let dia_chi = if c.urban() {
                    format!(
                        "Số {} {}, {}, thành phố Mỹ Tho, tỉnh Tiền Giang",
                        1 + r.below(300),
                        r.pick(STREETS),
                        c.name
                    )
                } else {
                    format!(
                        "{}, {}, thành phố Mỹ Tho, tỉnh Tiền Giang",
                        r.pick(AP),
                        c.name
                    )
                };
                let values = vec![
                    V::S(c.code.clone()),
                    V::I(so_to),
                    V::I(*so_thua),
                    V::F(dien_tich),
                    V::S(use_code.into()),
                    V::S(dia_chi),
                    V::S(owner(&mut r, use_code, c)),
                    if issued {
                        V::S(format!(
                            "{} {:06}",
                            ["CS", "BY", "CH", "DE"][r.below(4)],
                            r.below(1_000_000)
                        ))
                    } else {
                        V::Null
                    },
                    V::S(
                        if issued {
                            "Đã cấp giấy chứng nhận"
                        } else {
                            "Chưa cấp giấy chứng nhận"
                        }
                        .into(),
                    ),
                    if issued {
                        V::D(
                            2005 + r.below(20) as u16,
                            1 + r.below(12) as u8,
                            1 + r.below(28) as u8,
                        )
                    } else {
                        V::Null
                    },
                ];
                records.push((Shape::Polygon(vec![ring]), values));
            }
        }
        if one_file {
            all.extend(records);
            continue;
        }
        let tcvn3 = ci == TCVN3_COMMUNE;
        let name = format!("thua_dat_{}", c.code);
        let out = LayerOut {
            dir,
            name: &name,
            shape_type: ShapeType::Polygon(Dims::Xy),
            fields: fields(),
            encoding: if tcvn3 {
                TextEncoding::Tcvn3
            } else {
                TextEncoding::Utf8
            },
            cpg: !tcvn3,
            prj: true,
        };
        files.push(write_layer(&out, records)?);
    }
    if one_file {
        let out = LayerOut {
            dir,
            name: "thua_dat",
            shape_type: ShapeType::Polygon(Dims::Xy),
            fields: fields(),
            encoding: TextEncoding::Utf8,
            cpg: true,
            prj: true,
        };
        files.push(write_layer(&out, all)?);
    }
    Ok((files, total))
}
