-- Pre-rendered tiles (`geokho seed`), shared by every server and kept across
-- restarts. `layers` is "layer@version[,...]" as in the in-memory cache key, so
-- a tile of an old version can never be served for a new one; stale rows are
-- deleted when a new version is announced.
CREATE TABLE IF NOT EXISTS geokho.tile_store (
    layers      text NOT NULL,
    variant     bigint NOT NULL,
    z           smallint NOT NULL,
    x           integer NOT NULL,
    y           integer NOT NULL,
    data        bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (layers, variant, z, x, y)
);
