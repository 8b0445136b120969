//! Use cases. Each function takes the application context and a principal (who acts), checks
//! what it must, changes storage in one transaction with its journal entry, and returns plain
//! data for the HTTP layer or the command line to present.

pub mod access;
pub mod admin;
pub mod agency;
pub mod assemble;
pub mod auth;
pub mod catalogue;
pub mod dashboard;
pub mod documents;
pub mod export;
pub mod grants;
pub mod jobs;
pub mod journal;
pub mod letters;
pub mod lifecycle;
pub mod mail;
pub mod members;
pub mod passwords;
pub mod requests;
pub mod requests_basis;
pub mod rotate;
pub mod scan;
pub mod tenants;
pub mod upload;
pub mod verify;
