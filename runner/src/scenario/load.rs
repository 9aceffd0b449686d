//! Loading `scenarios.toml`: the file, then environment overrides, with
//! figment; then the checks in [`super::validate`]. Every problem comes back
//! as a [`ConfigError`] naming the file, the line and the key, with the
//! closest valid name where there is one.

use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
};

use figment::{
    Figment,
    error::Kind,
    providers::{Env, Format, Toml},
};

use super::{
    ScenarioTables, ScenarioToml, Scenarios,
    locate::{Locator, Position},
    validate,
};

/// Environment variables that override the file start with this, then the
/// scenario and key joined by `__`: `LAB_SCENARIO_TIMEOUTS__RATE=20`.
pub const ENV_PREFIX: &str = "LAB_SCENARIO_";

/// One problem in the scenarios file or its overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub position: Option<Position>,
    /// The key, written as in the file: `timeouts.checks[0].metric`.
    pub key: String,
    pub message: String,
    /// The environment variable the bad value came from, if it did.
    pub from_env: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(Position { line, column }) = self.position {
            write!(f, ":{line}:{column}")?;
        }
        if self.key.is_empty() {
            write!(f, ": {}", self.message)?;
        } else {
            write!(f, ": {}: {}", self.key, self.message)?;
        }
        if let Some(variable) = &self.from_env {
            write!(
                f,
                " (the value comes from the environment variable {variable})"
            )?;
        }
        Ok(())
    }
}

/// Reads, overrides and validates the scenarios at `path`. Returns every
/// problem found, not just the first.
pub fn load(path: &Path) -> Result<Scenarios, Vec<ConfigError>> {
    let text = read(path)?;
    let locator = Locator::new(&text);
    let figment = Figment::new()
        .merge(Toml::string(&text))
        .merge(Env::prefixed(ENV_PREFIX).split("__"));
    let (tables, mut errors) = tables(path, &locator, &figment)?;
    let (mut list, problems) = validate::validate(tables);
    errors.extend(
        problems
            .into_iter()
            .map(|problem| located(path, &locator, problem.path, problem.message)),
    );
    if !errors.is_empty() {
        errors.sort_by_key(|error| error.position.map(|p| (p.line, p.column)));
        return Err(errors);
    }
    list.sort_by_key(|scenario| scenario.case);
    Ok(Scenarios {
        path: path.to_owned(),
        list,
    })
}

/// Each scenario's table, scenario by scenario: serde stops at a table's
/// first problem, and this way one broken scenario does not hide the
/// problems of the others. `Err` when the file has no scenario at all, or
/// no tables to read.
fn tables(
    path: &Path,
    locator: &Locator,
    figment: &Figment,
) -> Result<(ScenarioTables, Vec<ConfigError>), Vec<ConfigError>> {
    let to_errors =
        |errors: figment::Error, scenario: Option<&str>| in_file(path, locator, errors, scenario);
    let names: Vec<String> = figment
        .extract::<BTreeMap<String, figment::value::Value>>()
        .map_err(|errors| to_errors(errors, None))?
        .into_keys()
        .collect();
    if names.is_empty() {
        let message = "declares no scenario; each scenario is a table such as `[timeouts]` \
                       (see the shipped scenarios.toml)";
        return Err(vec![located(path, locator, Vec::new(), message.into())]);
    }
    let mut errors = Vec::new();
    let mut tables = ScenarioTables::new();
    for name in names {
        match figment.extract_inner::<ScenarioToml>(&name) {
            Ok(mut scenario) => {
                scenario.name.clone_from(&name);
                tables.insert(name, scenario);
            }
            Err(error) => errors.extend(to_errors(error, Some(&name))),
        }
    }
    Ok((tables, errors))
}

/// figment's errors placed in the file. `scenario` is the table being
/// extracted, if any: figment reports the key path inside it and appends
/// the table's name at the end.
fn in_file(
    path: &Path,
    locator: &Locator,
    errors: figment::Error,
    scenario: Option<&str>,
) -> Vec<ConfigError> {
    errors
        .into_iter()
        .map(|mut error| {
            if let Some(name) = scenario {
                if error.path.last().is_some_and(|last| last == name) {
                    error.path.pop();
                }
                error.path.insert(0, name.to_owned());
            }
            from_figment(path, locator, error)
        })
        .collect()
}

fn read(path: &Path) -> Result<String, Vec<ConfigError>> {
    std::fs::read_to_string(path).map_err(|error| {
        vec![ConfigError {
            file: path.to_owned(),
            position: None,
            key: String::new(),
            message: format!(
                "cannot read the scenarios file ({error}); run the runner from the repository \
                 root or pass --scenarios PATH"
            ),
            from_env: None,
        }]
    })
}

/// A problem at a key path, placed in the file.
fn located(file: &Path, locator: &Locator, path: Vec<String>, message: String) -> ConfigError {
    ConfigError {
        file: file.to_owned(),
        position: locator.find(&path),
        from_env: env_variable(&path),
        key: display_key(&path),
        message,
    }
}

/// figment's error, with the closest valid name for an unknown key.
fn from_figment(file: &Path, locator: &Locator, error: figment::Error) -> ConfigError {
    let mut path = error.path.clone();
    let message = match &error.kind {
        Kind::UnknownField(field, expected) => {
            if path.last() != Some(field) {
                path.push(field.clone());
            }
            let mut message = format!("unknown key `{field}`");
            match validate::closest(field, expected.iter().copied()) {
                Some(suggestion) => message.push_str(&format!("; did you mean `{suggestion}`?")),
                None => message.push_str(&format!("; valid keys: {}", expected.join(", "))),
            }
            message
        }
        Kind::UnknownVariant(found, expected) => {
            match validate::closest(found, expected.iter().copied()) {
                Some(suggestion) => {
                    format!("unknown value `{found}`; did you mean `{suggestion}`?")
                }
                None => format!("unknown value `{found}`; valid: {}", expected.join(", ")),
            }
        }
        Kind::InvalidType(_, expected) | Kind::InvalidValue(_, expected)
            if expected.contains("duration") =>
        {
            format!("{}; write a duration like 30s, 500ms or 2m", error.kind)
        }
        Kind::MissingField(field) => {
            if path.last().map(String::as_str) != Some(field.as_ref()) {
                path.push(field.to_string());
            }
            format!("`{field}` is required")
        }
        other => other.to_string(),
    };
    located(file, locator, path, message)
}

/// `["timeouts", "checks", "0", "metric"]` -> `timeouts.checks[0].metric`.
fn display_key(path: &[String]) -> String {
    let mut key = String::new();
    for segment in path {
        if segment.parse::<usize>().is_ok() {
            key.push_str(&format!("[{segment}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(segment);
        }
    }
    key
}

/// The environment variable that overrides `path`, if it is set.
fn env_variable(path: &[String]) -> Option<String> {
    let variable = format!("{ENV_PREFIX}{}", path.join("__").to_uppercase());
    std::env::var_os(&variable).map(|_| variable)
}
