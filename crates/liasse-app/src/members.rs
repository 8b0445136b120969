//! Household members: a citizen declares the people they manage documents for.

use liasse_domain::doctype::{format_date, parse_date};
use liasse_domain::ids::{is_valid_id, new_id};
use liasse_domain::journal::NewEntry;
use liasse_domain::policy::{Access, Op};
use liasse_store::journal;
use liasse_store::members;
pub use liasse_store::members::MemberRow;
use serde::Deserialize;

use crate::app::App;
use crate::auth::Principal;
use crate::error::{AppError, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewMember {
    pub name: String,
    pub birth_date: Option<String>,
    pub relation: String,
}

fn entry(p: &Principal, action: &str, id: &str) -> NewEntry {
    NewEntry {
        actor: p.actor(),
        action: action.into(),
        object_kind: "household_member".into(),
        object_id: id.into(),
        citizen_id: Some(p.account_id.clone()),
        basis_kind: "owner".into(),
        basis_id: String::new(),
        details: serde_json::json!({}),
    }
}

pub async fn list(app: &App, p: &Principal) -> Result<Vec<MemberRow>> {
    p.authorize(&Access::Household(Op::List))?;
    Ok(members::list(&app.db, &p.tenant_id, &p.account_id).await?)
}

pub async fn add(app: &App, p: &Principal, m: NewMember) -> Result<MemberRow> {
    p.authorize(&Access::Household(Op::Add))?;
    let name = m.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid(
            "invalid-name",
            "le nom est obligatoire (200 caractères au plus)",
        ));
    }
    let relation = m.relation.trim();
    if relation.is_empty() || relation.chars().count() > 60 {
        return Err(AppError::invalid(
            "invalid-relation",
            "le lien (enfant, conjoint...) est obligatoire",
        ));
    }
    let birth_date = match m.birth_date.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => {
            let d = parse_date(s).map_err(|e| AppError::invalid("invalid-date", e))?;
            if d > app.clock.today() {
                return Err(AppError::invalid(
                    "invalid-date",
                    "la date de naissance ne peut pas être dans le futur",
                ));
            }
            Some(format_date(d))
        }
        None => None,
    };
    let row = MemberRow {
        id: new_id(),
        tenant_id: p.tenant_id.clone(),
        account_id: p.account_id.clone(),
        name: name.to_string(),
        birth_date,
        relation: relation.to_string(),
        created_at: app.now(),
    };
    let mut tx = app.db.begin_write().await?;
    members::insert(&mut tx, &row).await?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        row.created_at,
        &entry(p, "member.add", &row.id),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

pub async fn remove(app: &App, p: &Principal, id: &str) -> Result<()> {
    // A route that names an object answers "not found" to whoever may not touch it, whatever
    // their role, as the document routes do.
    p.authorize(&Access::Household(Op::Remove))?;
    if !is_valid_id(id) {
        return Err(AppError::NotFound);
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    if !members::remove(&mut tx, &p.tenant_id, &p.account_id, id, now).await? {
        return Err(AppError::NotFound);
    }
    journal::append(&mut tx, &p.tenant_id, now, &entry(p, "member.remove", id)).await?;
    tx.commit().await?;
    Ok(())
}
