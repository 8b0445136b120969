//! The scheduler: turns documents' and requests' dates into jobs, reading only what became due since the last pass (a cursor) and what changed since.

use super::*;

#[derive(Serialize, Deserialize)]
pub(super) struct DocPayload {
    pub(super) document_id: String,
    pub(super) valid_until: String,
    #[serde(default)]
    pub(super) days: u32,
}

#[derive(Serialize, Deserialize)]
pub(super) struct RequestPayload {
    pub(super) request_id: String,
    #[serde(default)]
    pub(super) updated_at: i64,
}

/// Jobs to insert, gathered from one page of a scan.
pub(super) struct Batch<'a> {
    pub(super) app: &'a App,
    pub(super) now: i64,
    pub(super) jobs: Vec<(String, &'static str, String, serde_json::Value, i64)>,
}

impl<'a> Batch<'a> {
    pub(super) fn new(app: &'a App, now: i64) -> Self {
        Batch {
            app,
            now,
            jobs: Vec::new(),
        }
    }

    pub(super) fn push(
        &mut self,
        tenant: &str,
        kind: &'static str,
        key: String,
        payload: serde_json::Value,
    ) {
        self.jobs
            .push((tenant.to_string(), kind, key, payload, self.now));
    }

    /// Inserts the gathered jobs in one transaction; returns how many were new.
    pub(super) async fn flush(&mut self) -> Result<usize> {
        if self.jobs.is_empty() {
            return Ok(0);
        }
        let mut tx = self.app.db.begin_write().await?;
        let mut n = 0;
        for (tenant, kind, key, payload, run_at) in self.jobs.drain(..) {
            let j = NewJob {
                id: &new_id(),
                tenant_id: &tenant,
                kind,
                key: &key,
                payload: &payload,
                run_at,
            };
            if store::enqueue(&mut tx, &j, self.now).await? {
                n += 1;
            }
        }
        tx.commit().await?;
        Ok(n)
    }
}

/// Schedules every job that is due today; returns how many new jobs were inserted.
pub async fn schedule(app: &App) -> Result<usize> {
    let mut n = schedule_documents(app).await?;
    n += schedule_drafts(app).await?;
    n += schedule_anonymisation(app).await?;
    Ok(n)
}

/// What one document needs today: its current reminder and its disposal notice.
pub(super) fn plan(
    d: &DatedDoc,
    types: &HashMap<(String, String), DocumentType>,
    today: Date,
    offsets: &[u32],
    batch: &mut Batch<'_>,
) {
    let Ok(v) = parse_date(&d.valid_until) else {
        return;
    };
    if let Some(days) = expiry_event(v, today, offsets) {
        batch.push(
            &d.tenant_id,
            "expiry",
            format!("{}:{}:J-{days}", d.id, d.valid_until),
            serde_json::json!(DocPayload {
                document_id: d.id.clone(),
                valid_until: d.valid_until.clone(),
                days
            }),
        );
    }
    if let Some(t) = types.get(&(d.tenant_id.clone(), d.type_code.clone()))
        && disposal_notice_due(v, t, today)
    {
        batch.push(
            &d.tenant_id,
            "disposal_notice",
            format!("{}:{}", d.id, d.valid_until),
            serde_json::json!(DocPayload {
                document_id: d.id.clone(),
                valid_until: d.valid_until.clone(),
                days: 0
            }),
        );
    }
}

/// Reads documents whose valid_until is in `[lo, hi]` and plans each.
pub(super) async fn scan_range(
    app: &App,
    lo: Date,
    hi: Date,
    types: &HashMap<(String, String), DocumentType>,
    today: Date,
    offsets: &[u32],
    batch: &mut Batch<'_>,
) -> Result<usize> {
    if lo > hi {
        return Ok(0);
    }
    let (lo, hi) = (format_date(lo), format_date(hi));
    let mut n = 0;
    let mut after: Option<(String, String)> = None;
    loop {
        let page = liasse_store::lifecycle::documents_valid_between(
            &app.db,
            &lo,
            &hi,
            after.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            PAGE,
        )
        .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.valid_until.clone(), last.id.clone()));
        for d in &page {
            plan(d, types, today, offsets, batch);
        }
        n += batch.flush().await?;
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    Ok(n)
}

