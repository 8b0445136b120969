//! What a request looks like to whoever may see it: its answers, its requirements with the fitting documents, its history.

use super::*;

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

pub(super) fn household_of(members: &[liasse_store::members::MemberRow]) -> serde_json::Value {
    let children = members
        .iter()
        .filter(|m| {
            ["enfant", "child", "fils", "fille"].contains(&m.relation.to_lowercase().as_str())
        })
        .count();
    serde_json::json!({ "members": members.len(), "children": children, "adults": members.len() - children + 1 })
}

pub(super) fn members_of(r: &RequestRow) -> Vec<String> {
    serde_json::from_str(&r.members).unwrap_or_default()
}

pub(super) fn answers_of(r: &RequestRow) -> serde_json::Value {
    serde_json::from_str(&r.answers).unwrap_or_else(|_| empty_object())
}

/// The requirements of a request, expanded for its answers and members.
pub(super) async fn requirements(app: &App, r: &RequestRow) -> Result<(Procedure, Vec<Expanded>)> {
    let proc_ = get_procedure(app, &r.tenant_id, &r.procedure_code).await?;
    let household = household_of(&members::list(&app.db, &r.tenant_id, &r.citizen_id).await?);
    let expanded = proc_.expand(&answers_of(r), &household, &members_of(r));
    Ok((proc_, expanded))
}

/// Whether a document fits a requirement at a date.
pub(super) fn fits(d: &DocumentRow, req: &Expanded, day: &str) -> bool {
    d.type_code == req.type_code
        && d.subject_member_id == req.subject
        && d.deleted_at.is_none()
        && d.state != "rejected"
        && d.valid_until.as_deref().is_none_or(|u| u >= day)
}

pub(super) fn rank(d: &DocumentRow) -> (u8, String, i64) {
    let trust = match d.state.as_str() {
        "certified" => 0,
        "validated" => 1,
        _ => 2,
    };
    // Longest validity first (no end date is best), then newest.
    let until = d.valid_until.clone().unwrap_or_else(|| "9999-12-31".into());
    (trust, until, d.created_at)
}

pub(super) async fn view(
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
    let internal_notes = p.allows(&Access::ReadInternalNotes(&record(r, app.now())));
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
        .filter(|n| internal_notes || n.visible)
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

impl RequestView {
    /// The request as the policy sees it (`tenant_id` is the one it was read in).
    pub fn record<'a>(&'a self, tenant_id: &'a str) -> RequestRecord<'a> {
        RequestRecord {
            tenant_id,
            citizen_id: &self.citizen_id,
            domain: &self.domain,
            state: &self.state,
            lock_holder: self.lock_holder.as_deref(),
            // The view keeps only a live lock's holder.
            lock_live: self.lock_holder.is_some(),
        }
    }
}

pub async fn get(app: &App, p: &Principal, id: &str) -> Result<RequestView> {
    let r = load(app, p, id).await?;
    view(app, p, &r, None).await
}

pub async fn list(app: &App, p: &Principal) -> Result<Vec<RequestRow>> {
    match p.authorize(&Access::ListRequests)? {
        Warrant::Owner => Ok(store::for_citizen(&app.db, &p.tenant_id, &p.account_id).await?),
        _ => {
            let domains = liasse_domain::policy::listed_domains(&p.facts());
            Ok(store::for_domains(&app.db, &p.tenant_id, &domains).await?)
        }
    }
}

/// The last complement request of the history (what the citizen was asked for).
pub(super) fn complement_of(r: &RequestRow, history: &[HistoryRow]) -> Option<ComplementView> {
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
