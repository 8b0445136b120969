//! Every access across the roles: the citizen, another citizen, an agent of the domain, an
//! agent of another domain, a manager, an admin, a service client, someone of another tenant.

use super::*;

struct Cast {
    rights_social: Vec<(String, Right)>,
    rights_school: Vec<(String, Right)>,
    rights_manage: Vec<(String, Right)>,
}

impl Cast {
    fn new() -> Cast {
        Cast {
            rights_social: vec![("social".into(), Right::Modify)],
            rights_school: vec![("scolaire".into(), Right::Manage)],
            rights_manage: vec![("social".into(), Right::Manage)],
        }
    }

    fn actor<'a>(&'a self, who: &str) -> ActorFacts<'a> {
        let base = ActorFacts {
            tenant_id: "t",
            account_id: "c1",
            role: Role::Citizen,
            service_id: "",
            rights: &[],
        };
        match who {
            "citizen" => base,
            "other" => ActorFacts {
                account_id: "c2",
                ..base
            },
            "agent" => ActorFacts {
                account_id: "a1",
                role: Role::Agent,
                rights: &self.rights_social,
                ..base
            },
            "elsewhere" => ActorFacts {
                account_id: "a2",
                role: Role::Agent,
                rights: &self.rights_school,
                ..base
            },
            "manager" => ActorFacts {
                account_id: "m1",
                role: Role::Manager,
                rights: &self.rights_manage,
                ..base
            },
            "admin" => ActorFacts {
                account_id: "ad",
                role: Role::Admin,
                ..base
            },
            "service" => ActorFacts {
                account_id: "s1",
                role: Role::Service,
                ..base
            },
            _ => ActorFacts {
                tenant_id: "u",
                role: Role::Agent,
                rights: &self.rights_social,
                ..base
            },
        }
    }
}

const WHO: [&str; 8] = [
    "citizen",
    "other",
    "agent",
    "elsewhere",
    "manager",
    "admin",
    "service",
    "foreign",
];

/// Who of `WHO` is allowed `access`.
fn allowed(cast: &Cast, access: &Access) -> Vec<&'static str> {
    WHO.into_iter()
        .filter(|w| allows(&cast.actor(w), access))
        .collect()
}

fn request<'a>(state: &'a str) -> RequestRecord<'a> {
    RequestRecord {
        tenant_id: "t",
        citizen_id: "c1",
        domain: "social",
        state,
        lock_holder: None,
        lock_live: false,
    }
}

#[test]
fn the_citizens_own_things_are_theirs_alone() {
    let cast = Cast::new();
    for a in [
        Access::OwnVault(VaultOp::Deposit),
        Access::OwnVault(VaultOp::List),
        Access::ExportVault,
        Access::Household(Op::List),
        Access::Household(Op::Add),
        Access::Sharing(Op::Add),
        Access::ProviderConsent,
        Access::CreateRequest,
        Access::Enter(Space::Citizen),
    ] {
        assert_eq!(allowed(&cast, &a), ["citizen", "other"], "{a:?}");
        assert_eq!(
            authorize(&cast.actor("admin"), &a),
            Err(Denial::Forbidden),
            "{a:?}"
        );
    }
    for a in [Access::Household(Op::Remove), Access::Sharing(Op::Remove)] {
        assert_eq!(authorize(&cast.actor("agent"), &a), Err(Denial::Hidden));
        assert_eq!(authorize(&cast.actor("citizen"), &a), Ok(Warrant::Owner));
    }
}

#[test]
fn requests_are_seen_by_their_citizen_and_the_agents_of_their_domain() {
    let cast = Cast::new();
    let sent = request("submitted");
    let draft = request("draft");
    assert_eq!(
        allowed(&cast, &Access::ReadRequest(&sent)),
        ["citizen", "agent", "manager"]
    );
    assert_eq!(allowed(&cast, &Access::ReadRequest(&draft)), ["citizen"]);
    assert_eq!(
        authorize(&cast.actor("agent"), &Access::ReadRequest(&sent)),
        Ok(Warrant::Domain("social".into()))
    );
    assert_eq!(
        authorize(&cast.actor("elsewhere"), &Access::ReadRequest(&sent)),
        Err(Denial::Hidden)
    );
    assert_eq!(allowed(&cast, &Access::ChangeRequest(&sent)), ["citizen"]);
    assert_eq!(
        allowed(&cast, &Access::ReadInternalNotes(&sent)),
        ["agent", "manager"]
    );
    assert_eq!(
        allowed(&cast, &Access::ListRequests),
        [
            "citizen",
            "other",
            "agent",
            "elsewhere",
            "manager",
            "foreign"
        ]
    );
    assert_eq!(
        authorize(&cast.actor("admin"), &Access::ListRequests),
        Err(Denial::Forbidden)
    );
}

