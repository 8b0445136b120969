//! What every page shows around its content: the tenant's name and theme, who is logged in,
//! the menu of their role, the one-time message after a change, and the CSRF token that every
//! form of the page carries.

use liasse_domain::policy::Role;
use liasse_store::tenants::Tenant;

use crate::theme::Brand;

pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub current: bool,
}

pub struct Chrome {
    /// The page title (also the `<h1>` of most pages).
    pub title: String,
    /// The tenant's name (or "Liasse" before login).
    pub site: String,
    /// The tenant's theme stylesheet (colours as CSS custom properties).
    pub theme_href: Option<String>,
    pub logo: Option<String>,
    pub user: Option<String>,
    pub role: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub flash: Option<&'static str>,
    /// Citizens: unread notifications.
    pub unread: usize,
}

impl Chrome {
    /// Before login, or when the session cannot be loaded (error pages).
    pub fn bare(title: &str) -> Chrome {
        Chrome {
            title: title.to_string(),
            site: "Liasse".into(),
            theme_href: None,
            logo: None,
            user: None,
            role: String::new(),
            csrf: String::new(),
            nav: Vec::new(),
            flash: None,
            unread: 0,
        }
    }

    /// A public page themed for a tenant (home and login pages).
    pub fn for_tenant(title: &str, tenant: Option<&Tenant>) -> Chrome {
        let mut c = Chrome::bare(title);
        if let Some(t) = tenant {
            let brand = Brand::of(t);
            c.site = brand.name;
            c.logo = brand.logo;
            c.theme_href = Some(format!("/theme/{}/brand.css", t.slug));
        }
        c
    }

    pub fn with_flash(mut self, code: Option<&str>) -> Chrome {
        self.flash = code.and_then(crate::flash_message);
        self
    }
}

pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Citizen => "usager",
        Role::Agent => "agent",
        Role::Manager => "responsable de service",
        Role::Admin => "administration",
        Role::Service => "service partenaire",
    }
}

/// The menu of a role; `path` marks the current entry.
pub fn nav_for(role: Role, path: &str, unread: usize) -> Vec<NavItem> {
    let items: Vec<(&'static str, String)> = match role {
        Role::Citizen => vec![
            ("/documents", "Mes documents".into()),
            ("/documents/nouveau", "Déposer une pièce".into()),
            ("/demandes", "Mes demandes".into()),
            ("/courriers", "Mes courriers".into()),
            ("/foyer", "Mon foyer".into()),
            ("/partages", "Mes partages".into()),
            ("/journal", "Qui a consulté mes documents".into()),
            (
                "/notifications",
                if unread > 0 {
                    format!(
                        "Notifications ({unread} non lue{})",
                        if unread > 1 { "s" } else { "" }
                    )
                } else {
                    "Notifications".into()
                },
            ),
            ("/preferences", "Préférences".into()),
        ],
        Role::Agent => vec![
            ("/agent", "Tableau de bord".into()),
            ("/agent/guichet", "Accueil au guichet".into()),
        ],
        Role::Manager => vec![
            ("/agent", "Tableau de bord".into()),
            ("/agent/guichet", "Accueil au guichet".into()),
            ("/agent/statistiques", "Statistiques".into()),
        ],
        Role::Admin => vec![
            ("/admin", "Administration".into()),
            ("/admin/types", "Types de pièces".into()),
            ("/admin/demarches", "Démarches".into()),
            ("/admin/agents", "Agents et droits".into()),
            ("/admin/apparence", "Apparence et réglages".into()),
        ],
        Role::Service => Vec::new(),
    };
    // The longest matching prefix is the current entry.
    let current = items
        .iter()
        .filter(|(href, _)| path == *href || path.starts_with(&format!("{href}/")))
        .max_by_key(|(href, _)| href.len())
        .map(|(href, _)| *href);
    items
        .into_iter()
        .map(|(href, label)| NavItem {
            href,
            label,
            current: Some(href) == current,
        })
        .collect()
}
