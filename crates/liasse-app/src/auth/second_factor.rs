//! The staff's second factor: a TOTP (RFC 6238) with single-use recovery codes.
//!
//! The seed is a sealed secret of the tenant (`totp:ACCOUNT`, see [`crate::secrets`]), so a
//! copy of the database reveals none; `totp_factors` says whether it was confirmed and which
//! time step was used last, so that a code opens at most one session. A password login of an
//! account that must give a code does not open a session: it leaves a waiting login, keyed by
//! the hash of a secret held in the browser's cookie, that the code then completes. Wrong codes
//! are counted by the login limiter, as wrong passwords are, and a waiting login dies after
//! [`MAX_FAILURES`] of them.

use liasse_crypto::{TotpSecret, recovery};
use liasse_domain::journal::{Actor, NewEntry};
use liasse_store::second_factor::{self as store, PendingLogin};
use liasse_store::{WriteTx, accounts, journal, tenants};

use super::*;

/// How long the code may be typed after the password: ten minutes.
pub const PENDING_MS: i64 = 10 * 60 * 1000;
/// Wrong codes before a waiting login is dropped (the password is asked again).
pub const MAX_FAILURES: i64 = 5;
/// Recovery codes handed out at enrolment (and each time they are renewed).
pub const RECOVERY_CODES: usize = 10;

fn seed_name(account_id: &str) -> String {
    format!("totp:{account_id}")
}

/// The limiter's key for an account's codes: apart from its passwords', counted alike.
fn limiter_key(tenant_id: &str, account_id: &str) -> String {
    format!("totp\u{0}{tenant_id}\u{0}{account_id}")
}

fn stage_code(step: SecondStep) -> &'static str {
    match step {
        SecondStep::Code => "code",
        SecondStep::Enrol => "enrol",
    }
}

fn unix_seconds(now_ms: i64) -> u64 {
    u64::try_from(now_ms / 1000).unwrap_or(0)
}

fn wrong_code() -> AppError {
    AppError::invalid(
        "second-factor-invalid",
        "ce code n'est pas le bon, ou il a déjà servi : saisissez le code affiché maintenant par votre application, ou un code de secours",
    )
}

fn expired() -> AppError {
    AppError::invalid(
        "second-factor-expired",
        "cette connexion a expiré ou a été interrompue après trop d'essais : saisissez de nouveau votre identifiant et votre mot de passe",
    )
}

/// What an authenticator application enrols from.
pub struct Enrolment {
    /// The `otpauth://` URI, shown as a QR code.
    pub uri: String,
    /// The secret in base32, for those who type it.
    pub secret: String,
}

/// Where a staff member's second factor stands.
pub struct Status {
    /// Since when a confirmed factor protects the account.
    pub confirmed_at: Option<i64>,
    /// Recovery codes not used yet.
    pub recovery_left: usize,
    /// Whether the account must keep one (an admin of a tenant that requires it).
    pub required: bool,
}

/// A login that gave its password and waits for its code.
pub struct Waiting {
    pub account: AccountRow,
    pub step: SecondStep,
    /// For an enrolment at login: what the application scans.
    pub enrolment: Option<Enrolment>,
}

/// The session a right code opened, with the recovery codes to show once when the login was
/// also the enrolment.
pub struct Opened {
    pub session: String,
    pub csrf: String,
    pub principal: Principal,
    pub recovery_codes: Option<Vec<String>>,
}

