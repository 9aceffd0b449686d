//! What users got, not only how fast: one field of each successful answer's
//! JSON body, read as a full or a degraded answer (a scenario's
//! `[name.answers]`, like k6's `check()` on a response).
//!
//! The field is read by a serde visitor that walks the top-level object
//! and skips every other value without building it (no `serde_json::Value`
//! tree), and borrows the field's text from the body when it can: a few
//! hundred nanoseconds for the lab's small answers.

use std::borrow::Cow;

use serde::{
    Deserialize, Deserializer,
    de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor},
};

use crate::scenario::Answers;

/// How one successful answer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerClass {
    /// The field holds one of the scenario's full values.
    Full,
    /// A full answer that came later than the scenario's `answers.within`
    /// (the collector decides: it knows when the request was intended).
    Late,
    /// The field holds one of its degraded values (a fallback).
    Degraded,
    /// No JSON object, no such field, a field that is not text, a value
    /// the scenario does not name, the field given twice, or anything but
    /// whitespace after the object: an answer read one way here and
    /// another by a lenient client is no answer.
    Unreadable,
}

/// Classifies an answer's body by the scenario's field and values.
pub fn classify(answers: &Answers, body: &[u8]) -> AnswerClass {
    let mut json = serde_json::Deserializer::from_slice(body);
    let read = Field(&answers.field)
        .deserialize(&mut json)
        .and_then(|field| json.end().map(|()| field));
    match read {
        Ok(Some(Text(value))) if answers.full.iter().any(|full| *full == value) => {
            AnswerClass::Full
        }
        Ok(Some(Text(value))) if answers.degraded.iter().any(|degraded| *degraded == value) => {
            AnswerClass::Degraded
        }
        _ => AnswerClass::Unreadable,
    }
}

/// A string borrowed from the body where it has no escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// The value of the top-level key named by the field, if there is one.
struct Field<'f>(&'f str);

impl<'de> DeserializeSeed<'de> for Field<'_> {
    type Value = Option<Text<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Field<'_> {
    type Value = Option<Text<'de>>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        // Every entry is consumed, the others skipped unbuilt: the
        // deserializer expects the whole object to be read.
        while let Some(Text(key)) = map.next_key()? {
            if key == self.0 {
                if found.is_some() {
                    return Err(serde::de::Error::custom(format!(
                        "`{}` given twice",
                        self.0
                    )));
                }
                found = Some(map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answers() -> Answers {
        Answers {
            field: "source".into(),
            full: vec!["dep".into()],
            degraded: vec!["fallback".into()],
            within: None,
        }
    }

    #[test]
    fn the_field_says_full_degraded_or_unreadable() {
        let read = |body: &str| classify(&answers(), body.as_bytes());
        assert_eq!(
            read(r#"{"product_id":3,"source":"dep"}"#),
            AnswerClass::Full
        );
        assert_eq!(
            read(r#"{"source":"fallback","nested":{"source":"dep"},"list":[1,{"a":null}]}"#),
            AnswerClass::Degraded
        );
        assert_eq!(
            read(r#"{"source":"d\u0065p"}"#),
            AnswerClass::Full,
            "escapes"
        );
        assert_eq!(
            read("{\"source\":\"dep\"}\n"),
            AnswerClass::Full,
            "whitespace after"
        );
        for unreadable in [
            r#"{"product_id":3}"#,
            r#"{"source":"cache"}"#,
            r#"{"source":7}"#,
            r#"{"nested":{"source":"dep"}}"#,
            r#"{"source":"dep","source":"fallback"}"#,
            "{\"source\":\"dep\"}\n//cached",
            r#"{"source":"dep"}{"source":"dep"}"#,
            r#"["source","dep"]"#,
            "not json",
            "",
        ] {
            assert_eq!(read(unreadable), AnswerClass::Unreadable, "{unreadable}");
        }
    }
}
