//! Number fields that accept what Istio sends: `pluginConfig` travels as a protobuf `Struct`, so
//! every integer arrives as a JSON double (`8080.0`). Integral doubles are accepted; fractions,
//! negatives and out-of-range values are errors naming the value.

use super::json::{At, Json, JsonError};

/// Reads an optional integer that may be written as an integral double; `null` is absent.
pub(crate) fn opt_u32(json: &mut Json<'_>, at: At<'_>) -> Result<Option<u32>, JsonError> {
    if json.null()? {
        return Ok(None);
    }
    json.whole_number(at, true).map(Some)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use crate::config::json::{from_json, impl_from_json};

    #[derive(Default)]
    struct Port {
        port: Option<u32>,
    }

    impl_from_json!(Port {
        "port" => port (super::opt_u32),
    });

    fn port(json: &str) -> Result<Option<u32>, String> {
        from_json::<Port>(json)
            .map(|p| p.port)
            .map_err(|e| e.message)
    }

    #[test]
    fn integers_and_integral_doubles_are_accepted() {
        assert_eq!(port(r#"{"port": 8080}"#), Ok(Some(8080)));
        assert_eq!(port(r#"{"port": 8080.0}"#), Ok(Some(8080)));
        assert_eq!(port(r#"{"port": 8.08e3}"#), Ok(Some(8080)));
        assert_eq!(port(r#"{"port": 80800e-1}"#), Ok(Some(8080)));
        assert_eq!(port(r#"{"port": -0}"#), Ok(Some(0)));
        assert_eq!(port(r#"{"port": 0.0e5}"#), Ok(Some(0)));
        assert_eq!(port(r#"{"port": 4294967295}"#), Ok(Some(u32::MAX)));
        assert_eq!(port(r#"{"port": null}"#), Ok(None));
        assert_eq!(port(r#"{}"#), Ok(None));
    }

    #[test]
    fn fractions_negatives_and_large_values_are_rejected() {
        let non_negative = |n: &str| Err(format!("expected a non-negative integer, found {n}"));
        assert_eq!(port(r#"{"port": 80.5}"#), non_negative("80.5"));
        assert_eq!(port(r#"{"port": 5e-1}"#), non_negative("5e-1"));
        assert_eq!(port(r#"{"port": -1}"#), non_negative("-1"));
        let tiny = "1e-999999999999999999999";
        assert_eq!(port(&format!(r#"{{"port": {tiny}}}"#)), non_negative(tiny));
        let too_large = |n: &str| Err(format!("{n} is too large"));
        assert_eq!(port(r#"{"port": 4294967296}"#), too_large("4294967296"));
        assert_eq!(port(r#"{"port": 1e12}"#), too_large("1e12"));
        let huge = "1e999999999999999999999";
        assert_eq!(port(&format!(r#"{{"port": {huge}}}"#)), too_large(huge));
        assert_eq!(
            port(r#"{"port": "80"}"#),
            Err("invalid type: string \"80\", expected a non-negative integer".to_owned())
        );
    }
}
