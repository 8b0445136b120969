//! What every page shows around its content: the tenant's name and theme, who is logged in,
//! the menu the policy gives them, the one-time message after a change, and the CSRF token
//! that every form of the page carries.

use liasse_app::tenants::Tenant;
use liasse_domain::policy::Page;

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

/// Where a page of the menu lives.
pub fn page_href(page: Page) -> &'static str {
    match page {
        Page::Documents => "/documents",
        Page::Deposit => "/documents/nouveau",
        Page::Requests => "/demandes",
        Page::Letters => "/courriers",
        Page::Household => "/foyer",
        Page::Sharing => "/partages",
        Page::Journal => "/journal",
        Page::Notifications => "/notifications",
        Page::Preferences => "/preferences",
        Page::Dashboard => "/agent",
        Page::Counter => "/agent/guichet",
        Page::Statistics => "/agent/statistiques",
        Page::Administration => "/admin",
        Page::DocumentTypes => "/admin/types",
        Page::Procedures => "/admin/demarches",
        Page::Staff => "/admin/agents",
        Page::Appearance => "/admin/apparence",
        Page::Security => "/compte/securite",
    }
}

/// How the menu names a page; the notifications entry counts the unread ones.
fn page_label(page: Page, unread: usize) -> String {
    match page {
        Page::Documents => "Mes documents".into(),
        Page::Deposit => "Déposer une pièce".into(),
        Page::Requests => "Mes demandes".into(),
        Page::Letters => "Mes courriers".into(),
        Page::Household => "Mon foyer".into(),
        Page::Sharing => "Mes partages".into(),
        Page::Journal => "Qui a consulté mes documents".into(),
        Page::Notifications if unread > 0 => format!(
            "Notifications ({unread} non lue{})",
            if unread > 1 { "s" } else { "" }
        ),
        Page::Notifications => "Notifications".into(),
        Page::Preferences => "Préférences".into(),
        Page::Dashboard => "Tableau de bord".into(),
        Page::Counter => "Accueil au guichet".into(),
        Page::Statistics => "Statistiques".into(),
        Page::Administration => "Administration".into(),
        Page::DocumentTypes => "Types de pièces".into(),
        Page::Procedures => "Démarches".into(),
        Page::Staff => "Agents et droits".into(),
        Page::Appearance => "Apparence et réglages".into(),
        Page::Security => "Sécurité du compte".into(),
    }
}

/// The menu: the pages the policy lets the actor open (`policy::menu`); `path` marks the
/// current entry.
pub fn nav_for(pages: &[Page], path: &str, unread: usize) -> Vec<NavItem> {
    let items: Vec<(&'static str, String)> = pages
        .iter()
        .map(|p| (page_href(*p), page_label(*p, unread)))
        .collect();
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
