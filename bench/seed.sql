-- Bulk rows for the list-and-match benchmark (bench/run.sh): @CITIZENS@ citizens and
-- @DOCUMENTS@ documents, each document with one version row, in the tenant @TENANT@.
--
-- The rows are shaped like real ones (same columns, UUID-like ids, catalogue types, states,
-- validity dates, sealed metadata and wrapped keys of realistic sizes) so that indexes and
-- pages are what a real vault of that size holds, but they have no blobs and their sealed
-- parts are random bytes: nothing reads them except queries over other citizens. Do not run
-- `liasse verify` on a benchmark database.
--
-- run.sh substitutes @TENANT@, @CITIZENS@ and @DOCUMENTS@, then pipes this into sqlite3 (or
-- Python's sqlite3 module). Documents go to owners in order (document i belongs to citizen
-- i * CITIZENS / DOCUMENTS), as if each citizen deposited their documents together.

PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
PRAGMA temp_store = MEMORY;

BEGIN;

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @CITIZENS@)
INSERT INTO accounts (id, tenant_id, login, role, display_name, email, service,
                      password_hash, disabled, created_at)
SELECT printf('01900000-0000-7000-8000-%012d', i), '@TENANT@', printf('usager-%07d', i),
       'citizen', printf('Usager n° %d', i), printf('usager-%07d@example.invalid', i), '',
       NULL, 0, 1704067200000 + i * 1000
FROM n;

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @DOCUMENTS@)
INSERT INTO documents (id, tenant_id, owner_id, subject_member_id, type_code, channel, origin,
                       depositor_id, state, valid_until, review_reason, current_version,
                       created_at, updated_at, deleted_at, depositor_service)
SELECT printf('01900000-0001-7000-8000-%012d', i), '@TENANT@',
       printf('01900000-0000-7000-8000-%012d', i * @CITIZENS@ / @DOCUMENTS@), NULL,
       CASE i % 8
           WHEN 0 THEN 'justificatif-domicile' WHEN 1 THEN 'avis-imposition'
           WHEN 2 THEN 'rib' WHEN 3 THEN 'livret-famille'
           WHEN 4 THEN 'carte-nationale-identite' WHEN 5 THEN 'attestation-quotient-familial-caf'
           WHEN 6 THEN 'bulletin-salaire' ELSE 'acte-naissance' END,
       'web', 'citizen',
       printf('01900000-0000-7000-8000-%012d', i * @CITIZENS@ / @DOCUMENTS@),
       CASE i % 5 WHEN 0 THEN 'submitted' WHEN 1 THEN 'rejected' ELSE 'validated' END,
       CASE WHEN i % 8 IN (2, 3) THEN NULL
            ELSE printf('%04d-%02d-%02d', 2025 + i % 4, 1 + i % 12, 1 + i % 28) END,
       CASE WHEN i % 5 = 1 THEN 'Document illisible' END,
       1, 1704067200000 + i * 100, 1704067200000 + i * 100, NULL, ''
FROM n;

WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @DOCUMENTS@)
INSERT INTO document_versions (id, tenant_id, document_id, version, blob_key, size, media_type,
                               sha256, key_id, wrapped_key, sealed_meta, created_at,
                               created_by, destroyed_at)
SELECT printf('01900000-0002-7000-8000-%012d', i), '@TENANT@',
       printf('01900000-0001-7000-8000-%012d', i), 1,
       printf('@TENANT@/01900000-0002-7000-8000-%012d', i), 150000 + i % 100000,
       'application/pdf', lower(hex(randomblob(32))), 'bulk', randomblob(60), randomblob(120),
       1704067200000 + i * 100, printf('01900000-0000-7000-8000-%012d', i * @CITIZENS@ / @DOCUMENTS@),
       NULL
FROM n;

COMMIT;
