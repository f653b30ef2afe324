//! Number fields that accept what Istio sends: `pluginConfig` travels as a protobuf `Struct`, so
//! every integer arrives as a JSON double (`8080.0`). Integral doubles are accepted; fractions,
//! negatives and out-of-range values are errors naming the value.

use serde::{de::Error, Deserialize, Deserializer};

/// Deserializes an optional integer that may be written as an integral double.
pub(crate) fn opt_u32<'de, D: Deserializer<'de>>(de: D) -> Result<Option<u32>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(de)? else {
        return Ok(None);
    };
    if let Some(n) = number.as_u64() {
        return u32::try_from(n)
            .map(Some)
            .map_err(|_| D::Error::custom(format!("{n} is too large")));
    }
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&f) => {
            // Range and integrality are checked above, so the cast is exact.
            Ok(Some(f as u32))
        }
        _ => Err(D::Error::custom(format!(
            "expected a non-negative integer, found {number}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[derive(serde::Deserialize)]
    struct Port {
        #[serde(default, deserialize_with = "super::opt_u32")]
        port: Option<u32>,
    }

    fn port(json: &str) -> Result<Option<u32>, String> {
        serde_json::from_str::<Port>(json)
            .map(|p| p.port)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn integers_and_integral_doubles_are_accepted() {
        assert_eq!(port(r#"{"port": 8080}"#), Ok(Some(8080)));
        assert_eq!(port(r#"{"port": 8080.0}"#), Ok(Some(8080)));
        assert_eq!(port(r#"{"port": null}"#), Ok(None));
        assert_eq!(port(r#"{}"#), Ok(None));
    }

    #[test]
    fn fractions_and_negatives_are_rejected() {
        assert!(port(r#"{"port": 80.5}"#).unwrap_err().contains("80.5"));
        assert!(port(r#"{"port": -1}"#).unwrap_err().contains("-1"));
        assert!(port(r#"{"port": 1e12}"#).is_err());
    }
}
