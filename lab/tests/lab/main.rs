//! Integration tests for the `lab` roles: each role served in-process on
//! 127.0.0.1:0, the api against a fresh database on the real PostgreSQL.

mod api;
mod binary;
mod dep;
mod shutdown;
mod support;
mod worker;
