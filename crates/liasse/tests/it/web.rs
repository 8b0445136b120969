//! The web pages: security headers on every page, the session cookie, CSRF tokens on every
//! form (a forged form changes nothing), the login rate limit in French, previews in a sandbox,
//! per-tenant themes. The browser stories themselves are in `e2e/` (Playwright + axe-core).

use liasse_app::{documents, members};
use liasse_inspect::samples;
use liasse_testkit::TestApp;
use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::multipart::{Form, Part};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; frame-src 'self'; object-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// A browser without JavaScript: keeps cookies by hand, never follows redirects.
pub(crate) struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

pub(crate) struct Page {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Page {
    pub(crate) fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self
            .body
            .find(marker)
            .unwrap_or_else(|| panic!("no csrf field in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap();
        self.body[start..start + end].to_string()
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Browser {
    pub(crate) fn new(t: &TestApp) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: t.base_url.clone(),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn absorb(&mut self, headers: &HeaderMap) {
        for v in headers.get_all(SET_COOKIE) {
            let v = v.to_str().unwrap();
            assert!(
                v.contains("Secure") && v.contains("HttpOnly") && v.contains("Path=/"),
                "cookie flags: {v}"
            );
            let (kv, _) = v.split_once(';').unwrap();
            let (k, val) = kv.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.contains("Max-Age=0") {
                self.cookies.push((k.to_string(), val.to_string()));
            }
        }
    }

    async fn page(&mut self, resp: reqwest::Response) -> Page {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        self.absorb(&headers);
        // Pages escape apostrophes and quotes; tests read the text.
        let body = resp
            .text()
            .await
            .unwrap_or_default()
            .replace("&#39;", "'")
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&#x2f;", "/")
            .replace("&#47;", "/");
        Page {
            status,
            headers,
            body,
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Page {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.page(r).await
    }

    pub(crate) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Page {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(fields)
            .send()
            .await
            .unwrap();
        self.page(r).await
    }

    pub(crate) async fn post_multipart(&mut self, path: &str, form: Form) -> Page {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .multipart(form)
            .send()
            .await
            .unwrap();
        self.page(r).await
    }

    /// Logs in through the login form; returns the page after the redirect.
    pub(crate) async fn login(&mut self, tenant: &str, login: &str, password: &str) -> Page {
        let form = self.get("/connexion").await;
        assert_eq!(form.status, 200);
        let token = form.csrf();
        let done = self
            .post(
                "/connexion",
                &[
                    ("csrf", &token),
                    ("tenant", tenant),
                    ("login", login),
                    ("password", password),
                    ("suite", ""),
                ],
            )
            .await;
        assert_eq!(done.status, 303, "login of {login}: {}", done.body);
        assert!(
            self.cookies.iter().any(|(k, _)| k == "__Host-liasse"),
            "session cookie set"
        );
        let next = done.header("location").to_string();
        self.get(&next).await
    }
}

fn assert_secure(page: &Page, what: &str) {
    assert_eq!(page.header("content-security-policy"), CSP, "{what}");
    assert_eq!(page.header("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(page.header("x-frame-options"), "DENY", "{what}");
    assert!(!page.header("referrer-policy").is_empty(), "{what}");
    assert!(
        page.header("permissions-policy").contains("camera=(self)"),
        "{what}"
    );
    assert!(
        page.header("content-type").starts_with("text/html"),
        "{what}"
    );
    assert!(page.body.contains("<html lang=\"fr\">"), "{what}");
    assert!(page.body.contains("href=\"#contenu\""), "{what}: skip link");
    // Nothing inline: no <style>, no style attribute, no inline <script>, no event handler.
    for bad in [
        "<style",
        " style=\"",
        "<script>",
        " onclick=",
        " onload=",
        "javascript:",
    ] {
        assert!(!page.body.contains(bad), "{what}: {bad} in the page");
    }
}

async fn setup(t: &TestApp) {
    t.tenant("web").await;
    for p in liasse_domain::catalogue::default_procedures().unwrap() {
        liasse_app::requests::save_procedure(
            &t.app,
            &liasse_store::tenants::by_slug(&t.app.db, "web")
                .await
                .unwrap()
                .unwrap()
                .id,
            liasse_domain::journal::Actor::operator(),
            p,
        )
        .await
        .unwrap();
    }
    t.account("web", "camille", "citizen", &[]).await;
    t.account("web", "dominique", "agent", &[("scolaire", "modify")])
        .await;
    t.account("web", "alix", "admin", &[]).await;
    t.account("web", "sacha", "manager", &[("scolaire", "manage")])
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_page_answers_with_its_security_headers() {
    let t = TestApp::embedded().await;
    setup(&t).await;
    let mut b = Browser::new(&t);
    for path in ["/", "/connexion", "/hors-ligne"] {
        let p = b.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        assert_secure(&p, path);
    }
    // Static files are part of the binary.
    for (path, ty) in [
        ("/static/app.css", "text/css"),
        ("/static/app.js", "text/javascript"),
        ("/sw.js", "text/javascript"),
        ("/manifest.webmanifest", "application/manifest+json"),
        ("/static/icon-192.png", "image/png"),
        ("/theme/web/brand.css", "text/css"),
    ] {
        let p = b.get(path).await;
        assert_eq!(p.status, 200, "{path}");
        assert!(
            p.header("content-type").starts_with(ty),
            "{path}: {}",
            p.header("content-type")
        );
        assert_eq!(p.header("x-content-type-options"), "nosniff", "{path}");
    }
    // A page that needs a session sends to the login page, and back after it.
    let p = b.get("/documents").await;
    assert_eq!(p.status, 303);
    assert_eq!(p.header("location"), "/connexion?suite=/documents");

    let home = b.login("web", "camille", "camille-password").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Mes documents"));
    for path in [
        "/documents",
        "/documents/nouveau",
        "/demandes",
        "/courriers",
        "/foyer",
        "/partages",
        "/journal",
        "/notifications",
        "/preferences",
    ] {
        let p = b.get(path).await;
        assert_eq!(p.status, 200, "{path}: {}", p.body);
        assert_secure(&p, path);
        assert!(
            p.body.contains("name=\"csrf\""),
            "{path}: the logout form carries the token"
        );
    }
    // Citizens do not enter the back office.
    let p = b.get("/agent").await;
    assert_eq!(p.status, 403);
    assert_secure(&p, "403");
    assert!(p.body.contains("Action non autorisée"));

    let mut agent = Browser::new(&t);
    agent.login("web", "dominique", "dominique-password").await;
    for path in ["/agent", "/agent/guichet", "/agent?q=camille"] {
        let p = agent.get(path).await;
        assert_eq!(p.status, 200, "{path}: {}", p.body);
        assert_secure(&p, path);
    }
    // Statistics are for managers.
    assert_eq!(agent.get("/agent/statistiques").await.status, 403);
    let mut manager = Browser::new(&t);
    manager.login("web", "sacha", "sacha-password").await;
    let p = manager.get("/agent/statistiques").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert_secure(&p, "/agent/statistiques");
    let csv = manager.get("/agent/statistiques.csv").await;
    assert!(
        csv.header("content-type").starts_with("text/csv")
            && csv.body.starts_with("procedure,state,count")
    );

    let mut admin = Browser::new(&t);
    admin.login("web", "alix", "alix-password").await;
    for path in [
        "/admin",
        "/admin/types",
        "/admin/types/nouveau",
        "/admin/types/rib",
        "/admin/demarches",
        "/admin/demarches/nouvelle",
        "/admin/demarches/inscription-scolaire?reponses=%7B%22canteen%22%3Atrue%7D",
        "/admin/agents",
        "/admin/apparence",
    ] {
        let p = admin.get(path).await;
        assert_eq!(p.status, 200, "{path}: {}", p.body);
        assert_secure(&p, path);
    }
    let preview = admin.get("/admin/demarches/inscription-scolaire?reponses=%7B%22canteen%22%3Atrue%7D&condition=answers.canteen+%3D%3D").await;
    assert!(
        preview.body.contains("Condition incorrecte"),
        "{}",
        preview.body
    );
    let missing = admin.get("/admin/types/nothing-here").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("Page introuvable"));
}

#[tokio::test(flavor = "multi_thread")]
async fn forms_without_the_csrf_token_are_refused_and_change_nothing() {
    let t = TestApp::embedded().await;
    setup(&t).await;
    let mut b = Browser::new(&t);

    // Login itself: without the login page's token, no session.
    let r = b
        .post(
            "/connexion",
            &[
                ("tenant", "web"),
                ("login", "camille"),
                ("password", "camille-password"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    // No login cookie came back either: the page says so (it:edge has the details).
    assert!(
        r.body.contains("n'a pas renvoyé le cookie de connexion"),
        "{}",
        r.body
    );
    assert!(!b.cookies.iter().any(|(k, _)| k == "__Host-liasse"));

    let vault = b.login("web", "camille", "camille-password").await;
    let token = vault.csrf();
    let principal = liasse_app::auth::principal_for_login(&t.app, "web", "camille")
        .await
        .unwrap();

    // Household: no token, a wrong token, then the right one.
    for fields in [
        vec![("name", "Léa"), ("relation", "enfant")],
        vec![
            ("csrf", "csrf_forged"),
            ("name", "Léa"),
            ("relation", "enfant"),
        ],
    ] {
        let r = b.post("/foyer", &fields).await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("Formulaire expiré ou invalide"));
        assert!(
            members::list(&t.app, &principal).await.unwrap().is_empty(),
            "nothing added"
        );
    }
    let r = b
        .post(
            "/foyer",
            &[("csrf", &token), ("name", "Léa"), ("relation", "enfant")],
        )
        .await;
    assert_eq!(r.status, 303);
    assert_eq!(members::list(&t.app, &principal).await.unwrap().len(), 1);

    // Upload: the token must come first; without it nothing is stored.
    let before = t.storage_counts().await;
    let form = Form::new().text("type", "justificatif-domicile").part(
        "file",
        Part::bytes(samples::minimal_pdf())
            .file_name("facture.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let r = b.post_multipart("/documents", form).await;
    assert_eq!(r.status, 403);
    assert_eq!(t.storage_counts().await, before, "nothing stored");
    let form = Form::new()
        .text("csrf", token.clone())
        .text("type", "justificatif-domicile")
        .text("title", "Facture")
        .part(
            "file",
            Part::bytes(samples::minimal_pdf())
                .file_name("facture.pdf")
                .mime_str("application/pdf")
                .unwrap(),
        );
    let r = b.post_multipart("/documents", form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let doc = r
        .header("location")
        .trim_start_matches("/documents/")
        .split('?')
        .next()
        .unwrap()
        .to_string();

    // Delete: refused without the token, the document stays readable.
    let r = b.post(&format!("/documents/{doc}/supprimer"), &[]).await;
    assert_eq!(r.status, 403);
    assert!(documents::get(&t.app, &principal, &doc).await.is_ok());
    // Logout without the token keeps the session.
    let r = b.post("/deconnexion", &[]).await;
    assert_eq!(r.status, 403);
    assert_eq!(b.get("/documents").await.status, 200);
    // With it, the deletion happens.
    let r = b
        .post(&format!("/documents/{doc}/supprimer"), &[("csrf", &token)])
        .await;
    assert_eq!(r.status, 303);
    assert!(documents::get(&t.app, &principal, &doc).await.is_err());

    // Another session's token is no good either.
    let mut other = Browser::new(&t);
    let other_token = other
        .login("web", "camille", "camille-password")
        .await
        .csrf();
    assert_ne!(other_token, token);
    let r = b
        .post(
            "/foyer",
            &[
                ("csrf", &other_token),
                ("name", "Hugo"),
                ("relation", "enfant"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(members::list(&t.app, &principal).await.unwrap().len(), 1);

    // Logout with the token ends the session.
    let r = b.post("/deconnexion", &[("csrf", &token)]).await;
    assert_eq!(r.status, 303);
    assert_eq!(b.get("/documents").await.status, 303);
}

#[tokio::test(flavor = "multi_thread")]
async fn login_rate_limit_answers_in_french() {
    let t = TestApp::embedded().await;
    setup(&t).await;
    let mut b = Browser::new(&t);
    let token = b.get("/connexion").await.csrf();
    for _ in 0..5 {
        let r = b
            .post(
                "/connexion",
                &[
                    ("csrf", &token),
                    ("tenant", "web"),
                    ("login", "camille"),
                    ("password", "wrong-password"),
                ],
            )
            .await;
        assert_eq!(r.status, 401);
        assert!(
            r.body
                .contains("Identifiant, mot de passe ou collectivité incorrect"),
            "{}",
            r.body
        );
        assert!(
            r.body.contains("aria-invalid=\"true\""),
            "the error is tied to the fields"
        );
        assert_secure(&r, "login error");
    }
    // Even the right password is refused now, with a French explanation.
    let r = b
        .post(
            "/connexion",
            &[
                ("csrf", &token),
                ("tenant", "web"),
                ("login", "camille"),
                ("password", "camille-password"),
            ],
        )
        .await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(
        r.body
            .contains("Trop de tentatives de connexion. Réessayez dans"),
        "{}",
        r.body
    );
    assert!(!r.header("retry-after").is_empty());
    assert_secure(&r, "rate limited");
    assert!(!b.cookies.iter().any(|(k, _)| k == "__Host-liasse"));
}

#[tokio::test(flavor = "multi_thread")]
async fn previews_run_in_a_sandbox_and_the_offline_list_holds_no_content() {
    let t = TestApp::embedded().await;
    setup(&t).await;
    let mut b = Browser::new(&t);
    let token = b.login("web", "camille", "camille-password").await.csrf();
    let form = Form::new()
        .text("csrf", token.clone())
        .text("type", "carte-nationale-identite")
        .text("valid_until", "2031-05-01")
        .text("title", "Ma carte")
        .part(
            "file",
            Part::bytes(samples::small_jpeg(64, 40))
                .file_name("cni.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let r = b.post_multipart("/documents", form).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let doc = r
        .header("location")
        .trim_start_matches("/documents/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let page = b.get(&format!("/documents/{doc}")).await;
    assert!(
        page.body.contains("Valable jusqu'au 01/05/2031"),
        "{}",
        page.body
    );

    let preview = b.get(&format!("/documents/{doc}/apercu")).await;
    assert_eq!(preview.status, 200);
    assert_eq!(
        preview.header("content-security-policy"),
        "sandbox; default-src 'none'"
    );
    assert_eq!(preview.header("content-disposition"), "inline");
    assert_eq!(preview.header("x-frame-options"), "SAMEORIGIN");
    assert_eq!(preview.header("content-type"), "image/jpeg");
    let download = b.get(&format!("/documents/{doc}/contenu")).await;
    assert!(
        download
            .header("content-disposition")
            .starts_with("attachment")
    );

    let list = b.get("/documents.json").await;
    assert_eq!(list.status, 200);
    let v: serde_json::Value = serde_json::from_str(&list.body).unwrap();
    assert_eq!(v["documents"][0]["title"], "Ma carte");
    assert_eq!(v["documents"][0]["state"], "En attente de vérification");
    assert!(
        !list.body.contains(&doc) && !list.body.contains("sha256"),
        "names and states only: {}",
        list.body
    );

    // The service worker never caches contents.
    let sw = b.get("/sw.js").await;
    assert!(sw.body.contains("contenu|apercu|content"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tenant_theme_accepts_only_strict_colours() {
    let t = TestApp::embedded().await;
    setup(&t).await;
    let mut admin = Browser::new(&t);
    let token = admin.login("web", "alix", "alix-password").await.csrf();
    let r = admin
        .post(
            "/admin/apparence",
            &[
                ("csrf", &token),
                ("brand_name", "Ville de Test"),
                ("brand_primary", "red;}body{display:none"),
                ("brand_logo_url", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("#rrggbb") && r.body.contains("aria-invalid=\"true\""),
        "{}",
        r.body
    );
    let css = admin.get("/theme/web/brand.css").await.body;
    assert!(
        css.contains("--brand: #1d4f91") && !css.contains("display"),
        "{css}"
    );

    let r = admin
        .post(
            "/admin/apparence",
            &[
                ("csrf", &token),
                ("brand_name", "Ville de Test"),
                ("brand_primary", "#FFEE00"),
                ("brand_logo_url", "https://evil.example/logo.png"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "an outside logo would break the CSP");
    let r = admin
        .post(
            "/admin/apparence",
            &[
                ("csrf", &token),
                ("brand_name", "Ville de Test"),
                ("brand_primary", "#FFEE00"),
                ("brand_logo_url", "/static/icon.svg"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let css = admin.get("/theme/web/brand.css").await.body;
    // A light colour keeps dark text on it.
    assert!(
        css.contains("--brand: #ffee00") && css.contains("--on-brand: #111111"),
        "{css}"
    );
    let home = Browser::new(&t).get("/connexion?collectivite=web").await;
    assert!(
        home.body.contains("Ville de Test") && home.body.contains("src=\"/static/icon.svg\""),
        "{}",
        home.body
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_goes_from_draft_to_review_through_the_pages() {
    let t = TestApp::embedded().await;
    setup(&t).await;
    let mut citizen = Browser::new(&t);
    let token = citizen
        .login("web", "camille", "camille-password")
        .await
        .csrf();

    let r = citizen
        .post(
            "/demandes",
            &[("csrf", &token), ("procedure", "inscription-scolaire")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let path = r.header("location").split('?').next().unwrap().to_string();
    let id = path.trim_start_matches("/demandes/").to_string();
    let draft = citizen.get(&path).await;
    assert!(
        draft.body.contains("Brouillon") && draft.body.contains("Justificatif de domicile"),
        "{}",
        draft.body
    );
    // The child the registration is for is declared in the household and chosen.
    let r = citizen
        .post(
            "/foyer",
            &[
                ("csrf", &token),
                ("name", "Léa Martin"),
                ("relation", "enfant"),
                ("birth_date", "2019-03-02"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let principal = liasse_app::auth::principal_for_login(&t.app, "web", "camille")
        .await
        .unwrap();
    let child = members::list(&t.app, &principal).await.unwrap()[0]
        .id
        .clone();
    let r = citizen
        .post(
            &format!("{path}/reponses"),
            &[
                ("csrf", &token),
                ("q_canteen", "non"),
                ("q_separated_parents", "non"),
                ("q_school_year", "2026-2027"),
                ("members", &child),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let form = Form::new().text("csrf", token.clone()).part(
        "file",
        Part::bytes(samples::small_png(30, 40))
            .file_name("carnet.png")
            .mime_str("image/png")
            .unwrap(),
    );
    let r = citizen
        .post_multipart(&format!("{path}/deposer?exigence=vaccins:{child}"), form)
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    // Upload straight into the requirements (the document lands in the vault and is attached).
    let form = Form::new().text("csrf", token.clone()).part(
        "file",
        Part::bytes(samples::minimal_pdf())
            .file_name("edf.pdf")
            .mime_str("application/pdf")
            .unwrap(),
    );
    let r = citizen
        .post_multipart(&format!("{path}/deposer?exigence=domicile"), form)
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // A printed-date type without its date: refused, shown on the request page.
    let form = Form::new().text("csrf", token.clone()).part(
        "file",
        Part::bytes(samples::small_jpeg(64, 40))
            .file_name("cni.jpg")
            .mime_str("image/jpeg")
            .unwrap(),
    );
    let r = citizen
        .post_multipart(&format!("{path}/deposer?exigence=identite"), form)
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("error-summary"), "{}", r.body);
    let form = Form::new()
        .text("csrf", token.clone())
        .text("valid_until", "2031-05-01")
        .part(
            "file",
            Part::bytes(samples::small_jpeg(64, 40))
                .file_name("cni.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let r = citizen
        .post_multipart(&format!("{path}/deposer?exigence=identite"), form)
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let sent = citizen
        .post(&format!("{path}/envoyer"), &[("csrf", &token)])
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    assert!(sent.body.contains("Code de suivi"), "{}", sent.body);

    // The agent sees it, with previews, and a rejection needs a reason.
    let mut agent = Browser::new(&t);
    let agent_token = agent
        .login("web", "dominique", "dominique-password")
        .await
        .csrf();
    let page = agent.get(&format!("/agent/demandes/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("/apercu?version=1") && page.body.contains("<object"),
        "{}",
        page.body
    );
    let marker = "action=\"/agent/documents/";
    let start = page.body.find(marker).unwrap() + marker.len();
    let doc = page.body[start..start + 36].to_string();
    let r = agent
        .post(
            &format!("/agent/documents/{doc}/examen"),
            &[
                ("csrf", &agent_token),
                ("demande", &id),
                ("decision", "rejected"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body.contains("Un refus doit être motivé") && r.body.contains("aria-invalid=\"true\""),
        "{}",
        r.body
    );
    let r = agent
        .post(
            &format!("/agent/documents/{doc}/examen"),
            &[
                ("csrf", &agent_token),
                ("demande", &id),
                ("decision", "rejected"),
                ("reason", "Illisible"),
            ],
        )
        .await;
    assert_eq!(r.status, 303);
    let r = agent
        .post(
            &format!("/agent/demandes/{id}/courrier"),
            &[
                ("csrf", &agent_token),
                ("template", "accuse-reception"),
                ("text", "Bien reçu."),
                ("subject", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    // The citizen reads the reason, the letter, who read what, and exports everything.
    let vault = citizen.get("/documents").await;
    assert!(
        vault.body.contains("Motif du refus : Illisible"),
        "{}",
        vault.body
    );
    assert!(
        citizen
            .get("/courriers")
            .await
            .body
            .contains("Accusé de réception de votre demande")
    );
    let journal = citizen.get("/journal").await;
    assert!(journal.body.contains("a refusé votre"), "{}", journal.body);
    let zip = citizen.get("/export").await;
    assert_eq!(zip.status, 200);
    assert_eq!(zip.header("content-type"), "application/zip");
    // The page's export is journalled as the page's, not the API's.
    let camille = liasse_app::auth::principal_for_login(&t.app, "web", "camille")
        .await
        .unwrap();
    let journal = liasse_app::journal::for_principal(&t.app, &camille)
        .await
        .unwrap();
    let export = journal
        .iter()
        .find(|e| e.action == "account.export")
        .expect("the export is journalled");
    assert_eq!(export.details["via"], "web", "{:?}", export.details);
}

/// An admin disables an agent who leaves: the agent's open session, API token and password
/// all stop working at once, nothing else of the account is lost, and the admin can undo it.
/// Only admins can do it, and only to agents and managers.
#[tokio::test(flavor = "multi_thread")]
async fn an_admin_disables_and_reenables_an_agent() {
    let t = TestApp::embedded().await;
    setup(&t).await;
    let agent_token = t
        .account("web", "morgan", "agent", &[("scolaire", "modify")])
        .await;
    let morgan = liasse_app::auth::principal_for_login(&t.app, "web", "morgan")
        .await
        .unwrap();
    let mut agent = Browser::new(&t);
    let agent_home = agent.login("web", "morgan", "morgan-password").await;
    assert_eq!(agent_home.status, 200);
    assert_eq!(
        t.get(&agent_token, "/api/v1/notifications").await.status(),
        200
    );

    // Neither the agent nor a manager can disable anyone.
    let mut manager = Browser::new(&t);
    let manager_csrf = manager.login("web", "sacha", "sacha-password").await.csrf();
    let path = format!("/admin/agents/{}/desactiver", morgan.account_id);
    let r = manager.post(&path, &[("csrf", &manager_csrf)]).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        t.get(&agent_token, "/api/v1/notifications").await.status(),
        200
    );

    let mut admin = Browser::new(&t);
    let csrf = admin.login("web", "alix", "alix-password").await.csrf();
    // A forged form changes nothing.
    let r = admin.post(&path, &[]).await;
    assert_eq!(r.status, 403);
    assert_eq!(
        t.get(&agent_token, "/api/v1/notifications").await.status(),
        200
    );
    // An admin or a citizen is not an agent's account: not found.
    let alix = liasse_app::auth::principal_for_login(&t.app, "web", "alix")
        .await
        .unwrap();
    let camille = liasse_app::auth::principal_for_login(&t.app, "web", "camille")
        .await
        .unwrap();
    for other in [&alix.account_id, &camille.account_id] {
        let r = admin
            .post(
                &format!("/admin/agents/{other}/desactiver"),
                &[("csrf", &csrf)],
            )
            .await;
        assert_eq!(r.status, 404, "{}", r.body);
    }

    let r = admin.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = admin.get(r.header("location")).await;
    assert!(
        page.body.contains("Le compte a été désactivé")
            && page.body.contains("désactivé</span>")
            && page.body.contains("Réactiver le compte"),
        "{}",
        page.body
    );
    // Shut out everywhere at once.
    assert_eq!(
        t.get(&agent_token, "/api/v1/notifications").await.status(),
        401
    );
    let r = agent.get("/agent").await;
    assert_eq!(r.status, 303, "the session no longer works: {}", r.body);
    let form = agent.get("/connexion").await;
    let r = agent
        .post(
            "/connexion",
            &[
                ("csrf", &form.csrf()),
                ("tenant", "web"),
                ("login", "morgan"),
                ("password", "morgan-password"),
                ("suite", ""),
            ],
        )
        .await;
    assert_ne!(r.status, 303, "no login for a disabled account");
    // Disabling twice is harmless; the journal has one entry per change.
    let r = admin.post(&path, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 303);

    let r = admin
        .post(
            &format!("/admin/agents/{}/reactiver", morgan.account_id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        t.get(&agent_token, "/api/v1/notifications").await.status(),
        200
    );
    let back = Browser::new(&t)
        .login("web", "morgan", "morgan-password")
        .await;
    assert_eq!(back.status, 200);
    // Rights were kept.
    let rights = liasse_store::accounts::rights(&t.app.db, &morgan.tenant_id, &morgan.account_id)
        .await
        .unwrap();
    assert!(
        rights.iter().any(|(d, l)| d == "scolaire" && l == "modify"),
        "{rights:?}"
    );
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM journal WHERE tenant_id = $1 AND object_id = $2 AND action LIKE 'account.%able' ORDER BY seq",
    )
    .bind(&morgan.tenant_id)
    .bind(&morgan.account_id)
    .fetch_all(t.app.db.pool())
    .await
    .unwrap();
    assert_eq!(actions, ["account.disable", "account.enable"]);
}
