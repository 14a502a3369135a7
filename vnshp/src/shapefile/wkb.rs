//! Converts a `.shp` record's content straight to EWKB (little-endian, with
//! SRID), the form PostGIS accepts in a binary COPY.
//!
//! Dimensions: Z shape types become XYZ (their optional M is dropped), M types
//! become XYM, plain types XY. Lines and polygons become MultiLineString and
//! MultiPolygon; points stay points. Polygon rings are grouped into polygons
//! by orientation (outer rings clockwise) and containment. Unclosed rings are
//! closed and rings or parts with too few points dropped: each such fix is
//! counted.

use super::{Dims, ShapeType};

/// What became of one record's shape.
#[derive(Debug, PartialEq)]
pub enum ShapeOutcome {
    /// EWKB written; `fixes` rings/parts were closed or dropped.
    Written { fixes: u32 },
    /// A null shape (or one with no usable part): nothing written.
    Null,
    /// Unreadable: the record goes to the rejects report.
    Rejected(String),
}

const Z_FLAG: u32 = 0x8000_0000;
const M_FLAG: u32 = 0x4000_0000;
const SRID_FLAG: u32 = 0x2000_0000;

struct Parsed<'a> {
    parts: Vec<usize>,
    xy: &'a [u8],
    /// Z or M ordinates (one per point) when the output carries a third one.
    third: Option<&'a [u8]>,
    npoints: usize,
}

