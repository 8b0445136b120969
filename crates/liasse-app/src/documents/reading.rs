//! Reading the vault: the listing, its count, one document with its versions, a version's content.

use super::*;

/// The caller's own vault.
pub async fn list(app: &App, p: &Principal, filter: &ListFilter) -> Result<Vec<DocumentView>> {
    // The filter is checked first: a bad date is refused whoever asks.
    let valid_on = match filter.valid_on.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(format_date(
            parse_date(s).map_err(|m| AppError::invalid("invalid-date", m))?,
        )),
        None => None,
    };
    // Only a citizen has a vault: other roles are refused, as the policy says.
    p.authorize(&Access::OwnVault(VaultOp::List))?;
    let docs = documents::list_owned(&app.db, &p.tenant_id, &p.account_id).await?;
    let mut versions: HashMap<String, VersionRow> =
        documents::current_versions_owned(&app.db, &p.tenant_id, &p.account_id)
            .await?
            .into_iter()
            .map(|v| (v.document_id.clone(), v))
            .collect();
    let types = doc_types(app, &p.tenant_id).await?;
    let mut out = Vec::with_capacity(docs.len());
    for d in docs {
        if filter
            .type_code
            .as_deref()
            .is_some_and(|t| !t.is_empty() && t != d.type_code)
        {
            continue;
        }
        if let Some(s) = filter.subject.as_deref().filter(|s| !s.is_empty()) {
            let matches = if s == "self" {
                d.subject_member_id.is_none()
            } else {
                d.subject_member_id.as_deref() == Some(s)
            };
            if !matches {
                continue;
            }
        }
        if let Some(day) = &valid_on {
            let valid =
                d.valid_until.as_deref().is_none_or(|u| u >= day.as_str()) && d.state != "rejected";
            if !valid {
                continue;
            }
        }
        let Some(v) = versions.remove(&d.id) else {
            continue;
        };
        let meta = open_version(app, &v)?.map(|(_, m)| m).unwrap_or_default();
        let item = view(app, &d, &v, types.get(&d.type_code), meta);
        if filter
            .state
            .as_deref()
            .is_some_and(|s| !s.is_empty() && s != item.state && s != item.review_state)
        {
            continue;
        }
        out.push(item);
    }
    Ok(out)
}

/// How many documents of the caller's own vault the listing would show, counted by the
/// database (no metadata is opened).
pub async fn count(app: &App, p: &Principal, filter: &ListFilter) -> Result<i64> {
    let valid_on = match filter.valid_on.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(format_date(
            parse_date(s).map_err(|m| AppError::invalid("invalid-date", m))?,
        )),
        None => None,
    };
    p.authorize(&Access::OwnVault(VaultOp::List))?;
    let some = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
    let (type_code, subject, state) = (
        some(&filter.type_code),
        some(&filter.subject),
        some(&filter.state),
    );
    let today = format_date(date_of(app.now()));
    let f = documents::VaultFilter {
        type_code: type_code.as_deref(),
        subject: subject.as_deref().map(|s| (s != "self").then_some(s)),
        valid_on: valid_on.as_deref(),
        state: state.as_deref(),
        today: &today,
    };
    Ok(documents::count_owned(&app.db, &p.tenant_id, &p.account_id, &f).await?)
}

/// One document with its versions.
pub async fn get(app: &App, p: &Principal, id: &str) -> Result<DocumentView> {
    let (doc, _) = authorize(app, p, id, Action::ReadMetadata).await?;
    let versions = documents::versions(&app.db, &p.tenant_id, &doc.id).await?;
    let current = versions
        .iter()
        .find(|v| v.version == doc.current_version)
        .ok_or(AppError::NotFound)?;
    let meta = open_version(app, current)?
        .map(|(_, m)| m)
        .unwrap_or_default();
    let t = catalogue::get_any(app, &p.tenant_id, &doc.type_code)
        .await?
        .map(|(t, _)| t);
    let mut v = view(app, &doc, current, t.as_ref(), meta);
    let mut list = Vec::new();
    for ver in &versions {
        let name = open_version(app, ver)?
            .map(|(_, m)| m.file_name)
            .unwrap_or_default();
        list.push(VersionView {
            version: ver.version,
            size: ver.size,
            media_type: ver.media_type.clone(),
            digest: ver.digest.clone(),
            file_name: name,
            created_at: rfc3339(ver.created_at),
            destroyed: ver.destroyed_at.is_some(),
        });
    }
    v.versions = Some(list);
    Ok(v)
}

/// Downloads a version (the current one by default) and journals the read.
pub async fn content(app: &App, p: &Principal, id: &str, version: Option<i64>) -> Result<Content> {
    let (doc, basis) = authorize(app, p, id, Action::ReadContent).await?;
    let number = version.unwrap_or(doc.current_version);
    let v = documents::version(&app.db, &p.tenant_id, &doc.id, number)
        .await?
        .ok_or(AppError::NotFound)?;
    let (key, meta) = open_version(app, &v)?.ok_or(AppError::NotFound)?;
    let body = decrypt_stream(app, &v, key).await?;
    // The read is journalled, durably, before any content goes out (possibly in one commit
    // with other reads and deposits: group commit).
    app.db
        .commit_grouped(GroupedWrite::entry(
            &p.tenant_id,
            app.now(),
            entry(
                p,
                "document.read",
                &doc,
                &basis,
                serde_json::json!({ "version": number }),
            ),
        ))
        .await?;
    Ok(Content {
        media_type: v.media_type.clone(),
        file_name: meta.file_name,
        size: v.size,
        body,
    })
}

/// The type of each document of the caller's own vault, from the rows alone: no key is
/// unwrapped, no metadata opened (the journal page names documents by their type).
pub async fn type_codes(app: &App, p: &Principal) -> Result<HashMap<String, String>> {
    if !p.allows(&Access::OwnVault(VaultOp::List)) {
        return Ok(HashMap::new());
    }
    let docs = documents::list_owned(&app.db, &p.tenant_id, &p.account_id).await?;
    Ok(docs.into_iter().map(|d| (d.id, d.type_code)).collect())
}