async fn tenant_of(app: &App, tenant_id: &str) -> Result<tenants::Tenant> {
    tenants::by_id(&app.db, tenant_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// Whether the account must keep a factor: the policy's rule over the tenant's setting.
fn required_of(account: &AccountRow, tenant: &tenants::Tenant) -> bool {
    Role::parse(&account.role).is_some_and(|role| {
        liasse_domain::policy::second_factor_required(role, requires_admin_totp(&tenant.settings))
    })
}

/// A new seed, unconfirmed, in `tx` (replacing an unconfirmed one).
async fn new_seed(app: &App, tx: &mut WriteTx, account: &AccountRow) -> Result<()> {
    let secret = TotpSecret::generate()?;
    store::begin_totp(tx, &account.tenant_id, &account.id, app.now()).await?;
    crate::secrets::put(
        app,
        tx,
        &account.tenant_id,
        &seed_name(&account.id),
        secret.as_bytes(),
    )
    .await
}

async fn seed(app: &App, account: &AccountRow) -> Result<Option<TotpSecret>> {
    Ok(
        crate::secrets::get(app, &account.tenant_id, &seed_name(&account.id))
            .await?
            .map(|bytes| TotpSecret::from_bytes(&bytes)),
    )
}

async fn enrolment_of(app: &App, account: &AccountRow) -> Result<Enrolment> {
    let secret = seed(app, account).await?.ok_or(AppError::NotFound)?;
    let tenant = tenant_of(app, &account.tenant_id).await?;
    Ok(Enrolment {
        uri: secret.otpauth_uri(&tenant.name, &account.login),
        secret: secret.to_base32(),
    })
}

fn journal_entry(actor: Actor, action: &str, account: &AccountRow) -> NewEntry {
    NewEntry::new(actor, action, "account", &account.id)
        .details(serde_json::json!({ "login": account.login }))
}

/// Checks a TOTP code against the account's seed and spends its step in `tx`: `Ok(false)` for
/// a wrong code or a step already used.
async fn spend_code(app: &App, tx: &mut WriteTx, account: &AccountRow, code: &str) -> Result<bool> {
    let (Some(secret), Some(row)) = (
        seed(app, account).await?,
        store::totp(&app.db, &account.tenant_id, &account.id).await?,
    ) else {
        return Ok(false);
    };
    let last = row.last_step.and_then(|s| u64::try_from(s).ok());
    let Some(step) = secret.verify(code, unix_seconds(app.now()), last) else {
        return Ok(false);
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    Ok(store::use_step(tx, &account.tenant_id, &account.id, step).await?)
}

/// New recovery codes for the account, in `tx`: the codes to show once.
async fn new_recovery_codes(
    app: &App,
    tx: &mut WriteTx,
    account: &AccountRow,
) -> Result<Vec<String>> {
    let codes = recovery::generate(RECOVERY_CODES)?;
    store::set_recovery_codes(
        tx,
        &account.tenant_id,
        &account.id,
        &codes.hashes,
        app.now(),
    )
    .await?;
    Ok(codes.codes)
}

/// The code (TOTP, or a recovery code when it does not look like one) checked and spent in
/// `tx`; the session basis it gives, or `None` when it is wrong.
async fn spend_code_or_recovery(
    app: &App,
    tx: &mut WriteTx,
    account: &AccountRow,
    code: &str,
) -> Result<Option<&'static str>> {
    let digits = code.chars().filter(|c| !c.is_whitespace()).count();
    if digits == liasse_crypto::totp::DIGITS {
        return Ok(spend_code(app, tx, account, code)
            .await?
            .then_some("password+totp"));
    }
    let stored = store::unused_recovery_codes(&app.db, &account.tenant_id, &account.id).await?;
    let Some(index) = recovery::find(code, &stored) else {
        return Ok(None);
    };
    let spent = store::spend_recovery_code(
        tx,
        &account.tenant_id,
        &account.id,
        &stored[index],
        app.now(),
    )
    .await?;
    Ok(spent.then_some("password+recovery"))
}

/// A password login that must give a second factor: the waiting login, and the secret for the
/// browser's cookie. For an enrolment at login (an admin who must have one), the seed is made
/// now, so that the page shows the same QR code each time it is opened.
pub async fn begin_login(app: &App, account: &AccountRow, step: SecondStep) -> Result<String> {
    let secret = new_secret("l2fa");
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    if step == SecondStep::Enrol {
        new_seed(app, &mut tx, account).await?;
    }
    store::insert_pending(
        &mut tx,
        &PendingLogin {
            id_hash: secret_hash(&secret),
            tenant_id: account.tenant_id.clone(),
            account_id: account.id.clone(),
            stage: stage_code(step).into(),
            failures: 0,
            created_at: now,
            expires_at: now + PENDING_MS,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

async fn pending_of(app: &App, secret: &str) -> Result<(PendingLogin, AccountRow)> {
    if secret.is_empty() || secret.len() > 200 {
        return Err(expired());
    }
    let pending = store::pending(&app.db, &secret_hash(secret), app.now())
        .await?
        .ok_or_else(expired)?;
    let account = accounts::by_id(&app.db, &pending.tenant_id, &pending.account_id)
        .await?
        .filter(|a| !a.disabled)
        .ok_or_else(expired)?;
    Ok((pending, account))
}

/// The waiting login of a cookie: what the code page shows.
pub async fn waiting(app: &App, secret: &str) -> Result<Waiting> {
    let (pending, account) = pending_of(app, secret).await?;
    let step = if pending.stage == "enrol" {
        SecondStep::Enrol
    } else {
        SecondStep::Code
    };
    let enrolment = match step {
        SecondStep::Enrol => Some(enrolment_of(app, &account).await?),
        SecondStep::Code => None,
    };
    Ok(Waiting {
        account,
        step,
        enrolment,
    })
}

/// Completes a waiting login with its code: the session, or the error to show. A wrong code
/// counts against the waiting login and in the limiter; the waiting login is single use.
pub async fn finish_login(app: &App, secret: &str, code: &str, client: &str) -> Result<Opened> {
    let (pending, account) = pending_of(app, secret).await?;
    let key = limiter_key(&account.tenant_id, &account.id);
    app.login_limiter.check(&key, client, app.now())?;
    let enrol = pending.stage == "enrol";
    let mut tx = app.db.begin_write().await?;
    let basis = if enrol {
        spend_code(app, &mut tx, &account, code)
            .await?
            .then_some("password+totp")
    } else {
        spend_code_or_recovery(app, &mut tx, &account, code).await?
    };
    let Some(basis) = basis else {
        let failures = store::pending_failed(&mut tx, &pending.id_hash, MAX_FAILURES).await?;
        tx.commit().await?;
        app.login_limiter.failed(&key, client, app.now());
        return Err(if failures >= MAX_FAILURES {
            expired()
        } else {
            wrong_code()
        });
    };
    if !store::take_pending(&mut tx, &pending.id_hash).await? {
        return Err(expired());
    }
    let actor = Principal::load(app, account.clone(), "").await?.actor();
    let recovery_codes = if enrol {
        store::confirm_totp(&mut tx, &account.tenant_id, &account.id, app.now()).await?;
        let codes = new_recovery_codes(app, &mut tx, &account).await?;
        journal::append(
            &mut tx,
            &account.tenant_id,
            app.now(),
            &journal_entry(actor, "second_factor.enrol", &account),
        )
        .await?;
        Some(codes)
    } else {
        if basis == "password+recovery" {
            journal::append(
                &mut tx,
                &account.tenant_id,
                app.now(),
                &journal_entry(actor, "second_factor.recovery_code", &account),
            )
            .await?;
        }
        None
    };
    tx.commit().await?;
    app.login_limiter.succeeded(&key, client, app.now());
    let (session, csrf, principal) = open_session(app, account, (basis, ""), None).await?;
    Ok(Opened {
        session,
        csrf,
        principal,
        recovery_codes,
    })
}

/// A login in one call (the API): the password, then the code when the account has a factor.
/// An account that must first enrol does so on the pages.
pub async fn login_with_code(
    app: &App,
    tenant_slug: &str,
    login: &str,
    password: &str,
    code: Option<&str>,
    client: &str,
) -> Result<(String, String, Principal)> {
    match password_login(app, tenant_slug, login, password, client).await? {
        PasswordLogin::Session(session, csrf, principal) => Ok((session, csrf, principal)),
        PasswordLogin::SecondFactor {
            step: SecondStep::Enrol,
            ..
        } => Err(AppError::invalid(
            "second-factor-enrolment-required",
            "ce compte doit d'abord activer son second facteur : connectez-vous par la page de connexion",
        )),
        PasswordLogin::SecondFactor { account, .. } => {
            let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
                return Err(AppError::invalid(
                    "second-factor-required",
                    "ce compte demande un code de second facteur : ajoutez le champ « code » (le code de votre application, ou un code de secours)",
                ));
            };
            let secret = begin_login(app, &account, SecondStep::Code).await?;
            let opened = finish_login(app, &secret, code, client).await;
            if opened.is_err() {
                // The waiting login served this call only.
                let mut tx = app.db.begin_write().await?;
                store::take_pending(&mut tx, &secret_hash(&secret)).await?;
                tx.commit().await?;
            }
            let opened = opened?;
            Ok((opened.session, opened.csrf, opened.principal))
        }
    }
}

/// Where the principal's own factor stands.
pub async fn status(app: &App, p: &Principal) -> Result<Status> {
    p.authorize(&liasse_domain::policy::Access::OwnSecondFactor)?;
    let account = own_account(app, p).await?;
    let tenant = tenant_of(app, &p.tenant_id).await?;
    let row = store::totp(&app.db, &p.tenant_id, &p.account_id).await?;
    let confirmed_at = row.and_then(|r| r.confirmed_at);
    let recovery_left = if confirmed_at.is_some() {
        store::unused_recovery_codes(&app.db, &p.tenant_id, &p.account_id)
            .await?
            .len()
    } else {
        0
    };
    Ok(Status {
        confirmed_at,
        recovery_left,
        required: required_of(&account, &tenant),
    })
}

async fn own_account(app: &App, p: &Principal) -> Result<AccountRow> {
    accounts::by_id(&app.db, &p.tenant_id, &p.account_id)
        .await?
        .ok_or(AppError::NotFound)
}

fn already_enrolled() -> AppError {
    AppError::invalid(
        "second-factor-exists",
        "un second facteur protège déjà ce compte : désactivez-le d'abord (avec un code) pour en installer un autre",
    )
}

/// Starts the principal's enrolment: a new seed, not active until a first code confirms it.
pub async fn start_enrolment(app: &App, p: &Principal) -> Result<Enrolment> {
    p.authorize(&liasse_domain::policy::Access::OwnSecondFactor)?;
    let account = own_account(app, p).await?;
    if store::has_confirmed_totp(&app.db, &p.tenant_id, &p.account_id).await? {
        return Err(already_enrolled());
    }
    let mut tx = app.db.begin_write().await?;
    new_seed(app, &mut tx, &account).await?;
    tx.commit().await?;
    enrolment_of(app, &account).await
}

/// The enrolment in progress, to show it again (a wrong first code).
pub async fn pending_enrolment(app: &App, p: &Principal) -> Result<Option<Enrolment>> {
    p.authorize(&liasse_domain::policy::Access::OwnSecondFactor)?;
    let account = own_account(app, p).await?;
    match store::totp(&app.db, &p.tenant_id, &p.account_id).await? {
        Some(row) if row.confirmed_at.is_none() => enrolment_of(app, &account).await.map(Some),
        _ => Ok(None),
    }
}

/// Confirms the enrolment with a first code: the recovery codes, shown once.
pub async fn confirm_enrolment(
    app: &App,
    p: &Principal,
    code: &str,
    client: &str,
) -> Result<Vec<String>> {
    p.authorize(&liasse_domain::policy::Access::OwnSecondFactor)?;
    let account = own_account(app, p).await?;
    match store::totp(&app.db, &p.tenant_id, &p.account_id).await? {
        Some(row) if row.confirmed_at.is_none() => {}
        Some(_) => return Err(already_enrolled()),
        None => {
            return Err(AppError::invalid(
                "second-factor-not-started",
                "aucune activation n'est en cours : commencez par « Activer le second facteur »",
            ));
        }
    }
    let key = limiter_key(&p.tenant_id, &p.account_id);
    app.login_limiter.check(&key, client, app.now())?;
    let mut tx = app.db.begin_write().await?;
    if !spend_code(app, &mut tx, &account, code).await? {
        app.login_limiter.failed(&key, client, app.now());
        return Err(wrong_code());
    }
    store::confirm_totp(&mut tx, &p.tenant_id, &p.account_id, app.now()).await?;
    let codes = new_recovery_codes(app, &mut tx, &account).await?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        app.now(),
        &journal_entry(p.actor(), "second_factor.enrol", &account),
    )
    .await?;
    tx.commit().await?;
    app.login_limiter.succeeded(&key, client, app.now());
    Ok(codes)
}

/// Checks a current code of the principal's confirmed factor (what renewing the codes or
/// removing the factor asks), spending it.
async fn prove(
    app: &App,
    tx: &mut WriteTx,
    account: &AccountRow,
    code: &str,
    client: &str,
) -> Result<()> {
    let key = limiter_key(&account.tenant_id, &account.id);
    app.login_limiter.check(&key, client, app.now())?;
    if !store::has_confirmed_totp(&app.db, &account.tenant_id, &account.id).await? {
        return Err(AppError::invalid(
            "second-factor-absent",
            "aucun second facteur n'est activé sur ce compte",
        ));
    }
    if !spend_code(app, tx, account, code).await? {
        app.login_limiter.failed(&key, client, app.now());
        return Err(wrong_code());
    }
    app.login_limiter.succeeded(&key, client, app.now());
    Ok(())
}

/// New recovery codes (the old ones stop working), against a current code.
pub async fn renew_recovery_codes(
    app: &App,
    p: &Principal,
    code: &str,
    client: &str,
) -> Result<Vec<String>> {
    p.authorize(&liasse_domain::policy::Access::OwnSecondFactor)?;
    let account = own_account(app, p).await?;
    let mut tx = app.db.begin_write().await?;
    prove(app, &mut tx, &account, code, client).await?;
    let codes = new_recovery_codes(app, &mut tx, &account).await?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        app.now(),
        &journal_entry(p.actor(), "second_factor.recovery_renew", &account),
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Removes the principal's factor against a current code; refused when they must keep one.
pub async fn disable(app: &App, p: &Principal, code: &str, client: &str) -> Result<()> {
    p.authorize(&liasse_domain::policy::Access::OwnSecondFactor)?;
    let account = own_account(app, p).await?;
    let tenant = tenant_of(app, &p.tenant_id).await?;
    if required_of(&account, &tenant) {
        return Err(AppError::invalid(
            "second-factor-required-by-tenant",
            "votre collectivité exige un second facteur pour les administrateurs : il ne peut pas être désactivé",
        ));
    }
    let mut tx = app.db.begin_write().await?;
    prove(app, &mut tx, &account, code, client).await?;
    remove(app, &mut tx, &account).await?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        app.now(),
        &journal_entry(p.actor(), "second_factor.disable", &account),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn remove(_app: &App, tx: &mut WriteTx, account: &AccountRow) -> Result<bool> {
    let had = store::delete_totp(tx, &account.tenant_id, &account.id).await?;
    store::delete_pending_of(tx, &account.tenant_id, &account.id).await?;
    crate::secrets::delete(tx, &account.tenant_id, &seed_name(&account.id)).await?;
    Ok(had)
}

/// The operator's `liasse user reset-second-factor` (a lost phone and lost codes): removes the
/// factor, journalled; the holder enrols again at their next login or from their page.
/// `false` when the account had none.
pub async fn reset(app: &App, actor: Actor, tenant_slug: &str, login: &str) -> Result<bool> {
    let account = account_by_login(app, tenant_slug, login).await?;
    let mut tx = app.db.begin_write().await?;
    let had = remove(app, &mut tx, &account).await?;
    if had {
        journal::append(
            &mut tx,
            &account.tenant_id,
            app.now(),
            &journal_entry(actor, "second_factor.reset", &account).basis("admin", ""),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(had)
}

/// The operator's `liasse tenant second-factor SLUG --require-for-admins true|false`: whether
/// the tenant's admins must have a second factor (they enrol at their next password login).
pub async fn require_for_admins(
    app: &App,
    actor: Actor,
    tenant_slug: &str,
    on: bool,
) -> Result<()> {
    let tenant = tenants::by_slug(&app.db, tenant_slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut settings = tenant.settings.as_object().cloned().unwrap_or_default();
    settings.insert(REQUIRE_ADMIN_TOTP.into(), serde_json::Value::Bool(on));
    let settings = serde_json::Value::Object(settings);
    let mut tx = app.db.begin_write().await?;
    tenants::set_settings(&mut tx, &tenant.id, &settings).await?;
    journal::append(
        &mut tx,
        &tenant.id,
        app.now(),
        &NewEntry::new(actor, "tenant.settings", "tenant", &tenant.id)
            .details(serde_json::json!({ REQUIRE_ADMIN_TOTP: on })),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
