//! What a caller may read: anonymous callers see public layers and public
//! fields; a key adds what its scopes grant.

use catalog::{Field, Layer};

use crate::Scope;

/// A valid (not revoked) key, as looked up.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyInfo {
    pub id: i64,
    pub name: String,
    pub scopes: Vec<Scope>,
}

/// The caller of a request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Access {
    pub key: Option<KeyInfo>,
}

impl Access {
    /// A caller without a key.
    pub fn anonymous() -> Self {
        Access { key: None }
    }

    pub fn with_key(key: KeyInfo) -> Self {
        Access { key: Some(key) }
    }

    fn any(&self, f: impl Fn(&Scope) -> bool) -> bool {
        self.key.as_ref().is_some_and(|k| k.scopes.iter().any(f))
    }

    pub fn is_admin(&self) -> bool {
        self.any(|s| *s == Scope::Admin)
    }

    /// May change the status of field reports.
    pub fn may_handle_reports(&self) -> bool {
        self.any(|s| matches!(s, Scope::Admin | Scope::Reports))
    }

    /// May read `layer` at all.
    pub fn can_read(&self, layer: &Layer) -> bool {
        layer.public
            || self.any(|s| match s {
                Scope::Admin => true,
                Scope::Layers(t) => t.covers(&layer.name),
                _ => false,
            })
    }

    /// Sees the restricted fields of `layer`.
    pub fn sees_restricted(&self, layer: &Layer) -> bool {
        self.can_read(layer)
            && self.any(|s| match s {
                Scope::Admin => true,
                Scope::Restricted(t) => t.covers(&layer.name),
                _ => false,
            })
    }

    /// The fields of `layer` this caller may see (none if it may not read it).
    ///
    /// ```
    /// # use catalog::{Field, FieldType, Layer};
    /// # fn field(n: &str, restricted: bool) -> Field { Field { name: n.into(), field_type: FieldType::Text, restricted, source: None } }
    /// # let layer = Layer { name: "thua_dat".into(), kind: catalog::LayerKind::Parcels, title: String::new(), description: None, geometry_type: "MultiPolygon".into(),
    /// #   srid: 9210, version: 1, feature_count: 0, bounds: None, minzoom: 0, maxzoom: 22, public: true,
    /// #   fields: vec![field("so_thua", false), field("ten_chu", true)], updated_at: chrono::Utc::now() };
    /// use keys::{Access, KeyInfo, Scope, Target};
    /// let names = |a: &Access| a.visible_fields(&layer).iter().map(|f| f.name.clone()).collect::<Vec<_>>();
    /// assert_eq!(names(&Access::anonymous()), ["so_thua"]);
    /// let officer = Access::with_key(KeyInfo { id: 1, name: "so tnmt".into(),
    ///     scopes: vec![Scope::Restricted(Target::Layer("thua_dat".into()))] });
    /// assert_eq!(names(&officer), ["so_thua", "ten_chu"]);
    /// ```
    pub fn visible_fields<'a>(&self, layer: &'a Layer) -> Vec<&'a Field> {
        if !self.can_read(layer) {
            return Vec::new();
        }
        let all = self.sees_restricted(layer);
        layer
            .fields
            .iter()
            .filter(|f| all || !f.restricted)
            .collect()
    }

    /// The restricted fields among `fields` (what an audit entry names).
    pub fn restricted_names(fields: &[&Field]) -> Vec<String> {
        fields
            .iter()
            .filter(|f| f.restricted)
            .map(|f| f.name.clone())
            .collect()
    }

    /// Cache partition of `layer` for this caller: callers who see the same
    /// fields of a layer share cached tiles of it.
    pub fn tier(&self, layer: &Layer) -> &'static str {
        if self.sees_restricted(layer) && layer.fields.iter().any(|f| f.restricted) {
            "restricted"
        } else {
            "public"
        }
    }
}
