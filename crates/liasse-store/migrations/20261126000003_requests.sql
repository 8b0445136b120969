-- Procedures (démarches) and requests (demandes).

CREATE TABLE procedures (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    code         TEXT NOT NULL,
    definition   TEXT NOT NULL,
    active       BIGINT NOT NULL DEFAULT 1,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, code)
);

CREATE TABLE requests (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    number          TEXT NOT NULL,
    procedure_code  TEXT NOT NULL,
    domain          TEXT NOT NULL,
    citizen_id      TEXT NOT NULL REFERENCES accounts(id),
    state           TEXT NOT NULL,
    answers         TEXT NOT NULL,
    members         TEXT NOT NULL,
    tracking_hash   TEXT,
    lock_holder     TEXT,
    lock_until      BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    submitted_at    BIGINT,
    closed_at       BIGINT,
    anonymised_at   BIGINT,
    UNIQUE (tenant_id, number)
);
CREATE INDEX requests_citizen ON requests (tenant_id, citizen_id);
CREATE INDEX requests_domain_state ON requests (tenant_id, domain, state);

-- Attaching a document to a requirement is consent for the request's domain while the
-- request is open. Detaching never deletes the document.
CREATE TABLE request_attachments (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    request_id   TEXT NOT NULL REFERENCES requests(id),
    requirement  TEXT NOT NULL,
    document_id  TEXT NOT NULL REFERENCES documents(id),
    version      BIGINT NOT NULL,
    attached_at  BIGINT NOT NULL,
    PRIMARY KEY (request_id, requirement)
);
CREATE INDEX request_attachments_document ON request_attachments (document_id);

CREATE TABLE request_notes (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    request_id   TEXT NOT NULL REFERENCES requests(id),
    author_id    TEXT NOT NULL,
    author_label TEXT NOT NULL,
    visible      BIGINT NOT NULL,
    body         TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX request_notes_request ON request_notes (request_id);

CREATE TABLE request_history (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    request_id   TEXT NOT NULL REFERENCES requests(id),
    at           BIGINT NOT NULL,
    actor_id     TEXT NOT NULL,
    actor_label  TEXT NOT NULL,
    event        TEXT NOT NULL,
    details      TEXT NOT NULL
);
CREATE INDEX request_history_request ON request_history (request_id);
