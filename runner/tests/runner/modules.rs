//! The runner's modules depend in one direction: no import cycles between
//! its top-level modules (`src/<module>.rs` or `src/<module>/`). A cycle
//! means two modules can only be read, tested and changed together; the
//! usual way out is to move what both need into a small module of its own.
//!
//! This reads the sources as text, as a reviewer would: every `crate::`
//! path outside comments and before the file's `#[cfg(test)]` (tests may
//! reach anywhere). It runs with the tests, so CI fails on a new cycle.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

/// Who imports whom: module → the modules it names, each with the first
/// file that does.
type Imports = BTreeMap<String, BTreeMap<String, PathBuf>>;

#[test]
fn the_runners_modules_have_no_import_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let imports = imports(&src);
    assert!(imports.len() > 10, "found only {imports:?} under {src:?}");
    let cycles = cycles(&imports);
    let mut explained = String::new();
    for cycle in &cycles {
        explained += &format!(
            "cycle: {}\n",
            cycle.iter().cloned().collect::<Vec<_>>().join(" ")
        );
        for from in cycle {
            for (to, file) in &imports[from] {
                if cycle.contains(to) {
                    explained += &format!("  {from} -> {to} ({})\n", file.display());
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles among the runner's modules:\n{explained}"
    );
}

#[test]
fn grouped_and_inline_paths_are_read() {
    let text = "use crate::{a::{b, c}, d, e::F};\n// crate::g\nfn f() { crate::h::i(); }\n\
                #[cfg(test)]\nmod tests { use crate::j; }";
    assert_eq!(named(text), ["a", "d", "e", "h"].map(String::from).into());
}

/// Every top-level module's imports of the others.
fn imports(src: &Path) -> Imports {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let module_of = |file: &Path| {
        let relative = file.strip_prefix(src).expect("under src");
        let first = relative.components().next().expect("a component");
        let name = first.as_os_str().to_string_lossy();
        name.strip_suffix(".rs").unwrap_or(&name).to_owned()
    };
    let mut imports = Imports::new();
    for file in &files {
        let module = module_of(file);
        if module != "lib" && module != "main" {
            imports.entry(module).or_default();
        }
    }
    for file in &files {
        let module = module_of(file);
        let Some(of) = imports.get(&module).map(|_| module.clone()) else {
            continue;
        };
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for other in named(&text) {
            if other != of && imports.contains_key(&other) {
                imports
                    .get_mut(&of)
                    .expect("listed")
                    .entry(other)
                    .or_insert_with(|| file.strip_prefix(src).unwrap_or(file).to_owned());
            }
        }
    }
    imports
}

fn rust_files(folder: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(folder).expect("a readable folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            into.push(path);
        }
    }
}

/// The first segment of every `crate::` path in the code before
/// `#[cfg(test)]`, comments left out; each name of a grouped
/// `crate::{...}` counts.
fn named(text: &str) -> BTreeSet<String> {
    let code: String = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or_default()
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            names.extend(group_heads(group));
        } else {
            names.insert(identifier(rest));
        }
    }
    names.remove("");
    names
}

/// The first name of each top-level item of `a::{b}, c, d::E}...`, up to the
/// brace that closes the group.
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for (at, character) in group.char_indices() {
        match character {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => item_start = true,
            character if item_start && !character.is_whitespace() => {
                heads.push(identifier(&group[at..]));
                item_start = false;
            }
            _ => {}
        }
    }
    heads
}

fn identifier(text: &str) -> String {
    text.chars()
        .take_while(|character| character.is_ascii_alphanumeric() || *character == '_')
        .collect()
}

/// The groups of modules that reach each other through their imports.
fn cycles(imports: &Imports) -> Vec<BTreeSet<String>> {
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut next = vec![from];
        while let Some(module) = next.pop() {
            for to in imports[module].keys() {
                if seen.insert(to.clone()) {
                    next.push(to);
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> = imports
        .keys()
        .map(|module| (module, reach(module)))
        .collect();
    let mut cycles: Vec<BTreeSet<String>> = Vec::new();
    for (module, reaches) in &reached {
        if !reaches.contains(*module) || cycles.iter().any(|cycle| cycle.contains(*module)) {
            continue;
        }
        let cycle = reaches
            .iter()
            .filter(|other| reached[other].contains(*module))
            .cloned()
            .collect();
        cycles.push(cycle);
    }
    cycles
}
