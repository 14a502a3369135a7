-- Citizen field reports (phản ánh hiện trường): a layer written by the API,
-- not by imports. Each new report publishes a new layer version (see
-- api/src/routes/reports.rs) so tiles and caches pick it up at once.
CREATE TABLE IF NOT EXISTS geokho_data.phan_anh (
    fid         bigserial PRIMARY KEY,
    loai        text NOT NULL,
    noi_dung    text NOT NULL,
    trang_thai  text NOT NULL DEFAULT 'moi' CHECK (trang_thai IN ('moi', 'dang_xu_ly', 'da_xu_ly', 'tu_choi')),
    thoi_gian   text NOT NULL DEFAULT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    geom        geometry(Point, 4326) NOT NULL,
    geom_3857   geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
    zmin        smallint NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS phan_anh_geom ON geokho_data.phan_anh USING gist (geom);
CREATE INDEX IF NOT EXISTS phan_anh_geom_3857 ON geokho_data.phan_anh USING gist (geom_3857);

INSERT INTO geokho.layers (name, kind, title, geometry_type, srid, version, feature_count, bounds, minzoom, maxzoom, public, fields)
VALUES ('phan_anh', 'reports', 'Phản ánh hiện trường', 'Point', 4326, nextval('geokho.data_version'), 0, NULL, 8, 22, true,
        '[{"name":"loai","type":"text"},{"name":"noi_dung","type":"text"},{"name":"trang_thai","type":"text"},{"name":"thoi_gian","type":"text"}]')
ON CONFLICT (name) DO NOTHING;
