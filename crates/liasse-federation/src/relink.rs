//! An admin re-links an account whose subject changed (FranceConnect's `sub` is pairwise and
//! changes after a civil-status correction; an agent's may change with their organisation).
//!
//! The admin removes the old link and gets a single-use link, valid 48 hours, to hand to the
//! account's holder. Following it starts a login at the provider; the subject that comes back
//! is linked to that account, and only to it. Both steps are journalled.

use liasse_app::app::App;
use liasse_app::auth::Principal;
use liasse_app::error::AppError;
use liasse_domain::journal::{Actor, NewEntry};
use liasse_domain::policy::{Access, Task};
use liasse_oidc::{Identity, ProviderKind};
use liasse_store::{accounts, federation, journal, tenants};
use serde::{Deserialize, Serialize};

use crate::error::{FedError, Result};
use crate::login::{self, Outcome};
use crate::pending::{self, RELINK, Refusals};
use crate::{path_of, providers};

/// How long a re-link link stays valid.
pub const RELINK_TTL_MS: i64 = 48 * 3600 * 1000;

#[derive(Serialize, Deserialize)]
struct Relink {
    account_id: String,
}

/// What the admin gets: the link to hand over (shown once).
pub struct Issued {
    pub url: String,
    pub removed: u64,
}

/// The operator's and the admin's re-link of the account `login` at `kind`.
pub async fn issue(
    app: &App,
    tenant_slug: &str,
    actor: Actor,
    login_name: &str,
    kind: ProviderKind,
) -> Result<Issued> {
    let tenant = tenants::by_slug(&app.db, tenant_slug)
        .await?
        .ok_or(FedError::UnknownTenant)?;
    // The provider must be there for the link to lead anywhere.
    providers::client(app, &tenant.id, kind).await?;
    let account = accounts::by_login(&app.db, &tenant.id, login_name)
        .await?
        .ok_or(FedError::App(AppError::NotFound))?;
    let token = pending::random_secret();
    pending::keep(
        app,
        &tenant.id,
        path_of(kind),
        RELINK,
        &token,
        "",
        &Relink {
            account_id: account.id.clone(),
        },
        RELINK_TTL_MS,
    )
    .await?;
    let mut tx = app.db.begin_write().await?;
    let removed = federation::unlink_kind(&mut tx, &tenant.id, &account.id, path_of(kind)).await?;
    journal::append(
        &mut tx,
        &tenant.id,
        app.now(),
        &NewEntry::new(actor, "identity.unlink", "account", &account.id)
            .citizen(
                liasse_domain::policy::is_vault_account(&account.role).then(|| account.id.clone()),
            )
            .basis("admin", "")
            .details(serde_json::json!({ "provider": kind.label(), "removed": removed })),
    )
    .await?;
    tx.commit().await?;
    Ok(Issued {
        url: format!(
            "{}/auth/{}/rattacher?jeton={token}",
            app.config.public_url().trim_end_matches('/'),
            path_of(kind)
        ),
        removed,
    })
}

/// [`issue`] by an admin of the tenant, asked of the policy.
pub async fn issue_as(
    app: &App,
    p: &Principal,
    login_name: &str,
    kind: ProviderKind,
) -> Result<Issued> {
    p.authorize(&Access::Administer(Task::Settings))?;
    let slug = liasse_app::tenants::by_id(app, &p.tenant_id).await?.slug;
    issue(app, &slug, p.actor(), login_name, kind).await
}

const RELINK_REFUSALS: Refusals = Refusals {
    missing: || FedError::ChoiceExpired,
    expired: || FedError::ChoiceExpired,
};

/// Following the link: takes it (single use) and begins the login whose subject will be
/// linked to the account.
pub async fn begin(app: &App, kind: ProviderKind, token: &str, browser: &str) -> Result<String> {
    let taken: pending::Taken<Relink> =
        pending::take(app, RELINK, token, None, &RELINK_REFUSALS).await?;
    if taken.kind != path_of(kind) {
        return Err(FedError::ChoiceExpired);
    }
    login::begin_for(
        app,
        &taken.tenant_id,
        kind,
        browser,
        Some(taken.payload.account_id),
    )
    .await
}

/// The callback of a re-link login: the subject goes to the account, unless it is already
/// another account's.
pub(crate) async fn complete(
    app: &App,
    tenant_id: &str,
    kind: ProviderKind,
    account_id: &str,
    identity: Identity,
) -> Result<Outcome> {
    let account = accounts::by_id(&app.db, tenant_id, account_id)
        .await?
        .ok_or(FedError::App(AppError::NotFound))?;
    match federation::identity(&app.db, tenant_id, &identity.issuer, &identity.sub).await? {
        Some(existing) if existing.account_id == account.id => {}
        Some(_) => {
            return Err(AppError::invalid(
                "identity-linked-elsewhere",
                "cette identité est déjà rattachée à un autre compte ; adressez-vous à votre mairie",
            )
            .into());
        }
        None => login::link(app, kind, &account, &identity, "relink").await?,
    }
    login::open(app, kind, account, &identity).await
}
