//! Tool arguments and results for spans, when the user opts in: secrets
//! masked, length bounded.

use serde_json::Value;

/// Longest recorded value, in bytes.
const MAX_LEN: usize = 4096;

/// Object keys whose values are never recorded.
const SECRET_WORDS: &[&str] =
    &["password", "passwd", "secret", "token", "apikey", "api_key", "authorization", "credential", "cookie", "private"];

fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase().replace('-', "_");
    SECRET_WORDS.iter().any(|w| key.contains(w))
}

fn mask(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret(k) {
                    *v = Value::String("[REDACTED]".to_owned());
                } else {
                    mask(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

/// `json` with every secret-looking member masked, cut to 4 KiB.
pub(crate) fn recordable(json: &str) -> String {
    let mut out = match serde_json::from_str::<Value>(json) {
        Ok(mut v) => {
            mask(&mut v);
            v.to_string()
        }
        Err(_) => String::new(),
    };
    if out.len() > MAX_LEN {
        let mut end = MAX_LEN;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_at_any_depth_and_values_are_bounded() {
        let got =
            recordable(r#"{"q":"x","Api-Key":"k","nested":[{"password":"p","ok":1}],"auth":{"accessToken":"t"}}"#);
        assert_eq!(
            got,
            r#"{"Api-Key":"[REDACTED]","auth":{"accessToken":"[REDACTED]"},"nested":[{"ok":1,"password":"[REDACTED]"}],"q":"x"}"#
        );
        let long = format!(r#"{{"text":"{}"}}"#, "é".repeat(5000));
        let cut = recordable(&long);
        assert!(cut.len() <= MAX_LEN + '…'.len_utf8() && cut.ends_with('…'));
    }
}
