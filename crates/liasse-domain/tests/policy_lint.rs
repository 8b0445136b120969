//! The policy is the one place where roles and rights are compared: this test reads every
//! source file of the workspace's crates and fails on a role or right comparison outside
//! `crates/liasse-domain/src/policy/`. Services, handlers and views ask
//! `liasse_domain::policy::{authorize, allows, menu, home}` instead.

use std::path::{Path, PathBuf};

/// What betrays a decision taken outside the policy.
const PATTERNS: &[&str] = &[
    "Role::Citizen",
    "Role::Agent",
    "Role::Manager",
    "Role::Admin",
    "Role::Service",
    "Right::None",
    "Right::Consult",
    "Right::Modify",
    "Right::Manage",
    "right_on(",
    ".is_staff()",
    "Role::is_staff",
    "role ==",
    "role !=",
    "== role",
    "!= role",
    "role.code() ==",
    "role.code() !=",
    "== \"citizen\"",
    "== \"agent\"",
    "== \"manager\"",
    "== \"admin\"",
    "== \"service\"",
    "!= \"citizen\"",
    "!= \"agent\"",
    "!= \"manager\"",
    "!= \"admin\"",
    "!= \"service\"",
    "\"citizen\" =>",
    "\"manager\" =>",
    "\"admin\" =>",
    "\"service\" =>",
    ".rights.iter()",
];

/// Lines that name a role or right without deciding anything, each with its reason:
/// (file path suffix, text of the line, why).
const ALLOWED: &[(&str, &str, &str)] = &[
    (
        "liasse-app/src/signup.rs",
        "Role::Citizen",
        "the account a resident's sign-up opens is a resident's (and its password follows a \
         resident's rule); what that account may do is the policy's",
    ),
    (
        "liasse-federation/src/first_login.rs",
        "role: Role::Citizen,",
        "the account a first FranceConnect login creates is a resident's: FranceConnect is for \
         citizens, and what that account may do is the policy's",
    ),
    (
        "/demo.rs",
        "Role::",
        "the demo creates one account of each role and names them on the home page",
    ),
    (
        "liasse-web/src/roles.rs",
        "Role::",
        "the French names of the roles that pages print, and the role the agents' form asks to \
         create (the use case decides whether it may); display only",
    ),
    (
        "liasse-web/src/lib.rs",
        "\"service\" => \"Le service du compte",
        "the code of a flash message (after an account's service changed), not a role",
    ),
    (
        "liasse-web-citizen/src/document.rs",
        "\"citizen\" => \"vous\"",
        "a document's origin (deposited by its citizen), not a role",
    ),
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a line, without its comment (a `//` inside a string cuts a little more than
/// needed, which only hides text, never invents a hit).
fn code_of(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

fn offences() -> Vec<String> {
    let root = workspace();
    let mut files = Vec::new();
    if let Ok(crates) = std::fs::read_dir(root.join("crates")) {
        for c in crates.flatten() {
            sources(&c.path().join("src"), &mut files);
        }
    }
    files.sort();
    let policy = root.join("crates/liasse-domain/src/policy");
    let mut out = Vec::new();
    for f in files.iter().filter(|f| !f.starts_with(&policy)) {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let shown = f.strip_prefix(&root).unwrap_or(f).display().to_string();
        // Joined without spaces so that a chain split over lines (`s.p.rights\n.iter()`) shows.
        let squeezed: String = text
            .lines()
            .map(code_of)
            .collect::<String>()
            .split_whitespace()
            .collect();
        if squeezed.contains(".rights.iter()")
            && !text.lines().any(|l| code_of(l).contains(".rights.iter()"))
        {
            out.push(format!("{shown}: .rights .iter() over lines"));
        }
        for (n, line) in text.lines().enumerate() {
            let code = code_of(line);
            for p in PATTERNS.iter().filter(|p| code.contains(*p)) {
                let allowed = ALLOWED
                    .iter()
                    .any(|(file, text, _)| shown.ends_with(file) && code.contains(text));
                if !allowed {
                    out.push(format!("{shown}:{}: `{p}` in `{}`", n + 1, code.trim()));
                }
            }
        }
    }
    out
}

#[test]
fn no_role_or_right_comparison_outside_the_policy() {
    let found = offences();
    assert!(
        found.is_empty(),
        "{} role or right comparisons outside liasse-domain/src/policy (ask the policy instead):\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn the_lint_sees_the_workspace() {
    let mut files = Vec::new();
    sources(&workspace().join("crates/liasse-domain/src"), &mut files);
    assert!(files.iter().any(|f| f.ends_with("policy/mod.rs")));
    assert!(ALLOWED.iter().all(|(_, _, why)| !why.is_empty()));
}
