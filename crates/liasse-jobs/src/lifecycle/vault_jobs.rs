//! The jobs of a document's end: the reminders before its validity ends, the notice before disposal, and the disposal itself.

use super::*;

/// A live document that still matches the job's date, with its type; `None` when the job is
/// moot (deleted, renewed, type withdrawn from the catalogue's rules).
pub(super) async fn live_document(
    app: &App,
    job: &JobRow,
    p: &DocPayload,
) -> Result<Option<(documents::DocumentRow, Option<DocumentType>)>> {
    let Some(doc) = documents::get(&app.db, &job.tenant_id, &p.document_id).await? else {
        return Ok(None);
    };
    if doc.deleted_at.is_some() || doc.valid_until.as_deref() != Some(p.valid_until.as_str()) {
        return Ok(None);
    }
    let t = catalogue::get_any(app, &job.tenant_id, &doc.type_code)
        .await?
        .map(|(t, _)| t);
    Ok(Some((doc, t)))
}

/// Reminder (or expiry) to the citizen, and to the agents of the open requests the document
/// is attached to.
pub(super) async fn expiry(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    let p: DocPayload = payload(job)?;
    let Some((doc, t)) = live_document(app, job, &p).await? else {
        return skip(app, job, owner).await;
    };
    let label = t
        .as_ref()
        .map(|t| t.label.clone())
        .unwrap_or_else(|| doc.type_code.clone());
    let valid_until = parse_date(&p.valid_until).map_err(AppError::Internal)?;
    let j0 = add_days(valid_until, 1);
    let today = app.clock.today();
    // Said as it is on the day the job runs, which may be later than planned.
    let left = (j0 - today).whole_days().max(1);
    let expired = p.days == 0;
    let days = days_fr(left);
    let last_day = date_fr(valid_until);
    let expired_on = date_fr(j0);
    let type_ = lower_first(&label);
    let fields = [
        ("type", type_.as_str()),
        ("label", label.as_str()),
        ("days", days.as_str()),
        ("last_day", last_day.as_str()),
        ("expired_on", expired_on.as_str()),
    ];
    let (title, text) = if expired {
        templates::EXPIRED
    } else {
        templates::EXPIRING
    };
    let event = format!("expiry:{}:{}:J-{}", doc.id, p.valid_until, p.days);

    // Agents handling an open request that needs the document: the lock holder, or every
    // agent who may act on the request's domain.
    let now = app.now();
    let mut agents: Vec<(String, String, String)> = Vec::new();
    for r in request_store::open_requests_with_document(&app.db, &job.tenant_id, &doc.id).await? {
        let holders = match r
            .lock_holder
            .clone()
            .filter(|_| r.lock_until.is_some_and(|u| u > now))
        {
            Some(h) => vec![h],
            None => {
                liasse_store::staff::staff_with_modify_right(&app.db, &job.tenant_id, &r.domain)
                    .await?
            }
        };
        for a in holders {
            if !agents.iter().any(|(x, _, _)| *x == a) {
                agents.push((a, r.id.clone(), r.number.clone()));
            }
        }
    }

    let Some(mut tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    mail::notify(
        &mut tx,
        app,
        &Notice {
            tenant_id: &job.tenant_id,
            account_id: &doc.owner_id,
            kind: if expired {
                "document.expired"
            } else {
                "document.expiring"
            },
            key: format!("{event}:{}", doc.owner_id),
            title: render(title, &fields),
            text: render(text, &fields),
            object_id: Some(&doc.id),
            mandatory: false,
        },
        now,
    )
    .await?;
    let (title, text) = if expired {
        templates::AGENT_EXPIRED
    } else {
        templates::AGENT_EXPIRING
    };
    for (agent, request_id, number) in &agents {
        let mut f = fields.to_vec();
        f.push(("number", number.as_str()));
        mail::notify(
            &mut tx,
            app,
            &Notice {
                tenant_id: &job.tenant_id,
                account_id: agent,
                kind: if expired {
                    "request.document_expired"
                } else {
                    "request.document_expiring"
                },
                key: format!("{event}:{agent}"),
                title: render(title, &f),
                text: render(text, &f),
                object_id: Some(request_id),
                mandatory: false,
            },
            now,
        )
        .await?;
    }
    if expired {
        journal::append(
            &mut tx,
            &job.tenant_id,
            now,
            &NewEntry::new(Actor::system(), "document.expire", "document", &doc.id)
                .citizen(Some(doc.owner_id.clone()))
                .basis("validity", "")
                .details(serde_json::json!({ "valid_until": p.valid_until })),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Outcome::Done)
}

/// Tells the citizen N days ahead, then schedules the destruction (never less than N days
/// after the notice, even when catching up).
pub(super) async fn disposal_notice(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    let p: DocPayload = payload(job)?;
    let Some((doc, Some(t))) = live_document(app, job, &p).await? else {
        return skip(app, job, owner).await;
    };
    let valid_until = parse_date(&p.valid_until).map_err(AppError::Internal)?;
    let Some(day) = disposal_day(valid_until, &t) else {
        return skip(app, job, owner).await;
    };
    if liasse_store::lifecycle::is_kept(app.db.pool(), &job.tenant_id, &doc.id).await? {
        return skip(app, job, owner).await;
    }
    let today = app.clock.today();
    let on = day.max(add_days(today, i64::from(t.disposal_notice_days)));
    let date = date_fr(on);
    let type_ = lower_first(&t.label);
    let fields = [
        ("type", type_.as_str()),
        ("label", t.label.as_str()),
        ("date", date.as_str()),
        (
            "keep",
            if t.keep_allowed {
                templates::KEEP_HINT
            } else {
                ""
            },
        ),
    ];
    notify_then(
        app,
        job,
        owner,
        &Notice {
            tenant_id: &job.tenant_id,
            account_id: &doc.owner_id,
            kind: "document.disposal",
            key: format!("disposal:{}:{}:{}", doc.id, p.valid_until, doc.owner_id),
            title: render(templates::DISPOSAL.0, &fields),
            text: render(templates::DISPOSAL.1, &fields),
            object_id: Some(&doc.id),
            mandatory: true,
        },
        FollowUp {
            kind: "dispose",
            key: format!("{}:{}", doc.id, p.valid_until),
            payload: serde_json::json!(DocPayload {
                document_id: doc.id.clone(),
                valid_until: p.valid_until.clone(),
                days: 0
            }),
            run_at: day_start(on),
        },
    )
    .await
}

/// Destroys a document at the end of its retention: wrapped keys destroyed, blobs removed, a
/// tombstone and a journal entry kept (`services::documents::destroy`).
pub(super) async fn dispose(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    let p: DocPayload = payload(job)?;
    let Some((doc, Some(t))) = live_document(app, job, &p).await? else {
        return skip(app, job, owner).await;
    };
    let valid_until = parse_date(&p.valid_until).map_err(AppError::Internal)?;
    // The type may have changed since the notice: keep documents whose type now keeps them,
    // or whose retention now ends later (the scheduler announces the new date when it comes).
    let due = disposal_day(valid_until, &t).is_some_and(|d| d <= app.clock.today());
    if !due || liasse_store::lifecycle::is_kept(app.db.pool(), &job.tenant_id, &doc.id).await? {
        return skip(app, job, owner).await;
    }
    let entry = NewEntry::new(Actor::system(), "document.dispose", "document", &doc.id).citizen(Some(doc.owner_id.clone())).basis("retention", &t.code).details(serde_json::json!({
            "type": doc.type_code, "valid_until": p.valid_until, "retention": t.retention.to_string(),
        }));
    match liasse_app::documents::destroy(app, &doc, entry).await {
        Ok(()) => {}
        // Deleted meanwhile (by the citizen, or by this job before a crash).
        Err(AppError::NotFound) => return skip(app, job, owner).await,
        Err(e) => return Err(e),
    }
    let fields = [("label", t.label.as_str())];
    let now = app.now();
    let Some(mut tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    mail::notify(
        &mut tx,
        app,
        &Notice {
            tenant_id: &job.tenant_id,
            account_id: &doc.owner_id,
            kind: "document.disposed",
            key: format!("disposed:{}:{}", doc.id, doc.owner_id),
            title: render(templates::DISPOSED.0, &fields),
            text: render(templates::DISPOSED.1, &fields),
            object_id: Some(&doc.id),
            mandatory: true,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}
