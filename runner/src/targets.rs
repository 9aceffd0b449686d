//! Where the lab's services are: the cluster's NodePorts by default,
//! `--target api=URL,worker=URL` on the command line, or the local stack's
//! loopback ports.

use std::str::FromStr;

use crate::scenario::Service;

/// Where each service is.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    pub api: String,
    pub worker: String,
}

impl Targets {
    /// The service's base URL: `http://host:port`, no trailing slash.
    pub fn url(&self, service: Service) -> &str {
        match service {
            Service::Api => &self.api,
            Service::Worker => &self.worker,
        }
    }
}

/// The cluster's NodePorts.
impl Default for Targets {
    fn default() -> Self {
        Self {
            api: "http://localhost:8080".into(),
            worker: "http://localhost:8081".into(),
        }
    }
}

impl FromStr for Targets {
    type Err = String;

    /// `api=http://host:port,worker=http://host:port`; either may be left
    /// out, and an empty string gives the defaults.
    fn from_str(text: &str) -> Result<Self, String> {
        let mut targets = Self::default();
        for pair in text
            .split(',')
            .map(str::trim)
            .filter(|pair| !pair.is_empty())
        {
            let Some((service, url)) = pair.split_once('=') else {
                return Err(format!(
                    "`{pair}` is not service=URL, e.g. api=http://localhost:8080"
                ));
            };
            let url = url.trim().trim_end_matches('/').to_owned();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!("`{url}` is not an http:// or https:// URL"));
            }
            match service.trim() {
                "api" => targets.api = url,
                "worker" => targets.worker = url,
                other => return Err(format!("`{other}` is not a service; use api or worker")),
            }
        }
        Ok(targets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_default_and_override_per_service() {
        let defaults = Targets::from_str("").expect("defaults");
        assert_eq!(defaults.api, "http://localhost:8080");
        let custom = Targets::from_str("worker=http://127.0.0.1:9/").expect("one override");
        assert_eq!(custom.api, "http://localhost:8080");
        assert_eq!(custom.worker, "http://127.0.0.1:9");
        assert!(Targets::from_str("db=http://x").is_err());
        assert!(Targets::from_str("api=localhost:8080").is_err());
        assert!(Targets::from_str("api").is_err());
    }
}
