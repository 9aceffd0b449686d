//! Where a key is in `scenarios.toml`: its line and column, so that every
//! error can point at the spot to edit.
//!
//! serde (through figment) reports a key path such as
//! `["timeouts", "checks", "0", "metric"]`; this walks the same path in a
//! span-keeping parse of the file (toml_edit) to find its position.

use std::ops::Range;

use toml_edit::{ImDocument, Item, Table};

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// The parsed file, kept for locating keys.
#[derive(Debug)]
pub struct Locator {
    text: String,
    document: Option<ImDocument<String>>,
}

impl Locator {
    pub fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            document: ImDocument::parse(text.to_owned()).ok(),
        }
    }

    /// The position of the key at `path`, or of its closest existing parent.
    pub fn find(&self, path: &[String]) -> Option<Position> {
        let document = self.document.as_ref()?;
        let mut best = None;
        let mut table: &Table = document.as_table();
        let mut segments = path.iter().peekable();
        while let Some(segment) = segments.next() {
            let Some((key, item)) = table.get_key_value(segment) else {
                break;
            };
            best = key.span().or_else(|| item.span()).or(best);
            match item {
                Item::Table(inner) => table = inner,
                Item::ArrayOfTables(array) => {
                    let index = segments
                        .next()
                        .and_then(|index| index.parse::<usize>().ok());
                    match index.and_then(|index| array.get(index)) {
                        Some(inner) => {
                            best = inner.span().or(best);
                            table = inner;
                        }
                        None => break,
                    }
                }
                Item::Value(value) => {
                    if let Some(inline) = value.as_inline_table() {
                        // An inline table's keys are not walked further:
                        // the table's own position is close enough.
                        best = inline.span().or(best);
                    }
                    break;
                }
                Item::None => break,
            }
        }
        best.map(|span| self.position(span))
    }

    /// The position of a byte offset.
    pub fn position(&self, span: Range<usize>) -> Position {
        let before = &self.text[..span.start.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before
            .rfind('\n')
            .map_or(before.len(), |newline| before.len() - newline - 1)
            + 1;
        Position { line, column }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|key| (*key).to_owned()).collect()
    }

    const TEXT: &str =
        "[a]\nrate = 5\n\n[[a.checks]]\nmetric = \"x\"\n\n[[a.checks]]\nmetric = \"y\"\n";

    #[test]
    fn finds_keys_in_tables_and_arrays_of_tables() {
        let locator = Locator::new(TEXT);
        assert_eq!(
            locator.find(&path(&["a", "rate"])),
            Some(Position { line: 2, column: 1 })
        );
        assert_eq!(
            locator.find(&path(&["a", "checks", "1", "metric"])),
            Some(Position { line: 8, column: 1 })
        );
    }

    #[test]
    fn a_missing_key_points_at_its_parent() {
        let locator = Locator::new(TEXT);
        let position = locator.find(&path(&["a", "checks", "0", "weight"]));
        assert_eq!(position.map(|p| p.line), Some(4));
    }
}
