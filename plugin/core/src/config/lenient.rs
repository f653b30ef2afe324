//! Number fields that accept what Istio sends: `pluginConfig` travels as a protobuf `Struct`, so
//! every integer arrives as a JSON double (`8080.0`). Integral doubles are accepted; fractions,
//! negatives and out-of-range values are errors naming the value.

use std::borrow::Cow;

/// Why a number is not a whole number in `u32`'s range.
pub(crate) enum NotWhole {
    Negative,
    Fraction,
    TooLarge,
}

impl NotWhole {
    /// The message for `number`, as written.
    pub(crate) fn message(&self, number: &str) -> String {
        match self {
            Self::TooLarge => format!("{number} is too large"),
            Self::Negative | Self::Fraction => {
                format!("expected a non-negative integer, found {number}")
            }
        }
    }
}

/// The value of a JSON number's text (already checked against the grammar), when it is a whole
/// number from 0 to `u32::MAX`; exact for any spelling, without going through floating point.
pub(crate) fn whole_value(number: &str) -> Result<u32, NotWhole> {
    let (negative, unsigned) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (mantissa, exponent) = unsigned.split_once(['e', 'E']).unwrap_or((unsigned, "0"));
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // An exponent too long to parse is far out of range either way.
    let exponent: i64 = exponent.parse().unwrap_or(if exponent.starts_with('-') {
        i64::MIN
    } else {
        i64::MAX
    });
    let digits: String = whole.chars().chain(fraction.chars()).collect();
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(0);
    }
    if negative {
        return Err(NotWhole::Negative);
    }
    let fraction_len = i64::try_from(fraction.len()).unwrap_or(i64::MAX);
    let shift = exponent.saturating_sub(fraction_len);
    let digits = match usize::try_from(shift.unsigned_abs()) {
        Ok(dropped_len) if shift < 0 => {
            let keep = digits
                .len()
                .checked_sub(dropped_len)
                .ok_or(NotWhole::Fraction)?;
            let (kept, dropped) = digits.split_at_checked(keep).ok_or(NotWhole::Fraction)?;
            if !dropped.bytes().all(|b| b == b'0') {
                return Err(NotWhole::Fraction);
            }
            Cow::Borrowed(kept)
        }
        Ok(zeros) if zeros <= 10 => Cow::Owned(format!("{digits}{}", "0".repeat(zeros))),
        _ if shift < 0 => return Err(NotWhole::Fraction),
        _ => return Err(NotWhole::TooLarge),
    };
    if digits.len() > 10 {
        return Err(NotWhole::TooLarge);
    }
    digits.parse().map_err(|_| NotWhole::TooLarge)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use crate::config::json::from_json;

    fn port(json: &str) -> Result<Option<u32>, String> {
        from_json(json, |node| {
            let mut fields = node.object()?;
            let port = fields.opt_u32("port");
            fields.finish(port)
        })
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
