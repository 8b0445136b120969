//! Accounts, passwords, API tokens and the principal that every request acts as.

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use liasse_domain::clock::DAY_MS;
use liasse_domain::ids::new_id;
use liasse_domain::journal::{Actor, NewEntry};
use liasse_domain::policy::{ActorFacts, Right, Role, is_vault_account};
use liasse_store::accounts::{self, AccountRow, TokenInfo, TokenRow};
use liasse_store::{WriteTx, journal, staff, tenants};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::app::App;
use crate::error::{AppError, Result};

/// Who is acting, as resolved from a token or a session.
#[derive(Clone, Debug)]
pub struct Principal {
    pub tenant_id: String,
    pub account_id: String,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    /// The name of the account's service, for the journal and letters (a label).
    pub service: String,
    /// The id of the account's service (empty for none): what the deposit basis compares.
    pub service_id: String,
    pub scopes: Vec<String>,
    /// Rights per domain (agents and managers).
    pub rights: Vec<(String, Right)>,
}

impl Principal {
    pub fn facts(&self) -> ActorFacts<'_> {
        ActorFacts {
            tenant_id: &self.tenant_id,
            account_id: &self.account_id,
            role: self.role,
            service_id: &self.service_id,
            rights: &self.rights,
        }
    }

    /// How this principal appears in the journal.
    pub fn actor(&self) -> Actor {
        Actor {
            kind: self.role.code().into(),
            id: self.account_id.clone(),
            label: self.display_name.clone(),
            service: self.service.clone(),
        }
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    async fn load(app: &App, a: AccountRow, scopes: &str) -> Result<Self> {
        let rights = accounts::rights(&app.db, &a.tenant_id, &a.id)
            .await?
            .into_iter()
            .filter_map(|(d, l)| Right::parse(&l).map(|r| (d, r)))
            .collect();
        let role = Role::parse(&a.role)
            .ok_or_else(|| AppError::Internal(format!("unknown role {}", a.role)))?;
        let (service, service_id) = match staff::service_of(&app.db, &a.tenant_id, &a.id).await? {
            Some(s) => (s.name, s.id),
            None => (String::new(), String::new()),
        };
        Ok(Principal {
            tenant_id: a.tenant_id,
            account_id: a.id,
            login: a.login,
            display_name: a.display_name,
            role,
            service,
            service_id,
            scopes: scopes.split_whitespace().map(String::from).collect(),
            rights,
        })
    }
}

