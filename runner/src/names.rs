//! Tests that each enum's names agree: strum's spelling (`as_str`,
//! parsing, every variant) and serde's (the files, data.json) come from
//! two derives, so a variant renamed in one attribute fails here rather
//! than reading as another name in a report.

use std::{fmt::Debug, str::FromStr};

use serde::{Serialize, de::DeserializeOwned};
use strum::IntoEnumIterator;

use crate::{
    load::collector::ErrorKind,
    report::compare::Verdict,
    scenario::{KubeKind, Method, RequestMetric, Service, Stat},
};

/// Every variant's strum name parses back to it through strum.
fn strum_reads<T>() -> Vec<(T, &'static str)>
where
    T: IntoEnumIterator + Into<&'static str> + FromStr + Copy + PartialEq + Debug,
    <T as FromStr>::Err: Debug,
{
    let pairs: Vec<(T, &'static str)> =
        T::iter().map(|variant| (variant, variant.into())).collect();
    assert!(!pairs.is_empty());
    for (variant, name) in &pairs {
        assert_eq!(
            name.parse::<T>().ok(),
            Some(*variant),
            "strum reads `{name}`"
        );
    }
    pairs
}

/// ... and through serde.
fn serde_reads<T>(pairs: &[(T, &'static str)])
where
    T: DeserializeOwned + PartialEq + Debug,
{
    for (variant, name) in pairs {
        let read: T = serde_json::from_value((*name).into()).expect(name);
        assert_eq!(&read, variant, "serde reads `{name}`");
    }
}

/// serde writes each variant as strum names it.
fn serde_writes<T>(pairs: &[(T, &'static str)])
where
    T: Serialize + Debug,
{
    for (variant, name) in pairs {
        let written = serde_json::to_value(variant).expect("serializes");
        assert_eq!(written, *name, "serde writes {variant:?}");
    }
}

#[test]
fn request_metrics_are_named_once() {
    let pairs = strum_reads::<RequestMetric>();
    serde_reads(&pairs);
    serde_writes(&pairs);
    for (metric, name) in pairs {
        assert_eq!(metric.as_str(), name);
        assert_eq!(RequestMetric::named(name), Some(metric));
    }
}

#[test]
fn scenario_enums_are_named_once() {
    let services = strum_reads::<Service>();
    serde_reads(&services);
    let methods = strum_reads::<Method>();
    serde_reads(&methods);
    serde_writes(&methods);
    let stats = strum_reads::<Stat>();
    serde_reads(&stats);
    serde_writes(&stats);
    // No serde: a probe's `kubernetes = "Kind/name"` is read through strum.
    for (kind, name) in strum_reads::<KubeKind>() {
        let object = crate::scenario::KubeObject::try_from(format!("{name}/api"));
        assert_eq!(object.map(|object| object.kind), Ok(kind));
    }
}

#[test]
fn error_kinds_and_verdicts_are_named_once() {
    let kinds = strum_reads::<ErrorKind>();
    serde_reads(&kinds);
    serde_writes(&kinds);
    // A verdict is only written (the report's class), never read.
    serde_writes(&strum_reads::<Verdict>());
}
