//! Procedures and requests: the vault feeds the démarches. A citizen starts a request, gets
//! the personalised list of required documents with the fitting ones from their vault, attaches
//! or uploads, submits; agents of the procedure's domain take, lock, annotate and decide.

use std::collections::HashMap;

use liasse_domain::clock::{DAY_MS, rfc3339};
use liasse_domain::doctype::format_date;
use liasse_domain::ids::{is_valid_id, new_id};
use liasse_domain::journal::NewEntry;
use liasse_domain::policy::{Right, Role};
use liasse_domain::procedure::{Expanded, Gap, Procedure};
use liasse_store::documents::{self, DocumentRow};
use liasse_store::requests::{self as store, AttachmentRow, HistoryRow, NoteRow, RequestRow};
use liasse_store::{journal, members};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::auth::{Principal, new_secret, secret_hash};
use crate::catalogue;
use crate::error::{AppError, Result};

/// A lock taken by an agent lasts this long unless renewed (tenant setting `lock_minutes`).
const DEFAULT_LOCK_MINUTES: i64 = 30;

async fn lock_ms(app: &App, tenant_id: &str) -> Result<i64> {
    let tenant = liasse_store::tenants::by_id(&app.db, tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let minutes = tenant
        .settings
        .get("lock_minutes")
        .and_then(|v| v.as_i64())
        .filter(|m| (1..=24 * 60).contains(m))
        .unwrap_or(DEFAULT_LOCK_MINUTES);
    Ok(minutes * 60 * 1000)
}

fn parse_procedure(definition: &str) -> Result<Procedure> {
    serde_json::from_str(definition)
        .map_err(|e| AppError::Internal(format!("stored procedure: {e}")))
}

pub async fn list_procedures(app: &App, p: &Principal) -> Result<Vec<Procedure>> {
    store::procedures(&app.db, &p.tenant_id)
        .await?
        .iter()
        .map(|d| parse_procedure(d))
        .collect()
}

pub async fn get_procedure(app: &App, tenant_id: &str, code: &str) -> Result<Procedure> {
    let def = store::procedure(&app.db, tenant_id, code)
        .await?
        .ok_or_else(|| {
            AppError::invalid(
                "unknown-procedure",
                format!(
                    "la démarche « {} » n'existe pas",
                    code.chars().take(64).collect::<String>()
                ),
            )
        })?;
    parse_procedure(&def)
}

/// Creates or replaces a procedure: tenant admins, or managers with the manage right on its domain.
pub async fn put_procedure(app: &App, p: &Principal, proc_: Procedure) -> Result<bool> {
    let allowed = p.role == Role::Admin
        || (p.role == Role::Manager && p.facts().right_on(&proc_.domain) >= Right::Manage);
    if !allowed {
        return Err(AppError::Forbidden);
    }
    save_procedure(app, &p.tenant_id, p.actor(), proc_).await
}

/// Validates and stores a procedure (admins, managers, and the demo loader).
pub async fn save_procedure(
    app: &App,
    tenant_id: &str,
    actor: liasse_domain::journal::Actor,
    proc_: Procedure,
) -> Result<bool> {
    proc_
        .validate()
        .map_err(|m| AppError::invalid("invalid-procedure", m))?;
    for r in &proc_.requirements {
        catalogue::get_active(app, tenant_id, &r.type_code).await?;
    }
    let def = serde_json::to_string(&proc_).map_err(|e| AppError::Internal(e.to_string()))?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let existed = store::upsert_procedure(&mut tx, tenant_id, &proc_.code, &def, now).await?;
    journal::append(
        &mut tx,
        tenant_id,
        now,
        &NewEntry {
            actor,
            action: if existed {
                "procedure.update".into()
            } else {
                "procedure.create".into()
            },
            object_kind: "procedure".into(),
            object_id: proc_.code.clone(),
            citizen_id: None,
            basis_kind: "admin".into(),
            basis_id: String::new(),
            details: serde_json::json!({ "domain": proc_.domain }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(existed)
}

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

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

#[derive(Debug, Serialize)]
pub struct Candidate {
    pub id: String,
    pub state: String,
    pub valid_until: Option<String>,
    pub title: Option<String>,
    pub file_name: String,
}

#[derive(Debug, Serialize)]
pub struct RequirementView {
    pub id: String,
    pub key: String,
    #[serde(rename = "type")]
    pub type_code: String,
    pub label: String,
    pub mandatory: bool,
    pub subject: Option<String>,
    pub subject_name: Option<String>,
    /// `attached`, `missing`, or `expired` (attached but no longer valid at the reference date).
    pub status: String,
    pub attached: Option<AttachmentRow>,
    /// The citizen's fitting documents, best first (shown to the citizen only).
    pub candidates: Vec<Candidate>,
    /// Whether the citizen may attach or remove a document here now: in a draft, or when an
    /// agent asked for it in a complement request and no agent holds the lock.
    pub editable: bool,
}

/// What an agent asked the citizen to complete.
#[derive(Debug, Clone, Serialize)]
pub struct ComplementView {
    pub reason: String,
    /// Requirement ids.
    pub requirements: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct RequestView {
    pub id: String,
    pub number: String,
    pub procedure: String,
    pub procedure_title: String,
    pub domain: String,
    pub citizen_id: String,
    pub state: String,
    pub answers: serde_json::Value,
    pub members: Vec<String>,
    pub requirements: Vec<RequirementView>,
    /// Mandatory requirements not met yet.
    pub missing: Vec<String>,
    /// Everything that keeps the request from being sent: unanswered or ill-typed answers,
    /// no household member chosen when one is needed, missing documents.
    pub incomplete: Vec<Gap>,
    /// The open complement request, while the request waits for the citizen.
    pub complement: Option<ComplementView>,
    /// An agent holds the lock: the citizen can change nothing now.
    pub locked: bool,
    pub notes: Vec<NoteRow>,
    pub history: Vec<HistoryRow>,
    pub lock_holder: Option<String>,
    pub created_at: String,
    pub submitted_at: Option<String>,
    pub late: bool,
    /// Returned once, at submission: lets a delegate follow the request without an account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_code: Option<String>,
}

fn household_of(members: &[liasse_store::members::MemberRow]) -> serde_json::Value {
    let children = members
        .iter()
        .filter(|m| {
            ["enfant", "child", "fils", "fille"].contains(&m.relation.to_lowercase().as_str())
        })
        .count();
    serde_json::json!({ "members": members.len(), "children": children, "adults": members.len() - children + 1 })
}

/// Who may see a request: its citizen, or agents of its domain once submitted.
fn can_see(p: &Principal, r: &RequestRow) -> bool {
    match p.role {
        Role::Citizen => p.account_id == r.citizen_id,
        Role::Agent | Role::Manager => {
            r.state != "draft" && p.facts().right_on(&r.domain) >= Right::Consult
        }
        _ => false,
    }
}

async fn load(app: &App, p: &Principal, id: &str) -> Result<RequestRow> {
    if !is_valid_id(id) {
        return Err(AppError::NotFound);
    }
    let r = store::get(&app.db, &p.tenant_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if can_see(p, &r) {
        Ok(r)
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn create(app: &App, p: &Principal, n: NewRequest) -> Result<RequestView> {
    if p.role != Role::Citizen {
        return Err(AppError::Forbidden);
    }
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

fn entry(p: &Principal, action: &str, r: &RequestRow, details: serde_json::Value) -> NewEntry {
    NewEntry {
        actor: p.actor(),
        action: action.into(),
        object_kind: "request".into(),
        object_id: r.id.clone(),
        citizen_id: Some(r.citizen_id.clone()),
        basis_kind: if p.account_id == r.citizen_id {
            "owner".into()
        } else {
            "domain".into()
        },
        basis_id: if p.account_id == r.citizen_id {
            String::new()
        } else {
            r.domain.clone()
        },
        details,
    }
}

async fn history(
    tx: &mut liasse_store::WriteTx,
    p: &Principal,
    r: &RequestRow,
    event: &str,
    details: serde_json::Value,
) -> Result<()> {
    store::add_history(
        tx,
        &new_id(),
        &r.tenant_id,
        &r.id,
        r.updated_at,
        &p.account_id,
        &p.display_name,
        event,
        &details,
    )
    .await?;
    Ok(())
}

fn members_of(r: &RequestRow) -> Vec<String> {
    serde_json::from_str(&r.members).unwrap_or_default()
}

fn answers_of(r: &RequestRow) -> serde_json::Value {
    serde_json::from_str(&r.answers).unwrap_or_else(|_| empty_object())
}

/// The requirements of a request, expanded for its answers and members.
async fn requirements(app: &App, r: &RequestRow) -> Result<(Procedure, Vec<Expanded>)> {
    let proc_ = get_procedure(app, &r.tenant_id, &r.procedure_code).await?;
    let household = household_of(&members::list(&app.db, &r.tenant_id, &r.citizen_id).await?);
    let expanded = proc_.expand(&answers_of(r), &household, &members_of(r));
    Ok((proc_, expanded))
}

/// Whether a document fits a requirement at a date.
fn fits(d: &DocumentRow, req: &Expanded, day: &str) -> bool {
    d.type_code == req.type_code
        && d.subject_member_id == req.subject
        && d.deleted_at.is_none()
        && d.state != "rejected"
        && d.valid_until.as_deref().is_none_or(|u| u >= day)
}

fn rank(d: &DocumentRow) -> (u8, String, i64) {
    let trust = match d.state.as_str() {
        "certified" => 0,
        "validated" => 1,
        _ => 2,
    };
    // Longest validity first (no end date is best), then newest.
    let until = d.valid_until.clone().unwrap_or_else(|| "9999-12-31".into());
    (trust, until, d.created_at)
}

async fn view(
    app: &App,
    p: &Principal,
    r: &RequestRow,
    tracking_code: Option<String>,
) -> Result<RequestView> {
    let (proc_, expanded) = requirements(app, r).await?;
    let attachments = store::attachments(&app.db, &r.tenant_id, &r.id).await?;
    let docs = documents::list_owned(&app.db, &r.tenant_id, &r.citizen_id).await?;
    let by_id: HashMap<&str, &DocumentRow> = docs.iter().map(|d| (d.id.as_str(), d)).collect();
    let used_elsewhere =
        store::documents_attached_elsewhere(&app.db, &r.tenant_id, &r.citizen_id, &r.id).await?;
    let types = crate::documents::doc_types(app, &r.tenant_id).await?;
    let member_rows = members::list(&app.db, &r.tenant_id, &r.citizen_id).await?;
    let reference_day = format_date(liasse_domain::clock::date_of(
        r.submitted_at.unwrap_or(app.now()),
    ));
    let is_owner = p.account_id == r.citizen_id;
    let history_rows = store::history(&app.db, &r.tenant_id, &r.id).await?;
    let locked = agent_lock(r, app.now());
    let complement = complement_of(r, &history_rows);
    let mut reqs = Vec::new();
    let mut missing = Vec::new();
    let mut gaps = proc_.gaps(
        &answers_of(r),
        &household_of(&member_rows),
        &members_of(r),
        question_label,
    );
    for e in &expanded {
        let attached = attachments.iter().find(|a| a.requirement == e.id).cloned();
        let status = match attached
            .as_ref()
            .and_then(|a| by_id.get(a.document_id.as_str()))
        {
            Some(d) if fits(d, e, &reference_day) => "attached",
            Some(_) => "expired",
            None => "missing",
        };
        if e.mandatory && status != "attached" {
            missing.push(e.id.clone());
        }
        let editable = !locked
            && match r.state.as_str() {
                "draft" => true,
                "complement" => complement
                    .as_ref()
                    .is_some_and(|c| c.requirements.contains(&e.id)),
                _ => false,
            };
        let mut candidates: Vec<&DocumentRow> =
            if is_owner && !matches!(r.state.as_str(), "closed" | "completed" | "rejected") {
                docs.iter()
                    .filter(|d| fits(d, e, &reference_day))
                    .filter(|d| {
                        types.get(&d.type_code).is_none_or(|t| t.reusable)
                            || !used_elsewhere.contains(&d.id)
                    })
                    .collect()
            } else {
                Vec::new()
            };
        candidates.sort_by(|a, b| {
            let (ta, ua, ca) = rank(a);
            let (tb, ub, cb) = rank(b);
            ta.cmp(&tb).then(ub.cmp(&ua)).then(cb.cmp(&ca))
        });
        let mut cands = Vec::new();
        for d in candidates {
            let current =
                documents::version(&app.db, &d.tenant_id, &d.id, d.current_version).await?;
            let meta = match &current {
                Some(v) => crate::documents::open_version(app, v)?
                    .map(|(_, m)| m)
                    .unwrap_or_default(),
                None => Default::default(),
            };
            cands.push(Candidate {
                id: d.id.clone(),
                state: d.state.clone(),
                valid_until: d.valid_until.clone(),
                title: meta.title,
                file_name: meta.file_name,
            });
        }
        reqs.push(RequirementView {
            id: e.id.clone(),
            key: e.key.clone(),
            type_code: e.type_code.clone(),
            label: e.label.clone().unwrap_or_else(|| {
                types
                    .get(&e.type_code)
                    .map(|t| t.label.clone())
                    .unwrap_or_else(|| e.type_code.clone())
            }),
            mandatory: e.mandatory,
            subject: e.subject.clone(),
            subject_name: e.subject.as_ref().and_then(|s| {
                member_rows
                    .iter()
                    .find(|m| &m.id == s)
                    .map(|m| m.name.clone())
            }),
            status: status.into(),
            attached,
            candidates: cands,
            editable,
        });
    }
    // Sent once, the answers and members are fixed: a complement is about documents only, so
    // a procedure changed since cannot leave the citizen stuck on a question they cannot edit.
    if r.state != "draft" {
        gaps.clear();
    }
    for req in reqs.iter().filter(|x| missing.contains(&x.id)) {
        gaps.push(Gap {
            field: format!("requirements.{}", req.id),
            detail: format!(
                "joignez la pièce « {} » ({})",
                req.label,
                req.subject_name
                    .as_deref()
                    .map(|n| format!("pour {n}"))
                    .unwrap_or_else(|| "pour vous".into())
            ),
        });
    }
    let notes = store::notes(&app.db, &r.tenant_id, &r.id)
        .await?
        .into_iter()
        .filter(|n| !is_owner || n.visible)
        .collect();
    let late = r.submitted_at.is_some_and(|s| {
        !matches!(r.state.as_str(), "completed" | "rejected" | "closed")
            && app.now() > s + i64::from(proc_.processing_days) * DAY_MS
    });
    Ok(RequestView {
        id: r.id.clone(),
        number: r.number.clone(),
        procedure: proc_.code.clone(),
        procedure_title: proc_.title.clone(),
        domain: r.domain.clone(),
        citizen_id: r.citizen_id.clone(),
        state: r.state.clone(),
        answers: answers_of(r),
        members: members_of(r),
        requirements: reqs,
        missing,
        incomplete: gaps,
        complement: complement.filter(|_| r.state == "complement"),
        locked,
        notes,
        history: history_rows,
        lock_holder: r
            .lock_holder
            .clone()
            .filter(|_| r.lock_until.is_some_and(|u| u > app.now())),
        created_at: rfc3339(r.created_at),
        submitted_at: r.submitted_at.map(rfc3339),
        late,
        tracking_code,
    })
}

pub async fn get(app: &App, p: &Principal, id: &str) -> Result<RequestView> {
    let r = load(app, p, id).await?;
    view(app, p, &r, None).await
}

pub async fn list(app: &App, p: &Principal) -> Result<Vec<RequestRow>> {
    match p.role {
        Role::Citizen => Ok(store::for_citizen(&app.db, &p.tenant_id, &p.account_id).await?),
        Role::Agent | Role::Manager => {
            let domains: Vec<String> = p
                .rights
                .iter()
                .filter(|(_, r)| *r >= Right::Consult)
                .map(|(d, _)| d.clone())
                .collect();
            Ok(store::for_domains(&app.db, &p.tenant_id, &domains).await?)
        }
        _ => Err(AppError::Forbidden),
    }
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
    let r = load(app, p, id).await?;
    if p.account_id != r.citizen_id {
        return Err(AppError::NotFound);
    }
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
    let r = load(app, p, id).await?;
    if p.account_id != r.citizen_id {
        return Err(AppError::NotFound);
    }
    let (_, expanded) = requirements(app, &r).await?;
    let req = expanded
        .iter()
        .find(|e| e.id == requirement)
        .ok_or(AppError::NotFound)?;
    citizen_may_change(app, &r, requirement).await?;
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
    let day = format_date(app.clock.today());
    if !fits(&doc, req, &day) {
        return Err(AppError::invalid(
            "document-does-not-fit",
            "cette pièce ne correspond pas au justificatif attendu (type, personne concernée ou validité)",
        ));
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let mut r = unchanged_in(&mut tx, &r).await?;
    r.updated_at = now;
    store::attach(
        &mut tx,
        &p.tenant_id,
        &r.id,
        requirement,
        &doc.id,
        doc.current_version,
        now,
    )
    .await?;
    store::update(&mut tx, &r).await?;
    history(
        &mut tx,
        p,
        &r,
        "attached",
        serde_json::json!({ "requirement": requirement, "document": doc.id }),
    )
    .await?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        now,
        &entry(
            p,
            "request.attach",
            &r,
            serde_json::json!({ "requirement": requirement, "document": doc.id }),
        ),
    )
    .await?;
    tx.commit().await?;
    view(app, p, &r, None).await
}

/// The requirement's type and subject, for an upload that fills it.
pub async fn requirement_of(
    app: &App,
    p: &Principal,
    id: &str,
    requirement: &str,
) -> Result<(String, Option<String>)> {
    let r = load(app, p, id).await?;
    if p.account_id != r.citizen_id {
        return Err(AppError::NotFound);
    }
    let (_, expanded) = requirements(app, &r).await?;
    let req = expanded
        .into_iter()
        .find(|e| e.id == requirement)
        .ok_or(AppError::NotFound)?;
    // Refused before the upload: a file for a request that cannot take it stays out of the vault.
    citizen_may_change(app, &r, requirement).await?;
    Ok((req.type_code, req.subject))
}

/// Detaching never deletes the document from the vault.
pub async fn detach(app: &App, p: &Principal, id: &str, requirement: &str) -> Result<RequestView> {
    let mut r = load(app, p, id).await?;
    if p.account_id != r.citizen_id {
        return Err(AppError::NotFound);
    }
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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub to: String,
    #[serde(default)]
    pub reason: Option<String>,
    /// For `complement`: the requirement ids the citizen is asked to complete.
    #[serde(default)]
    pub requirements: Vec<String>,
}

fn lock_held_by_other(r: &RequestRow, p: &Principal, now: i64) -> bool {
    r.lock_holder.as_deref().is_some_and(|h| h != p.account_id)
        && r.lock_until.is_some_and(|u| u > now)
}

/// Whether an agent holds an unexpired lock (only agents take locks).
fn agent_lock(r: &RequestRow, now: i64) -> bool {
    r.lock_holder.as_deref().is_some_and(|h| h != r.citizen_id)
        && r.lock_until.is_some_and(|u| u > now)
}

/// The last complement request of the history (what the citizen was asked for).
fn complement_of(r: &RequestRow, history: &[HistoryRow]) -> Option<ComplementView> {
    if !matches!(r.state.as_str(), "complement") {
        return None;
    }
    let h = history
        .iter()
        .rev()
        .find(|h| h.event == "state.complement")?;
    Some(ComplementView {
        reason: h
            .details
            .get("reason")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string(),
        requirements: h
            .details
            .get("requirements")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default(),
    })
}

/// After submission the citizen changes only what an agent asked for, and never while an
/// agent holds the lock: checked before anything is written (or uploaded).
async fn citizen_may_change(app: &App, r: &RequestRow, requirement: &str) -> Result<()> {
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

/// The request as the transaction sees it, if its state and lock are still those the checks
/// saw (an agent may have taken the lock meanwhile); the write then starts from this row.
async fn unchanged_in(tx: &mut liasse_store::WriteTx, seen: &RequestRow) -> Result<RequestRow> {
    store::get_in(tx, &seen.tenant_id, &seen.id)
        .await?
        .filter(|x| {
            x.state == seen.state
                && x.lock_holder == seen.lock_holder
                && x.lock_until == seen.lock_until
        })
        .ok_or_else(|| AppError::Conflict("la demande a changé entre-temps : réessayez".into()))
}

/// French wording of the demo procedures' questions; other names are shown as they are.
pub fn question_label(name: &str) -> String {
    match name {
        "separated_parents" => "Les parents de l'enfant sont-ils séparés ?".into(),
        "canteen" => "Souhaitez-vous inscrire l'enfant à la cantine ?".into(),
        "school_year" => "Année scolaire (par exemple 2026-2027)".into(),
        "vehicle_owner" => "Êtes-vous propriétaire du véhicule ?".into(),
        "plate" => "Numéro d'immatriculation du véhicule".into(),
        "act" => "Acte demandé (naissance, mariage, décès)".into(),
        "for_self" => "L'acte vous concerne-t-il personnellement ?".into(),
        other => {
            let text = other.replace(['_', '-'], " ");
            crate::text::capitalise(&text)
                .trim_end_matches('.')
                .to_string()
        }
    }
}

pub async fn transition(app: &App, p: &Principal, id: &str, t: Transition) -> Result<RequestView> {
    let r = load(app, p, id).await?;
    let now = app.now();
    let is_owner = p.account_id == r.citizen_id;
    let staff_modify = p.role.is_staff() && p.facts().right_on(&r.domain) >= Right::Modify;
    let allowed = match (r.state.as_str(), t.to.as_str()) {
        ("draft", "submitted") | ("complement", "submitted") => is_owner,
        ("submitted", "in_progress")
        | ("submitted", "rejected")
        | ("submitted", "complement")
        | ("in_progress", "completed")
        | ("in_progress", "complement")
        | ("in_progress", "rejected") => staff_modify,
        ("completed", "closed") | ("rejected", "closed") => staff_modify,
        _ => false,
    };
    if !allowed {
        return Err(if is_owner || staff_modify {
            AppError::Conflict(format!(
                "passage de « {} » à « {} » impossible",
                r.state,
                t.to.chars().take(20).collect::<String>()
            ))
        } else {
            AppError::Forbidden
        });
    }
    let reason = t
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(1000).collect::<String>());
    // The citizen is told why: a refusal or a complement request without a reason says nothing.
    if matches!(t.to.as_str(), "rejected" | "complement") && reason.is_none() {
        return Err(AppError::invalid(
            "reason-required",
            if t.to == "rejected" {
                "un refus doit être motivé : le motif est montré à l'usager"
            } else {
                "indiquez ce que l'usager doit compléter : le motif lui est montré"
            },
        ));
    }
    let (_, expanded) = requirements(app, &r).await?;
    let mut asked: Vec<String> = Vec::new();
    if t.to == "complement" {
        for id in &t.requirements {
            if !expanded.iter().any(|e| &e.id == id) {
                return Err(AppError::invalid(
                    "unknown-requirement",
                    format!(
                        "la pièce « {} » n'est pas demandée par cette démarche",
                        id.chars().take(80).collect::<String>()
                    ),
                ));
            }
            if !asked.contains(id) {
                asked.push(id.clone());
            }
        }
        if asked.is_empty() {
            return Err(AppError::invalid(
                "requirements-required",
                "choisissez au moins une pièce que l'usager doit compléter",
            ));
        }
    }
    if t.to == "submitted" {
        let mut probe = r.clone();
        probe.submitted_at = Some(r.submitted_at.unwrap_or(now));
        let v = view(app, p, &probe, None).await?;
        if !v.incomplete.is_empty() {
            let detail = format!(
                "la demande n'est pas complète : {}",
                v.incomplete
                    .iter()
                    .map(|g| g.detail.as_str())
                    .collect::<Vec<_>>()
                    .join(" ; ")
            );
            return Err(AppError::Incomplete {
                code: "request-incomplete",
                detail,
                errors: v.incomplete,
            });
        }
    }
    let mut tracking_code = None;
    let mut tx = app.db.begin_write().await?;
    let mut r = store::get_in(&mut tx, &p.tenant_id, &r.id)
        .await?
        .filter(|x| x.state == r.state)
        .ok_or_else(|| AppError::Conflict("la demande a changé entre-temps".into()))?;
    if staff_modify && lock_held_by_other(&r, p, now) {
        return Err(AppError::Conflict(
            "la demande est verrouillée par un autre agent".into(),
        ));
    }
    if is_owner && agent_lock(&r, now) {
        return Err(AppError::ConflictOf {
            code: "request-locked",
            detail: "un agent instruit votre demande en ce moment : vous ne pouvez pas la modifier. Réessayez plus tard".into(),
        });
    }
    let first_submission = t.to == "submitted" && r.state == "draft";
    if first_submission {
        let code = new_secret("suivi")
            .chars()
            .skip(6)
            .take(12)
            .collect::<String>();
        r.tracking_hash = Some(secret_hash(&code));
        tracking_code = Some(code);
        r.submitted_at = Some(now);
    }
    if t.to == "in_progress" {
        r.lock_holder = Some(p.account_id.clone());
        r.lock_until = Some(now + lock_ms(app, &p.tenant_id).await?);
    }
    // The request goes back to the citizen: no agent lock stands in the way of the complement.
    if t.to == "closed" || t.to == "complement" {
        if t.to == "closed" {
            r.closed_at = Some(now);
        }
        r.lock_holder = None;
        r.lock_until = None;
    }
    let previous = r.state.clone();
    r.state = t.to.clone();
    r.updated_at = now;
    store::update(&mut tx, &r).await?;
    let mut details = serde_json::json!({ "reason": reason });
    if t.to == "complement" {
        details["requirements"] = serde_json::json!(asked);
    }
    history(&mut tx, p, &r, &format!("state.{}", r.state), details).await?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        now,
        &entry(
            p,
            "request.transition",
            &r,
            serde_json::json!({ "to": r.state }),
        ),
    )
    .await?;
    let proc_title = get_procedure(app, &r.tenant_id, &r.procedure_code)
        .await
        .map(|x| x.title)
        .unwrap_or_else(|_| r.procedure_code.clone());
    let asked_labels: Vec<String> = {
        let types = crate::documents::doc_types(app, &r.tenant_id).await?;
        expanded
            .iter()
            .filter(|e| asked.contains(&e.id))
            .map(|e| {
                e.label.clone().unwrap_or_else(|| {
                    types
                        .get(&e.type_code)
                        .map(|t| t.label.clone())
                        .unwrap_or_else(|| e.type_code.clone())
                })
            })
            .collect()
    };
    crate::mail::notify_request_state(
        &mut tx,
        app,
        &crate::mail::RequestChange {
            request: &r,
            procedure_title: &proc_title,
            previous: &previous,
            reason: reason.as_deref(),
            asked: &asked_labels,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    view(app, p, &r, tracking_code).await
}

/// Takes (or renews) the lock; a manager with the manage right may break another's lock.
pub async fn lock(app: &App, p: &Principal, id: &str, force: bool) -> Result<RequestView> {
    let r = load(app, p, id).await?;
    let right = p.facts().right_on(&r.domain);
    if !p.role.is_staff() || right < Right::Modify {
        return Err(AppError::Forbidden);
    }
    let now = app.now();
    let mut r = r;
    if lock_held_by_other(&r, p, now) {
        let may_break = force && p.role == Role::Manager && right >= Right::Manage;
        if !may_break {
            return Err(AppError::Conflict(
                "la demande est verrouillée par un autre agent".into(),
            ));
        }
    }
    r.lock_holder = Some(p.account_id.clone());
    r.lock_until = Some(now + lock_ms(app, &p.tenant_id).await?);
    r.updated_at = now;
    let mut tx = app.db.begin_write().await?;
    store::update(&mut tx, &r).await?;
    history(
        &mut tx,
        p,
        &r,
        if force { "lock.broken" } else { "lock.taken" },
        serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    view(app, p, &r, None).await
}

pub async fn unlock(app: &App, p: &Principal, id: &str) -> Result<RequestView> {
    let mut r = load(app, p, id).await?;
    if r.lock_holder.as_deref() != Some(p.account_id.as_str()) {
        return Err(AppError::Conflict("vous ne détenez pas le verrou".into()));
    }
    r.lock_holder = None;
    r.lock_until = None;
    r.updated_at = app.now();
    let mut tx = app.db.begin_write().await?;
    store::update(&mut tx, &r).await?;
    history(&mut tx, p, &r, "lock.released", serde_json::json!({})).await?;
    tx.commit().await?;
    view(app, p, &r, None).await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    pub body: String,
    /// Visible to the citizen, or internal to agents.
    #[serde(default)]
    pub visible: bool,
}

pub async fn add_note(app: &App, p: &Principal, id: &str, n: NewNote) -> Result<RequestView> {
    let r = load(app, p, id).await?;
    let now = app.now();
    if !(p.role.is_staff() && p.facts().right_on(&r.domain) >= Right::Modify) {
        return Err(AppError::Forbidden);
    }
    if lock_held_by_other(&r, p, now) {
        return Err(AppError::Conflict(
            "la demande est verrouillée par un autre agent".into(),
        ));
    }
    let body = n.body.trim();
    if body.is_empty() || body.chars().count() > 5000 {
        return Err(AppError::invalid(
            "invalid-note",
            "la note est vide ou trop longue",
        ));
    }
    let mut tx = app.db.begin_write().await?;
    store::add_note(
        &mut tx,
        &store::NewNoteRow {
            id: &new_id(),
            tenant_id: &p.tenant_id,
            request_id: &r.id,
            author_id: &p.account_id,
            author_label: &p.display_name,
            visible: n.visible,
            body,
            at: now,
        },
    )
    .await?;
    history(
        &mut tx,
        p,
        &r,
        "note",
        serde_json::json!({ "visible": n.visible }),
    )
    .await?;
    tx.commit().await?;
    view(app, p, &r, None).await
}

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
        &NewEntry {
            actor: liasse_domain::journal::Actor::system(),
            action: "request.anonymise".into(),
            object_kind: "request".into(),
            object_id: r.id.clone(),
            citizen_id: Some(r.citizen_id.clone()),
            basis_kind: "retention".into(),
            basis_id: String::new(),
            details: serde_json::json!({ "number": r.number }),
        },
    )
    .await?;
    Ok(())
}
