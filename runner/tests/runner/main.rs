//! Integration tests for the runner.

mod scenarios;
