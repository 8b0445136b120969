//! Grants: the citizen gives a domain's agents or a service client access to chosen documents
//! or document types, for a purpose, until a date; revocation takes effect at once.

use liasse_domain::clock::rfc3339;
use liasse_domain::doctype::{format_date, parse_date};
use liasse_domain::ids::{is_valid_id, new_id};
use liasse_domain::journal::NewEntry;
use liasse_domain::policy::{Access, Op, is_partner_account};
use liasse_store::grants::{self, GrantRow};
use liasse_store::{accounts, journal};
use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::auth::Principal;
use crate::catalogue;
use crate::error::{AppError, Result};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    /// A domain code (`scolaire`, `social`...): every agent with rights on it.
    pub domain: Option<String>,
    /// A service client's account id.
    pub client: Option<String>,
    /// Chosen documents...
    #[serde(default)]
    pub documents: Vec<String>,
    /// ...or document types.
    #[serde(default)]
    pub types: Vec<String>,
    pub purpose: String,
    /// Last day of validity, `YYYY-MM-DD`.
    pub until: String,
}

#[derive(Debug, Serialize)]
pub struct GrantUse {
    pub action: String,
    pub by: String,
    pub at: String,
}

#[derive(Debug, Serialize)]
pub struct GrantView {
    #[serde(flatten)]
    pub grant: GrantRow,
    /// `active`, `revoked` or `expired`.
    pub status: String,
    pub uses: Vec<GrantUse>,
}

/// Grants last at most a year: consent is renewed, not forgotten.
const MAX_DAYS: i64 = 366;

pub async fn create(app: &App, p: &Principal, g: NewGrant) -> Result<GrantView> {
    p.authorize(&Access::Sharing(Op::Add))?;
    let (grantee_kind, grantee) = match (
        g.domain.as_deref().map(str::trim),
        g.client.as_deref().map(str::trim),
    ) {
        (Some(d), None) if !d.is_empty() && d.len() <= 64 => ("domain", d.to_string()),
        (None, Some(c)) if is_valid_id(c) => {
            let client = accounts::by_id(&app.db, &p.tenant_id, c).await?;
            if client.is_none_or(|a| !is_partner_account(&a.role)) {
                return Err(AppError::invalid(
                    "unknown-client",
                    "ce service partenaire n'existe pas",
                ));
            }
            ("client", c.to_string())
        }
        _ => {
            return Err(AppError::invalid(
                "invalid-grantee",
                "indiquez soit un domaine (domain), soit un service partenaire (client)",
            ));
        }
    };
    let (scope_kind, scope) = match (g.documents.is_empty(), g.types.is_empty()) {
        (false, true) => {
            let mine =
                liasse_store::documents::list_owned(&app.db, &p.tenant_id, &p.account_id).await?;
            for id in &g.documents {
                if !mine.iter().any(|d| &d.id == id) {
                    return Err(AppError::invalid(
                        "unknown-document",
                        "une des pièces choisies n'est pas dans votre porte-documents",
                    ));
                }
            }
            ("documents", g.documents)
        }
        (true, false) => {
            for code in &g.types {
                catalogue::get_active(app, &p.tenant_id, code).await?;
            }
            ("types", g.types)
        }
        _ => {
            return Err(AppError::invalid(
                "invalid-scope",
                "choisissez soit des pièces (documents), soit des types de pièces (types)",
            ));
        }
    };
    let purpose = g.purpose.trim();
    if purpose.is_empty() || purpose.chars().count() > 500 {
        return Err(AppError::invalid(
            "invalid-purpose",
            "indiquez l'objet du partage (500 caractères au plus)",
        ));
    }
    let today = app.clock.today();
    let until = parse_date(&g.until).map_err(|m| AppError::invalid("invalid-date", m))?;
    if until < today || (until - today).whole_days() > MAX_DAYS {
        return Err(AppError::invalid(
            "invalid-date",
            "la date de fin doit être comprise entre aujourd'hui et un an",
        ));
    }
    let row = GrantRow {
        id: new_id(),
        tenant_id: p.tenant_id.clone(),
        citizen_id: p.account_id.clone(),
        grantee_kind: grantee_kind.into(),
        grantee,
        scope_kind: scope_kind.into(),
        scope,
        purpose: purpose.into(),
        valid_until: format_date(until),
        created_at: app.now(),
        revoked_at: None,
    };
    let mut tx = app.db.begin_write().await?;
    grants::insert(&mut tx, &row).await?;
    if row.grantee_kind == "client" {
        // The client hears of it (and lists it with `GET /grants`); the citizen stays unnamed.
        liasse_store::notifications::insert(
            &mut tx,
            &liasse_store::notifications::NotificationRow {
                id: new_id(),
                tenant_id: p.tenant_id.clone(),
                account_id: row.grantee.clone(),
                kind: "grant.received".into(),
                title: "Nouveau partage de pièces".into(),
                body: format!("Un usager vous donne accès à des pièces : {}.", row.purpose),
                object_id: Some(row.id.clone()),
                created_at: row.created_at,
                read_at: None,
            },
        )
        .await?;
    }
    journal::append(&mut tx, &p.tenant_id, row.created_at, &entry(p, "grant.create", &row.id, serde_json::json!({
        "grantee_kind": row.grantee_kind, "grantee": row.grantee, "scope_kind": row.scope_kind, "scope": row.scope, "until": row.valid_until,
    })))
    .await?;
    tx.commit().await?;
    Ok(GrantView {
        status: "active".into(),
        grant: row,
        uses: Vec::new(),
    })
}