/// SHA-256 of a bearer secret: tokens and session ids are stored only as this.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new random secret with a recognisable prefix (so leaked tokens can be found by scanners).
pub fn new_secret(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    format!(
        "{prefix}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    )
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("argon2: {e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

pub struct NewUser<'a> {
    pub tenant_slug: &'a str,
    pub login: &'a str,
    pub role: Role,
    pub display_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub service: Option<&'a str>,
    pub rights: Vec<(String, String)>,
    pub password: Option<String>,
}

const RIGHT_LEVELS: [&str; 4] = ["none", "consult", "modify", "manage"];

/// Creates an account (the `liasse user create` command; the admin pages go through
/// `services::enrolment`, which never sets a password).
pub async fn create_user(app: &App, actor: Actor, u: NewUser<'_>) -> Result<AccountRow> {
    let mut tx = app.db.begin_write().await?;
    let account = create_user_in(&mut tx, app, actor, u).await?;
    tx.commit().await?;
    Ok(account)
}

/// [`create_user`] inside the caller's transaction (an enrolment link goes with it).
pub(crate) async fn create_user_in(
    tx: &mut WriteTx,
    app: &App,
    actor: Actor,
    u: NewUser<'_>,
) -> Result<AccountRow> {
    let tenant = tenants::by_slug(&app.db, u.tenant_slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let login = u.login.trim();
    if login.is_empty()
        || login.len() > 200
        || login.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(AppError::invalid(
            "invalid-login",
            "l'identifiant doit compter 1 à 200 caractères, sans espace",
        ));
    }
    for (domain, level) in &u.rights {
        if !RIGHT_LEVELS.contains(&level.as_str()) || domain.is_empty() {
            return Err(AppError::invalid(
                "invalid-right",
                format!("droit « {domain}={level} » invalide : consult, modify ou manage"),
            ));
        }
    }
    let password_hash = match &u.password {
        Some(p) => {
            crate::passwords::check_new_password(login, u.role, p)?;
            Some(hash_password(p)?)
        }
        None => None,
    };
    let now = app.now();
    let service_name = u.service.map(str::trim).unwrap_or_default();
    if service_name.chars().count() > 200 || service_name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "invalid-service",
            "le nom du service compte au plus 200 caractères, sans caractère de contrôle",
        ));
    }
    let known_service = if service_name.is_empty() {
        None
    } else {
        staff::service_by_name(&app.db, &tenant.id, service_name).await?
    };
    let account = AccountRow {
        id: new_id(),
        tenant_id: tenant.id.clone(),
        login: login.to_string(),
        role: u.role.code().into(),
        display_name: u.display_name.unwrap_or(login).to_string(),
        email: u.email.map(String::from),
        service: service_name.to_string(),
        password_hash,
        disabled: false,
        created_at: now,
    };
    accounts::insert(tx, &account).await?;
    // The operator names the service; it joins the tenant's list if it is not there yet.
    let service = match known_service {
        Some(s) => Some(s),
        None if !service_name.is_empty() => {
            let s = staff::ServiceRow {
                id: new_id(),
                tenant_id: tenant.id.clone(),
                name: service_name.to_string(),
                created_at: now,
            };
            staff::insert_service(tx, &s).await?;
            Some(s)
        }
        None => None,
    };
    staff::assign(tx, &tenant.id, &account.id, service.as_ref()).await?;
    for (domain, level) in &u.rights {
        accounts::set_right(tx, &tenant.id, &account.id, domain, level).await?;
    }
    journal::append(
        tx,
        &tenant.id,
        now,
        &NewEntry {
            actor,
            action: "account.create".into(),
            object_kind: "account".into(),
            object_id: account.id.clone(),
            citizen_id: u.role.has_vault().then(|| account.id.clone()),
            basis_kind: "admin".into(),
            basis_id: String::new(),
            details: serde_json::json!({ "role": account.role, "rights": u.rights, "service": account.service }),
        },
    )
    .await?;
    Ok(account)
}

/// The account `login` of the tenant `tenant_slug`, for the operator's commands.
async fn account_by_login(app: &App, tenant_slug: &str, login: &str) -> Result<AccountRow> {
    let tenant = tenants::by_slug(&app.db, tenant_slug)
        .await?
        .ok_or(AppError::NotFound)?;
    accounts::by_login(&app.db, &tenant.id, login)
        .await?
        .ok_or(AppError::NotFound)
}

