//! The agents' side of a request: move it on, lock it, annotate it.

use super::*;

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

pub async fn transition(app: &App, p: &Principal, id: &str, t: Transition) -> Result<RequestView> {
    let r = load(app, p, id).await?;
    let now = app.now();
    liasse_domain::policy::authorize(
        &p.facts(),
        &Access::Transition {
            request: &record(&r, now),
            to: &t.to,
        },
    )
    .map_err(|d| match d {
        Denial::WrongState => AppError::Conflict(format!(
            "passage de « {} » à « {} » impossible",
            r.state,
            t.to.chars().take(20).collect::<String>()
        )),
        d => crate::guard::denied(d),
    })?;
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
    // Nobody else's lock stands in the way, as the transaction sees it.
    p.authorize(&Access::Write(&record(&r, now)))?;
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
    let now = app.now();
    p.authorize(&Access::Lock {
        request: &record(&r, now),
        force,
    })?;
    let mut r = r;
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
    p.authorize(&Access::Unlock(&record(&r, app.now())))?;
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
    let rec = record(&r, now);
    p.authorize(&Access::AddNote(&rec))?;
    p.authorize(&Access::Write(&rec))?;
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
