//! Residents open their own account: an address, a link to it, then their name and password.
//!
//! The tenant says whether it takes sign-ups (`signup`: `open`, the default; `franceconnect`,
//! only through FranceConnect; `closed`). The answer to a sign-up is the same whether the
//! address is new, already has an account, or is refused: the message sent says which, so only
//! the holder of the address learns it. Sign-ups are rate-limited per client and per address
//! before anything is looked up. The account exists from the first sign-up, disabled and
//! without a password, and is completed by the link (single use, one hour); its secret is
//! derived from the key ring at sending, as an enrolment's, so neither the queued message nor
//! the database holds a usable link.

use std::num::NonZeroU32;

use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use liasse_domain::ids::new_id;
use liasse_domain::journal::{Actor, NewEntry};
use liasse_domain::policy::Role;
use liasse_store::accounts::{self, AccountRow};
use liasse_store::outbox::{NewMessage, OutboxRow};
use liasse_store::signups::{self, SignupRow};
use liasse_store::{WriteTx, journal};

use crate::app::App;
use crate::auth::{self, Principal};
use crate::error::{AppError, Result};
use crate::mail::check_email;
use crate::passwords::check_new_password;
use crate::tenants::Tenant;

/// A link works for one hour, once.
pub const LINK_LIFETIME_MS: i64 = 3600 * 1000;
/// The page a link opens; the secret goes in the query string (paths are logged, not queries).
pub const LINK_PATH: &str = "/inscription/confirmer?jeton=";
const LINK_PLACEHOLDER: &str = "{{lien-inscription}}";
const IDEM_PREFIX: &str = "signup:";
/// The tenant setting that says who may sign up.
pub const SIGNUP_SETTING: &str = "signup";
/// The tenant setting naming the host its residents use (`demarches.ville.fr`).
pub const HOST_SETTING: &str = "host";

/// Who may open an account by themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignupMode {
    /// Anyone with an e-mail address (and FranceConnect, when the tenant has it).
    Open,
    /// Only through FranceConnect.
    FranceConnect,
    /// Accounts come from the town hall only.
    Closed,
}

impl SignupMode {
    pub fn parse(s: &str) -> Option<SignupMode> {
        match s {
            "open" => Some(SignupMode::Open),
            "franceconnect" => Some(SignupMode::FranceConnect),
            "closed" => Some(SignupMode::Closed),
            _ => None,
        }
    }

    pub fn of(tenant: &Tenant) -> SignupMode {
        tenant
            .settings
            .get(SIGNUP_SETTING)
            .and_then(serde_json::Value::as_str)
            .and_then(SignupMode::parse)
            .unwrap_or(SignupMode::Open)
    }
}

/// Checks the sign-up settings an admin saves: the mode's name, and a host name that no other
/// tenant uses.
pub(crate) async fn check_settings(
    app: &App,
    tenant_id: &str,
    settings: &serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    if let Some(v) = settings.get(SIGNUP_SETTING)
        && v.as_str().and_then(SignupMode::parse).is_none()
    {
        return Err(AppError::invalid(
            "invalid-settings",
            "signup vaut open (inscription par adresse électronique), franceconnect (par FranceConnect seulement) ou closed (comptes créés par la mairie)",
        ));
    }
    if let Some(v) = settings.get(HOST_SETTING) {
        let host = v.as_str().map(normal_host).unwrap_or_default();
        let valid = !host.is_empty()
            && host.len() <= 253
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b':');
        if !valid {
            return Err(AppError::invalid(
                "invalid-settings",
                "host est le nom d'hôte des usagers, par exemple demarches.ville.fr",
            ));
        }
        if let Some(other) = tenant_for_host(app, &host).await?
            && other.id != tenant_id
        {
            return Err(AppError::invalid(
                "invalid-settings",
                "ce nom d'hôte est déjà celui d'une autre collectivité",
            ));
        }
    }
    Ok(())
}

