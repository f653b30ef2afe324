//! Number fields that accept what Istio sends: `pluginConfig` travels as a protobuf `Struct`, so
//! every integer arrives as a JSON double (`8080.0`). Integral doubles are accepted; fractions,
//! negatives and out-of-range values are errors naming the value.

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
    if negative && mantissa.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        return Err(NotWhole::Negative);
    }
    // The value is all the digits times 10^shift: with a negative shift, the last -shift digits
    // are a fraction and must be zeros.
    let digits = whole.bytes().chain(fraction.bytes());
    let count = whole.len() + fraction.len();
    let shift = exponent.saturating_sub(i64::try_from(fraction.len()).unwrap_or(i64::MAX));
    let integral = match usize::try_from(shift.unsigned_abs()) {
        Ok(dropped) if shift < 0 => count.saturating_sub(dropped),
        _ if shift < 0 => 0,
        _ => count,
    };
    let mut value: u64 = 0;
    let mut fractional = false;
    for (i, digit) in digits.enumerate() {
        let digit = u64::from(digit.wrapping_sub(b'0'));
        if i < integral {
            value = value * 10 + digit;
            if value > u64::from(u32::MAX) {
                return Err(NotWhole::TooLarge);
            }
        } else {
            fractional |= digit != 0;
        }
    }
    if fractional {
        return Err(NotWhole::Fraction);
    }
    let mut zeros = shift.max(0);
    while value != 0 && zeros > 0 {
        value *= 10;
        zeros -= 1;
        if value > u64::from(u32::MAX) {
            return Err(NotWhole::TooLarge);
        }
    }
    u32::try_from(value).map_err(|_| NotWhole::TooLarge)
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use crate::config::json::from_json;

    fn port(json: &str) -> Result<Option<u32>, String> {
        from_json(json, |node| node.object().opt_u32("port")).map_err(|e| e.message)
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
        assert_eq!(
            port(r#"{"port": -4294967296}"#),
            non_negative("-4294967296")
        );
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