/// Disables or re-enables an account and journals it (`account.disable` / `account.enable`).
/// Logins, sessions and tokens all check the flag, so the change takes effect at once. Does
/// nothing when the account is already in that state. Callers decide who may do it.
pub(crate) async fn write_disabled(
    app: &App,
    actor: Actor,
    account: &AccountRow,
    disabled: bool,
) -> Result<()> {
    if account.disabled == disabled {
        return Ok(());
    }
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    accounts::set_disabled(&mut tx, &account.tenant_id, &account.id, disabled).await?;
    journal::append(
        &mut tx,
        &account.tenant_id,
        now,
        &NewEntry {
            actor,
            action: if disabled {
                "account.disable"
            } else {
                "account.enable"
            }
            .into(),
            object_kind: "account".into(),
            object_id: account.id.clone(),
            citizen_id: is_vault_account(&account.role).then(|| account.id.clone()),
            basis_kind: "admin".into(),
            basis_id: String::new(),
            details: serde_json::json!({ "login": account.login }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The operator's `liasse user disable|enable`: any account of a tenant, admins included
/// (the admin pages reach agents and managers only).
pub async fn set_disabled(
    app: &App,
    actor: Actor,
    tenant_slug: &str,
    login: &str,
    disabled: bool,
) -> Result<AccountRow> {
    let account = account_by_login(app, tenant_slug, login).await?;
    write_disabled(app, actor, &account, disabled).await?;
    Ok(account)
}

/// How long a new API token lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenLifetime {
    Millis(i64),
    /// Only when asked for by name (`--expires never`): a service's token that is rotated by
    /// hand. It can still be revoked, and `liasse token list` shows it as never expiring.
    Never,
}

/// Ten years: past that, say `never`.
const MAX_TOKEN_LIFETIME_MS: i64 = 3650 * DAY_MS;

impl TokenLifetime {
    /// 90 days: a forgotten token dies on its own, a service rotates its token each quarter.
    pub const DEFAULT: TokenLifetime = TokenLifetime::Millis(90 * DAY_MS);

    /// `30d`, `12h`, `90m` (days, hours, minutes), or `never`.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s == "never" {
            return Ok(TokenLifetime::Never);
        }
        let bad = || {
            AppError::invalid(
                "invalid-duration",
                format!(
                    "durée « {s} » invalide : un nombre suivi de d (jours), h (heures) ou m (minutes), par exemple 30d, 12h ou 90m, ou never ; au plus 3650d"
                ),
            )
        };
        let unit_ms = match s.chars().last() {
            Some('d') => DAY_MS,
            Some('h') => 3_600_000,
            Some('m') => 60_000,
            _ => return Err(bad()),
        };
        let digits = &s[..s.len() - 1];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let ms = digits
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(unit_ms))
            .filter(|ms| (1..=MAX_TOKEN_LIFETIME_MS).contains(ms))
            .ok_or_else(bad)?;
        Ok(TokenLifetime::Millis(ms))
    }
}

pub struct NewToken<'a> {
    pub tenant_slug: &'a str,
    pub login: &'a str,
    pub scopes: &'a str,
    pub name: &'a str,
    pub lifetime: TokenLifetime,
}

/// A new token: its secret is shown once, then only its id and name are known.
pub struct IssuedToken {
    pub id: String,
    pub secret: String,
    pub expires_at: Option<i64>,
}

/// A token as its owner and the operator see it (never the secret).
#[derive(Clone, Debug, serde::Serialize)]
pub struct TokenView {
    pub id: String,
    pub name: String,
    pub account: String,
    pub login: String,
    pub scopes: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// `active`, `expired` or `revoked`.
    pub state: &'static str,
}

impl TokenView {
    fn of(t: TokenInfo, now: i64) -> Self {
        let state = if t.revoked_at.is_some() {
            "revoked"
        } else if t.expires_at.is_some_and(|e| e <= now) {
            "expired"
        } else {
            "active"
        };
        TokenView {
            id: t.id,
            name: t.label,
            account: t.account_id,
            login: t.login,
            scopes: t.scopes,
            created_at: t.created_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
            state,
        }
    }
}

