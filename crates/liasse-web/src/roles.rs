//! The French names of the roles. Nothing here decides what anyone may do (the policy does);
//! these are the words the pages print, and the role the agents' form asks to create.

use liasse_domain::policy::Role;

/// How the page frame names the connected role.
pub fn label(role: Role) -> &'static str {
    match role {
        Role::Citizen => "usager",
        Role::Agent => "agent",
        Role::Manager => "responsable de service",
        Role::Admin => "administration",
        Role::Service => "service partenaire",
    }
}

/// How the agents' list names a staff account, by its stored role.
pub fn staff_title(role_code: &str) -> &'static str {
    match Role::parse(role_code) {
        Some(Role::Manager) => "responsable",
        _ => "agent",
    }
}

/// The role chosen in the agents' creation form: a manager when asked, an agent otherwise
/// (whether the admin may create it is the use case's to decide).
pub fn staff_choice(form_value: &str) -> Role {
    match Role::parse(form_value) {
        Some(Role::Manager) => Role::Manager,
        _ => Role::Agent,
    }
}

/// How an account's history names who changed it: the instance operator, a tenant admin
/// (marked as such), or the person by name.
pub fn history_actor(kind: &str, label: &str) -> String {
    if kind == "operator" {
        return "l'exploitant".to_string();
    }
    match Role::parse(kind) {
        Some(Role::Admin) => format!("{label} (administration)"),
        _ => label.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_roles() {
        assert_eq!(label(Role::Manager), "responsable de service");
        assert_eq!(staff_title("manager"), "responsable");
        assert_eq!(staff_title("agent"), "agent");
        assert_eq!(staff_choice("manager"), Role::Manager);
        assert_eq!(staff_choice("admin"), Role::Agent);
        assert_eq!(staff_choice(""), Role::Agent);
        assert_eq!(history_actor("operator", "x"), "l'exploitant");
        assert_eq!(history_actor("admin", "Ana"), "Ana (administration)");
        assert_eq!(history_actor("agent", "Léo"), "Léo");
    }
}
