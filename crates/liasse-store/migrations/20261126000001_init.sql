-- One schema for SQLite and PostgreSQL: text UUIDv7 ids, BIGINT millisecond times, TEXT dates
-- (YYYY-MM-DD, which sort as dates), BYTEA bytes, BIGINT 0/1 flags (sqlx's Any driver cannot read SQLite booleans). Every table carries tenant_id.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    settings    TEXT NOT NULL DEFAULT '{}',
    created_at  BIGINT NOT NULL
);

CREATE TABLE journal (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    seq           BIGINT NOT NULL,
    at            BIGINT NOT NULL,
    actor_kind    TEXT NOT NULL,
    actor_id      TEXT NOT NULL,
    actor_label   TEXT NOT NULL,
    actor_service TEXT NOT NULL,
    action        TEXT NOT NULL,
    object_kind   TEXT NOT NULL,
    object_id     TEXT NOT NULL,
    citizen_id    TEXT,
    basis_kind    TEXT NOT NULL,
    basis_id      TEXT NOT NULL,
    details       TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX journal_citizen ON journal (tenant_id, citizen_id, seq);

-- The head of each tenant's chain. Appending updates this row first, which serialises
-- concurrent appends of one tenant on both databases (a row lock on PostgreSQL, the write
-- lock on SQLite).
CREATE TABLE journal_heads (
    tenant_id  TEXT PRIMARY KEY REFERENCES tenants(id),
    seq        BIGINT NOT NULL,
    hash       TEXT NOT NULL
);

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    login         TEXT NOT NULL,
    role          TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    email         TEXT,
    service       TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    UNIQUE (tenant_id, login)
);

CREATE TABLE account_rights (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    domain      TEXT NOT NULL,
    level       TEXT NOT NULL,
    PRIMARY KEY (account_id, domain)
);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    token_hash  TEXT NOT NULL UNIQUE,
    label       TEXT NOT NULL DEFAULT '',
    scopes      TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT,
    revoked_at  BIGINT
);

CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    csrf_token  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE household_members (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    name        TEXT NOT NULL,
    birth_date  TEXT,
    relation    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    removed_at  BIGINT
);

CREATE TABLE document_types (
    tenant_id           TEXT NOT NULL REFERENCES tenants(id),
    code                TEXT NOT NULL,
    definition          TEXT NOT NULL,
    active              BIGINT NOT NULL DEFAULT 1,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, code)
);

CREATE TABLE documents (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants(id),
    owner_id          TEXT NOT NULL REFERENCES accounts(id),
    subject_member_id TEXT REFERENCES household_members(id),
    type_code         TEXT NOT NULL,
    channel           TEXT NOT NULL,
    origin            TEXT NOT NULL,
    depositor_id      TEXT NOT NULL,
    state             TEXT NOT NULL,
    valid_until       TEXT,
    review_reason     TEXT,
    current_version   BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    deleted_at        BIGINT
);
CREATE INDEX documents_owner ON documents (tenant_id, owner_id, deleted_at);
CREATE INDEX documents_valid_until ON documents (valid_until);

-- One row per stored version. wrapped_key is NULL once the version is destroyed: without it
-- the blob (if any copy survives in a backup) cannot be decrypted.
CREATE TABLE document_versions (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    document_id   TEXT NOT NULL REFERENCES documents(id),
    version       BIGINT NOT NULL,
    blob_key      TEXT NOT NULL,
    size          BIGINT NOT NULL,
    media_type    TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    key_id        TEXT,
    wrapped_key   BYTEA,
    sealed_meta   BYTEA,
    created_at    BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    destroyed_at  BIGINT,
    UNIQUE (document_id, version)
);
CREATE INDEX document_versions_key ON document_versions (key_id);
CREATE INDEX document_versions_blob ON document_versions (blob_key);