fn le_i32(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn dim_flag(d: Dims) -> u32 {
    match d {
        Dims::Xy => 0,
        Dims::Xyz => Z_FLAG,
        Dims::Xym => M_FLAG,
    }
}

/// Parses the multi-part layout shared by PolyLine, Polygon and MultiPoint.
fn parse_multi(c: &[u8], d: Dims, has_parts: bool) -> Result<Parsed<'_>, String> {
    let (nparts, npoints, parts_at) = if has_parts {
        let np = le_i32(c, 36).ok_or("content too short for the part count")?;
        let npt = le_i32(c, 40).ok_or("content too short for the point count")?;
        (np, npt, 44)
    } else {
        (
            1,
            le_i32(c, 36).ok_or("content too short for the point count")?,
            40,
        )
    };
    if nparts < 0 || npoints < 0 || nparts > 10_000_000 || npoints > 100_000_000 {
        return Err(format!(
            "implausible counts: {nparts} parts, {npoints} points"
        ));
    }
    let (nparts, npoints) = (nparts as usize, npoints as usize);
    let pts_at = parts_at + if has_parts { 4 * nparts } else { 0 };
    let xy_end = pts_at + 16 * npoints;
    let xy = c.get(pts_at..xy_end).ok_or_else(|| {
        format!(
            "content of {} bytes too short for {npoints} points",
            c.len()
        )
    })?;
    let mut parts = Vec::with_capacity(nparts);
    if has_parts {
        for i in 0..nparts {
            let p = le_i32(c, parts_at + 4 * i).unwrap_or(-1);
            if p < 0 || p as usize > npoints || parts.last().is_some_and(|&l| (p as usize) < l) {
                return Err(format!("part {i} starts at invalid point index {p}"));
            }
            parts.push(p as usize);
        }
    } else {
        parts.push(0);
    }
    // Z types: [zrange][z...] then optional [mrange][m...]; M types: [mrange][m...].
    let third = match d {
        Dims::Xy => None,
        Dims::Xyz | Dims::Xym => c.get(xy_end + 16..xy_end + 16 + 8 * npoints),
    };
    if d == Dims::Xyz && third.is_none() {
        return Err("content too short for the Z values".into());
    }
    Ok(Parsed {
        parts,
        xy,
        third,
        npoints,
    })
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_point(out: &mut Vec<u8>, p: &Parsed<'_>, i: usize) {
    out.extend_from_slice(&p.xy[16 * i..16 * i + 16]);
    if let Some(t) = p.third {
        out.extend_from_slice(&t[8 * i..8 * i + 8]);
    }
}

/// Pushes a NaN M when an M file's record omits its optional M array.
fn put_point_dims(out: &mut Vec<u8>, p: &Parsed<'_>, i: usize, d: Dims) {
    put_point(out, p, i);
    if d == Dims::Xym && p.third.is_none() {
        out.extend_from_slice(&f64::NAN.to_le_bytes());
    }
}

fn xy(p: &Parsed<'_>, i: usize) -> (f64, f64) {
    let b = &p.xy[16 * i..];
    (
        f64::from_le_bytes(b[0..8].try_into().expect("8")),
        f64::from_le_bytes(b[8..16].try_into().expect("8")),
    )
}

fn part_range(p: &Parsed<'_>, k: usize) -> std::ops::Range<usize> {
    let end = p.parts.get(k + 1).copied().unwrap_or(p.npoints);
    p.parts[k]..end
}

fn header(out: &mut Vec<u8>, code: u32, d: Dims, srid: i32) {
    out.push(1);
    put_u32(out, code | dim_flag(d) | SRID_FLAG);
    put_u32(out, srid as u32);
}

fn sub_header(out: &mut Vec<u8>, code: u32, d: Dims) {
    out.push(1);
    put_u32(out, code | dim_flag(d));
}

/// Writes EWKB for `content` (a record of a file whose type is `file_type`) into `out`.
pub fn shape_to_ewkb(
    content: &[u8],
    file_type: ShapeType,
    srid: i32,
    out: &mut Vec<u8>,
) -> ShapeOutcome {
    let Some(code) = le_i32(content, 0) else {
        return ShapeOutcome::Rejected("empty record content".into());
    };
    let Some(t) = ShapeType::from_code(code) else {
        return ShapeOutcome::Rejected(format!("unknown shape type {code}"));
    };
    if t == ShapeType::Null {
        return ShapeOutcome::Null;
    }
    if t != file_type {
        return ShapeOutcome::Rejected(format!(
            "shape type {code} in a file of type {}",
            file_type.code()
        ));
    }
    let r = match t {
        ShapeType::Point(d) => point(content, d, srid, out),
        ShapeType::MultiPoint(d) => {
            parse_multi(content, d, false).map(|p| multipoint(&p, d, srid, out))
        }
        ShapeType::PolyLine(d) => parse_multi(content, d, true).map(|p| lines(&p, d, srid, out)),
        ShapeType::Polygon(d) => parse_multi(content, d, true).map(|p| polygons(&p, d, srid, out)),
        ShapeType::MultiPatch => Err("MultiPatch shapes are not supported".into()),
        ShapeType::Null => unreachable!("handled above"),
    };
    r.unwrap_or_else(ShapeOutcome::Rejected)
}

fn point(c: &[u8], d: Dims, srid: i32, out: &mut Vec<u8>) -> Result<ShapeOutcome, String> {
    // Point: x y; PointM: x y m; PointZ: x y z m.
    let need = match d {
        Dims::Xy => 20,
        Dims::Xym | Dims::Xyz => 28,
    };
    let b = c.get(4..need).ok_or("content too short for a point")?;
    header(out, 1, d, srid);
    out.extend_from_slice(b);
    Ok(ShapeOutcome::Written { fixes: 0 })
}

fn multipoint(p: &Parsed<'_>, d: Dims, srid: i32, out: &mut Vec<u8>) -> ShapeOutcome {
    if p.npoints == 0 {
        return ShapeOutcome::Null;
    }
    header(out, 4, d, srid);
    put_u32(out, p.npoints as u32);
    for i in 0..p.npoints {
        sub_header(out, 1, d);
        put_point_dims(out, p, i, d);
    }
    ShapeOutcome::Written { fixes: 0 }
}

fn lines(p: &Parsed<'_>, d: Dims, srid: i32, out: &mut Vec<u8>) -> ShapeOutcome {
    let keep: Vec<usize> = (0..p.parts.len())
        .filter(|&k| part_range(p, k).len() >= 2)
        .collect();
    let fixes = (p.parts.len() - keep.len()) as u32;
    if keep.is_empty() {
        return ShapeOutcome::Null;
    }
    header(out, 5, d, srid);
    put_u32(out, keep.len() as u32);
    for k in keep {
        let r = part_range(p, k);
        sub_header(out, 2, d);
        put_u32(out, r.len() as u32);
        for i in r {
            put_point_dims(out, p, i, d);
        }
    }
    ShapeOutcome::Written { fixes }
}

/// Signed area of ring `k` (negative: clockwise, an outer ring in shapefiles).
fn signed_area(p: &Parsed<'_>, k: usize) -> f64 {
    let r = part_range(p, k);
    let (x0, y0) = xy(p, r.start);
    let mut a = 0.0;
    let mut prev = (0.0, 0.0);
    for i in r {
        let (x, y) = xy(p, i);
        let cur = (x - x0, y - y0);
        a += prev.0 * cur.1 - cur.0 * prev.1;
        prev = cur;
    }
    a / 2.0
}

fn contains(p: &Parsed<'_>, ring: usize, (px, py): (f64, f64)) -> bool {
    let r = part_range(p, ring);
    let mut inside = false;
    let mut j = r.end - 1;
    for i in r {
        let (xi, yi) = xy(p, i);
        let (xj, yj) = xy(p, j);
        if (yi > py) != (yj > py) && px < (xj - xi) * (py - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn ring_closed(p: &Parsed<'_>, k: usize) -> bool {
    let r = part_range(p, k);
    xy(p, r.start) == xy(p, r.end - 1)
}

fn polygons(p: &Parsed<'_>, d: Dims, srid: i32, out: &mut Vec<u8>) -> ShapeOutcome {
    let mut fixes = 0u32;
    // Rings usable once closed: at least 3 distinct positions.
    let mut rings = Vec::with_capacity(p.parts.len());
    for k in 0..p.parts.len() {
        let n = part_range(p, k).len();
        let closed = n > 0 && ring_closed(p, k);
        let size = if closed { n } else { n + 1 };
        if n == 0 || size < 4 {
            fixes += 1;
            continue;
        }
        if !closed {
            fixes += 1;
        }
        rings.push((k, signed_area(p, k), closed));
    }
    if rings.is_empty() {
        return ShapeOutcome::Null;
    }
    // polygons: outer ring index into `rings` -> its holes.
    let outers: Vec<usize> = (0..rings.len()).filter(|&i| rings[i].1 < 0.0).collect();
    let mut polys: Vec<(usize, Vec<usize>)> = if outers.is_empty() {
        // No clockwise ring: a writer that ignored orientation; every ring is an outer.
        (0..rings.len()).map(|i| (i, vec![])).collect()
    } else {
        outers.iter().map(|&i| (i, vec![])).collect()
    };
    if !outers.is_empty() {
        for h in (0..rings.len()).filter(|&i| rings[i].1 >= 0.0) {
            let probe = xy(p, part_range(p, rings[h].0).start);
            let host = polys
                .iter()
                .enumerate()
                .filter(|(_, (o, _))| contains(p, rings[*o].0, probe))
                .min_by(|a, b| rings[a.1 .0].1.abs().total_cmp(&rings[b.1 .0].1.abs()))
                .map(|(i, _)| i);
            match host {
                Some(i) => polys[i].1.push(h),
                None => polys.push((h, vec![])),
            }
        }
    }
    header(out, 6, d, srid);
    put_u32(out, polys.len() as u32);
    for (outer, holes) in &polys {
        sub_header(out, 3, d);
        put_u32(out, 1 + holes.len() as u32);
        for &ri in std::iter::once(outer).chain(holes) {
            let (k, _, closed) = rings[ri];
            let r = part_range(p, k);
            put_u32(out, (r.len() + usize::from(!closed)) as u32);
            let first = r.start;
            for i in r {
                put_point_dims(out, p, i, d);
            }
            if !closed {
                put_point_dims(out, p, first, d);
            }
        }
    }
    ShapeOutcome::Written { fixes }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn polygon_content(rings: &[&[(f64, f64)]]) -> Vec<u8> {
        let mut c = Vec::new();
        c.extend_from_slice(&5i32.to_le_bytes());
        c.extend_from_slice(&[0u8; 32]);
        let n: usize = rings.iter().map(|r| r.len()).sum();
        c.extend_from_slice(&(rings.len() as i32).to_le_bytes());
        c.extend_from_slice(&(n as i32).to_le_bytes());
        let mut at = 0;
        for r in rings {
            c.extend_from_slice(&(at as i32).to_le_bytes());
            at += r.len();
        }
        for r in rings {
            for (x, y) in r.iter() {
                c.extend_from_slice(&x.to_le_bytes());
                c.extend_from_slice(&y.to_le_bytes());
            }
        }
        c
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn polygon_with_hole_becomes_one_multipolygon_member() {
        let outer: &[(f64, f64)] = &[(0., 0.), (0., 10.), (10., 10.), (10., 0.), (0., 0.)];
        let hole: &[(f64, f64)] = &[(2., 2.), (4., 2.), (4., 4.), (2., 4.), (2., 2.)];
        let c = polygon_content(&[outer, hole]);
        let mut out = Vec::new();
        let r = shape_to_ewkb(&c, ShapeType::Polygon(Dims::Xy), 9210, &mut out);
        assert_eq!(r, ShapeOutcome::Written { fixes: 0 });
        assert_eq!(u32_at(&out, 1), 6 | SRID_FLAG);
        assert_eq!(u32_at(&out, 5), 9210);
        assert_eq!(u32_at(&out, 9), 1, "one polygon");
        assert_eq!(u32_at(&out, 18), 2, "two rings");
    }

    #[test]
    fn two_outer_rings_make_two_polygons_and_unclosed_ring_is_closed() {
        let a: &[(f64, f64)] = &[(0., 0.), (0., 1.), (1., 1.), (1., 0.)];
        let b: &[(f64, f64)] = &[(5., 5.), (5., 6.), (6., 6.), (6., 5.), (5., 5.)];
        let mut out = Vec::new();
        let r = shape_to_ewkb(
            &polygon_content(&[a, b]),
            ShapeType::Polygon(Dims::Xy),
            4326,
            &mut out,
        );
        assert_eq!(r, ShapeOutcome::Written { fixes: 1 });
        assert_eq!(u32_at(&out, 9), 2);
        assert_eq!(u32_at(&out, 22), 5, "closed ring has 5 points");
    }

    #[test]
    fn truncated_and_foreign_records_are_rejected_not_panics() {
        let full = polygon_content(&[&[(0., 0.), (0., 1.), (1., 1.), (0., 0.)]]);
        for cut in 0..full.len() {
            let mut out = Vec::new();
            let r = shape_to_ewkb(&full[..cut], ShapeType::Polygon(Dims::Xy), 1, &mut out);
            assert!(matches!(r, ShapeOutcome::Rejected(_)), "cut {cut}: {r:?}");
        }
        let mut out = Vec::new();
        let point = [1i32.to_le_bytes().as_slice(), &[0u8; 16]].concat();
        assert!(matches!(
            shape_to_ewkb(&point, ShapeType::Polygon(Dims::Xy), 1, &mut out),
            ShapeOutcome::Rejected(_)
        ));
        assert_eq!(
            shape_to_ewkb(
                &0i32.to_le_bytes(),
                ShapeType::Polygon(Dims::Xy),
                1,
                &mut out
            ),
            ShapeOutcome::Null
        );
    }
}
