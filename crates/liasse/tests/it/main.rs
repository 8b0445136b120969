//! The server's one integration-test binary: every test runs on the embedded backend and, under
//! `scripts/test.sh`, on PostgreSQL + S3 too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod agents;
mod antivirus;
mod api_fuzz;
mod backups;
mod cli;
mod crash;
mod digests;
mod diskfull;
mod edge;
mod enrolment;
mod export;
mod exports;
mod federation;
mod flows;
mod foundation;
mod lifecycle;
mod logins;
mod logos;
mod marker;
mod matrix;
mod pairwise;
mod pixels;
mod procedures;
mod repair;
mod second_factor;
mod tokens;
mod uploads;
mod vault;
mod walk;
mod web;
