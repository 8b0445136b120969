//! Enrolment of staff accounts: an admin creates an agent or a manager, or resets one, and
//! the account's holder receives a single-use, short-lived link at their own address to
//! choose their password. The admin never chooses, sees or receives a staff password, so an
//! admin cannot log in as an agent and read what the agent may read.
//!
//! The link's secret goes only into the e-mail, and only as it is sent: it is derived from the
//! key ring and the enrolment's id ([`link_secret`]), so the message waiting in the outbox holds
//! a placeholder, not a link, and a database dump gives no way to enrol. The database keeps the
//! secret's SHA-256; neither the journal nor the log ever carries it. Changing a staff account's address, or resetting
//! it, takes its password, sessions and API tokens away until the holder enrols again.

use liasse_domain::clock::rfc3339;
use liasse_domain::ids::new_id;
use liasse_domain::journal::{Actor, NewEntry};
use liasse_domain::policy::{Access, Role, Task, is_staff_account};
use liasse_store::accounts::{self, AccountRow};
use liasse_store::outbox::{NewMessage, OutboxRow};
use liasse_store::staff::{self, EnrolmentRow};
use liasse_store::{WriteTx, journal, tenants};

use crate::admin::{check_rights, staff_account};
use crate::app::App;
use crate::auth::{self, Principal};
use crate::error::{AppError, Result};
use crate::mail::check_email;
use crate::passwords::check_new_password;

/// A link works for 48 hours, once.
pub const LINK_LIFETIME_MS: i64 = 48 * 3600 * 1000;

/// The enrolment link under `public_url`, before its secret. The secret goes in the query
/// string: the request log records paths, not queries.
pub const LINK_PATH: &str = "/activation?jeton=";

/// Where the link goes in the queued message; [`delivery_body`] puts it in as it is sent.
const LINK_PLACEHOLDER: &str = "{{lien-activation}}";

/// How the outbox names an enrolment's message: `enrolment:{id}:email`.
const IDEM_PREFIX: &str = "enrolment:";

/// The secret of an enrolment's link, derived from the current master key and the
/// enrolment's id: the server computes it again at delivery instead of storing it.
fn link_secret(app: &App, enrolment_id: &str) -> Result<String> {
    use base64::Engine;
    let derived = app
        .keys
        .ring()?
        .derived_secret("enrolment-link", enrolment_id)?;
    Ok(format!(
        "lenr_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(derived.as_slice())
    ))
}

/// The body of an outbox message as it must be sent. For an enrolment's message: the link put
/// in place of the placeholder, or `None` when the link can no longer be used (replaced,
/// revoked, expired, used), so that a stale link is never sent. The secret's stored hash is
/// refreshed first, so a link still works after `liasse keys rotate`. Other messages go as
/// they are.
pub async fn delivery_body(app: &App, o: &OutboxRow) -> Result<Option<String>> {
    if o.idem_key.starts_with("signup:") {
        return crate::signup::delivery_body(app, o).await;
    }
    let Some(enrolment_id) = o
        .idem_key
        .strip_prefix(IDEM_PREFIX)
        .and_then(|rest| rest.strip_suffix(":email"))
    else {
        return Ok(Some(o.body.clone()));
    };
    let secret = link_secret(app, enrolment_id)?;
    let mut tx = app.db.begin_write().await?;
    let live = staff::refresh_enrolment_hash(
        &mut tx,
        enrolment_id,
        &auth::secret_hash(&secret),
        app.now(),
    )
    .await?;
    tx.commit().await?;
    if !live {
        return Ok(None);
    }
    let url = format!(
        "{}{LINK_PATH}{secret}",
        app.config.public_url().trim_end_matches('/')
    );
    Ok(Some(o.body.replace(LINK_PLACEHOLDER, &url)))
}

/// An agent or a manager, as the admin's form describes them: no password.
pub struct NewStaff<'a> {
    pub login: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub role: Role,
    /// A service of the tenant's list, by id (`None`: no service).
    pub service_id: Option<&'a str>,
    pub rights: Vec<(String, String)>,
}

/// The service of that id in the admin's tenant; an id from elsewhere (a forged form) is
/// refused, as an unknown one is.
pub(crate) async fn known_service(
    app: &App,
    p: &Principal,
    service_id: Option<&str>,
) -> Result<Option<staff::ServiceRow>> {
    let Some(id) = service_id.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    staff::service(&app.db, &p.tenant_id, id)
        .await?
        .map(Some)
        .ok_or_else(|| {
            AppError::invalid(
                "unknown-service",
                "ce service n'existe pas : choisissez-le dans la liste des services",
            )
        })
}

fn required_email(email: &str) -> Result<String> {
    if email.trim().is_empty() {
        return Err(AppError::invalid(
            "email-required",
            "l'adresse électronique est obligatoire : le lien pour choisir le mot de passe y est envoyé",
        ));
    }
    check_email(email)
}

