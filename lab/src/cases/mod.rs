//! The four cases, one file each. These are the files participants edit.
//!
//! | case | file           | served by | marker            |
//! |------|----------------|-----------|-------------------|
//! | 1    | `timeouts.rs`  | api       | `LAB: STEP1 TODO` |
//! | 2    | `tx.rs`        | api       | `LAB: STEP2 TODO` |
//! | 3    | `bulkheads.rs` | worker    | `LAB: STEP3 TODO` |
//! | 4    | `autoscale.rs` | api       | in `deploy/k8s/`  |

pub mod autoscale;
pub mod bulkheads;
pub mod timeouts;
pub mod tx;
