//! A login through a provider: [`begin`] when the button is clicked, [`callback`] when the
//! provider sends the browser back.

use liasse_app::app::App;
use liasse_app::auth::{self, Federated, Principal};
use liasse_app::error::AppError;
use liasse_oidc::{
    CallbackQuery, Claims, Identity, OidcError, ProviderKind, client::PENDING_MAX_AGE,
};
use liasse_store::accounts::{self, AccountRow};
use liasse_store::federation::{self, IdentityRow};
use liasse_store::tenants;
use serde::{Deserialize, Serialize};

use crate::error::{FedError, Result};
use crate::pending::{self, CALLBACK, CHOICE, Refusals};
use crate::{path_of, providers};

/// How long a first-login choice waits for the citizen.
pub const CHOICE_TTL_MS: i64 = 15 * 60 * 1000;

/// What a login waiting for its callback holds.
#[derive(Serialize, Deserialize)]
pub(crate) struct AtProvider {
    pub pending: liasse_oidc::Pending,
    /// An admin's re-link: the account the new subject goes to.
    pub relink_account: Option<String>,
}

/// Begins a login at the tenant's provider for the browser holding the cookie `browser`:
/// the URL to send it to.
pub async fn begin(
    app: &App,
    tenant_slug: &str,
    kind: ProviderKind,
    browser: &str,
) -> Result<String> {
    let tenant = tenants::by_slug(&app.db, tenant_slug)
        .await?
        .ok_or(FedError::UnknownTenant)?;
    begin_for(app, &tenant.id, kind, browser, None).await
}

pub(crate) async fn begin_for(
    app: &App,
    tenant_id: &str,
    kind: ProviderKind,
    browser: &str,
    relink_account: Option<String>,
) -> Result<String> {
    let (_, client) = providers::client(app, tenant_id, kind).await?;
    let started = client.begin().await?;
    let state = started.pending.state.clone();
    let ttl = i64::try_from(PENDING_MAX_AGE.as_millis()).unwrap_or(i64::MAX);
    pending::keep(
        app,
        tenant_id,
        path_of(kind),
        CALLBACK,
        &state,
        browser,
        &AtProvider {
            pending: started.pending,
            relink_account,
        },
        ttl,
    )
    .await?;
    Ok(started.authorize_url)
}

/// Where a callback leads.
pub enum Outcome {
    /// A session is open: (session secret, CSRF token, who).
    Session {
        session: String,
        csrf: String,
        principal: Box<Principal>,
    },
    /// A citizen's first login: the choice page, under this id (a cookie of the browser).
    FirstLogin { choice_id: String },
}

const CALLBACK_REFUSALS: Refusals = Refusals {
    missing: || FedError::Oidc(OidcError::StateUnknown),
    expired: || FedError::Oidc(OidcError::PendingExpired),
};

/// Finishes a login from the callback's raw query and the browser's cookie.
pub async fn callback(
    app: &App,
    kind: ProviderKind,
    query: &str,
    browser: Option<&str>,
) -> Result<Outcome> {
    let q = CallbackQuery::parse(query);
    if let Some(code) = q.error {
        // The provider's refusal (the user cancelled): the login it answers is over.
        if let (Some(state), Some(browser)) = (q.state.as_deref(), browser) {
            let _ = pending::take::<AtProvider>(
                app,
                CALLBACK,
                state,
                Some(browser),
                &CALLBACK_REFUSALS,
            )
            .await;
        }
        return Err(OidcError::ProviderError {
            code,
            description: q.error_description,
        }
        .into());
    }
    let Some(state) = q.state.as_deref() else {
        return Err(OidcError::StateMissing.into());
    };
    let browser = browser.ok_or(FedError::Oidc(OidcError::StateUnknown))?;
    // Taken before anything else: a replayed or forged callback finds nothing next time.
    let taken: pending::Taken<AtProvider> =
        pending::take(app, CALLBACK, state, Some(browser), &CALLBACK_REFUSALS).await?;
    if taken.kind != path_of(kind) {
        return Err(OidcError::StateUnknown.into());
    }
    let tenant_id = taken.tenant_id;
    let (settings, client) = providers::client(app, &tenant_id, kind).await?;
    let identity = client.finish(&taken.payload.pending, &q).await?;
    if let Some(account_id) = taken.payload.relink_account {
        return crate::relink::complete(app, &tenant_id, kind, &account_id, identity).await;
    }
    match kind {
        ProviderKind::FranceConnect => citizen(app, &tenant_id, browser, identity).await,
        ProviderKind::ProConnect => {
            agent(app, &tenant_id, &settings.allowed_sirets, identity).await
        }
    }
}

