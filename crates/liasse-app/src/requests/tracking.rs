//! After the request: the tracking code's page, and the retention of closed requests.

use super::*;

#[derive(Debug, Serialize)]
pub struct Tracking {
    pub number: String,
    pub procedure_title: String,
    pub state: String,
    pub submitted_at: Option<String>,
    pub updated_at: String,
}

/// What a delegate sees with a tracking code: no personal data.
pub async fn track(app: &App, code: &str) -> Result<Tracking> {
    if code.len() > 64 {
        return Err(AppError::NotFound);
    }
    let r = store::by_tracking(&app.db, &secret_hash(code.trim()))
        .await?
        .ok_or(AppError::NotFound)?;
    let title = get_procedure(app, &r.tenant_id, &r.procedure_code)
        .await
        .map(|p| p.title)
        .unwrap_or_default();
    Ok(Tracking {
        number: r.number,
        procedure_title: title,
        state: r.state,
        submitted_at: r.submitted_at.map(rfc3339),
        updated_at: rfc3339(r.updated_at),
    })
}

/// How long a closed request keeps its content before anonymisation (tenant setting
/// `request_retention`, default three months).
pub async fn retention(app: &App, tenant_id: &str) -> Result<liasse_domain::doctype::IsoDuration> {
    let tenant = liasse_store::tenants::by_id(&app.db, tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let text = tenant
        .settings
        .get("request_retention")
        .and_then(|v| v.as_str())
        .unwrap_or("P3M")
        .to_string();
    Ok(liasse_domain::doctype::IsoDuration::parse(&text).unwrap_or(
        liasse_domain::doctype::IsoDuration {
            months: 3,
            ..Default::default()
        },
    ))
}

/// Anonymises one closed request inside the caller's transaction, with its journal entry
/// (the `anonymise` job).
pub async fn anonymise_in(tx: &mut liasse_store::WriteTx, r: &RequestRow, now: i64) -> Result<()> {
    store::anonymise(tx, &r.tenant_id, &r.id, now).await?;
    journal::append(
        tx,
        &r.tenant_id,
        now,
        &NewEntry::new(
            liasse_domain::journal::Actor::system(),
            "request.anonymise",
            "request",
            &r.id,
        )
        .citizen(Some(r.citizen_id.clone()))
        .basis("retention", "")
        .details(serde_json::json!({ "number": r.number })),
    )
    .await?;
    Ok(())
}
