-- Administrative units of both generations (before and from 1 July 2025) and
-- the crosswalk between them: reference data from seeds/admin_units/*.csv
-- (see its SOURCE.md), loaded after the migrations by catalog::reference,
-- again whenever the embedded files change. A commune code means nothing
-- without its generation ('pre2025' or '2025').
CREATE TABLE IF NOT EXISTS geokho.admin_province (
    generation text NOT NULL CHECK (generation IN ('pre2025', '2025')),
    code       text NOT NULL,
    name       text NOT NULL,
    lon        double precision,
    lat        double precision,
    -- WGS 84 west, south, east, north (pre2025 only; geocoded, approximate)
    bounds     double precision[],
    PRIMARY KEY (generation, code)
);
CREATE TABLE IF NOT EXISTS geokho.admin_commune (
    generation    text NOT NULL CHECK (generation IN ('pre2025', '2025')),
    code          text NOT NULL,
    name          text NOT NULL,
    type          text NOT NULL,
    province_code text NOT NULL,
    district_code text,
    district      text,
    lon           double precision,
    lat           double precision,
    bounds        double precision[],
    area_km2      double precision,
    -- the name without its type, tones, case or spaces ("Phường Mỹ Phong" -> "myphong")
    search_key    text NOT NULL,
    PRIMARY KEY (generation, code)
);
CREATE INDEX IF NOT EXISTS admin_commune_search_key ON geokho.admin_commune (search_key text_pattern_ops);
CREATE TABLE IF NOT EXISTS geokho.admin_crosswalk (
    old_code text NOT NULL,
    new_code text NOT NULL,
    -- true: the former commune went wholly into new_code; false: it was split
    whole    boolean NOT NULL,
    PRIMARY KEY (old_code, new_code)
);
CREATE INDEX IF NOT EXISTS admin_crosswalk_new ON geokho.admin_crosswalk (new_code);
-- Which reference data is loaded (sha256 of the embedded files).
CREATE TABLE IF NOT EXISTS geokho.reference_data (
    name      text PRIMARY KEY,
    sha256    text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
);
