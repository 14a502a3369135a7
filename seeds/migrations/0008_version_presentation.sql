-- What a version was published with besides its data: title, zoom range and
-- whether it is public, so that a rollback restores them too. NULL for
-- versions recorded before this migration (a rollback then keeps the
-- layer's current settings).
ALTER TABLE geokho.layer_versions
    ADD COLUMN IF NOT EXISTS title   text,
    ADD COLUMN IF NOT EXISTS minzoom integer,
    ADD COLUMN IF NOT EXISTS maxzoom integer,
    ADD COLUMN IF NOT EXISTS public  boolean;
