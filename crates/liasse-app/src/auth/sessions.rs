//! Who is calling: a principal from a token, a session or a login; logging in and out.

use super::*;

/// The principal of an account named on the command line, for commands where the operator
/// acts for the account holder (`liasse export`). Unknown tenants and logins are "not found";
/// a disabled account stays refused, as it is at login.
pub async fn principal_for_login(app: &App, tenant_slug: &str, login: &str) -> Result<Principal> {
    let account = account_by_login(app, tenant_slug, login).await?;
    if account.disabled {
        return Err(AppError::invalid(
            "account-disabled",
            "ce compte est désactivé",
        ));
    }
    Principal::load(app, account, "").await
}

/// Resolves a bearer token; `None` for unknown, revoked or expired tokens and disabled accounts.
pub async fn principal_from_token(app: &App, token: &str) -> Result<Option<Principal>> {
    if token.len() > 200 {
        return Ok(None);
    }
    match accounts::by_token_hash(&app.db, &secret_hash(token), app.now()).await? {
        Some((a, _)) if a.disabled => Ok(None),
        Some((a, scopes)) => Principal::load(app, a, &scopes).await.map(Some),
        None => Ok(None),
    }
}

/// Resolves a session cookie to its principal and CSRF token.
pub async fn principal_from_session(
    app: &App,
    session: &str,
) -> Result<Option<(Principal, String)>> {
    if session.len() > 200 {
        return Ok(None);
    }
    match accounts::by_session(&app.db, &secret_hash(session), app.now()).await? {
        Some((a, _)) if a.disabled => Ok(None),
        Some((a, csrf)) => Ok(Some((Principal::load(app, a, "").await?, csrf))),
        None => Ok(None),
    }
}

/// Sessions last 8 hours.
pub(super) const SESSION_MS: i64 = 8 * 3600 * 1000;

/// A new session after a password login: (session secret, CSRF token). An account that
/// must give a second factor (see [`password_login`]) gets no session here: it is refused
/// with `second-factor-required`, and logs in through the pages (or uses an API token).
pub async fn login(
    app: &App,
    tenant_slug: &str,
    login: &str,
    password: &str,
    client: &str,
) -> Result<(String, String, Principal)> {
    match password_login(app, tenant_slug, login, password, client).await? {
        PasswordLogin::Session(session, csrf, principal) => Ok((session, csrf, principal)),
        PasswordLogin::SecondFactor { .. } => Err(AppError::invalid(
            "second-factor-required",
            "ce compte demande un code de second facteur : connectez-vous par la page de connexion, ou utilisez un jeton d'API",
        )),
    }
}

/// What the next step of a second factor is, after the right password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecondStep {
    /// The account has a confirmed TOTP: a code (or a recovery code) is asked.
    Code,
    /// An admin of a tenant that requires a second factor has none: they enrol first.
    Enrol,
}

/// The outcome of the right password.
pub enum PasswordLogin {
    /// No second factor: the session is open.
    Session(String, String, Principal),
    /// No session yet: the caller asks for the second factor (liasse-mfa).
    SecondFactor {
        account: AccountRow,
        step: SecondStep,
    },
}

/// The tenant setting that requires admins to have a second factor.
pub const REQUIRE_ADMIN_TOTP: &str = "require_admin_totp";

/// Whether the tenant requires a second factor of its admins.
pub fn requires_admin_totp(settings: &serde_json::Value) -> bool {
    settings
        .get(REQUIRE_ADMIN_TOTP)
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false)
}

/// Checks a password (through the login limiter) and returns the account, or `Unauthorized`.
pub async fn check_password(
    app: &App,
    tenant_slug: &str,
    login: &str,
    password: &str,
    client: &str,
) -> Result<(tenants::Tenant, AccountRow)> {
    let key = format!("{tenant_slug}\u{0}{login}");
    app.login_limiter.check(&key, client, app.now())?;
    let tenant = tenants::by_slug(&app.db, tenant_slug).await?;
    let account = match &tenant {
        Some(t) => accounts::by_login(&app.db, &t.id, login).await?,
        None => None,
    };
    let ok = match &account {
        Some(a) if !a.disabled => a
            .password_hash
            .as_deref()
            .is_some_and(|h| verify_password(password, h)),
        _ => {
            // Spend the same time as a real check so that response time does not reveal
            // which logins exist.
            let _ = hash_password(password);
            false
        }
    };
    let (Some(tenant), Some(account), true) = (tenant, account, ok) else {
        app.login_limiter.failed(&key, client, app.now());
        return Err(AppError::Unauthorized);
    };
    app.login_limiter.succeeded(&key, client, app.now());
    Ok((tenant, account))
}

