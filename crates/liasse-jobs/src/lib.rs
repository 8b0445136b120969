//! Work that runs on its own: the job runner (claimed through the database so that no job runs
//! twice across nodes), the life-cycle scheduler and job bodies (expiry notices, disposal,
//! drafts, anonymisation, digests), and the delivery of queued e-mails and SMS.

pub mod delivery;
pub mod lifecycle;
pub mod runner;