fn normal_host(h: &str) -> String {
    h.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The tenant whose residents come through this host name (the request's `Host`), if one
/// declared it. A host with a port matches with or without it.
pub async fn tenant_for_host(app: &App, host: &str) -> Result<Option<Tenant>> {
    let host = normal_host(host);
    if host.is_empty() {
        return Ok(None);
    }
    let bare = host.split(':').next().unwrap_or_default().to_string();
    Ok(crate::tenants::list(app).await?.into_iter().find(|t| {
        t.settings
            .get(HOST_SETTING)
            .and_then(serde_json::Value::as_str)
            .map(normal_host)
            .is_some_and(|h| h == host || h == bare)
    }))
}

/// Where a tenant's residents open their links: its host under the public URL's scheme, or
/// the public URL.
pub fn base_url(app: &App, tenant: &Tenant) -> String {
    let public = app.config.public_url();
    let public = public.trim_end_matches('/');
    match tenant
        .settings
        .get(HOST_SETTING)
        .and_then(serde_json::Value::as_str)
        .map(normal_host)
        .filter(|h| !h.is_empty())
    {
        Some(host) => {
            let scheme = public.split("://").next().unwrap_or("https");
            format!("{scheme}://{host}")
        }
        None => public.to_string(),
    }
}

type Keyed = RateLimiter<String, HashMapStateStore<String>, DefaultClock>;

/// Sign-ups per client address and per e-mail address (governor's GCRA, in this process).
pub struct SignupLimiter {
    by_client: Keyed,
    by_address: Keyed,
    clock: DefaultClock,
}

/// Ten sign-ups an hour from one client (a town hall's shared address included), three an
/// hour to one address.
const PER_CLIENT: NonZeroU32 = NonZeroU32::MIN.saturating_add(9);
const PER_ADDRESS: NonZeroU32 = NonZeroU32::MIN.saturating_add(2);
/// Past this many keys, forgotten entries are swept.
const SWEEP_AT: usize = 10_000;

impl Default for SignupLimiter {
    fn default() -> Self {
        SignupLimiter {
            by_client: RateLimiter::hashmap(Quota::per_hour(PER_CLIENT)),
            by_address: RateLimiter::hashmap(Quota::per_hour(PER_ADDRESS)),
            clock: DefaultClock::default(),
        }
    }
}

impl SignupLimiter {
    fn check(&self, client: &str, address: &str) -> Result<()> {
        for (limiter, key) in [
            (&self.by_client, client.to_string()),
            (&self.by_address, address.to_ascii_lowercase()),
        ] {
            if limiter.len() > SWEEP_AT {
                limiter.retain_recent();
            }
            if let Err(not_until) = limiter.check_key(&key) {
                let wait = not_until.wait_time_from(self.clock.now());
                return Err(AppError::RateLimited {
                    retry_after_secs: wait.as_secs().max(1),
                });
            }
        }
        Ok(())
    }
}

fn link_secret(app: &App, signup_id: &str) -> Result<String> {
    use base64::Engine;
    let derived = app.keys.ring()?.derived_secret("signup-link", signup_id)?;
    Ok(format!(
        "lsgn_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(derived.as_slice())
    ))
}

fn closed() -> AppError {
    AppError::invalid(
        "signup-closed",
        "votre collectivité n'ouvre pas de compte en ligne : adressez-vous à la mairie, qui créera le vôtre",
    )
}

/// A sign-up for `email` in the tenant. Answers alike for every address: what differs is only
/// the message the address receives.
pub async fn request(app: &App, tenant: &Tenant, email: &str, client: &str) -> Result<()> {
    match SignupMode::of(tenant) {
        SignupMode::Open => {}
        SignupMode::FranceConnect => {
            return Err(AppError::invalid(
                "signup-franceconnect-only",
                "votre collectivité ouvre les comptes par FranceConnect : utilisez le bouton « S'identifier avec FranceConnect »",
            ));
        }
        SignupMode::Closed => return Err(closed()),
    }
    let email = check_email(email)?;
    if email.is_empty() {
        return Err(AppError::invalid(
            "email-required",
            "indiquez votre adresse électronique : le lien pour ouvrir votre compte y est envoyé",
        ));
    }
    app.signup_limiter.check(client, &email)?;
    let now = app.now();
    let existing = accounts::by_email(&app.db, &tenant.id, &email).await?;
    let mut tx = app.db.begin_write().await?;
    let waiting = match existing.first() {
        Some(a) if signups::never_completed(&app.db, &tenant.id, &a.id).await? => Some(a.clone()),
        Some(a) => {
            already_known(app, &mut tx, tenant, a, &email, now).await?;
            None
        }
        None => {
            let account = AccountRow {
                id: new_id(),
                tenant_id: tenant.id.clone(),
                login: email.clone(),
                role: Role::Citizen.code().into(),
                display_name: String::new(),
                email: Some(email.clone()),
                service: String::new(),
                password_hash: None,
                disabled: true,
                created_at: now,
            };
            accounts::insert(&mut tx, &account).await?;
            Some(account)
        }
    };
    if let Some(account) = waiting {
        let id = new_id();
        let secret = link_secret(app, &id)?;
        signups::insert(
            &mut tx,
            &SignupRow {
                id: id.clone(),
                tenant_id: tenant.id.clone(),
                account_id: account.id.clone(),
                email: email.clone(),
                secret_hash: auth::secret_hash(&secret),
                created_at: now,
                expires_at: now + LINK_LIFETIME_MS,
                used_at: None,
            },
        )
        .await?;
        let body = format!(
            "Bonjour,\n\n\
             Vous avez demandé l'ouverture d'un compte sur le porte-documents de {name}.\n\n\
             Pour confirmer votre adresse et choisir votre mot de passe, ouvrez ce lien (il ne sert qu'une fois et n'est valable qu'une heure) :\n\
             {LINK_PLACEHOLDER}\n\n\
             Si vous n'êtes pas à l'origine de cette demande, ne faites rien : aucun compte ne sera ouvert.\n\n\
             --\nMessage automatique ; merci de ne pas y répondre.\n",
            name = tenant.name,
        );
        liasse_store::outbox::insert(
            &mut tx,
            &OutboxRow::pending(
                NewMessage {
                    tenant_id: &tenant.id,
                    account_id: &account.id,
                    idem_key: format!("{IDEM_PREFIX}{id}:email"),
                    channel: "email",
                    address: email.clone(),
                    subject: "Confirmez votre adresse pour ouvrir votre compte".into(),
                    body,
                },
                now,
            ),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A sign-up for an address that already has an account: it is told so, with no link.
async fn already_known(
    app: &App,
    tx: &mut WriteTx,
    tenant: &Tenant,
    account: &AccountRow,
    email: &str,
    now: i64,
) -> Result<()> {
    let body = format!(
        "Bonjour,\n\n\
         Quelqu'un a demandé l'ouverture d'un compte sur le porte-documents de {name} avec cette adresse, qui en a déjà un (identifiant : {login}).\n\n\
         Connectez-vous à {url}/connexion. Si vous n'êtes pas à l'origine de cette demande, ne faites rien : votre compte n'a pas changé.\n\n\
         --\nMessage automatique ; merci de ne pas y répondre.\n",
        name = tenant.name,
        login = account.login,
        url = base_url(app, tenant),
    );
    liasse_store::outbox::insert(
        tx,
        &OutboxRow::pending(
            NewMessage {
                tenant_id: &tenant.id,
                account_id: &account.id,
                idem_key: format!("signup-known:{}:email", new_id()),
                channel: "email",
                address: email.to_string(),
                subject: "Vous avez déjà un compte".into(),
                body,
            },
            now,
        ),
    )
    .await?;
    Ok(())
}

/// The body of a sign-up's message as sent, the link put in; `None` when the link can no
/// longer be used. Other messages: `Some` of their body.
pub async fn delivery_body(app: &App, o: &OutboxRow) -> Result<Option<String>> {
    let Some(id) = o
        .idem_key
        .strip_prefix(IDEM_PREFIX)
        .and_then(|rest| rest.strip_suffix(":email"))
    else {
        return Ok(Some(o.body.clone()));
    };
    let Some(row) = signups::by_id(&app.db, id).await? else {
        return Ok(None);
    };
    let secret = link_secret(app, id)?;
    let mut tx = app.db.begin_write().await?;
    let live = signups::refresh_hash(&mut tx, id, &auth::secret_hash(&secret), app.now()).await?;
    tx.commit().await?;
    if !live {
        return Ok(None);
    }
    let tenant = crate::tenants::by_id(app, &row.tenant_id).await?;
    let url = format!("{}{LINK_PATH}{secret}", base_url(app, &tenant));
    Ok(Some(o.body.replace(LINK_PLACEHOLDER, &url)))
}

/// What a link is worth when opened.
pub enum SignupLink {
    Valid(Box<SignupRow>),
    Used,
    Expired,
    Unknown,
}

pub async fn check(app: &App, secret: &str) -> Result<SignupLink> {
    if secret.is_empty() || secret.len() > 200 {
        return Ok(SignupLink::Unknown);
    }
    let Some(row) = signups::by_hash(&app.db, &auth::secret_hash(secret)).await? else {
        return Ok(SignupLink::Unknown);
    };
    Ok(if row.used_at.is_some() {
        SignupLink::Used
    } else if row.expires_at <= app.now() {
        SignupLink::Expired
    } else {
        SignupLink::Valid(Box::new(row))
    })
}

/// What the resident gives when they open the link.
pub struct Completion<'a> {
    pub given_name: &'a str,
    pub family_name: &'a str,
    pub password: &'a str,
}

/// Completes the account from a valid link and opens its session: (session, CSRF, principal).
/// A link used, expired or unknown changes nothing and says which.
pub async fn complete(
    app: &App,
    secret: &str,
    c: Completion<'_>,
) -> Result<(String, String, Principal)> {
    let row = match check(app, secret).await? {
        SignupLink::Valid(row) => row,
        SignupLink::Used => return Err(used()),
        SignupLink::Expired => return Err(expired()),
        SignupLink::Unknown => return Err(unknown()),
    };
    let name = format!("{} {}", c.given_name.trim(), c.family_name.trim());
    let name = name.trim();
    if c.given_name.trim().is_empty()
        || c.family_name.trim().is_empty()
        || name.chars().count() > 200
        || name.chars().any(char::is_control)
    {
        return Err(AppError::invalid(
            "invalid-name",
            "indiquez votre prénom et votre nom (200 caractères au plus)",
        ));
    }
    check_new_password(&row.email, Role::Citizen, c.password)?;
    let hash = auth::hash_password(c.password)?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    if !signups::use_up(&mut tx, &row.id, now).await? {
        return Err(used());
    }
    accounts::complete_signup(&mut tx, &row.tenant_id, &row.account_id, name, &hash).await?;
    journal::append(
        &mut tx,
        &row.tenant_id,
        now,
        &NewEntry::new(
            Actor {
                kind: Role::Citizen.code().into(),
                id: row.account_id.clone(),
                label: name.to_string(),
                service: String::new(),
            },
            "account.signup",
            "account",
            &row.account_id,
        )
        .citizen(Some(row.account_id.clone()))
        .basis("signup", &row.id),
    )
    .await?;
    tx.commit().await?;
    let account = accounts::by_id(&app.db, &row.tenant_id, &row.account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    auth::open_session(app, account, ("signup", ""), None).await
}

fn used() -> AppError {
    AppError::invalid(
        "signup-link-used",
        "ce lien a déjà servi : votre compte est ouvert, connectez-vous avec votre adresse et votre mot de passe",
    )
}

fn expired() -> AppError {
    AppError::invalid(
        "signup-link-expired",
        "ce lien a expiré (il n'est valable qu'une heure) : recommencez l'inscription pour en recevoir un nouveau",
    )
}

fn unknown() -> AppError {
    AppError::invalid(
        "signup-link-unknown",
        "ce lien n'est pas valable : vérifiez qu'il a été copié en entier, ou recommencez l'inscription",
    )
}
