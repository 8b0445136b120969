//! The requests a citizen's documents are attached to, as bases of access.

use crate::app::App;
use crate::error::Result;

/// (request id, domain, open, attached document ids) of a citizen's requests. A request is
/// open while it is being handled (submitted, in progress, or waiting for a complement):
/// attaching is consent for that time only.
pub async fn open_for_citizen(
    app: &App,
    tenant_id: &str,
    citizen_id: &str,
) -> Result<Vec<(String, String, bool, Vec<String>)>> {
    let mut out: Vec<(String, String, bool, Vec<String>)> = Vec::new();
    for (id, domain, state, doc) in
        liasse_store::requests::attachment_bases(&app.db, tenant_id, citizen_id).await?
    {
        let open = matches!(state.as_str(), "submitted" | "in_progress" | "complement");
        match out.iter_mut().find(|(rid, ..)| *rid == id) {
            Some(entry) => entry.3.push(doc),
            None => out.push((id, domain, open, vec![doc])),
        }
    }
    Ok(out)
}
