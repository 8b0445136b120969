-- Versions whose fingerprint is still a plain SHA-256, written before keyed digests. Every
-- start looks them up to convert them (services::verify::convert_legacy_digests); no new row
-- ever matches, so once they are converted this index is empty and the lookup reads nothing
-- instead of every version. The query repeats this WHERE clause term for term, so that both
-- SQLite and PostgreSQL use the index.
CREATE INDEX document_versions_plain_digest ON document_versions (id)
    WHERE substr(sha256, 1, 12) <> 'hmac-sha256:' AND sha256 <> '';