fn entry(p: &Principal, action: &str, id: &str, details: serde_json::Value) -> NewEntry {
    NewEntry {
        actor: p.actor(),
        action: action.into(),
        object_kind: "grant".into(),
        object_id: id.into(),
        citizen_id: Some(p.account_id.clone()),
        basis_kind: "owner".into(),
        basis_id: String::new(),
        details,
    }
}

/// The citizen's grants with what each was used for; for a service client, the grants
/// citizens gave it (each naming its citizen by the client's pairwise id once the API answers
/// it): how the client learns whom it may read.
pub async fn list(app: &App, p: &Principal) -> Result<Vec<GrantView>> {
    let (rows, uses) = if p.authorize(&Access::ReceivedGrants).is_ok() {
        let rows = grants::to_client(&app.db, &p.tenant_id, &p.account_id).await?;
        // The client's own uses of each grant, from the journal of the grant's citizen.
        let mut uses = Vec::new();
        let citizens: std::collections::BTreeSet<&str> =
            rows.iter().map(|g| g.citizen_id.as_str()).collect();
        for c in citizens {
            uses.extend(grants::uses(&app.db, &p.tenant_id, c).await?);
        }
        (rows, uses)
    } else {
        p.authorize(&Access::Sharing(Op::List))?;
        (
            grants::for_citizen(&app.db, &p.tenant_id, &p.account_id).await?,
            grants::uses(&app.db, &p.tenant_id, &p.account_id).await?,
        )
    };
    let today = format_date(app.clock.today());
    Ok(rows
        .into_iter()
        .map(|g| {
            let status = if g.revoked_at.is_some() {
                "revoked"
            } else if g.valid_until.as_str() < today.as_str() {
                "expired"
            } else {
                "active"
            };
            let used = uses
                .iter()
                .filter(|(id, ..)| id == &g.id)
                .map(|(_, action, by, at)| GrantUse {
                    action: action.clone(),
                    by: by.clone(),
                    at: rfc3339(*at),
                })
                .collect();
            GrantView {
                status: status.into(),
                grant: g,
                uses: used,
            }
        })
        .collect())
}

pub async fn revoke(app: &App, p: &Principal, id: &str) -> Result<()> {
    // A route that names an object answers "not found" to whoever may not touch it, whatever
    // their role, as the document routes do.
    p.authorize(&Access::Sharing(Op::Remove))?;
    if !is_valid_id(id) {
        return Err(AppError::NotFound);
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    if !grants::revoke(&mut tx, &p.tenant_id, &p.account_id, id, now).await? {
        return Err(AppError::NotFound);
    }
    journal::append(
        &mut tx,
        &p.tenant_id,
        now,
        &entry(p, "grant.revoke", id, serde_json::json!({})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
