//! Integration tests for the runner.

mod browser;
mod load;
mod report;
mod run;
mod scenarios;
