-- API keys (only a SHA-256 of each secret is stored) and the audit log of
-- reads of restricted fields (owner names, certificate numbers).
CREATE TABLE IF NOT EXISTS geokho.api_keys (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- The first characters of the secret, shown in lists to tell keys apart.
    prefix      text NOT NULL,
    hash        bytea NOT NULL UNIQUE,
    scopes      text[] NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE IF NOT EXISTS geokho.audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    key_id    bigint NOT NULL REFERENCES geokho.api_keys (id),
    key_name  text NOT NULL,
    action    text NOT NULL,
    layer     text NOT NULL,
    fields    text[] NOT NULL,
    detail    text
);
CREATE INDEX IF NOT EXISTS audit_log_at ON geokho.audit_log (at);
CREATE INDEX IF NOT EXISTS audit_log_key ON geokho.audit_log (key_id, at);