/// A password login: the session, or the second factor it still needs. Staff who log in with
/// a password give a code when they enrolled a TOTP; an admin of a tenant that requires one
/// enrols before anything else.
pub async fn password_login(
    app: &App,
    tenant_slug: &str,
    login: &str,
    password: &str,
    client: &str,
) -> Result<PasswordLogin> {
    let (tenant, account) = check_password(app, tenant_slug, login, password, client).await?;
    let step = if liasse_store::second_factor::has_confirmed_totp(&app.db, &tenant.id, &account.id)
        .await?
    {
        Some(SecondStep::Code)
    } else if Role::parse(&account.role).is_some_and(|role| {
        liasse_domain::policy::second_factor_required(role, requires_admin_totp(&tenant.settings))
    }) {
        Some(SecondStep::Enrol)
    } else {
        None
    };
    match step {
        Some(step) => Ok(PasswordLogin::SecondFactor { account, step }),
        None => {
            let (session, csrf, principal) =
                open_session(app, account, ("password", ""), None).await?;
            Ok(PasswordLogin::Session(session, csrf, principal))
        }
    }
}

/// How a session was opened through an identity provider: its kind and the ID token, which
/// the provider's logout asks back.
pub struct Federated<'a> {
    pub provider: &'a str,
    pub id_token: &'a str,
}

/// Opens a session for an account whose holder was just authenticated (a password, an
/// identity provider), with its journal entry: (session secret, CSRF token, principal).
/// `basis` is what the journal says authenticated them: ("password", ""), or the provider
/// and the level of assurance (`acr`) it returned.
pub async fn open_session(
    app: &App,
    account: AccountRow,
    basis: (&str, &str),
    federated: Option<Federated<'_>>,
) -> Result<(String, String, Principal)> {
    if account.disabled {
        return Err(AppError::Unauthorized);
    }
    let session = new_secret("lsess");
    let csrf = new_secret("csrf");
    let now = app.now();
    let tenant_id = account.tenant_id.clone();
    let mut tx = app.db.begin_write().await?;
    accounts::insert_session(
        &mut tx,
        &secret_hash(&session),
        &tenant_id,
        &account.id,
        &csrf,
        now,
        now + SESSION_MS,
    )
    .await?;
    if let Some(f) = &federated {
        liasse_store::federation::set_session_provider(
            &mut tx,
            &secret_hash(&session),
            f.provider,
            f.id_token,
        )
        .await?;
    }
    let principal = Principal::load(app, account, "").await?;
    journal::append(
        &mut tx,
        &tenant_id,
        now,
        &NewEntry::new(
            principal.actor(),
            "session.login",
            "account",
            &principal.account_id,
        )
        .citizen(
            principal
                .role
                .has_vault()
                .then(|| principal.account_id.clone()),
        )
        .basis(basis.0, basis.1),
    )
    .await?;
    tx.commit().await?;
    Ok((session, csrf, principal))
}

pub async fn logout(app: &App, session: &str) -> Result<()> {
    let mut tx = app.db.begin_write().await?;
    accounts::delete_session(&mut tx, &secret_hash(session)).await?;
    tx.commit().await?;
    Ok(())
}

/// "Réessayez dans …" of a refused login: the delays start at one second, so minutes alone
/// would say a minute for a second.
pub fn retry_wait_fr(secs: u64) -> String {
    match secs {
        0 | 1 => "1 seconde".into(),
        2..=59 => format!("{secs} secondes"),
        _ => match secs.div_ceil(60) {
            1 => "1 minute".into(),
            m => format!("{m} minutes"),
        },
    }
}
