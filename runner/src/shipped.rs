//! Is the lab the one that was shipped, outside the case's files?
//!
//! Participants edit the case files; the lab's other files measure them
//! (the audit layers, the dep client's counts, the pools' worker count).
//! An edit there can change what the score reads, so a local run compares
//! every file under `lab/` that the build reads (`*.rs`, `*.toml`,
//! `*.sql`) with `runner/shipped-lab.sha256`, the SHA-256 of each as
//! shipped, and flags the run for each file that differs, was added or is
//! gone, except the case files (every scenario's `files`: a participant
//! who solved case 1 still runs case 2 unflagged). Like an edited
//! workload, a flagged run is measured and written, but not ranked.
//!
//! The manifest is compiled into the runner ([`SHIPPED`]), which compares
//! the tree with that copy, so a manifest rewritten to match an edit is
//! flagged too (the tree's manifest is not the runner's); a runner
//! recompiled with a rewritten manifest gets another fingerprint (its
//! [`digest`] is part of every run's, see `fingerprint.rs`), so the room's
//! board does not rank its runs. The manifest is kept current by a test
//! (`shipped_lab_is_the_tree`), which also writes it anew when
//! `LAB_WRITE_SHIPPED=1` is set. A participant can always edit the runner's
//! code: this is not a defence against that, but it makes sure no change
//! made in a hurry to the lab's own measurement goes unnoticed.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
};

use anyhow::Context;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The manifest, from the repository root.
pub const MANIFEST: &str = "runner/shipped-lab.sha256";

/// The manifest as this runner was compiled with it.
pub const SHIPPED: &str = include_str!("../shipped-lab.sha256");

/// The first 16 hex digits of the SHA-256 of [`SHIPPED`]: which lab this
/// runner measures.
pub fn digest() -> String {
    hex(&Sha256::digest(SHIPPED.as_bytes()))[..16].to_owned()
}

/// The folder whose files are compared.
const LAB: &str = "lab";

/// The files the build reads; editor backups and notes are not compared.
const COMPARED: [&str; 3] = ["rs", "toml", "sql"];

/// One lab file that is not as shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LabEdit {
    /// From the repository root: `lab/src/api/audit.rs`.
    pub file: String,
    pub change: Change,
}

/// How a lab file differs from the shipped one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Edited,
    Added,
    Removed,
}

/// The SHA-256 of every compared file under `<root>/lab`, by path from the
/// root (with `/`).
pub fn hashes(root: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let mut files = Vec::new();
    collect(&root.join(LAB), &mut files)?;
    let mut hashes = BTreeMap::new();
    for file in files {
        let bytes =
            std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
        let relative = file.strip_prefix(root).unwrap_or(&file);
        let name: Vec<String> = relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy().into_owned())
            .collect();
        hashes.insert(name.join("/"), hex(&Sha256::digest(&bytes)));
    }
    Ok(hashes)
}

fn collect(folder: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(folder).with_context(|| format!("cannot list {}", folder.display()))?;
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot list {}", folder.display()))?
            .path();
        let hidden = path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect(&path, files)?;
        } else if path
            .extension()
            .is_some_and(|ext| COMPARED.iter().any(|compared| ext == *compared))
        {
            files.push(path);
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

/// The manifest's text for `hashes`: `<sha256>  <file>` a line, as
/// `sha256sum` writes it (so `sha256sum -c` can check it too).
pub fn manifest(hashes: &BTreeMap<String, String>) -> String {
    hashes
        .iter()
        .map(|(file, hash)| format!("{hash}  {file}\n"))
        .collect()
}

/// Reads the manifest's text.
pub fn parse(text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(number, line)| {
            let (hash, file) = line.split_once("  ").with_context(|| {
                format!(
                    "{MANIFEST}, line {}: expected `<sha256>  <file>`, got {line:?}",
                    number + 1
                )
            })?;
            Ok((file.to_owned(), hash.to_owned()))
        })
        .collect()
}

/// Every lab file under `root` that is not as shipped, except `allowed`
/// (the case files, which participants are asked to edit), compared with
/// the runner's own manifest; and the tree's manifest, if it is not the
/// runner's.
pub fn edits(root: &Path, allowed: &[String]) -> anyhow::Result<Vec<LabEdit>> {
    let mut edits = compare(&parse(SHIPPED)?, &hashes(root)?, allowed);
    let tree = std::fs::read_to_string(root.join(MANIFEST)).ok();
    if tree.as_deref() != Some(SHIPPED) {
        edits.push(LabEdit {
            file: MANIFEST.to_owned(),
            change: if tree.is_some() {
                Change::Edited
            } else {
                Change::Removed
            },
        });
    }
    Ok(edits)
}

