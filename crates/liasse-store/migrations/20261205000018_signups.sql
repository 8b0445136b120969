-- A resident's sign-up waiting for the address to be verified: its account exists, disabled
-- and without a password, until the link is opened, so nobody can use an address they do not
-- read (a second sign-up of the same address reuses it). The link's secret
-- is derived from the key ring at sending (like an enrolment's): the row keeps its SHA-256.
CREATE TABLE signups (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    email       TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX signups_secret ON signups (secret_hash);
CREATE INDEX signups_expiry ON signups (expires_at);
