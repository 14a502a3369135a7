//! Key scopes, written `layers:<name|*>`, `restricted:<name|*>`, `reports`
//! and `admin`.
//!
//! ```
//! use keys::{Scope, Target};
//! let s: Scope = "restricted:thua_dat".parse().unwrap();
//! assert_eq!(s, Scope::Restricted(Target::Layer("thua_dat".into())));
//! assert_eq!(s.to_string(), "restricted:thua_dat");
//! assert!("layers:*".parse::<Scope>().is_ok());
//! assert!("root".parse::<Scope>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

/// Which layers a scope covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    All,
    Layer(String),
}

impl Target {
    pub fn covers(&self, layer: &str) -> bool {
        match self {
            Target::All => true,
            Target::Layer(l) => l == layer,
        }
    }
}

/// One right of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Read layers that are not public.
    Layers(Target),
    /// See restricted fields (personal data) of layers.
    Restricted(Target),
    /// Change the status of citizen field reports (officers).
    Reports,
    /// Everything: all layers and fields, imports, purges, seeding, reports.
    Admin,
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let target = |t: &str| -> Result<Target, String> {
            if t == "*" {
                Ok(Target::All)
            } else if catalog::valid_layer_name(t) {
                Ok(Target::Layer(t.to_string()))
            } else {
                Err(format!("'{t}' is not a layer name"))
            }
        };
        match s.trim().split_once(':') {
            None if s.trim() == "admin" => Ok(Scope::Admin),
            None if s.trim() == "reports" => Ok(Scope::Reports),
            Some(("layers", t)) => Ok(Scope::Layers(target(t)?)),
            Some(("restricted", t)) => Ok(Scope::Restricted(target(t)?)),
            _ => Err(format!(
                "unknown scope '{s}': use layers:<layer|*>, restricted:<layer|*>, reports or admin"
            )),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = |t: &Target| match t {
            Target::All => "*".to_string(),
            Target::Layer(l) => l.clone(),
        };
        match self {
            Scope::Layers(x) => write!(f, "layers:{}", t(x)),
            Scope::Restricted(x) => write!(f, "restricted:{}", t(x)),
            Scope::Reports => f.write_str("reports"),
            Scope::Admin => f.write_str("admin"),
        }
    }
}

/// Parses a comma-separated list of scopes.
///
/// ```
/// let s = keys::scope::parse_list("layers:*, restricted:thua_dat").unwrap();
/// assert_eq!(s.len(), 2);
/// assert!(keys::scope::parse_list("").is_err());
/// ```
pub fn parse_list(s: &str) -> Result<Vec<Scope>, String> {
    let v: Vec<Scope> = s
        .split(',')
        .filter(|p| !p.trim().is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    if v.is_empty() {
        return Err("give at least one scope".into());
    }
    Ok(v)
}
