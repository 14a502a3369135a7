//! SQL identifier quoting for names that come from the catalog.

/// Quotes an identifier for SQL (`"name"`, doubling embedded quotes).
///
/// Only catalog names reach this function; user text never becomes SQL.
///
/// ```
/// assert_eq!(catalog::quote_ident("thua_dat"), "\"thua_dat\"");
/// assert_eq!(catalog::quote_ident("a\"b"), "\"a\"\"b\"");
/// ```
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Whether `name` is acceptable as a layer name: 1-40 of `a-z0-9_`, starting
/// with a letter (so `<name>_v<version>` still fits PostgreSQL's 63 bytes),
/// without `__` (reserved for companion tables such as `<name>__edges`).
///
/// ```
/// assert!(catalog::valid_layer_name("thua_dat"));
/// assert!(!catalog::valid_layer_name("Thua Dat"));
/// assert!(!catalog::valid_layer_name("x; drop table y"));
/// assert!(!catalog::valid_layer_name("duong_bo__edges"));
/// ```
pub fn valid_layer_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 40
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
        && !name.contains("__")
}
