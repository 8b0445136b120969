//! Gathers what the access policy needs (the owner's live grants, the open requests a
//! document is attached to) and asks it. The decision itself is
//! `liasse_domain::policy::decide`, the one place where access is decided.

use liasse_domain::doctype::format_date;
use liasse_domain::policy::{
    Action, Basis, Context, DocumentFacts, GrantFacts, RequestFacts, decide,
};
use liasse_store::documents::DocumentRow;
use liasse_store::grants::{self, GrantRow};

use crate::app::App;
use crate::auth::Principal;
use crate::error::Result;

/// The bases that may apply to one citizen's documents, loaded once for a listing.
pub struct Bases {
    today: String,
    grants: Vec<GrantRow>,
    /// (request id, domain, open, attached document ids)
    requests: Vec<(String, String, bool, Vec<String>)>,
}

impl Bases {
    pub async fn load(app: &App, p: &Principal, owner_id: &str) -> Result<Bases> {
        let today = format_date(app.clock.today());
        // Citizens act on their own documents: no other basis needs loading.
        if p.account_id == owner_id {
            return Ok(Bases {
                today,
                grants: Vec::new(),
                requests: Vec::new(),
            });
        }
        let grants = grants::live_for_citizen(&app.db, &p.tenant_id, owner_id, &today).await?;
        let requests = crate::requests_basis::open_for_citizen(app, &p.tenant_id, owner_id).await?;
        Ok(Bases {
            today,
            grants,
            requests,
        })
    }

    /// The policy's decision for one document.
    pub fn decide(&self, p: &Principal, action: Action, doc: &DocumentRow) -> Option<Basis> {
        let facts = DocumentFacts {
            tenant_id: &doc.tenant_id,
            id: &doc.id,
            owner_id: &doc.owner_id,
            type_code: &doc.type_code,
            deleted: doc.deleted_at.is_some(),
            depositor_service_id: &doc.depositor_service,
        };
        let grants: Vec<GrantFacts> = self
            .grants
            .iter()
            .map(|g| GrantFacts {
                id: &g.id,
                grantee_kind: &g.grantee_kind,
                grantee: &g.grantee,
                scope_kind: &g.scope_kind,
                scope: &g.scope,
                valid_until: &g.valid_until,
                revoked: g.revoked_at.is_some(),
            })
            .collect();
        let requests: Vec<RequestFacts> = self
            .requests
            .iter()
            .filter(|(_, _, _, docs)| docs.iter().any(|d| d == &doc.id))
            .map(|(id, domain, open, _)| RequestFacts {
                id,
                domain,
                open: *open,
            })
            .collect();
        let ctx = Context {
            today: &self.today,
            grants: &grants,
            requests: &requests,
        };
        decide(&p.facts(), action, &facts, &ctx)
    }
}