/// Reminders and disposal notices: the days that became due since the last pass, then the
/// documents changed since then.
pub async fn schedule_documents(app: &App) -> Result<usize> {
    let now = app.now();
    let today = date_of(now);
    let offsets = offsets_ascending(app);
    let types = all_types(app).await?;
    let cursor = liasse_store::lifecycle::cursor(&app.db, CURSOR).await?;
    let (last_day, since) = match &cursor {
        Some((day, at)) => (parse_date(day).ok(), at - CHANGE_MARGIN_MS),
        // First pass: no reminder is owed for the past, but every document already beyond
        // its retention is (see below).
        None => (None, now - DAY_MS),
    };
    let mut batch = Batch::new(app, now);
    let mut n = 0;

    // Reminders: the event `d` days before J0 falls on days (C, T], so valid_until (= J0 - 1)
    // lies in [C + d, T + d - 1].
    let c = last_day
        .unwrap_or(add_days(today, -1))
        .max(add_days(today, -EXPIRY_CATCH_UP_DAYS));
    for &d in &offsets {
        let d = i64::from(d);
        n += scan_range(
            app,
            add_days(c, d),
            add_days(today, d - 1),
            &types,
            today,
            &offsets,
            &mut batch,
        )
        .await?;
    }

    // Disposal notices, per (retention, notice delay) of the catalogues: the notice day
    // (retention end + 1 - N) falls on (C, T]. Without a cursor, every document past its
    // notice day is due.
    let groups: BTreeSet<(String, u32)> = types
        .values()
        .filter(|t| t.disposal == Disposal::Delete)
        .map(|t| (t.retention.to_string(), t.disposal_notice_days))
        .collect();
    for (retention, notice) in groups {
        let Ok(r) = IsoDuration::parse(&retention) else {
            continue;
        };
        let notice = i64::from(notice);
        let lo = match last_day {
            Some(c) => first_with(&r, add_days(c, notice)),
            None => Date::MIN,
        };
        let hi = add_days(first_with(&r, add_days(today, notice)), -1);
        n += scan_range(app, lo, hi, &types, today, &offsets, &mut batch).await?;
    }

    // Documents deposited, reviewed or replaced since the last pass: their events may be due
    // already (a document deposited five days before its end).
    let mut after: Option<(i64, String)> = None;
    loop {
        let page = liasse_store::lifecycle::documents_changed_since(
            &app.db,
            since,
            after.as_ref().map(|(a, b)| (*a, b.as_str())),
            PAGE,
        )
        .await?;
        let Some(last) = page.last() else { break };
        after = Some((last.updated_at, last.id.clone()));
        for d in &page {
            plan(d, &types, today, &offsets, &mut batch);
        }
        n += batch.flush().await?;
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    liasse_store::lifecycle::set_cursor(&app.db, CURSOR, &format_date(today), now).await?;
    Ok(n)
}

pub(super) fn tenant_duration(
    settings: &serde_json::Value,
    key: &str,
    default: IsoDuration,
) -> IsoDuration {
    settings
        .get(key)
        .and_then(|v| v.as_str())
        .and_then(|s| IsoDuration::parse(s).ok())
        .unwrap_or(default)
}

pub(super) const THREE_MONTHS: IsoDuration = IsoDuration {
    years: 0,
    months: 3,
    days: 0,
};

/// Drafts untouched for the tenant's `draft_retention` (default three months) are deleted,
/// after a notice a week before.
pub async fn schedule_drafts(app: &App) -> Result<usize> {
    let now = app.now();
    let today = date_of(now);
    let mut batch = Batch::new(app, now);
    let mut n = 0;
    for t in tenants::list(&app.db).await? {
        let keep = tenant_duration(&t.settings, "draft_retention", THREE_MONTHS);
        // Deleted on keep.add_to(last change); noticed a week before: the last change is
        // before the first day whose deletion falls after today + 7.
        let before = day_start(first_with(&keep, add_days(today, DRAFT_NOTICE_DAYS + 1)));
        for r in liasse_store::lifecycle::drafts_idle_before(&app.db, &t.id, before, 10_000).await?
        {
            batch.push(
                &t.id,
                "draft_notice",
                format!("{}:{}", r.id, r.updated_at),
                serde_json::json!(RequestPayload {
                    request_id: r.id.clone(),
                    updated_at: r.updated_at
                }),
            );
        }
        n += batch.flush().await?;
    }
    Ok(n)
}

/// Closed requests whose retention (`request_retention`, default three months) has passed.
pub async fn schedule_anonymisation(app: &App) -> Result<usize> {
    let now = app.now();
    let today = date_of(now);
    let mut batch = Batch::new(app, now);
    let mut n = 0;
    for t in tenants::list(&app.db).await? {
        let keep = requests::retention(app, &t.id).await?;
        let before = day_start(first_with(&keep, add_days(today, 1)));
        for r in liasse_store::lifecycle::closed_before(&app.db, &t.id, before, 10_000).await? {
            batch.push(
                &t.id,
                "anonymise",
                r.id.clone(),
                serde_json::json!(RequestPayload {
                    request_id: r.id.clone(),
                    updated_at: r.updated_at
                }),
            );
        }
        n += batch.flush().await?;
    }
    Ok(n)
}
