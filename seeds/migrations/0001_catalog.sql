-- The layer catalog and the schemas layers live in.
-- geokho_data: the live layers that are served; geokho_stage: imports in progress;
-- geokho_history: previous versions kept for `geokho rollback`.
CREATE EXTENSION IF NOT EXISTS postgis;
CREATE SCHEMA IF NOT EXISTS geokho;
CREATE SCHEMA IF NOT EXISTS geokho_data;
CREATE SCHEMA IF NOT EXISTS geokho_stage;
CREATE SCHEMA IF NOT EXISTS geokho_history;

-- One number for every published layer version, across layers: caches key on it.
CREATE SEQUENCE IF NOT EXISTS geokho.data_version;

CREATE TABLE IF NOT EXISTS geokho.layers (
    name           text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,39}$'),
    kind           text NOT NULL,
    title          text NOT NULL,
    geometry_type  text NOT NULL,
    srid           integer NOT NULL,
    version        bigint NOT NULL,
    feature_count  bigint NOT NULL,
    -- WGS 84 lon/lat: west, south, east, north; NULL when the layer is empty
    bounds         double precision[],
    minzoom        integer NOT NULL DEFAULT 0 CHECK (minzoom BETWEEN 0 AND 24),
    maxzoom        integer NOT NULL DEFAULT 22 CHECK (maxzoom BETWEEN 0 AND 24),
    public         boolean NOT NULL DEFAULT true,
    -- [{"name":..,"type":..,"restricted":bool,"source":..}]
    fields         jsonb NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS geokho.layer_versions (
    layer            text NOT NULL,
    version          bigint NOT NULL,
    -- live: in geokho_data; previous: in geokho_history, restorable; dropped: gone
    state            text NOT NULL CHECK (state IN ('live', 'previous', 'dropped')),
    table_name       text NOT NULL,
    kind             text NOT NULL,
    geometry_type    text NOT NULL,
    srid             integer NOT NULL,
    feature_count    bigint NOT NULL,
    bounds           double precision[],
    fields           jsonb NOT NULL,
    -- [{"path":..,"sha256":..,"encoding":..,"records":..}]
    sources          jsonb NOT NULL,
    fingerprint      text NOT NULL,
    repaired         bigint NOT NULL DEFAULT 0,
    null_geometries  bigint NOT NULL DEFAULT 0,
    rejected         bigint NOT NULL DEFAULT 0,
    imported_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (layer, version)
);
