//! The citizen's side of a request: start it, save the draft, attach and detach documents.

use super::*;
use crate::deposit::{self, Vault};
use crate::documents::DepositInput;
use crate::upload::Spooled;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub procedure: String,
    #[serde(default = "empty_object")]
    pub answers: serde_json::Value,
    /// Household members the request concerns.
    #[serde(default)]
    pub members: Vec<String>,
}

pub(super) fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

pub async fn create(app: &App, p: &Principal, n: NewRequest) -> Result<RequestView> {
    p.authorize(&Access::CreateRequest)?;
    let proc_ = get_procedure(app, &p.tenant_id, n.procedure.trim()).await?;
    if !proc_.open {
        return Err(AppError::invalid(
            "procedure-closed",
            "cette démarche n'est pas ouverte en ce moment",
        ));
    }
    proc_
        .check_answers(&n.answers)
        .map_err(|m| AppError::invalid("invalid-answers", m))?;
    let mine = members::list(&app.db, &p.tenant_id, &p.account_id).await?;
    for m in &n.members {
        if !mine.iter().any(|x| &x.id == m) {
            return Err(AppError::invalid(
                "unknown-subject",
                "une personne choisie ne fait pas partie de votre foyer",
            ));
        }
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let number = store::next_number(&mut tx, &p.tenant_id, app.clock.today().year()).await?;
    let row = RequestRow {
        id: new_id(),
        tenant_id: p.tenant_id.clone(),
        number,
        procedure_code: proc_.code.clone(),
        domain: proc_.domain.clone(),
        citizen_id: p.account_id.clone(),
        state: "draft".into(),
        answers: n.answers.to_string(),
        members: serde_json::to_string(&n.members).unwrap_or_else(|_| "[]".into()),
        tracking_hash: None,
        lock_holder: None,
        lock_until: None,
        created_at: now,
        updated_at: now,
        submitted_at: None,
        closed_at: None,
        anonymised_at: None,
    };
    store::insert(&mut tx, &row).await?;
    history(&mut tx, p, &row, "created", serde_json::json!({})).await?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        now,
        &entry(
            p,
            "request.create",
            &row,
            serde_json::json!({ "procedure": row.procedure_code }),
        ),
    )
    .await?;
    tx.commit().await?;
    view(app, p, &row, None).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DraftUpdate {
    pub answers: Option<serde_json::Value>,
    pub members: Option<Vec<String>>,
}

/// Saves a draft's answers (the page saves as the citizen types).
pub async fn update_draft(
    app: &App,
    p: &Principal,
    id: &str,
    u: DraftUpdate,
) -> Result<RequestView> {
    let r = load_own(app, p, id).await?;
    if r.state != "draft" {
        return Err(AppError::Conflict("la demande a déjà été envoyée".into()));
    }
    let proc_ = get_procedure(app, &p.tenant_id, &r.procedure_code).await?;
    let mut r = r;
    if let Some(a) = u.answers {
        proc_
            .check_answers(&a)
            .map_err(|m| AppError::invalid("invalid-answers", m))?;
        r.answers = a.to_string();
    }
    if let Some(m) = u.members {
        let mine = members::list(&app.db, &p.tenant_id, &p.account_id).await?;
        if m.iter().any(|id| !mine.iter().any(|x| &x.id == id)) {
            return Err(AppError::invalid(
                "unknown-subject",
                "une personne choisie ne fait pas partie de votre foyer",
            ));
        }
        r.members = serde_json::to_string(&m).unwrap_or_else(|_| "[]".into());
    }
    r.updated_at = app.now();
    let mut tx = app.db.begin_write().await?;
    store::update(&mut tx, &r).await?;
    history(&mut tx, p, &r, "draft.saved", serde_json::json!({})).await?;
    tx.commit().await?;
    view(app, p, &r, None).await
}

/// Attaches one of the citizen's documents to a requirement (attaching is consent for the
/// request's domain while the request is open).
pub async fn attach(
    app: &App,
    p: &Principal,
    id: &str,
    requirement: &str,
    document_id: &str,
) -> Result<RequestView> {
    let (r, req) = changeable(app, p, id, requirement).await?;
    let req = &req;
    if !is_valid_id(document_id) {
        return Err(AppError::invalid(
            "unknown-document",
            "cette pièce n'est pas dans votre porte-documents",
        ));
    }
    let doc = documents::get(&app.db, &p.tenant_id, document_id)
        .await?
        .filter(|d| d.owner_id == p.account_id && d.deleted_at.is_none())
        .ok_or_else(|| {
            AppError::invalid(
                "unknown-document",
                "cette pièce n'est pas dans votre porte-documents",
            )
        })?;
    ensure_fits(app, &doc, req)?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let r = attach_in(&mut tx, p, &r, requirement, &doc, now).await?;
    tx.commit().await?;
    view(app, p, &r, None).await
}

/// Uploads a new document for a requirement: it lands in the vault with the requirement's type
/// and person, and is attached in the same transaction (both or neither).
pub async fn upload(
    app: &App,
    p: &Principal,
    id: &str,
    requirement: &str,
    input: DepositInput,
    spooled: Spooled,
) -> Result<RequestView> {
    let (r, req) = changeable(app, p, id, requirement).await?;
    let req = &req;
    let input = DepositInput {
        type_code: req.type_code.clone(),
        subject: req.subject.clone(),
        ..input
    };
    let d = deposit::prepare(app, p, Vault::Own, input, spooled).await?;
    let written = async {
        ensure_fits(app, &d.doc, req)?;
        let mut tx = app.db.begin_write().await?;
        deposit::write_in(&mut tx, p, &d).await?;
        let r = attach_in(&mut tx, p, &r, requirement, &d.doc, d.now).await?;
        tx.commit().await?;
        Ok::<_, AppError>(r)
    }
    .await;
    match written {
        Ok(r) => view(app, p, &r, None).await,
        Err(e) => {
            deposit::abandon(app, &d).await;
            Err(e)
        }
    }
}

fn ensure_fits(app: &App, doc: &DocumentRow, req: &Expanded) -> Result<()> {
    let day = format_date(app.clock.today());
    if fits(doc, req, &day) {
        Ok(())
    } else {
        Err(AppError::invalid(
            "document-does-not-fit",
            "cette pièce ne correspond pas au justificatif attendu (type, personne concernée ou validité)",
        ))
    }
}

/// Attaches `doc` to the requirement in the caller's transaction, if the request is still as
/// the checks saw it; the request as written.
async fn attach_in(
    tx: &mut liasse_store::WriteTx,
    p: &Principal,
    seen: &RequestRow,
    requirement: &str,
    doc: &DocumentRow,
    now: i64,
) -> Result<RequestRow> {
    let mut r = unchanged_in(tx, seen).await?;
    r.updated_at = now;
    store::attach(
        tx,
        &p.tenant_id,
        &r.id,
        requirement,
        &doc.id,
        doc.current_version,
        now,
    )
    .await?;
    store::update(tx, &r).await?;
    let details = serde_json::json!({ "requirement": requirement, "document": doc.id });
    history(tx, p, &r, "attached", details.clone()).await?;
    journal::append(
        tx,
        &p.tenant_id,
        now,
        &entry(p, "request.attach", &r, details),
    )
    .await?;
    Ok(r)
}

/// The requirement's type and subject, for an upload that fills it.
pub async fn requirement_of(
    app: &App,
    p: &Principal,
    id: &str,
    requirement: &str,
) -> Result<(String, Option<String>)> {
    // Refused before the upload: a file for a request that cannot take it stays out of the vault.
    let (_, req) = changeable(app, p, id, requirement).await?;
    Ok((req.type_code, req.subject))
}

/// The citizen's own request and one of its requirements, if the citizen may change it now.
async fn changeable(
    app: &App,
    p: &Principal,
    id: &str,
    requirement: &str,
) -> Result<(RequestRow, Expanded)> {
    let r = load_own(app, p, id).await?;
    let (_, expanded) = requirements(app, &r).await?;
    let req = expanded
        .into_iter()
        .find(|e| e.id == requirement)
        .ok_or(AppError::NotFound)?;
    citizen_may_change(app, &r, requirement).await?;
    Ok((r, req))
}

/// Detaching never deletes the document from the vault.
pub async fn detach(app: &App, p: &Principal, id: &str, requirement: &str) -> Result<RequestView> {
    let mut r = load_own(app, p, id).await?;
    citizen_may_change(app, &r, requirement).await?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    r = unchanged_in(&mut tx, &r).await?;
    r.updated_at = now;
    if !store::detach(&mut tx, &p.tenant_id, &r.id, requirement).await? {
        return Err(AppError::NotFound);
    }
    store::update(&mut tx, &r).await?;
    history(
        &mut tx,
        p,
        &r,
        "detached",
        serde_json::json!({ "requirement": requirement }),
    )
    .await?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        now,
        &entry(
            p,
            "request.detach",
            &r,
            serde_json::json!({ "requirement": requirement }),
        ),
    )
    .await?;
    tx.commit().await?;
    view(app, p, &r, None).await
}

/// After submission the citizen changes only what an agent asked for, and never while an
/// agent holds the lock: checked before anything is written (or uploaded).
pub(super) async fn citizen_may_change(app: &App, r: &RequestRow, requirement: &str) -> Result<()> {
    let open = matches!(
        r.state.as_str(),
        "draft" | "submitted" | "in_progress" | "complement"
    );
    if !open {
        return Err(AppError::Conflict("la demande est terminée".into()));
    }
    if r.state == "draft" {
        return Ok(());
    }
    if agent_lock(r, app.now()) {
        return Err(AppError::ConflictOf {
            code: "request-locked",
            detail: "un agent instruit votre demande en ce moment : vous ne pouvez pas la modifier. Réessayez plus tard".into(),
        });
    }
    let history = store::history(&app.db, &r.tenant_id, &r.id).await?;
    let asked =
        complement_of(r, &history).is_some_and(|c| c.requirements.iter().any(|x| x == requirement));
    if asked {
        return Ok(());
    }
    Err(AppError::ConflictOf {
        code: "request-sent",
        detail: "la demande est envoyée : vous ne pouvez changer que les pièces que le service vous demande en complément".into(),
    })
}
