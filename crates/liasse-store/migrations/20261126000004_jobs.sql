-- Life cycle: a job queue claimed through the database (so that several nodes never run a job
-- twice), an outbox of e-mails and SMS (so that a failing mail server loses nothing), per-account
-- notification preferences, documents a citizen keeps beyond retention, and the scheduler's
-- cursors.

-- One row per unit of work. (kind, idem_key) is the idempotency key: scheduling the same event
-- twice (two nodes, a sweep run again) inserts nothing. A claimed job is `running` until
-- lease_until; a node that dies leaves the lease to expire and another node takes the job back.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    kind         TEXT NOT NULL,
    idem_key     TEXT NOT NULL,
    payload      TEXT NOT NULL,
    run_at       BIGINT NOT NULL,
    state        TEXT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    lease_until  BIGINT,
    lease_owner  TEXT,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    done_at      BIGINT,
    UNIQUE (kind, idem_key)
);
CREATE INDEX jobs_due ON jobs (state, run_at);

-- Messages to send by e-mail or SMS, written in the same transaction as the event they tell
-- about; claimed like jobs. `held` rows wait for an agent's daily digest.
CREATE TABLE outbox (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    idem_key     TEXT NOT NULL UNIQUE,
    channel      TEXT NOT NULL,
    address      TEXT NOT NULL,
    subject      TEXT NOT NULL,
    body         TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    run_at       BIGINT NOT NULL,
    lease_until  BIGINT,
    lease_owner  TEXT,
    last_error   TEXT,
    created_at   BIGINT NOT NULL,
    sent_at      BIGINT
);
CREATE INDEX outbox_due ON outbox (state, run_at);
CREATE INDEX outbox_account ON outbox (tenant_id, account_id, created_at);

-- Absent row: the defaults (e-mail and in-app on, SMS off, optional notices on, no digest).
CREATE TABLE notification_prefs (
    account_id     TEXT PRIMARY KEY REFERENCES accounts(id),
    tenant_id      TEXT NOT NULL REFERENCES tenants(id),
    email          BIGINT NOT NULL,
    sms            BIGINT NOT NULL,
    in_app         BIGINT NOT NULL,
    optional       BIGINT NOT NULL,
    digest         BIGINT NOT NULL,
    email_address  TEXT,
    phone          TEXT,
    updated_at     BIGINT NOT NULL
);

-- A citizen's request to keep a document beyond its type's retention (where the type allows).
CREATE TABLE document_keeps (
    document_id  TEXT PRIMARY KEY REFERENCES documents(id),
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    kept_by      TEXT NOT NULL,
    kept_at      BIGINT NOT NULL
);

-- Scheduler state of the instance (not of a tenant): the last day each date scan covered and
-- when it ran, so that a sweep reads only the documents that became due since.
CREATE TABLE lifecycle_cursors (
    name  TEXT PRIMARY KEY,
    day   TEXT NOT NULL,
    at    BIGINT NOT NULL
);

-- A notice is recorded once per (event, recipient): NULL for the older, non-scheduled ones.
ALTER TABLE notifications ADD COLUMN idem_key TEXT;
CREATE UNIQUE INDEX notifications_idem ON notifications (idem_key);

-- Documents deposited, reviewed or replaced since the last sweep (their events may be due
-- already); idle drafts; closed requests waiting for anonymisation.
CREATE INDEX documents_updated ON documents (updated_at);
CREATE INDEX requests_state_updated ON requests (tenant_id, state, updated_at);
CREATE INDEX requests_state_closed ON requests (tenant_id, state, closed_at);
