//! The open-files limit. Every request in flight holds a socket; a run that
//! keeps hundreds in flight (case 4's baseline keeps ~600) needs more than
//! macOS shells allow by default (`ulimit -n` 256), and would report
//! connection errors instead of the latency the lesson is about. So a run
//! raises its own soft limit to what it needs, up to the hard limit, and
//! says so when it cannot.

/// Raises the soft limit on open files to at least `needed`. Returns what
/// to tell the participant: `None` when the limit suffices (or was raised
/// quietly), a warning when it cannot be raised far enough.
#[cfg(unix)]
pub fn raise(needed: u64) -> Option<String> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let soft = limit.current.unwrap_or(u64::MAX);
    if soft >= needed {
        return None;
    }
    let hard = limit.maximum.unwrap_or(u64::MAX);
    let wanted = needed.min(hard);
    let raised = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(wanted),
            maximum: limit.maximum,
        },
    );
    match raised {
        Ok(()) if wanted >= needed => None,
        Ok(()) => Some(format!(
            "this run may hold {needed} connections, but the hard limit on open files is \
             {hard}: expect connection errors. Raise it (`ulimit -Hn {needed}` as root, or \
             launchctl limit maxfiles on macOS) and rerun"
        )),
        Err(error) => Some(format!(
            "this run may hold {needed} connections, but the open-files limit is {soft} and \
             could not be raised ({error}): expect connection errors. Run `ulimit -n {needed}` \
             in this shell and rerun"
        )),
    }
}

#[cfg(not(unix))]
pub fn raise(_needed: u64) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_low_soft_limit_is_raised_and_a_sufficient_one_left() {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let before = getrlimit(Resource::Nofile);
        let hard = before.maximum.unwrap_or(65_536).min(65_536);
        // A shell with `ulimit -n 256`, as macOS gives.
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(256.min(hard)),
                maximum: before.maximum,
            },
        )
        .expect("lowering the soft limit is always allowed");
        let needed = 1000.min(hard);
        assert_eq!(raise(needed), None);
        assert!(getrlimit(Resource::Nofile).current >= Some(needed));
        // Beyond the hard limit: a warning that says what to do.
        if let Some(hard) = before.maximum {
            let warning = raise(hard + 1).expect("cannot pass the hard limit");
            assert!(warning.contains("ulimit"), "{warning}");
        }
        setrlimit(Resource::Nofile, before).expect("restore the limit");
    }
}
