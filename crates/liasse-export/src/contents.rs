//! What goes into the archive: the manifest, the documents' files under readable names, the journal.

use super::*;

#[derive(Serialize)]
pub(super) struct Manifest<'a> {
    format: &'static str,
    format_version: u32,
    tenant: &'a str,
    tenant_name: &'a str,
    account_id: &'a str,
    login: &'a str,
    generated_at: &'a str,
    documents: &'a [ManifestDocument],
    journal: ManifestJournal,
}

#[derive(Serialize)]
pub(super) struct ManifestJournal {
    entries: usize,
    json: &'static str,
    csv: &'static str,
}

#[derive(Serialize)]
pub(super) struct ManifestDocument {
    id: String,
    #[serde(rename = "type")]
    type_code: String,
    type_label: String,
    domain: String,
    /// `null` for the citizen themself, or a household member's id.
    subject: Option<String>,
    title: Option<String>,
    /// The file name given at deposit (informative: the archive never uses it as a path).
    file_name: String,
    state: String,
    review_state: String,
    review_reason: Option<String>,
    valid_until: Option<String>,
    expired: bool,
    channel: String,
    origin: String,
    metadata: serde_json::Value,
    created_at: String,
    updated_at: String,
    current_version: i64,
    /// Path in the archive of the current version.
    path: String,
    versions: Vec<ManifestVersion>,
}

#[derive(Serialize)]
pub(super) struct ManifestVersion {
    version: i64,
    current: bool,
    path: String,
    size: i64,
    media_type: String,
    /// The plain SHA-256 of the entry, computed as it is written: the citizen's own
    /// integrity value for the file beside it (the database keeps only a keyed digest).
    sha256: String,
    file_name: String,
    created_at: String,
}

/// What goes into one export, decided (and counted, for the journal) before any byte.
pub(super) struct Plan {
    pub(super) tenant: Tenant,
    pub(super) now: i64,
    pub(super) documents: Vec<ManifestDocument>,
    /// The rows of each document's versions, in the order of its `versions`.
    pub(super) rows: Vec<Vec<VersionRow>>,
}

impl Plan {
    pub(super) fn versions(&self) -> usize {
        self.rows.iter().map(Vec::len).sum()
    }

    pub(super) fn file_name(&self, login: &str) -> String {
        format!(
            "liasse-export-{}-{}.zip",
            safe_name(login),
            format_date(date_of(self.now))
        )
    }
}

/// Lists what the export holds: every document the citizen may read, with its live versions.
pub(super) async fn plan(app: &App, p: &Principal) -> Result<Plan> {
    let tenant = tenants::by_id(&app.db, &p.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = app.now();
    let types = doc_types(app, &p.tenant_id).await?;
    let docs = doc_store::list_owned(&app.db, &p.tenant_id, &p.account_id).await?;
    let mut stems = HashSet::new();
    let mut listed = Vec::with_capacity(docs.len());
    let mut rows = Vec::with_capacity(docs.len());
    let bases = liasse_app::access::Bases::load(app, p, &p.account_id).await?;
    for d in docs {
        if bases.decide(p, Action::ReadContent, &d).is_none() {
            continue;
        }
        let versions = doc_store::versions(&app.db, &p.tenant_id, &d.id).await?;
        // A document deleted since the listing has no live current version: it is no longer
        // part of the vault, so it is left out rather than failing the export. (A deletion in
        // the middle of copying its bytes does fail the export; trying again then succeeds.)
        let Some(current) = versions
            .iter()
            .find(|v| v.version == d.current_version && v.destroyed_at.is_none())
        else {
            continue;
        };
        let Some((_, current_meta)) = open_version(app, current)? else {
            continue;
        };
        let stem = unique_stem(&d, &mut stems);
        let mut listed_versions = Vec::with_capacity(versions.len());
        let mut version_rows = Vec::with_capacity(versions.len());
        for v in &versions {
            let Some((_, meta)) = open_version(app, v)? else {
                continue;
            };
            let is_current = v.version == d.current_version;
            let path = format!(
                "{}/{}-v{}.{}",
                if is_current { "documents" } else { "versions" },
                stem,
                v.version,
                extension(&v.media_type)
            );
            listed_versions.push(ManifestVersion {
                version: v.version,
                current: is_current,
                path,
                size: v.size,
                media_type: v.media_type.clone(),
                sha256: String::new(),
                file_name: meta.file_name,
                created_at: rfc3339(v.created_at),
            });
            version_rows.push(v.clone());
        }
        let item = view(app, &d, current, types.get(&d.type_code), current_meta);
        let path = listed_versions
            .iter()
            .find(|v| v.current)
            .map(|v| v.path.clone())
            .unwrap_or_default();
        listed.push(ManifestDocument {
            id: item.id,
            type_code: item.type_code,
            type_label: item.type_label,
            domain: item.domain,
            subject: item.subject,
            title: item.title,
            file_name: item.file_name,
            state: item.state,
            review_state: item.review_state,
            review_reason: item.review_reason,
            valid_until: item.valid_until,
            expired: item.expired,
            channel: item.channel,
            origin: item.origin,
            metadata: item.metadata,
            created_at: item.created_at,
            updated_at: item.updated_at,
            current_version: d.current_version,
            path,
            versions: listed_versions,
        });
        rows.push(version_rows);
    }
    Ok(Plan {
        tenant,
        now,
        documents: listed,
        rows,
    })
}

/// Writes the whole archive into `out`; returns `out`, the archive's size and the number of
/// journal entries in it. On failure the archive is left without its end record.
pub(super) async fn write_archive<W: Write + Send + 'static>(
    app: &App,
    p: &Principal,
    plan: Plan,
    out: W,
) -> Result<(W, u64, usize)> {
    let sink = ZipSink::start(out);
    let produced = write_contents(app, p, plan, &sink).await;
    let written = sink.finish(produced.is_ok()).await;
    match (produced, written) {
        (Ok(entries), Ok((out, bytes))) => Ok((out, bytes, entries)),
        // The producer only saw that the writer stopped; the writer knows why.
        (Err(AppError::Internal(m)), Err(w)) if m == WRITER_STOPPED => Err(w),
        (Err(e), _) | (Ok(_), Err(e)) => Err(e),
    }
}

