//! How clients read the times in what the server writes (messages, channels, presence). The
//! server writes every time in chrono's RFC 3339 form (`2024-05-06T07:08:09.123456Z`); chrono's
//! own `Deserialize` goes through its general, lenient parser (15 KB of WASM before gzip, 7 KB
//! after), so these types use chrono's strict RFC 3339 parser instead. Inputs the server parses
//! (`ChannelCursor`, `ChannelQuery`) keep chrono's lenient one.

use chrono::{DateTime, Utc};
use serde::de::{self, Deserializer, Visitor};

struct Rfc3339;

impl Visitor<'_> for Rfc3339 {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an RFC 3339 formatted date and time string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        DateTime::parse_from_rfc3339(value)
            .map(|at| at.with_timezone(&Utc))
            .map_err(E::custom)
    }
}

/// For `#[serde(deserialize_with)]` on a `DateTime<Utc>`.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(Rfc3339)
}

/// For `#[serde(default, deserialize_with)]` on an `Option<DateTime<Utc>>` (`null` is `None`).
pub fn deserialize_option<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error> {
    struct Maybe;

    impl<'de> Visitor<'de> for Maybe {
        type Value = Option<DateTime<Utc>>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an RFC 3339 formatted date and time string or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<Self::Value, D::Error> {
            deserialize(deserializer).map(Some)
        }
    }

    deserializer.deserialize_option(Maybe)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize, PartialEq, Debug)]
    struct Times {
        #[serde(deserialize_with = "deserialize")]
        at: DateTime<Utc>,
        #[serde(default, deserialize_with = "deserialize_option")]
        maybe: Option<DateTime<Utc>>,
    }

    #[derive(Deserialize, PartialEq, Debug)]
    struct Chrono {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }

    #[test]
    fn reads_what_chrono_writes_as_chrono_does() {
        let at = DateTime::parse_from_rfc3339("2024-05-06T07:08:09.123456+02:00")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        for maybe in [Some(at), None] {
            let json = serde_json::json!({ "at": at, "maybe": maybe }).to_string();
            let ours: Option<Times> = serde_json::from_str(&json).ok();
            let theirs: Option<Chrono> = serde_json::from_str(&json).ok();
            assert_eq!(ours.as_ref().map(|t| (t.at, t.maybe)), Some((at, maybe)));
            assert_eq!(theirs.map(|t| (t.at, t.maybe)), Some((at, maybe)));
        }
        let missing: Option<Times> = serde_json::from_str(r#"{"at":"2024-05-06T07:08:09Z"}"#).ok();
        assert_eq!(missing.and_then(|t| t.maybe), None);
        assert!(serde_json::from_str::<Times>(r#"{"at":"yesterday"}"#).is_err());
    }
}
