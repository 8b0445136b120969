-- Secrets a tenant keeps (identity providers' client secrets, the pairwise-id key, staff's
-- TOTP seeds): each sealed under its own data key, which is wrapped by the key ring like a
-- document's, so the database alone reveals none of them and `keys rotate` re-wraps them.
CREATE TABLE sealed_secrets (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    name        TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    wrapped_key BYTEA NOT NULL,
    sealed      BYTEA NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
CREATE INDEX sealed_secrets_key ON sealed_secrets (key_id);

-- A tenant's service at an identity provider (kind: franceconnect | proconnect). The client
-- secret is the sealed secret named 'idp:KIND'.
CREATE TABLE identity_providers (
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    kind            TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    acr             TEXT NOT NULL,
    -- ProConnect: SIRETs allowed to log in, space separated; empty = any.
    allowed_sirets  TEXT NOT NULL DEFAULT '',
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, kind)
);

-- Accounts are linked to a provider's subject, never to an e-mail address.
CREATE TABLE federated_identities (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    issuer        TEXT NOT NULL,
    sub           TEXT NOT NULL,
    kind          TEXT NOT NULL,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    created_at    BIGINT NOT NULL,
    last_login_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, issuer, sub)
);
CREATE INDEX federated_identities_account ON federated_identities (account_id);

-- A login begun at a provider, waiting for its callback (single use, short-lived, bound to
-- the browser by the hash of a cookie), or a verified identity waiting for the citizen's
-- choice at a first login. `payload` is sealed under a key derived from the key ring.
CREATE TABLE pending_logins (
    id_hash      TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    kind         TEXT NOT NULL,
    stage        TEXT NOT NULL,
    browser_hash TEXT NOT NULL,
    payload      BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX pending_logins_expiry ON pending_logins (expires_at);

-- How a session was opened, and what the provider's logout needs.
ALTER TABLE sessions ADD COLUMN provider TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN id_token TEXT;
