#!/usr/bin/env python3
"""URL lists and pgbench scripts of the query benchmark (deterministic).

    make.py OUT_DIR BASE_URL X0 Y0 X1 Y1 MAX_FID [POINTS PAIRS FIDS]
    make.py --compare OUT_DIR/lists.expected PGBENCH_DEBUG_OUTPUT

X0 Y0 X1 Y1: the province's extent in WGS 84 (lon/lat). Writes, for each
query, OUT_DIR/urls-Q.txt (the HTTP requests) and OUT_DIR/Q.pgbench (the same
SQL the server runs, for `pgbench -M prepared`), Q in parcel_at, near,
planning, route.

Both sides draw from the same fixed lists, computed by formulas pgbench's
`\\set` can evaluate too (IEEE doubles on both sides):
  point i (1..POINTS): lon = X0 + W * (0.01 + 0.98 * u(i)),
                       lat = Y0 + H * (0.01 + 0.98 * v(i))
  where u(i) = ((i * A1 + 2^31) mod 2^32) / 2^32 and v(i) likewise with A2
  (A1, A2: the R2 low-discrepancy sequence's constants times 2^32, so the
  points spread evenly over the province's extent, 1 % in from its edges;
  integer arithmetic, exact in both; pgbench's int() rounds, so no frac());
  pair j (1..PAIRS): a start 2-10 % in from one side and an end 2-10 % in
  from the opposite side, spread along those sides by the same sequence;
  by j mod 4: west->east, north->south, east->west, south->north;
  fid k (1..FIDS): 1 + (k * 2654435761) mod MAX_FID.
The URL lists take every i / j / k in order; pgbench draws them at random
(`random(1, N)`). Parcel look-ups at points outside every parcel (roads,
rivers) are part of the list: the API answers 404, the SQL no row.

lists.pgbench / lists.expected: every list entry as pgbench computes it and
as this file does; run.sh checks they agree.

The SQL below is copied from the server's statement log (layer fields of the
sample province). run.sh checks it against the statements the running server
logs (check_sql.py) and stops if they differ.
"""
import sys

M = 1 << 32
A1 = round(0.7548776662466927 * M)
A2 = round(0.5698402909980532 * M)


