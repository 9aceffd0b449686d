//! What every api handler can reach: the database, the dep client, and the
//! knobs and workload in force. The case files and the router both use it.

use std::{sync::Arc, time::Duration};

use super::{audit::Audit, db::Db, dep_client::DepClient};
use crate::{
    cases::autoscale::CpuSlots,
    cli::{ApiArgs, ApiKnobs, ApiWorkload},
};

/// How long start-up keeps retrying an unreachable PostgreSQL before it
/// gives up (hard-coded: long enough for a database pod to start, short
/// enough that a wrong DATABASE_URL is reported within the minute).
const MIGRATE_RETRY_FOR: Duration = Duration::from_secs(30);

/// What every handler can reach. Cloned per request (all fields are cheap
/// handles), so handlers take `State<AppState>`.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: Db,
    pub dep: DepClient,
    pub knobs: Arc<ApiKnobs>,
    pub workload: Arc<ApiWorkload>,
    /// What the scenarios' gates read, counted outside the case files.
    pub audit: Arc<Audit>,
    /// The threads case 4's CPU work may run on at once.
    pub cpu: CpuSlots,
}

impl AppState {
    /// Connects to PostgreSQL (migrating it) and prepares the dep client.
    pub async fn connect(args: &ApiArgs) -> anyhow::Result<Self> {
        let db = Db::connect(&args.database_url, &args.knobs)?;
        db.migrate(MIGRATE_RETRY_FOR).await?;
        let dep = DepClient::new(&args.dep_url, args.knobs.dep_max_connections)?;
        Ok(Self {
            db,
            dep,
            knobs: Arc::new(args.knobs.clone()),
            workload: Arc::new(args.workload.clone()),
            audit: Arc::default(),
            cpu: CpuSlots::for_this_process(),
        })
    }
}
