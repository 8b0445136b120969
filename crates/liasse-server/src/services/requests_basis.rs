//! The requests a citizen's documents are attached to, as bases of access. Requests come with
//! the procedures capability; until then no document is attached to any request.

use crate::app::App;
use crate::error::Result;

/// (request id, domain, open, attached document ids) of a citizen's requests.
pub async fn open_for_citizen(_app: &App, _tenant_id: &str, _citizen_id: &str) -> Result<Vec<(String, String, bool, Vec<String>)>> {
    Ok(Vec::new())
}
