//! The HTTP plumbing that the API and the pages share: the server loop, the edge (body limits,
//! connection caps, the client's address behind trusted proxies), cookies, download headers and
//! the one table that maps a use case's error to a status.

pub mod client;
pub mod cookies;
pub mod download;
pub mod edge;
pub mod problem;
pub mod server;
pub mod status;
pub mod upload;