/// The differences between the `shipped` hashes and the `tree`'s.
pub fn compare(
    shipped: &BTreeMap<String, String>,
    tree: &BTreeMap<String, String>,
    allowed: &[String],
) -> Vec<LabEdit> {
    let mut edits: Vec<LabEdit> = tree
        .iter()
        .filter_map(|(file, hash)| {
            let change = match shipped.get(file) {
                None => Change::Added,
                Some(shipped) if shipped != hash => Change::Edited,
                Some(_) => return None,
            };
            Some(LabEdit {
                file: file.clone(),
                change,
            })
        })
        .chain(
            shipped
                .keys()
                .filter(|file| !tree.contains_key(*file))
                .map(|file| LabEdit {
                    file: file.clone(),
                    change: Change::Removed,
                }),
        )
        .filter(|edit| !allowed.contains(&edit.file))
        .collect();
    edits.sort_by(|a, b| a.file.cmp(&b.file));
    edits
}

/// The terminal's explanation of a run flagged for edited lab files.
pub fn explain(edits: &[LabEdit]) -> String {
    let mut out = String::from(
        "  ✗ lab files outside this case's files are not as shipped, so this run is flagged \
         and its score does not count:\n",
    );
    for edit in edits {
        let change = match edit.change {
            Change::Edited => "edited",
            Change::Added => "added",
            Change::Removed => "removed",
        };
        let _ = writeln!(out, "      {} ({change})", edit.file);
    }
    out.push_str(
        "    These files measure the run; the lesson is in the case's file. Put them back \
         (`git checkout -- <file>`, or `git stash` to keep your changes) and run again.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(file, hash)| ((*file).to_owned(), (*hash).to_owned()))
            .collect()
    }

    #[test]
    fn edited_added_and_removed_files_are_named_except_the_cases_own() {
        let shipped = map(&[
            ("lab/src/a.rs", "1"),
            ("lab/src/b.rs", "2"),
            ("lab/src/case.rs", "3"),
        ]);
        let tree = map(&[
            ("lab/src/a.rs", "1"),
            ("lab/src/case.rs", "9"),
            ("lab/src/new.rs", "4"),
        ]);
        let edits = compare(&shipped, &tree, &["lab/src/case.rs".to_owned()]);
        let named: Vec<(&str, Change)> = edits
            .iter()
            .map(|edit| (edit.file.as_str(), edit.change))
            .collect();
        assert_eq!(
            named,
            [
                ("lab/src/b.rs", Change::Removed),
                ("lab/src/new.rs", Change::Added)
            ]
        );
        assert!(explain(&edits).contains("lab/src/new.rs (added)"));
        let tree_as_shipped = compare(&shipped, &shipped, &[]);
        assert!(tree_as_shipped.is_empty());
    }

    /// The manifest is the tree's lab. After a deliberate change to the
    /// lab, write it anew: `LAB_WRITE_SHIPPED=1 cargo test -p runner shipped_lab`.
    #[test]
    fn shipped_lab_is_the_tree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .expect("the workspace root");
        let tree = manifest(&hashes(root).expect("hash the lab"));
        let path = root.join(MANIFEST);
        if std::env::var_os("LAB_WRITE_SHIPPED").is_some() {
            std::fs::write(&path, &tree).expect("write the manifest");
        }
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            shipped == tree,
            "{MANIFEST} is not the tree's lab: after a deliberate change to lab/, write it anew \
             with `LAB_WRITE_SHIPPED=1 cargo test -p runner shipped_lab`. Differences: {:?}",
            compare(
                &parse(&shipped).unwrap_or_default(),
                &hashes(root).unwrap_or_default(),
                &[]
            )
        );
    }

    #[test]
    fn the_manifest_reads_back_and_names_a_bad_line() {
        let hashes = map(&[("lab/src/a.rs", "ab"), ("lab/Cargo.toml", "cd")]);
        assert_eq!(parse(&manifest(&hashes)).expect("parses"), hashes);
        let error = parse("ab lab/src/a.rs\n").expect_err("one space");
        assert!(format!("{error:#}").contains("line 1"), "{error:#}");
    }
}
