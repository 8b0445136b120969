//! Accounts, passwords, API tokens and the principal that every request acts as.

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use liasse_domain::ids::new_id;
use liasse_domain::journal::{Actor, NewEntry};
use liasse_domain::policy::{ActorFacts, Right, Role};
use liasse_store::accounts::{self, AccountRow, TokenRow};
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
            crate::services::passwords::check_new_password(login, u.role, p)?;
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
            citizen_id: (u.role == Role::Citizen).then(|| account.id.clone()),
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
            citizen_id: (account.role == Role::Citizen.code()).then(|| account.id.clone()),
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

/// Creates an API token for an account and returns the secret, shown once.
pub async fn create_token(
    app: &App,
    actor: Actor,
    tenant_slug: &str,
    login: &str,
    scopes: &str,
    label: &str,
) -> Result<String> {
    let account = account_by_login(app, tenant_slug, login).await?;
    let secret = new_secret("lss");
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    let token = TokenRow {
        id: new_id(),
        tenant_id: account.tenant_id.clone(),
        account_id: account.id.clone(),
        token_hash: secret_hash(&secret),
        label: label.into(),
        scopes: scopes.into(),
        created_at: now,
        expires_at: None,
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
            citizen_id: (account.role == "citizen").then(|| account.id.clone()),
            basis_kind: "admin".into(),
            basis_id: String::new(),
            details: serde_json::json!({ "account": account.id, "scopes": scopes }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
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
    app.login_limiter.succeeded(&key);
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
            citizen_id: (principal.role == Role::Citizen).then(|| principal.account_id.clone()),
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

/// Limits password guessing: after 5 failures for one login, or 20 from one client, within
/// 15 minutes, further attempts are refused until the window passes.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Vec<i64>>>,
}

const WINDOW_MS: i64 = 15 * 60 * 1000;
const MAX_PER_LOGIN: usize = 5;
const MAX_PER_CLIENT: usize = 20;

impl LoginLimiter {
    fn recent(map: &mut HashMap<String, Vec<i64>>, key: &str, now: i64) -> Vec<i64> {
        let v = map.entry(key.to_string()).or_default();
        v.retain(|t| now - *t < WINDOW_MS);
        v.clone()
    }

    pub fn check(&self, key: &str, client: &str, now: i64) -> Result<()> {
        let Ok(mut map) = self.failures.lock() else {
            return Err(AppError::Internal("limiter poisoned".into()));
        };
        let per_login = Self::recent(&mut map, key, now);
        let per_client = Self::recent(&mut map, &format!("client\u{0}{client}"), now);
        let blocked_by = if per_login.len() >= MAX_PER_LOGIN {
            per_login.first().copied()
        } else if per_client.len() >= MAX_PER_CLIENT {
            per_client.first().copied()
        } else {
            None
        };
        match blocked_by {
            Some(first) => Err(AppError::RateLimited {
                retry_after_secs: ((first + WINDOW_MS - now) / 1000).max(1) as u64,
            }),
            None => Ok(()),
        }
    }

    pub fn failed(&self, key: &str, client: &str, now: i64) {
        if let Ok(mut map) = self.failures.lock() {
            map.entry(key.to_string()).or_default().push(now);
            map.entry(format!("client\u{0}{client}"))
                .or_default()
                .push(now);
        }
    }

    pub fn succeeded(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}
