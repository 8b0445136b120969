//! The agents' dashboard, search and statistics over the requests of their domains.

use std::collections::BTreeMap;

use liasse_domain::clock::{DAY_MS, rfc3339};
use liasse_domain::policy::Access;
use liasse_store::requests::RequestRow;
use liasse_store::{accounts, members};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::auth::Principal;
use crate::error::{AppError, Result};
use crate::requests;

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub id: String,
    pub number: String,
    pub procedure: String,
    pub procedure_title: String,
    pub citizen_name: String,
    pub state: String,
    pub submitted_at: Option<String>,
    pub lock_holder: Option<String>,
    pub late: bool,
    pub urgent: bool,
}

#[derive(Debug, Serialize)]
pub struct Dashboard {
    pub counts: BTreeMap<&'static str, usize>,
    pub new: Vec<Item>,
    pub mine: Vec<Item>,
    pub late: Vec<Item>,
    pub urgent: Vec<Item>,
}

fn staff(p: &Principal) -> Result<()> {
    p.authorize(&Access::Dashboard).map(drop)
}

/// Items of the requests the agent may see, with lateness computed from each procedure's
/// processing target and reminder delay.
async fn items(app: &App, p: &Principal) -> Result<Vec<(RequestRow, Item)>> {
    let rows = requests::list(app, p).await?;
    let procedures: BTreeMap<String, liasse_domain::procedure::Procedure> =
        requests::list_procedures(app, p)
            .await?
            .into_iter()
            .map(|x| (x.code.clone(), x))
            .collect();
    let now = app.now();
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if !names.contains_key(&r.citizen_id) {
            let name = accounts::by_id(&app.db, &p.tenant_id, &r.citizen_id)
                .await?
                .map(|a| a.display_name)
                .unwrap_or_default();
            names.insert(r.citizen_id.clone(), name);
        }
        let proc_ = procedures.get(&r.procedure_code);
        let open = matches!(r.state.as_str(), "submitted" | "in_progress");
        let since = r.submitted_at.map(|s| now - s).unwrap_or(0);
        let late = open && proc_.is_some_and(|x| since > i64::from(x.processing_days) * DAY_MS);
        let urgent = r.state == "submitted"
            && proc_.is_some_and(|x| since > i64::from(x.reminder_days) * DAY_MS);
        let item = Item {
            id: r.id.clone(),
            number: r.number.clone(),
            procedure: r.procedure_code.clone(),
            procedure_title: proc_.map(|x| x.title.clone()).unwrap_or_default(),
            citizen_name: names.get(&r.citizen_id).cloned().unwrap_or_default(),
            state: r.state.clone(),
            submitted_at: r.submitted_at.map(rfc3339),
            lock_holder: r
                .lock_holder
                .clone()
                .filter(|_| r.lock_until.is_some_and(|u| u > now)),
            late,
            urgent,
        };
        out.push((r, item));
    }
    Ok(out)
}

pub async fn dashboard(app: &App, p: &Principal) -> Result<Dashboard> {
    staff(p)?;
    let all = items(app, p).await?;
    let mut d = Dashboard {
        counts: BTreeMap::new(),
        new: Vec::new(),
        mine: Vec::new(),
        late: Vec::new(),
        urgent: Vec::new(),
    };
    // One list per section and each count is its list's length, so the page (which shows the
    // lists) and the API say the same. A late or urgent request is listed as such wherever
    // else it also belongs, and is no longer "new".
    for (r, item) in all {
        let mine =
            r.lock_holder.as_deref() == Some(p.account_id.as_str()) && r.state == "in_progress";
        if r.state == "submitted" && !item.late && !item.urgent {
            d.new.push(item.clone());
        }
        if mine {
            d.mine.push(item.clone());
        }
        if item.urgent {
            d.urgent.push(item.clone());
        }
        if item.late {
            d.late.push(item);
        }
    }
    d.counts.insert("new", d.new.len());
    d.counts.insert("mine", d.mine.len());
    d.counts.insert("late", d.late.len());
    d.counts.insert("urgent", d.urgent.len());
    Ok(d)
}

#[derive(Debug, Default, Deserialize)]
pub struct Search {
    /// Citizen name, request number or household member name.
    pub q: Option<String>,
    pub state: Option<String>,
    pub procedure: Option<String>,
    /// Submitted on or after / before, `YYYY-MM-DD`.
    pub from: Option<String>,
    pub to: Option<String>,
}

pub async fn search(app: &App, p: &Principal, s: &Search) -> Result<Vec<Item>> {
    staff(p)?;
    // Dates are compared as text: refuse what is not a date rather than filter on it.
    let date = |d: &Option<String>| -> Result<Option<String>> {
        match d.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => liasse_domain::doctype::parse_date(d)
                .map(|d| Some(liasse_domain::doctype::format_date(d)))
                .map_err(|m| AppError::invalid("invalid-date", m)),
            None => Ok(None),
        }
    };
    let (from, to) = (date(&s.from)?, date(&s.to)?);
    let q =
        s.q.as_deref()
            .map(|q| q.trim().to_lowercase())
            .filter(|q| !q.is_empty());
    let mut out = Vec::new();
    for (r, item) in items(app, p).await? {
        if s.state
            .as_deref()
            .is_some_and(|x| !x.is_empty() && x != r.state)
            || s.procedure
                .as_deref()
                .is_some_and(|x| !x.is_empty() && x != r.procedure_code)
        {
            continue;
        }
        let day = r
            .submitted_at
            .map(|t| liasse_domain::doctype::format_date(liasse_domain::clock::date_of(t)));
        if from
            .as_deref()
            .is_some_and(|f| day.as_deref().is_none_or(|d| d < f))
            || to
                .as_deref()
                .is_some_and(|t| day.as_deref().is_none_or(|d| d > t))
        {
            continue;
        }
        if let Some(q) = &q {
            let mut hay = format!(
                "{} {}",
                item.number.to_lowercase(),
                item.citizen_name.to_lowercase()
            );
            for m in members::list(&app.db, &p.tenant_id, &r.citizen_id).await? {
                hay.push(' ');
                hay.push_str(&m.name.to_lowercase());
            }
            if !hay.contains(q.as_str()) {
                continue;
            }
        }
        out.push(item);
    }
    Ok(out)
}

#[derive(Debug, Serialize)]
pub struct StatRow {
    pub procedure: String,
    pub state: String,
    pub count: usize,
}

/// Requests per procedure and state, for managers of the domains.
pub async fn statistics(app: &App, p: &Principal) -> Result<Vec<StatRow>> {
    p.authorize(&Access::Statistics)?;
    let mut counts: BTreeMap<(String, String), usize> = BTreeMap::new();
    for (r, _) in items(app, p).await? {
        *counts.entry((r.procedure_code, r.state)).or_default() += 1;
    }
    Ok(counts
        .into_iter()
        .map(|((procedure, state), count)| StatRow {
            procedure,
            state,
            count,
        })
        .collect())
}

pub fn statistics_csv(rows: &[StatRow]) -> String {
    let mut out = String::from("procedure,state,count\r\n");
    for r in rows {
        out.push_str(&format!("{},{},{}\r\n", r.procedure, r.state, r.count));
    }
    out
}