#[test]
fn agents_with_the_modify_right_handle_requests() {
    let cast = Cast::new();
    let sent = request("submitted");
    for a in [
        Access::HandleRequest(&sent),
        Access::AddNote(&sent),
        Access::WriteLetter(&sent),
        Access::Lock {
            request: &sent,
            force: false,
        },
    ] {
        assert_eq!(allowed(&cast, &a), ["agent", "manager"], "{a:?}");
    }
    let to = |r, to| Access::Transition { request: r, to };
    assert_eq!(
        allowed(&cast, &to(&sent, "in_progress")),
        ["agent", "manager"]
    );
    assert_eq!(
        authorize(&cast.actor("citizen"), &to(&sent, "in_progress")),
        Err(Denial::WrongState)
    );
    assert_eq!(
        authorize(&cast.actor("elsewhere"), &to(&sent, "in_progress")),
        Err(Denial::Forbidden)
    );
    let draft = request("draft");
    assert_eq!(allowed(&cast, &to(&draft, "submitted")), ["citizen"]);
    assert_eq!(
        authorize(&cast.actor("agent"), &to(&draft, "completed")),
        Err(Denial::WrongState)
    );
    let complement = request("complement");
    assert_eq!(allowed(&cast, &to(&complement, "submitted")), ["citizen"]);
    assert_eq!(
        allowed(&cast, &to(&request("completed"), "closed")),
        ["agent", "manager"]
    );
}

#[test]
fn locks_keep_others_out_and_managers_break_them() {
    let cast = Cast::new();
    let held = RequestRecord {
        lock_holder: Some("a9"),
        lock_live: true,
        ..request("in_progress")
    };
    assert_eq!(
        authorize(&cast.actor("agent"), &Access::Write(&held)),
        Err(Denial::Locked)
    );
    assert_eq!(
        authorize(&cast.actor("citizen"), &Access::Write(&held)),
        Err(Denial::BeingHandled)
    );
    assert_eq!(
        authorize(&cast.actor("admin"), &Access::Write(&held)),
        Err(Denial::Forbidden)
    );
    let lock = |force| Access::Lock {
        request: &held,
        force,
    };
    assert_eq!(
        authorize(&cast.actor("agent"), &lock(true)),
        Err(Denial::Locked)
    );
    assert_eq!(
        authorize(&cast.actor("manager"), &lock(false)),
        Err(Denial::Locked)
    );
    assert_eq!(
        authorize(&cast.actor("manager"), &lock(true)),
        Ok(Warrant::Domain("social".into()))
    );
    let expired = RequestRecord {
        lock_live: false,
        ..held.clone()
    };
    assert!(allows(&cast.actor("agent"), &Access::Write(&expired)));
    assert!(allows(&cast.actor("citizen"), &Access::Write(&expired)));
    let mine = RequestRecord {
        lock_holder: Some("a1"),
        ..held.clone()
    };
    assert_eq!(allowed(&cast, &Access::Unlock(&mine)), ["agent"]);
    assert_eq!(
        authorize(&cast.actor("manager"), &Access::Unlock(&mine)),
        Err(Denial::NotHolder)
    );
}

#[test]
fn deposits_for_a_citizen() {
    let cast = Cast::new();
    let none: Vec<String> = vec![];
    let provider = vec!["provider".to_string()];
    let deposit = vec!["deposit".to_string()];
    let first = |scopes| Access::DepositForCitizen { scopes };
    assert_eq!(
        allowed(&cast, &first(&none)),
        ["agent", "elsewhere", "manager", "foreign"]
    );
    let svc = cast.actor("service");
    assert_eq!(authorize(&svc, &first(&none)), Err(Denial::Forbidden));
    let w = authorize(&svc, &first(&provider));
    assert!(w.as_ref().is_ok_and(Warrant::is_provider));
    assert_eq!(
        authorize(&svc, &first(&deposit)),
        Ok(Warrant::Scope("deposit"))
    );
    let typed = |domain, scopes| Access::DepositTypeForCitizen { domain, scopes };
    assert_eq!(
        allowed(&cast, &typed("social", &none)),
        ["agent", "manager", "foreign"]
    );
    assert_eq!(
        allowed(&cast, &typed("courrier", &none)),
        ["agent", "elsewhere", "manager", "foreign"]
    );
    assert!(allows(&svc, &typed("social", &deposit)));
}