/// Creates a staff account without a password and sends its holder an enrolment link.
pub async fn create_staff(app: &App, p: &Principal, n: NewStaff<'_>) -> Result<AccountRow> {
    p.authorize(&Access::Administer(Task::Staff))?;
    if !is_staff_account(n.role.code()) {
        return Err(AppError::invalid(
            "invalid-role",
            "le rôle doit être agent ou responsable de service",
        ));
    }
    let email = required_email(n.email)?;
    check_rights(&n.rights)?;
    let service = known_service(app, p, n.service_id).await?;
    let tenant = tenants::by_id(&app.db, &p.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let name = n.name.trim();
    if name.chars().count() > 200 {
        return Err(AppError::invalid(
            "invalid-name",
            "le nom compte au plus 200 caractères",
        ));
    }
    let mut tx = app.db.begin_write().await?;
    let account = auth::create_user_in(
        &mut tx,
        app,
        p.actor(),
        auth::NewUser {
            tenant_slug: &tenant.slug,
            login: n.login,
            role: n.role,
            display_name: Some(name).filter(|n| !n.is_empty()),
            email: Some(&email),
            // By the name of the service just checked, in this tenant: the same row.
            service: service.as_ref().map(|s| s.name.as_str()),
            rights: n.rights,
            password: None,
        },
    )
    .await
    .map_err(|e| match e {
        AppError::Conflict(_) => AppError::Conflict(format!(
            "l'identifiant « {} » est déjà pris dans la collectivité",
            n.login.trim()
        )),
        e => e,
    })?;
    issue(&mut tx, app, p, &account, &tenant.slug, "create").await?;
    tx.commit().await?;
    Ok(account)
}

/// Sends a new enrolment link (the "reset" of a staff password): the old password and the
/// account's sessions stop working at once; earlier links too.
pub async fn send_link(app: &App, p: &Principal, account_id: &str) -> Result<()> {
    let account = staff_account(app, p, account_id).await?;
    if account.disabled {
        return Err(AppError::invalid(
            "account-disabled",
            "ce compte est désactivé : réactivez-le avant d'envoyer un lien d'activation",
        ));
    }
    if account.email.as_deref().unwrap_or_default().is_empty() {
        return Err(AppError::invalid(
            "email-required",
            "ce compte n'a pas d'adresse électronique : indiquez-la d'abord",
        ));
    }
    let tenant = tenants::by_id(&app.db, &p.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = app.db.begin_write().await?;
    staff::clear_credentials(&mut tx, &p.tenant_id, &account.id, app.now()).await?;
    issue(&mut tx, app, p, &account, &tenant.slug, "reset").await?;
    tx.commit().await?;
    Ok(())
}

/// Changes a staff account's address. The holder of the new address must enrol: the old
/// password and sessions stop working and the link goes to the new address only. Returns
/// false when the address is the same (nothing changes).
pub async fn change_email(app: &App, p: &Principal, account_id: &str, email: &str) -> Result<bool> {
    let mut account = staff_account(app, p, account_id).await?;
    let email = required_email(email)?;
    if account.email.as_deref() == Some(email.as_str()) {
        return Ok(false);
    }
    let tenant = tenants::by_id(&app.db, &p.tenant_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    staff::set_email(&mut tx, &p.tenant_id, &account.id, &email).await?;
    staff::clear_credentials(&mut tx, &p.tenant_id, &account.id, app.now()).await?;
    journal::append(
        &mut tx,
        &p.tenant_id,
        now,
        &NewEntry {
            actor: p.actor(),
            action: "account.email".into(),
            object_kind: "account".into(),
            object_id: account.id.clone(),
            citizen_id: None,
            basis_kind: "admin".into(),
            basis_id: String::new(),
            // Addresses stay out of the append-only journal; the account's page shows the
            // current one.
            details: serde_json::json!({ "login": account.login }),
        },
    )
    .await?;
    account.email = Some(email);
    if !account.disabled {
        issue(&mut tx, app, p, &account, &tenant.slug, "email").await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Records a new link for the account, queues the e-mail that carries it and journals that a
/// link was sent (by whom, why, until when), never the secret or the address.
async fn issue(
    tx: &mut WriteTx,
    app: &App,
    p: &Principal,
    account: &AccountRow,
    tenant_slug: &str,
    reason: &str,
) -> Result<()> {
    let Some(address) = account.email.clone().filter(|e| !e.is_empty()) else {
        return Err(AppError::invalid(
            "email-required",
            "ce compte n'a pas d'adresse électronique",
        ));
    };
    let now = app.now();
    let id = new_id();
    let secret = link_secret(app, &id)?;
    let row = EnrolmentRow {
        id,
        tenant_id: account.tenant_id.clone(),
        account_id: account.id.clone(),
        secret_hash: auth::secret_hash(&secret),
        created_by: p.account_id.clone(),
        created_at: now,
        expires_at: now + LINK_LIFETIME_MS,
        used_at: None,
        revoked_at: None,
    };
    staff::insert_enrolment(tx, &row).await?;
    let tenant_name = tenants::by_id(&app.db, &account.tenant_id)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let body = format!(
        "Bonjour {name},\n\n\
         Un compte a été ouvert pour vous sur le porte-documents de {tenant_name}.\n\n\
         Pour choisir votre mot de passe, ouvrez ce lien (il ne sert qu'une fois et n'est valable que 48 heures) :\n\
         {LINK_PLACEHOLDER}\n\n\
         Votre identifiant : {login}\nVotre collectivité : {tenant_slug}\n\n\
         Personne d'autre que vous ne connaîtra ce mot de passe, pas même l'administration de la collectivité.\n\
         Si vous n'attendiez pas ce message, ne faites rien et prévenez votre collectivité.\n\n\
         --\nMessage automatique ; merci de ne pas y répondre.\n",
        name = account.display_name,
        login = account.login,
    );
    liasse_store::outbox::insert(
        tx,
        &OutboxRow::pending(
            NewMessage {
                tenant_id: &account.tenant_id,
                account_id: &account.id,
                idem_key: format!("{IDEM_PREFIX}{}:email", row.id),
                channel: "email",
                address,
                subject: "Activez votre compte : choisissez votre mot de passe".into(),
                body,
            },
            now,
        ),
    )
    .await?;
    journal::append(
        tx,
        &account.tenant_id,
        now,
        &NewEntry::new(p.actor(), "account.enrolment", "account", &account.id)
            .basis("admin", "")
            .details(serde_json::json!({
                "reason": reason,
                "enrolment": row.id,
                "expires_at": rfc3339(row.expires_at),
            })),
    )
    .await?;
    Ok(())
}

/// What a link is worth when its holder opens it.
pub enum Link {
    /// It can be used: for this account.
    Valid {
        account: Box<AccountRow>,
        enrolment: Box<EnrolmentRow>,
    },
    Used,
    /// A newer link was sent since (or the account was reset again).
    Replaced,
    Expired,
    /// Unknown, malformed, or for an account that is disabled or no longer staff.
    Unknown,
}

/// Looks a link up without changing anything.
pub async fn check(app: &App, secret: &str) -> Result<Link> {
    if secret.is_empty() || secret.len() > 200 {
        return Ok(Link::Unknown);
    }
    let Some(e) = staff::enrolment_by_hash(&app.db, &auth::secret_hash(secret)).await? else {
        return Ok(Link::Unknown);
    };
    if e.used_at.is_some() {
        return Ok(Link::Used);
    }
    if e.revoked_at.is_some() {
        return Ok(Link::Replaced);
    }
    if e.expires_at <= app.now() {
        return Ok(Link::Expired);
    }
    let account = accounts::by_id(&app.db, &e.tenant_id, &e.account_id)
        .await?
        .filter(|a| !a.disabled && is_staff_account(&a.role));
    Ok(match account {
        Some(account) => Link::Valid {
            account: Box::new(account),
            enrolment: Box::new(e),
        },
        None => Link::Unknown,
    })
}

/// The holder of a valid link chooses their password; the link is used up. Another state
/// of the link comes back as is, and nothing changes.
pub async fn complete(app: &App, secret: &str, password: &str) -> Result<Link> {
    let (account, enrolment) = match check(app, secret).await? {
        Link::Valid { account, enrolment } => (account, enrolment),
        other => return Ok(other),
    };
    let role = Role::parse(&account.role)
        .ok_or_else(|| AppError::Internal(format!("unknown role {}", account.role)))?;
    check_new_password(&account.login, role, password)?;
    let hash = auth::hash_password(password)?;
    let now = app.now();
    let mut tx = app.db.begin_write().await?;
    if !staff::use_enrolment(&mut tx, &enrolment.id, now).await? {
        // Used or replaced between the check and now: say so, change nothing.
        return check(app, secret).await.map(|l| match l {
            Link::Valid { .. } => Link::Used,
            other => other,
        });
    }
    accounts::set_password(&mut tx, &account.tenant_id, &account.id, &hash).await?;
    let service = staff::service_of(&app.db, &account.tenant_id, &account.id).await?;
    journal::append(
        &mut tx,
        &account.tenant_id,
        now,
        &NewEntry::new(
            Actor {
                kind: account.role.clone(),
                id: account.id.clone(),
                label: account.display_name.clone(),
                service: service.map(|s| s.name).unwrap_or_default(),
            },
            "account.enrolled",
            "account",
            &account.id,
        )
        .basis("enrolment", &enrolment.id),
    )
    .await?;
    tx.commit().await?;
    Ok(Link::Valid { account, enrolment })
}