def seq(i, a):
    """((i * a + 2^31) mod 2^32) / 2^32: a double in [0, 1), as pgbench computes it."""
    return ((i * a + M // 2) % M) / float(M)


def point(i, box):
    x0, y0, x1, y1 = box
    u = 0.01 + 0.98 * seq(i, A1)
    v = 0.01 + 0.98 * seq(i, A2)
    return x0 + (x1 - x0) * u, y0 + (y1 - y0) * v


def pair(j, box):
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    t = seq(j, A1)
    s = seq(j, A2)
    near_a = 0.02 + 0.08 * t   # start: 2-10 % in from its side
    near_b = 0.02 + 0.08 * s   # end: 2-10 % in from the opposite side
    along_a = 0.1 + 0.8 * s    # position along the side
    along_b = 0.1 + 0.8 * t
    k = j % 4
    if k == 0:    # west -> east
        return (x0 + w * near_a, y0 + h * along_a), (x1 - w * near_b, y0 + h * along_b)
    if k == 1:    # north -> south
        return (x0 + w * along_a, y1 - h * near_a), (x0 + w * along_b, y0 + h * near_b)
    if k == 2:    # east -> west
        return (x1 - w * near_a, y0 + h * along_a), (x0 + w * near_b, y0 + h * along_b)
    return (x0 + w * along_a, y0 + h * near_a), (x0 + w * along_b, y1 - h * near_b)  # south -> north


def fid(k, max_fid):
    return 1 + (k * 2654435761) % max_fid


def pgbench_point(box):
    """pgbench lines setting :lon and :lat from :i (the formula of point())."""
    x0, y0, x1, y1 = box
    return f"""\\set u mod(:i * {A1} + {M // 2}, {M}) / {float(M)!r}
\\set v mod(:i * {A2} + {M // 2}, {M}) / {float(M)!r}
\\set lon {x0!r} + {x1 - x0!r} * (0.01 + 0.98 * :u)
\\set lat {y0!r} + {y1 - y0!r} * (0.01 + 0.98 * :v)
"""


def pgbench_pair(box):
    """pgbench lines setting :alon :alat :blon :blat from :j (as pair())."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    return f"""\\set t mod(:j * {A1} + {M // 2}, {M}) / {float(M)!r}
\\set s mod(:j * {A2} + {M // 2}, {M}) / {float(M)!r}
\\set near_a 0.02 + 0.08 * :t
\\set near_b 0.02 + 0.08 * :s
\\set along_a 0.1 + 0.8 * :s
\\set along_b 0.1 + 0.8 * :t
\\set side mod(:j, 4)
\\if :side = 0
\\set alon {x0!r} + {w!r} * :near_a
\\set alat {y0!r} + {h!r} * :along_a
\\set blon {x1!r} - {w!r} * :near_b
\\set blat {y0!r} + {h!r} * :along_b
\\elif :side = 1
\\set alon {x0!r} + {w!r} * :along_a
\\set alat {y1!r} - {h!r} * :near_a
\\set blon {x0!r} + {w!r} * :along_b
\\set blat {y0!r} + {h!r} * :near_b
\\elif :side = 2
\\set alon {x1!r} - {w!r} * :near_a
\\set alat {y0!r} + {h!r} * :along_a
\\set blon {x0!r} + {w!r} * :near_b
\\set blat {y0!r} + {h!r} * :along_b
\\else
\\set alon {x0!r} + {w!r} * :along_a
\\set alat {y0!r} + {h!r} * :near_a
\\set blon {x0!r} + {w!r} * :along_b
\\set blat {y1!r} - {h!r} * :near_b
\\endif
"""


# --- the server's SQL (features/src/land.rs, logistics.rs, snap.rs, network.rs, routing.rs) ---

PARCEL_AT = (
    """SELECT p."fid", (jsonb_build_object('ma_xa', p."ma_xa", 'so_to', p."so_to", 'so_thua', p."so_thua", """
    """'dien_tich', p."dien_tich", 'loai_dat', p."loai_dat", 'dia_chi', p."dia_chi", """
    """'tinh_trang_gcn', p."tinh_trang_gcn", 'ngay_cap', p."ngay_cap"))::text, """
    """ST_AsGeoJSON(ST_Transform(p."geom_3857", 4326), 8, 0), ST_Area(p."geom") FROM "geokho_data"."thua_dat" p """
    """WHERE ST_Intersects(p."geom", ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), :srid), 9210)) """
    """ORDER BY p."fid" LIMIT 1;"""
)

NEAR = (
    """SELECT w."fid", jsonb_build_object('ten', w."ten", 'dia_chi', w."dia_chi", 'loai_kho', w."loai_kho", """
    """'dien_tich_m2', w."dien_tich_m2", 'suc_chua', w."suc_chua", 'dich_vu', w."dich_vu", """
    """'don_vi_khai_thac', w."don_vi_khai_thac", 'ma_so_thue', w."ma_so_thue")::text, """
    """ST_AsGeoJSON(ST_Transform(w."geom", 4326), 8, 0), """
    """ST_Distance(w."geom", ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 9210)) """
    """FROM "geokho_data"."kho_bai" w WHERE w."geom" IS NOT NULL """
    """ORDER BY w."geom" <-> ST_Transform(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 9210) LIMIT :lim;"""
)

PLANNING = (
    """WITH p AS MATERIALIZED (SELECT "geom" AS geom FROM "geokho_data"."thua_dat" WHERE "fid" = :fid) """
    """SELECT 0 AS k, NULL::int8 AS fid, NULL::text AS props, ST_Area(p.geom) AS a FROM p UNION ALL """
    """SELECT 1, z."fid", (jsonb_build_object('ma_khu_dat', z."ma_khu_dat", 'dien_tich', z."dien_tich", """
    """'loai_dat_hien_trang', z."loai_dat_hien_trang", 'loai_dat_quy_hoach', z."loai_dat_quy_hoach", """
    """'don_vi_quan_ly', z."don_vi_quan_ly", 'tinh_trang_gpmb', z."tinh_trang_gpmb"))::text, """
    """ST_Area(ST_Intersection(z."geom", p.geom)) FROM p JOIN "geokho_data"."quy_dat" z ON ST_Intersects(z."geom", p.geom) UNION ALL """
    """SELECT 2, z."fid", (jsonb_build_object('ky_quy_hoach', z."ky_quy_hoach", 'ma_loai_dat_qh', z."ma_loai_dat_qh", """
    """'ten_vung', z."ten_vung", 'so_qd', z."so_qd", 'ngay_qd', z."ngay_qd", 'dien_tich', z."dien_tich"))::text, """
    """ST_Area(ST_Intersection(z."geom", p.geom)) FROM p JOIN "geokho_data"."quy_hoach_sdd" z ON ST_Intersects(z."geom", p.geom) """
    """ORDER BY k, a DESC;"""
)

EDGES = '"geokho_data"."duong_bo__edges"'
UNITS = ("(CASE WHEN (SELECT proj4text LIKE '%+proj=longlat%' FROM spatial_ref_sys WHERE srid = 9210) "
         "THEN 1.0 / 110000 ELSE 1.0 END)")


def snap_sql(lon, lat, prefix):
    return (
        "SELECT e.id, e.fid, e.source, e.target, sn.f, e.length_m, e.cost_s, e.one_way, sn.d "
        f"FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint(:{lon}, :{lat}), 4326), 9210) AS p) p, "
        f"LATERAL (SELECT * FROM {EDGES} e ORDER BY e.geom <-> p.p LIMIT 1) e, "
        "LATERAL (SELECT ST_LineLocatePoint(e.geom, p.p) AS f, "
        "ST_Distance(ST_Transform(e.geom, 4326)::geography, ST_Transform(p.p, 4326)::geography) AS d) sn "
        f"\\gset {prefix}"
    )


# Vertex lists: the server binds int8[] parameters ($1, $2::int8[]); pgbench
# builds them with ARRAY[...] from the snapped ends (a one-way end's second
# vertex repeats its first: same set, same search).
FROM_V = "ARRAY[:a_target, :a_out2]::int8[]"
TO_V = "ARRAY[:b_source, :b_in2]::int8[]"
AROUND_V = "ARRAY[:a_target, :a_out2, :b_source, :b_in2]::int8[]"

BOX = (
    "SELECT ST_AsEWKT(ST_Expand(b, GREATEST(:share * sqrt((ST_XMax(b) - ST_XMin(b)) ^ 2 + (ST_YMax(b) - ST_YMin(b)) ^ 2), "
    f":margin * {UNITS}))) FROM (SELECT ST_SetSRID(ST_Extent(pt)::geometry, 9210) AS b "
    f"FROM (SELECT ST_StartPoint(geom) AS pt FROM {EDGES} WHERE source = ANY({AROUND_V}) "
    f"UNION ALL SELECT ST_EndPoint(geom) FROM {EDGES} WHERE target = ANY({AROUND_V})) v) x \\gset box_"
)
SET_BOX = "SELECT set_config('geokho.route_box', :box_st_asewkt, true);"
SET_ALL = "SELECT set_config('geokho.route_box', :all_box, true);"
BRIDGES = (
    f"""SELECT b."fid", e.id FROM "geokho_data"."cau" b JOIN {EDGES} e """
    f"""ON ST_DWithin(e.geom, ST_Transform(b."geom", 9210), 5 * {UNITS}) WHERE b."tai_trong" < :weight;"""
)
SET_CLOSED = "SELECT set_config('geokho.route_closed', :closed, true);"
# The server reads every row (one per pair of vertices: its cost, edges and
# nodes) and picks the fastest way out of the start, over the network and
# into the end in Rust (routing::fastest); pgbench does that choice around
# the same statement and keeps the chosen path's arrays for the assembly.
PATHS_SQL = (
    "SELECT start_vid, end_vid, max(agg_cost) AS cost, "
    "coalesce(array_agg(edge ORDER BY path_seq) FILTER (WHERE edge <> -1), '{}') AS edges, "
    "coalesce(array_agg(node ORDER BY path_seq) FILTER (WHERE edge <> -1), '{}') AS nodes "
    f"FROM pgr_dijkstra(:edges_sql, {FROM_V}, {TO_V}, true) GROUP BY start_vid, end_vid"
)
PATHS = (
    "SELECT count(*) AS n, (array_agg(start_vid ORDER BY t))[1] AS ov, (array_agg(end_vid ORDER BY t))[1] AS iv, "
    "(array_agg(edges::text ORDER BY t))[1] AS edges, (array_agg(nodes::text ORDER BY t))[1] AS nodes "
    "FROM (SELECT c.*, c.cost "
    "+ CASE WHEN c.start_vid = :a_target::int8 THEN (1 - :a_f::float8) * :a_cost_s::float8 ELSE :a_f::float8 * :a_cost_s::float8 END "
    "+ CASE WHEN c.end_vid = :b_source::int8 THEN :b_f::float8 * :b_cost_s::float8 ELSE (1 - :b_f::float8) * :b_cost_s::float8 END AS t "
    f"FROM ({PATHS_SQL}) c) x "
    "\\gset c_"
)
ASSEMBLE = (
    "WITH r AS ( SELECT d.k AS seq, e.fid, e.length_m, e.cost_s, "
    "CASE WHEN d.node = e.source THEN e.geom ELSE ST_Reverse(e.geom) END AS g "
    f"FROM unnest(:c_edges::int8[], :c_nodes::int8[]) WITH ORDINALITY d(edge, node, k) JOIN {EDGES} e ON e.id = d.edge "
    "WHERE e.id = ANY(:c_edges::int8[])), "
    "p AS ( SELECT CASE WHEN v.k = 1 THEN -1 ELSE 9223372036854775807 END AS seq, e.fid, "
    "e.length_m * abs(v.t - v.f) AS length_m, e.cost_s * abs(v.t - v.f) AS cost_s, "
    "CASE WHEN v.f <= v.t THEN ST_LineSubstring(e.geom, v.f, v.t) "
    "ELSE ST_Reverse(ST_LineSubstring(e.geom, v.t, v.f)) END AS g "
    "FROM unnest(ARRAY[:a_id, :b_id]::int8[], ARRAY[:a_f, :in_from]::float8[], ARRAY[:out_to, :b_f]::float8[]) "
    f"WITH ORDINALITY v(id, f, t, k) JOIN {EDGES} e ON e.id = v.id WHERE v.k = 1 OR v.k = 2), "
    "a AS MATERIALIZED (SELECT * FROM p UNION ALL SELECT * FROM r) "
    "SELECT (SELECT ST_AsGeoJSON(ST_Transform(ST_LineMerge(ST_MakeLine(g ORDER BY seq)), 4326), 7) FROM a), "
    """(SELECT json_agg(json_build_array(a.fid, l."ten_duong"::text, a.length_m, a.cost_s) ORDER BY a.seq) """
    """FROM a LEFT JOIN "geokho_data"."duong_bo" l ON l."fid" = a.fid WHERE a.length_m > 0)::text \\gset r_"""
)


def route_script(box, pairs):
    return f"""-- GET /logistics/route?from=..&to=..&weight=20: the statements of
-- routing::route in one read-only transaction (features/src/routing.rs,
-- snap.rs, network.rs). Variables from the command line (-D): edges_sql (the
-- pgRouting edges query), closed (edges under bridges weaker than 20 t, the
-- value the bridges query returns), all_box (the whole-network box).
\\set j random(1, {pairs})
{pgbench_pair(box)}\\set weight 20
\\set share 0.3
\\set margin 3000.0
BEGIN;
SET TRANSACTION READ ONLY;
{snap_sql('alon', 'alat', 'a_')}
{snap_sql('blon', 'blat', 'b_')}
\\set a_out2 case when :a_one_way then :a_target else :a_source end
\\set b_in2 case when :b_one_way then :b_source else :b_target end
{BOX}
{SET_BOX}
{BRIDGES}
{SET_CLOSED}
{PATHS}
\\if :c_n = 0
-- no path inside the box: prepare(Scope::All) and the paths again
{SET_ALL}
{BRIDGES}
{SET_CLOSED}
{PATHS}
\\endif
\\if :c_n = 0
-- still none: 404 "no route" (no assembly)
ROLLBACK;
\\else
\\set out_to case when :c_ov = :a_target then 1.0 else 0.0 end
\\set in_from case when :c_iv = :b_source then 0.0 else 1.0 end
{ASSEMBLE}
ROLLBACK;
\\endif
"""


def main():
    if sys.argv[1] == "--compare":
        return compare(sys.argv[2], sys.argv[3])
    out, base = sys.argv[1], sys.argv[2].rstrip("/")
    box = tuple(float(a) for a in sys.argv[3:7])
    max_fid = int(sys.argv[7])
    n_points, n_pairs, n_fids = (int(a) for a in (sys.argv[8:11] + ["5000", "200", "5000"][len(sys.argv[8:11]):]))

    def write(name, text):
        with open(f"{out}/{name}", "w") as f:
            f.write(text)

    pts = [point(i, box) for i in range(1, n_points + 1)]
    write("urls-parcel_at.txt", "".join(f"{base}/land/parcels/at?lon={x!r}&lat={y!r}\n" for x, y in pts))
    write("urls-near.txt", "".join(f"{base}/logistics/warehouses/near?lon={x!r}&lat={y!r}&limit=10\n" for x, y in pts))
    write("urls-planning.txt", "".join(f"{base}/land/parcels/{fid(k, max_fid)}/planning\n" for k in range(1, n_fids + 1)))
    prs = [pair(j, box) for j in range(1, n_pairs + 1)]
    write("urls-route.txt", "".join(
        f"{base}/logistics/route?from={a[0]!r},{a[1]!r}&to={b[0]!r},{b[1]!r}&weight=20\n" for a, b in prs))

    write("parcel_at.pgbench", f"""-- GET /land/parcels/at?lon=..&lat=.. (features::parcel_at)
\\set i random(1, {n_points})
{pgbench_point(box)}\\set srid 4326
{PARCEL_AT}
""")
    write("near.pgbench", f"""-- GET /logistics/warehouses/near?lon=..&lat=..&limit=10 (features::warehouses_near)
\\set i random(1, {n_points})
{pgbench_point(box)}\\set lim 10
{NEAR}
""")
    write("planning.pgbench", f"""-- GET /land/parcels/{{fid}}/planning (features::planning_report): one statement
\\set k random(1, {n_fids})
\\set fid 1 + mod(:k * 2654435761, {max_fid})
""" + PLANNING + "\n")
    write("route.pgbench", route_script(box, n_pairs))

    # The lists as pgbench computes them (run.sh: pgbench -t T -D n=0, debug()
    # output compared with lists.expected by `make.py --compare`).
    t = max(n_points, n_pairs, n_fids)
    fid_line = f"\\set fid 1 + mod(:k * 2654435761, {max_fid})\n"
    dbg = "".join(f"\\set d debug(:{v})\n" for v in ("lon", "lat", "alon", "alat", "blon", "blat", "fid"))
    write("lists.pgbench", "\\set n :n + 1\n\\set i :n\n\\set j :n\n\\set k :n\n"
          + pgbench_point(box) + pgbench_pair(box) + fid_line + dbg)
    exp = []
    for n in range(1, t + 1):
        (x, y), (a, b) = point(n, box), pair(n, box)
        exp += [x, y, a[0], a[1], b[0], b[1], fid(n, max_fid)]
    write("lists.expected", "".join(f"{v!r}\n" for v in exp))


def compare(expected, got):
    """Exit 1 unless pgbench's values (debug() lines) match make.py's."""
    e = [float(x) for x in open(expected)]
    g = [float(line.split()[-1]) for line in open(got) if line.startswith("debug(")]
    bad = [(n, a, b) for n, (a, b) in enumerate(zip(e, g)) if abs(a - b) > 1e-9 * max(1.0, abs(a))]
    if len(e) != len(g) or bad:
        print(f"lists: pgbench computes other values than the URL lists: {len(e)} expected, {len(g)} got, "
              f"{len(bad)} differ, first {bad[:3]}")
        sys.exit(1)
    print(f"lists: pgbench draws from the same {len(e) // 7} points, pairs and fids as the URL lists")


if __name__ == "__main__":
    main()
