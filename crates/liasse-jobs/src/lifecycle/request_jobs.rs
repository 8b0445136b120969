//! The jobs of a request's end: abandoned drafts told then deleted, closed requests anonymised, agents' daily digests.

use super::*;

/// The idle draft of the job, still idle since the same change; with its procedure's title.
pub(super) async fn idle_draft(
    app: &App,
    job: &JobRow,
    p: &RequestPayload,
) -> Result<Option<(request_store::RequestRow, String)>> {
    let Some(r) = request_store::get(&app.db, &job.tenant_id, &p.request_id).await? else {
        return Ok(None);
    };
    if r.state != "draft" || r.updated_at != p.updated_at {
        return Ok(None);
    }
    let title = requests::get_procedure(app, &job.tenant_id, &r.procedure_code)
        .await
        .map(|p| p.title)
        .unwrap_or_else(|_| r.procedure_code.clone());
    Ok(Some((r, title)))
}

pub(super) async fn draft_notice(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    let p: RequestPayload = payload(job)?;
    let Some((r, title)) = idle_draft(app, job, &p).await? else {
        return skip(app, job, owner).await;
    };
    let tenant = tenants::by_id(&app.db, &job.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let keep = tenant_duration(&tenant.settings, "draft_retention", THREE_MONTHS);
    let since_day = date_of(r.updated_at);
    let today = app.clock.today();
    let on = keep
        .add_to(since_day)
        .max(add_days(today, DRAFT_NOTICE_DAYS));
    let (date, since) = (date_fr(on), date_fr(since_day));
    let fields = [
        ("procedure", title.as_str()),
        ("number", r.number.as_str()),
        ("date", date.as_str()),
        ("since", since.as_str()),
    ];
    notify_then(
        app,
        job,
        owner,
        &Notice {
            tenant_id: &job.tenant_id,
            account_id: &r.citizen_id,
            kind: "request.draft_expiring",
            key: format!("draft:{}:{}:{}", r.id, r.updated_at, r.citizen_id),
            title: render(templates::DRAFT_EXPIRING.0, &fields),
            text: render(templates::DRAFT_EXPIRING.1, &fields),
            object_id: Some(&r.id),
            mandatory: true,
        },
        FollowUp {
            kind: "draft_delete",
            key: format!("{}:{}", r.id, r.updated_at),
            payload: serde_json::json!(RequestPayload {
                request_id: r.id.clone(),
                updated_at: r.updated_at
            }),
            run_at: day_start(on),
        },
    )
    .await
}

pub(super) async fn draft_delete(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    let p: RequestPayload = payload(job)?;
    let Some((r, title)) = idle_draft(app, job, &p).await? else {
        return skip(app, job, owner).await;
    };
    let since = date_fr(date_of(r.updated_at));
    let fields = [
        ("procedure", title.as_str()),
        ("number", r.number.as_str()),
        ("since", since.as_str()),
    ];
    let now = app.now();
    let Some(mut tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    if !request_store::delete_draft(&mut tx, &job.tenant_id, &r.id, p.updated_at).await? {
        tx.commit().await?;
        return Ok(Outcome::Done);
    }
    journal::append(
        &mut tx,
        &job.tenant_id,
        now,
        &NewEntry::new(Actor::system(), "request.draft_delete", "request", &r.id)
            .citizen(Some(r.citizen_id.clone()))
            .basis("retention", "")
            .details(serde_json::json!({ "number": r.number, "procedure": r.procedure_code })),
    )
    .await?;
    mail::notify(
        &mut tx,
        app,
        &Notice {
            tenant_id: &job.tenant_id,
            account_id: &r.citizen_id,
            kind: "request.draft_deleted",
            key: format!("draft-deleted:{}:{}", r.id, r.citizen_id),
            title: render(templates::DRAFT_DELETED.0, &fields),
            text: render(templates::DRAFT_DELETED.1, &fields),
            object_id: None,
            mandatory: true,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}

pub(super) async fn anonymise(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    let p: RequestPayload = payload(job)?;
    let keep = requests::retention(app, &job.tenant_id).await?;
    let today = app.clock.today();
    let now = app.now();
    let Some(mut tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    let due = request_store::get_in(&mut tx, &job.tenant_id, &p.request_id)
        .await?
        .filter(|r| r.state == "closed" && r.anonymised_at.is_none())
        .filter(|r| {
            r.closed_at
                .is_some_and(|c| keep.add_to(date_of(c)) <= today)
        });
    if let Some(r) = due {
        requests::anonymise_in(&mut tx, &r, now).await?;
    }
    tx.commit().await?;
    Ok(Outcome::Done)
}

pub(super) async fn digest(app: &App, job: &JobRow, owner: &str) -> Result<Outcome> {
    #[derive(Deserialize)]
    struct P {
        account_id: String,
    }
    let p: P = payload(job)?;
    let now = app.now();
    let Some(mut tx) = begin(app, job, owner).await? else {
        return Ok(Outcome::Lost);
    };
    mail::digest(&mut tx, app, &job.tenant_id, &p.account_id, now).await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}
