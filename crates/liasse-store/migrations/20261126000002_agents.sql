-- Agents and consent: grants, reviews, provider opt-ins, in-app notifications.

-- The service (agents' unit or service client) whose member deposited a document: a basis
-- for that service to read it back.
ALTER TABLE documents ADD COLUMN depositor_service TEXT NOT NULL DEFAULT '';

-- A citizen's explicit, time-limited, revocable permission. grantee_kind is `domain` (every
-- agent with rights on that domain) or `client` (one service client account); the scope is a
-- list of document ids or of document type codes.
CREATE TABLE grants (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    citizen_id    TEXT NOT NULL REFERENCES accounts(id),
    grantee_kind  TEXT NOT NULL,
    grantee       TEXT NOT NULL,
    scope_kind    TEXT NOT NULL,
    scope         TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    valid_until   TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX grants_citizen ON grants (tenant_id, citizen_id);

CREATE TABLE document_reviews (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    document_id   TEXT NOT NULL REFERENCES documents(id),
    version       BIGINT NOT NULL,
    decision      TEXT NOT NULL,
    reason        TEXT,
    valid_until   TEXT,
    reviewer_id   TEXT NOT NULL,
    basis_kind    TEXT NOT NULL,
    basis_id      TEXT NOT NULL,
    at            BIGINT NOT NULL
);
CREATE INDEX document_reviews_doc ON document_reviews (tenant_id, document_id);

-- A citizen's consent to receive certified documents from a trusted provider.
CREATE TABLE provider_optins (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    citizen_id    TEXT NOT NULL REFERENCES accounts(id),
    provider_id   TEXT NOT NULL REFERENCES accounts(id),
    created_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    PRIMARY KEY (citizen_id, provider_id)
);

CREATE TABLE notifications (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    kind          TEXT NOT NULL,
    title         TEXT NOT NULL,
    body          TEXT NOT NULL,
    object_id     TEXT,
    created_at    BIGINT NOT NULL,
    read_at       BIGINT
);
CREATE INDEX notifications_account ON notifications (tenant_id, account_id, created_at);
