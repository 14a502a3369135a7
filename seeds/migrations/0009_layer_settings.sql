-- Settings that stick from version to version (issue 18): a re-import that
-- does not repeat an option keeps the live version's. Per version, so a
-- rollback restores them with the data:
--   settings: {"description", "renames", "restricted", "public_fields"} as
--             the operator gave them (NULL for versions recorded before);
--   changes:  what this version changed against the one it replaced and the
--             operator confirmed: {"kind_from", "widened": [..], "schema": [..]}.
-- Only columns are added, so an older build still runs on this database.
ALTER TABLE geokho.layer_versions
    ADD COLUMN IF NOT EXISTS description text,
    ADD COLUMN IF NOT EXISTS settings    jsonb,
    ADD COLUMN IF NOT EXISTS changes     jsonb;
ALTER TABLE geokho.layers
    ADD COLUMN IF NOT EXISTS description text;