/// Writes every entry; returns the number of journal entries written.
pub(super) async fn write_contents<W>(
    app: &App,
    p: &Principal,
    mut plan: Plan,
    sink: &ZipSink<W>,
) -> Result<usize> {
    for (doc, rows) in plan.documents.iter_mut().zip(&plan.rows) {
        for (listed, v) in doc.versions.iter_mut().zip(rows) {
            listed.sha256 = copy_verified(app, sink, v, &listed.path).await?;
        }
    }
    let now = plan.now;
    let entries = journal::for_principal(app, p).await?;
    let generated_at = rfc3339(now);
    let manifest = Manifest {
        format: "liasse-export",
        format_version: FORMAT_VERSION,
        tenant: &plan.tenant.slug,
        tenant_name: &plan.tenant.name,
        account_id: &p.account_id,
        login: &p.login,
        generated_at: &generated_at,
        documents: &plan.documents,
        journal: ManifestJournal {
            entries: entries.len(),
            json: "journal.json",
            csv: "journal.csv",
        },
    };
    sink.text("manifest.json", json_bytes(&manifest)?, now)
        .await?;
    sink.text("journal.json", json_bytes(&entries)?, now)
        .await?;
    sink.text("journal.csv", journal_csv(&entries).into_bytes(), now)
        .await?;
    Ok(entries.len())
}

pub(super) fn json_bytes<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|e| AppError::Internal(e.to_string()))?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Decrypts a version into the archive, uncompressed so that the entry is the original byte
/// for byte, and fails unless what was written matches the recorded size and keyed digest.
/// Returns the plain SHA-256 of what was written.
pub(super) async fn copy_verified<W>(
    app: &App,
    sink: &ZipSink<W>,
    v: &VersionRow,
    path: &str,
) -> Result<String> {
    // Deleted since the plan was made: the export fails, and trying again leaves it out.
    let (key, _) = open_version(app, v)?.ok_or_else(|| {
        AppError::Conflict("Un document a été supprimé pendant l'export : réessayez.".into())
    })?;
    let digester = key.digester();
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(zip_time(v.created_at))
        .unix_permissions(0o600)
        .large_file(u64::try_from(v.size).unwrap_or(u64::MAX) >= zip::ZIP64_BYTES_THR);
    sink.send(Op::File {
        name: path.to_string(),
        options,
    })
    .await?;
    let mut body = documents::decrypt_stream(app, v, key).await?;
    let mut hash = Sha256::new();
    let mut size: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        hash.update(&chunk);
        size += chunk.len() as u64;
        sink.send(Op::Data(chunk)).await?;
    }
    let sum = hash.finalize();
    if !digester.matches(&v.digest, &sum) || i64::try_from(size).ok() != Some(v.size) {
        return Err(AppError::Internal(format!(
            "export: document {} version {} does not match its fingerprint \
             (recorded {} bytes; read {size} bytes)",
            v.document_id, v.version, v.size
        )));
    }
    Ok(hex::encode(sum))
}

/// `{subject}/{type}-{short id}` for a document: built from codes and ids only, never from a
/// name the client chose. The short id is the random tail of the UUIDv7 (its head is a
/// timestamp shared by documents created in the same millisecond); on a clash the full id is
/// used instead.
pub(super) fn unique_stem(d: &DocumentRow, used: &mut HashSet<String>) -> String {
    let subject = d
        .subject_member_id
        .as_deref()
        .map(safe_name)
        .unwrap_or_else(|| "moi".into());
    let type_code = match safe_name(&d.type_code) {
        t if t.is_empty() => "document".to_string(),
        t => t,
    };
    let id = safe_name(&d.id);
    let short: String = {
        let tail: Vec<char> = id.chars().rev().take(8).collect();
        tail.into_iter().rev().collect()
    };
    let stem = format!("{subject}/{type_code}-{short}");
    if used.insert(stem.clone()) {
        return stem;
    }
    let stem = format!("{subject}/{type_code}-{id}");
    used.insert(stem.clone());
    stem
}

/// Keeps the characters that are safe in a path component and a download name.
pub(super) fn safe_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' || c == '@' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_start_matches('.')
        .to_string()
}

pub(super) fn extension(media_type: &str) -> &'static str {
    Format::DEFAULT_ALLOWED
        .iter()
        .find(|f| f.media_type() == media_type)
        .map(|f| f.extension())
        .unwrap_or("bin")
}
