//! `liasse demo`: a tenant with the default catalogue and accounts to try things with.

use liasse_domain::journal::Actor;
use liasse_domain::policy::Role;

use crate::app::App;
use crate::error::{AppError, Result};
use crate::{auth, tenants};

pub const DEMO_TENANT: &str = "demo";

/// A demo account: (login, role, display name, service, rights, password).
type DemoAccount = (
    &'static str,
    Role,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

const ACCOUNTS: &[DemoAccount] = &[
    (
        "camille",
        Role::Citizen,
        "Camille Martin",
        "",
        &[],
        "cerise-tambour-lune",
    ),
    (
        "agent",
        Role::Agent,
        "Dominique Petit",
        "Service scolaire",
        &[("scolaire", "modify"), ("etat-civil", "consult")],
        "cartable-orage-violet",
    ),
    (
        "admin",
        Role::Admin,
        "Administratrice",
        "",
        &[],
        "phare-grenier-olive",
    ),
];

/// Loads the demo data once (later runs keep what exists) and returns the banner to print.
pub async fn load(app: &App) -> Result<String> {
    if liasse_store::tenants::by_slug(&app.db, DEMO_TENANT)
        .await?
        .is_none()
    {
        let tenant = tenants::create(app, DEMO_TENANT, "Ville de Démo", true).await?;
        for p in liasse_domain::catalogue::default_procedures().map_err(AppError::Internal)? {
            crate::requests::save_procedure(app, &tenant.id, Actor::operator(), p).await?;
        }
        for (login, role, name, service, rights, password) in ACCOUNTS {
            auth::create_user(
                app,
                Actor::operator(),
                auth::NewUser {
                    tenant_slug: DEMO_TENANT,
                    login,
                    role: *role,
                    display_name: Some(name),
                    email: None,
                    service: Some(service),
                    rights: rights
                        .iter()
                        .map(|(d, l)| (d.to_string(), l.to_string()))
                        .collect(),
                    password: Some(password.to_string()),
                },
            )
            .await
            .map_err(|e| AppError::Internal(format!("demo account {login}: {e}")))?;
        }
    }
    let mut banner = String::from(
        "Demo tenant \"demo\" (Ville de Démo) with the default catalogue. Accounts (login / password):\n",
    );
    for (login, role, name, _, _, password) in ACCOUNTS {
        banner.push_str(&format!(
            "  {login:<8} / {password:<22} {} ({name})\n",
            role.code()
        ));
    }
    banner.push_str("Log in over the API: POST /api/v1/session {\"tenant\":\"demo\",\"login\":\"camille\",\"password\":\"cerise-tambour-lune\"}");
    Ok(banner)
}

/// The demo accounts as (login, password, role in French, display name), for the home page.
pub fn accounts() -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
    ACCOUNTS
        .iter()
        .map(|(login, role, name, _, _, password)| (*login, *password, role_fr(*role), *name))
        .collect()
}

/// The demo accounts for the landing page.
pub fn accounts_html() -> String {
    ACCOUNTS
        .iter()
        .map(|(login, role, name, _, _, password)| {
            format!(
                "<code>{login}</code> / <code>{password}</code> ({}, {name})",
                role_fr(*role)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn role_fr(role: Role) -> &'static str {
    match role {
        Role::Citizen => "usager",
        Role::Agent => "agent",
        Role::Manager => "responsable",
        Role::Admin => "administration",
        Role::Service => "service",
    }
}
