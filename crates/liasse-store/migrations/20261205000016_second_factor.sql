-- A staff member's second factor (TOTP, RFC 6238). The seed itself is the sealed secret
-- 'totp:ACCOUNT' (sealed_secrets); this row says whether it was confirmed and which time step
-- was used last, so that a code is accepted once.
CREATE TABLE totp_factors (
    tenant_id    TEXT NOT NULL REFERENCES tenants(id),
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    created_at   BIGINT NOT NULL,
    confirmed_at BIGINT,
    last_step    BIGINT,
    PRIMARY KEY (tenant_id, account_id)
);

-- Single-use recovery codes, as SHA-256 of their normalised form only.
CREATE TABLE recovery_codes (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    code_hash  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (tenant_id, account_id, code_hash)
);

-- A password login waiting for its second factor (stage 'code') or, for an admin whose
-- tenant requires one, for its enrolment (stage 'enrol'). Keyed by the hash of the secret
-- held in the browser's cookie; short-lived; deleted when the session opens or after too many
-- wrong codes.
CREATE TABLE second_factor_logins (
    id_hash    TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    stage      TEXT NOT NULL,
    failures   BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX second_factor_logins_expiry ON second_factor_logins (expires_at);

-- The pseudonymous id each service client sees for a citizen (an HMAC of the client and the
-- citizen under the tenant's 'pairwise' secret), recorded when it is first handed out so that
-- an id the client sends back can be mapped to the citizen.
CREATE TABLE pairwise_ids (
    tenant_id   TEXT NOT NULL REFERENCES tenants(id),
    client_id   TEXT NOT NULL REFERENCES accounts(id),
    pairwise_id TEXT NOT NULL,
    citizen_id  TEXT NOT NULL REFERENCES accounts(id),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, client_id, pairwise_id)
);
CREATE UNIQUE INDEX pairwise_ids_citizen ON pairwise_ids (tenant_id, client_id, citizen_id);