/// Creates an API token for an account (`liasse token create`) and journals `token.create`.
pub async fn issue_token(app: &App, actor: Actor, t: NewToken<'_>) -> Result<IssuedToken> {
    let name = t.name.trim();
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(AppError::invalid(
            "invalid-token-name",
            "le nom du jeton doit compter au plus 100 caractères, sans caractère de contrôle",
        ));
    }
    let account = account_by_login(app, t.tenant_slug, t.login).await?;
    if account.disabled {
        return Err(AppError::invalid(
            "account-disabled",
            "ce compte est désactivé",
        ));
    }
    let secret = new_secret("lss");
    let now = app.now();
    let expires_at = match t.lifetime {
        TokenLifetime::Millis(ms) => Some(now + ms),
        TokenLifetime::Never => None,
    };
    let mut tx = app.db.begin_write().await?;
    let token = TokenRow {
        id: new_id(),
        tenant_id: account.tenant_id.clone(),
        account_id: account.id.clone(),
        token_hash: secret_hash(&secret),
        label: name.into(),
        scopes: t.scopes.into(),
        created_at: now,
        expires_at,
    };
    accounts::insert_token(&mut tx, &token).await?;
    journal::append(
        &mut tx,
        &account.tenant_id,
        now,
        &NewEntry {
            actor,
            action: "token.create".into(),
            object_kind: "token".into(),
            object_id: token.id.clone(),
            citizen_id: is_vault_account(&account.role).then(|| account.id.clone()),
            basis_kind: "admin".into(),
            basis_id: String::new(),
            details: serde_json::json!({
                "account": account.id, "scopes": t.scopes, "name": name, "expires_at": expires_at
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(IssuedToken {
        id: token.id,
        secret,
        expires_at,
    })
}

/// Creates a token with the default lifetime and returns the secret, shown once.
pub async fn create_token(
    app: &App,
    actor: Actor,
    tenant_slug: &str,
    login: &str,
    scopes: &str,
    label: &str,
) -> Result<String> {
    let issued = issue_token(
        app,
        actor,
        NewToken {
            tenant_slug,
            login,
            scopes,
            name: label,
            lifetime: TokenLifetime::DEFAULT,
        },
    )
    .await?;
    Ok(issued.secret)
}

/// The caller's own tokens (`GET /api/v1/tokens`), newest first.
pub async fn own_tokens(app: &App, p: &Principal) -> Result<Vec<TokenView>> {
    let now = app.now();
    Ok(accounts::tokens(&app.db, &p.tenant_id, Some(&p.account_id))
        .await?
        .into_iter()
        .map(|t| TokenView::of(t, now))
        .collect())
}

/// The tokens of a tenant, or of one of its accounts (`liasse token list`).
pub async fn tenant_tokens(
    app: &App,
    tenant_slug: &str,
    login: Option<&str>,
) -> Result<Vec<TokenView>> {
    let tenant = tenants::by_slug(&app.db, tenant_slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let account = match login {
        Some(l) => Some(account_by_login(app, tenant_slug, l).await?.id),
        None => None,
    };
    let now = app.now();
    Ok(accounts::tokens(&app.db, &tenant.id, account.as_deref())
        .await?
        .into_iter()
        .map(|t| TokenView::of(t, now))
        .collect())
}

/// Revokes one of the caller's own tokens (`DELETE /api/v1/tokens/{id}`); another account's
/// token, or another tenant's, is not found. Revoking twice changes nothing.
pub async fn revoke_own_token(app: &App, p: &Principal, id: &str) -> Result<()> {
    let token = accounts::token_by_id(&app.db, &p.tenant_id, id)
        .await?
        .filter(|t| t.account_id == p.account_id)
        .ok_or(AppError::NotFound)?;
    write_revoke(app, p.actor(), "owner", &p.tenant_id, token).await?;
    Ok(())
}

/// The operator's `liasse token revoke`: any token of the tenant.
pub async fn revoke_token(
    app: &App,
    actor: Actor,
    tenant_slug: &str,
    id: &str,
) -> Result<TokenView> {
    let tenant = tenants::by_slug(&app.db, tenant_slug)
        .await?
        .ok_or(AppError::NotFound)?;
    let token = accounts::token_by_id(&app.db, &tenant.id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    write_revoke(app, actor, "admin", &tenant.id, token).await
}

/// Marks the token revoked and journals `token.revoke` (nothing when it was already revoked).
/// The token is checked on every request, so it is refused from the next one on.
async fn write_revoke(
    app: &App,
    actor: Actor,
    basis_kind: &str,
    tenant_id: &str,
    token: TokenInfo,
) -> Result<TokenView> {
    let now = app.now();
    if token.revoked_at.is_some() {
        return Ok(TokenView::of(token, now));
    }
    let owner = accounts::by_id(&app.db, tenant_id, &token.account_id).await?;
    let citizen_id = owner.filter(|a| is_vault_account(&a.role)).map(|a| a.id);
    let mut tx = app.db.begin_write().await?;
    if accounts::revoke_token(&mut tx, tenant_id, &token.id, now).await? {
        journal::append(
            &mut tx,
            tenant_id,
            now,
            &NewEntry {
                actor,
                action: "token.revoke".into(),
                object_kind: "token".into(),
                object_id: token.id.clone(),
                citizen_id,
                basis_kind: basis_kind.into(),
                basis_id: String::new(),
                details: serde_json::json!({ "account": token.account_id, "name": token.label }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(TokenView::of(
        TokenInfo {
            revoked_at: Some(now),
            ..token
        },
        now,
    ))
}

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
const SESSION_MS: i64 = 8 * 3600 * 1000;

/// A new session after a password login: (session secret, CSRF token).
pub async fn login(
    app: &App,
    tenant_slug: &str,
    login: &str,
    password: &str,
    client: &str,
) -> Result<(String, String, Principal)> {
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
    let session = new_secret("lsess");
    let csrf = new_secret("csrf");
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    accounts::insert_session(
        &mut tx,
        &secret_hash(&session),
        &tenant.id,
        &account.id,
        &csrf,
        now,
        now + SESSION_MS,
    )
    .await?;
    let principal = Principal::load(app, account, "").await?;
    journal::append(
        &mut tx,
        &tenant.id,
        now,
        &NewEntry {
            actor: principal.actor(),
            action: "session.login".into(),
            object_kind: "account".into(),
            object_id: principal.account_id.clone(),
            citizen_id: principal
                .role
                .has_vault()
                .then(|| principal.account_id.clone()),
            basis_kind: "password".into(),
            basis_id: String::new(),
            details: serde_json::json!({}),
        },
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

/// Slows password guessing down without handing anyone a way to lock a real user out.
///
/// Only failed password checks are counted: an attempt the limiter refuses is not a failure,
/// so knocking on a closed door does not keep it closed longer. They are counted under three
/// keys, kept as SHA-256 digests (no login is kept in memory, and every entry has the same
/// small size):
///
/// - **the account from one client** (tenant and login, client address): from the 5th failure
///   on, the next attempt of that pair is accepted only 1 s after the last failure, then 2 s,
///   4 s … up to 5 minutes. A success clears the pair's count and marks the pair as known for
///   30 days.
/// - **the account from every client** (distributed guessing): the same growing delay from the
///   50th failure on, up to 15 minutes. A known pair is not held by it, so guesses from
///   elsewhere do not keep the account's usual user out.
/// - **the client for every account** (one password sprayed over many logins): it refuses
///   nothing by itself, since many real users may share one address (a town hall's network, a
///   mobile operator's NAT, a proxy that is not trusted). Past 100 failures the client is
///   noisy, and each of its pairs is slowed from its first failure instead of its fifth. So a
///   correct password goes through whatever the same address did with other logins.
///
/// Unknown tenants and logins are counted exactly like real accounts, before the database is
/// asked, so a 429 says nothing about whether an account exists (and the dummy hash keeps the
/// 401s alike in time). An entry is forgotten an hour after its last failure (a known mark
/// after 30 days). The map holds at most `capacity` entries: when it is full, the expired ones
/// go first, then the tenth that would expire soonest. Eviction may forget a count: flooding
/// the map to erase one costs an Argon2 hash per entry and makes the flooder's address noisy;
/// it never refuses anyone.
///
/// The counts live in one process: behind a load balancer each node counts alone.
pub struct LoginLimiter {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
    capacity: usize,
}

/// About 4 MB at most.
const LIMITER_CAPACITY: usize = 50_000;
const FIRST_DELAY_MS: i64 = 1000;
const PAIR_THRESHOLD: u32 = 5;
const PAIR_CAP_MS: i64 = 5 * 60 * 1000;
const ACCOUNT_THRESHOLD: u32 = 50;
const ACCOUNT_CAP_MS: i64 = 15 * 60 * 1000;
const NOISY_CLIENT: u32 = 100;
const FORGET_MS: i64 = 60 * 60 * 1000;
const KNOWN_MS: i64 = 30 * 24 * 60 * 60 * 1000;

#[derive(Clone, Copy, Default)]
struct Entry {
    failures: u32,
    last_failure: i64,
    /// Until when this pair counts as known (it logged in with the right password).
    known_until: i64,
}

impl Entry {
    fn expires_at(&self) -> i64 {
        (self.last_failure + FORGET_MS).max(self.known_until)
    }

    fn failures(&self, now: i64) -> u32 {
        if now - self.last_failure < FORGET_MS {
            self.failures
        } else {
            0
        }
    }

    /// When the next attempt is accepted (in the past when it is now).
    fn open_at(&self, now: i64, threshold: u32, cap_ms: i64) -> i64 {
        let n = self.failures(now);
        if n < threshold {
            return 0;
        }
        let wait = (FIRST_DELAY_MS << (n - threshold).min(30)).min(cap_ms);
        self.last_failure + wait
    }
}

#[derive(Clone, Copy)]
enum LimitKey {
    Pair,
    Account,
    Client,
}

fn limit_key(kind: LimitKey, account: &str, client: &str) -> [u8; 32] {
    let parts: &[&str] = match kind {
        LimitKey::Pair => &["pair", account, client],
        LimitKey::Account => &["account", account],
        LimitKey::Client => &["client", client],
    };
    let mut h = Sha256::new();
    for p in parts {
        // Length-prefixed, so that no login can be made to read as another key.
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    h.finalize().into()
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::with_capacity(LIMITER_CAPACITY)
    }
}

impl LoginLimiter {
    pub fn with_capacity(capacity: usize) -> Self {
        LoginLimiter {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(10),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        // Counters stay meaningful after a panic elsewhere: keep using them.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Entries held now (expired ones included until they are swept).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Before the password is checked: `Err(RateLimited)` when this account may not be tried
    /// from this client yet. `account` names the tenant and login as typed.
    pub fn check(&self, account: &str, client: &str, now: i64) -> Result<()> {
        let map = self.lock();
        let get = |kind| {
            map.get(&limit_key(kind, account, client))
                .copied()
                .unwrap_or_default()
        };
        let (pair, whole, from) = (
            get(LimitKey::Pair),
            get(LimitKey::Account),
            get(LimitKey::Client),
        );
        let threshold = if from.failures(now) >= NOISY_CLIENT {
            1
        } else {
            PAIR_THRESHOLD
        };
        let mut open_at = pair.open_at(now, threshold, PAIR_CAP_MS);
        if pair.known_until <= now {
            open_at = open_at.max(whole.open_at(now, ACCOUNT_THRESHOLD, ACCOUNT_CAP_MS));
        }
        if open_at > now {
            let secs = (open_at - now + 999) / 1000;
            return Err(AppError::RateLimited {
                retry_after_secs: secs.max(1) as u64,
            });
        }
        Ok(())
    }

    /// After a wrong password (or an unknown or disabled account).
    pub fn failed(&self, account: &str, client: &str, now: i64) {
        let mut map = self.lock();
        for kind in [LimitKey::Pair, LimitKey::Account, LimitKey::Client] {
            let key = limit_key(kind, account, client);
            if !map.contains_key(&key) {
                self.make_room(&mut map, now);
            }
            let e = map.entry(key).or_default();
            e.failures = e.failures(now).saturating_add(1);
            e.last_failure = now;
        }
    }

    /// After the right password: the pair starts afresh and is known. The account's and the
    /// client's counts stay: a success of the attacker's own account must not reset them.
    pub fn succeeded(&self, account: &str, client: &str, now: i64) {
        let mut map = self.lock();
        let key = limit_key(LimitKey::Pair, account, client);
        if !map.contains_key(&key) {
            self.make_room(&mut map, now);
        }
        let e = map.entry(key).or_default();
        e.failures = 0;
        e.known_until = now + KNOWN_MS;
    }

    fn make_room(&self, map: &mut HashMap<[u8; 32], Entry>, now: i64) {
        if map.len() < self.capacity {
            return;
        }
        map.retain(|_, e| e.expires_at() > now);
        if map.len() < self.capacity {
            return;
        }
        // Drop a tenth at once, so that a full map costs one sort per many insertions.
        let mut by_age: Vec<(i64, [u8; 32])> =
            map.iter().map(|(k, e)| (e.expires_at(), *k)).collect();
        let cut = (self.capacity / 10).clamp(1, by_age.len());
        by_age.select_nth_unstable_by_key(cut - 1, |(at, _)| *at);
        for (_, k) in &by_age[..cut] {
            map.remove(k);
        }
    }
}
