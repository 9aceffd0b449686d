//! Integration tests for the runner.

mod load;
mod scenarios;