#[test]
fn staff_spaces_statistics_and_administration() {
    let cast = Cast::new();
    for a in [
        Access::Dashboard,
        Access::Digest,
        Access::Enter(Space::Agency),
        Access::CitizenFiles,
    ] {
        let who = allowed(&cast, &a);
        assert!(who.starts_with(&["agent", "elsewhere", "manager"]), "{a:?}");
        assert!(!who.contains(&"citizen") && !who.contains(&"admin"));
    }
    assert_eq!(allowed(&cast, &Access::Statistics), ["manager"]);
    assert_eq!(
        allowed(&cast, &Access::Enter(Space::Statistics)),
        ["manager"]
    );
    for t in [
        Task::Catalogue,
        Task::Staff,
        Task::Services,
        Task::Branding,
        Task::Settings,
        Task::Outbox,
    ] {
        assert_eq!(allowed(&cast, &Access::Administer(t)), ["admin"]);
    }
    let put = |domain| Access::PutProcedure { domain };
    assert_eq!(allowed(&cast, &put("social")), ["manager", "admin"]);
    assert_eq!(allowed(&cast, &put("scolaire")), ["admin"]);
    assert_eq!(
        authorize(&cast.actor("admin"), &put("social")).map(|w| w.kind()),
        Ok("admin")
    );
}

#[test]
fn menus_and_homes() {
    let cast = Cast::new();
    assert_eq!(menu(&cast.actor("citizen")).len(), 9);
    assert_eq!(
        menu(&cast.actor("agent")),
        [Page::Dashboard, Page::Counter, Page::Security]
    );
    assert_eq!(
        menu(&cast.actor("manager")),
        [
            Page::Dashboard,
            Page::Counter,
            Page::Statistics,
            Page::Security
        ]
    );
    assert_eq!(menu(&cast.actor("admin")).len(), 6);
    assert!(menu(&cast.actor("service")).is_empty());
    assert_eq!(home(&cast.actor("citizen")), Some(Page::Documents));
    assert_eq!(home(&cast.actor("manager")), Some(Page::Dashboard));
    assert_eq!(home(&cast.actor("admin")), Some(Page::Administration));
    assert_eq!(home(&cast.actor("service")), None);
}

#[test]
fn warrants_say_what_the_journal_records() {
    assert_eq!(Warrant::Owner.kind(), "owner");
    assert_eq!(Warrant::Domain("social".into()).id(), "social");
    assert_eq!(Warrant::Role(Role::Admin).kind(), "admin");
    assert_eq!(Warrant::Document(Basis::Grant("g1".into())).kind(), "grant");
    assert!(request_is_open("complement") && !request_is_open("closed"));
    assert!(is_vault_account("citizen") && !is_vault_account("agent"));
    assert!(is_staff_account("manager") && is_partner_account("service"));
}

#[test]
fn the_domains_a_staff_member_sees() {
    let cast = Cast::new();
    let mixed = vec![
        ("social".to_string(), Right::Consult),
        ("scolaire".to_string(), Right::None),
        ("fiscalite".to_string(), Right::Manage),
    ];
    let agent = ActorFacts {
        rights: &mixed,
        ..cast.actor("agent")
    };
    assert_eq!(
        agent.domains_seen(),
        [("social", Right::Consult), ("fiscalite", Right::Manage)]
    );
    assert!(cast.actor("citizen").domains_seen().is_empty());
    let admin = ActorFacts {
        rights: &mixed,
        ..cast.actor("admin")
    };
    assert!(admin.domains_seen().is_empty());
}

#[test]
fn service_clients_list_the_grants_they_received_and_know_citizens_by_pairwise_ids() {
    let cast = Cast::new();
    assert_eq!(allowed(&cast, &Access::ReceivedGrants), ["service"]);
    assert_eq!(
        authorize(&cast.actor("citizen"), &Access::ReceivedGrants),
        Err(Denial::Forbidden)
    );
    assert!(pseudonymous(&cast.actor("service")));
    for who in ["citizen", "agent", "manager", "admin"] {
        assert!(!pseudonymous(&cast.actor(who)), "{who}");
    }
}
