-- Services by id, and enrolment links for staff accounts.
--
-- An agent's service is a basis: members of a service read back the letters it deposited.
-- It used to be a free-text `accounts.service` string that whoever set it could make equal
-- to any other service's. From here on an account belongs to a service of the tenant's list
-- by id (`accounts.service_id`), and `documents.depositor_service` holds the depositing
-- service's id. `accounts.service` stays as that service's name, a label only.

CREATE TABLE services (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (tenant_id, name)
);

-- Every service name in use becomes a service. Its id is the smallest id (text UUIDv7) among
-- the rows that name it: unique, and computed the same way on both databases, which share no
-- id function.
INSERT INTO services (id, tenant_id, name, created_at)
SELECT MIN(named.id), named.tenant_id, named.name, MIN(named.created_at)
FROM (
    SELECT id, tenant_id, service AS name, created_at FROM accounts WHERE service <> ''
    UNION ALL
    SELECT id, tenant_id, depositor_service AS name, created_at FROM documents
    WHERE depositor_service <> ''
) named
GROUP BY named.tenant_id, named.name;

ALTER TABLE accounts ADD COLUMN service_id TEXT REFERENCES services(id);

UPDATE accounts SET service_id = (
    SELECT s.id FROM services s WHERE s.tenant_id = accounts.tenant_id AND s.name = accounts.service
) WHERE service <> '';

UPDATE documents SET depositor_service = (
    SELECT s.id FROM services s
    WHERE s.tenant_id = documents.tenant_id AND s.name = documents.depositor_service
) WHERE depositor_service <> '';

-- A single-use, short-lived link with which a staff member chooses their own password: the
-- admin who creates the account never chooses or sees it. Only the secret's SHA-256 is kept.
CREATE TABLE enrolments (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    secret_hash  TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    used_at      BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX enrolments_account ON enrolments (tenant_id, account_id);

-- The history of one object (an account's page lists what was done to it, and by whom).
CREATE INDEX journal_object ON journal (tenant_id, object_kind, object_id, seq);