async fn account(app: &App, tenant_id: &str, account_id: &str) -> Result<AccountRow> {
    let account = accounts::by_id(&app.db, tenant_id, account_id)
        .await?
        .ok_or(FedError::App(AppError::NotFound))?;
    if account.disabled {
        return Err(AppError::invalid(
            "account-disabled",
            "ce compte est désactivé ; adressez-vous à votre mairie",
        )
        .into());
    }
    Ok(account)
}

/// Opens the session of a linked account, the journal saying through which provider and at
/// which level of assurance.
pub(crate) async fn open(
    app: &App,
    kind: ProviderKind,
    account: AccountRow,
    identity: &Identity,
) -> Result<Outcome> {
    let mut tx = app.db.begin_write().await?;
    federation::touch_identity(
        &mut tx,
        &account.tenant_id,
        &identity.issuer,
        &identity.sub,
        app.now(),
    )
    .await?;
    tx.commit().await?;
    let (session, csrf, principal) = auth::open_session(
        app,
        account,
        (path_of(kind), identity.acr.as_str()),
        Some(Federated {
            provider: path_of(kind),
            id_token: &identity.id_token,
        }),
    )
    .await?;
    Ok(Outcome::Session {
        session,
        csrf,
        principal: Box::new(principal),
    })
}

async fn citizen(app: &App, tenant_id: &str, browser: &str, identity: Identity) -> Result<Outcome> {
    if let Some(link) =
        federation::identity(&app.db, tenant_id, &identity.issuer, &identity.sub).await?
    {
        let account = account(app, tenant_id, &link.account_id).await?;
        return open(app, ProviderKind::FranceConnect, account, &identity).await;
    }
    // An unknown subject: the citizen chooses between a new account and an existing one.
    let choice_id = pending::random_secret();
    pending::keep(
        app,
        tenant_id,
        path_of(ProviderKind::FranceConnect),
        CHOICE,
        &choice_id,
        browser,
        &identity,
        CHOICE_TTL_MS,
    )
    .await?;
    Ok(Outcome::FirstLogin { choice_id })
}

async fn agent(
    app: &App,
    tenant_id: &str,
    allowed_sirets: &[String],
    identity: Identity,
) -> Result<Outcome> {
    let Claims::ProConnect(claims) = &identity.claims else {
        return Err(OidcError::Malformed("not ProConnect claims".into()).into());
    };
    if !allowed_sirets.is_empty() && !allowed_sirets.contains(&claims.siret) {
        return Err(FedError::SiretNotAllowed);
    }
    let kind = ProviderKind::ProConnect;
    if let Some(link) =
        federation::identity(&app.db, tenant_id, &identity.issuer, &identity.sub).await?
    {
        let account = account(app, tenant_id, &link.account_id).await?;
        return open(app, kind, account, &identity).await;
    }
    // First login: the staff account an admin created with this professional address, if it
    // is not linked to another ProConnect subject already. Never a new account.
    let mut found = None;
    for a in accounts::staff_by_email(&app.db, tenant_id, &claims.email).await? {
        let linked = federation::identities_of(&app.db, tenant_id, &a.id)
            .await?
            .into_iter()
            .any(|i| i.kind == path_of(kind));
        if !linked && !a.disabled {
            found = Some(a);
            break;
        }
    }
    let account = found.ok_or(FedError::NoStaffAccount)?;
    link(app, kind, &account, &identity, "proconnect-email").await?;
    open(app, kind, account, &identity).await
}

/// Links the identity to the account, journalled ("identity.link", with how it was matched).
pub(crate) async fn link(
    app: &App,
    kind: ProviderKind,
    account: &AccountRow,
    identity: &Identity,
    how: &str,
) -> Result<()> {
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    federation::link(
        &mut tx,
        &IdentityRow {
            tenant_id: account.tenant_id.clone(),
            issuer: identity.issuer.clone(),
            sub: identity.sub.clone(),
            kind: path_of(kind).into(),
            account_id: account.id.clone(),
            created_at: now,
            last_login_at: now,
        },
    )
    .await?;
    journal_link(&mut tx, app, account, kind, how, identity.acr.as_str()).await?;
    tx.commit().await?;
    Ok(())
}

pub(crate) async fn journal_link(
    tx: &mut liasse_store::WriteTx,
    app: &App,
    account: &AccountRow,
    kind: ProviderKind,
    how: &str,
    acr: &str,
) -> Result<()> {
    use liasse_domain::journal::{Actor, NewEntry};
    let actor = Actor {
        kind: account.role.clone(),
        id: account.id.clone(),
        label: account.display_name.clone(),
        service: String::new(),
    };
    liasse_store::journal::append(
        tx,
        &account.tenant_id,
        app.now(),
        &NewEntry::new(actor, "identity.link", "account", &account.id)
            .citizen(
                liasse_domain::policy::is_vault_account(&account.role).then(|| account.id.clone()),
            )
            .basis(path_of(kind), acr)
            .details(serde_json::json!({ "provider": kind.label(), "matched_by": how })),
    )
    .await?;
    Ok(())
}
