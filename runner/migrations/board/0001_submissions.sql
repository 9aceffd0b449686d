-- The room's submissions, one row per run, as received. What a row counts
-- for (ranked, other settings, flagged) is worked out when the board is
-- shown, against the board's scenarios file.
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY,
    -- A run counts once: a second submission of it is refused.
    run_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    scenario TEXT NOT NULL,
    score INTEGER NOT NULL,
    fingerprint TEXT NOT NULL,
    interrupted INTEGER NOT NULL,
    -- JSON arrays: the edited workload keys, and the checks.
    workload_edited TEXT NOT NULL,
    checks TEXT NOT NULL,
    -- The address it came from, for the facilitator.
    address TEXT NOT NULL,
    -- Milliseconds since the Unix epoch.
    received_ms INTEGER NOT NULL
);

-- The room's settings that outlive a restart: the room code, so that a
-- board restarted mid-session takes the code participants already have.
CREATE TABLE room (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
