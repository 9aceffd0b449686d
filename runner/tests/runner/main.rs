//! Integration tests for the runner.

mod load;
mod run;
mod scenarios;
