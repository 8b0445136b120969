//! Accounts: created by the operator or an admin, disabled and enabled again.

use super::*;

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

pub(super) const RIGHT_LEVELS: [&str; 4] = ["none", "consult", "modify", "manage"];

/// Creates an account (the `liasse user create` command; the admin pages go through
/// `services::enrolment`, which never sets a password).
pub async fn create_user(app: &App, actor: Actor, u: NewUser<'_>) -> Result<AccountRow> {
    let mut tx = app.db.begin_write().await?;
    let account = create_user_in(&mut tx, app, actor, u).await?;
    tx.commit().await?;
    Ok(account)
}

/// [`create_user`] inside the caller's transaction (an enrolment link goes with it).
pub async fn create_user_in(
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
        &NewEntry::new(actor, "account.create", "account", &account.id).citizen(u.role.has_vault().then(|| account.id.clone())).basis("admin", "").details(serde_json::json!({ "role": account.role, "rights": u.rights, "service": account.service })),
    )
    .await?;
    Ok(account)
}

/// The account `login` of the tenant `tenant_slug`, for the operator's commands.
pub(super) async fn account_by_login(
    app: &App,
    tenant_slug: &str,
    login: &str,
) -> Result<AccountRow> {
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
        &NewEntry::new(
            actor,
            if disabled {
                "account.disable"
            } else {
                "account.enable"
            },
            "account",
            &account.id,
        )
        .citizen(is_vault_account(&account.role).then(|| account.id.clone()))
        .basis("admin", "")
        .details(serde_json::json!({ "login": account.login })),
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
