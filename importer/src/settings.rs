//! The settings a new layer version is published with, and what it changes
//! against the live version.
//!
//! Each setting (kind, title, description, zoom range, layer visibility,
//! renames, restricted and public fields) is the one the operator gave, else
//! the live version's, else the kind's default: a routine re-import that
//! repeats none of them publishes the layer as it was. Two changes need an
//! explicit confirmation, because clients and the public see them: a change
//! of kind (`--change-kind`) and any widening of exposure
//! (`--widen-exposure`): a restricted field becoming public, a private layer
//! becoming public, or a personal-data field published.

use std::collections::{BTreeMap, HashMap};

use catalog::{is_personal, Field, LayerKind, LayerSettings, LiveLayer};

use crate::error::ImportError;
use crate::schema::{sanitize_name, Inherited, SchemaOptions};

/// What the operator asked for; `None` keeps the live version's value.
#[derive(Debug, Clone, Default)]
pub struct SettingsRequest {
    pub kind: Option<LayerKind>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub minzoom: Option<i32>,
    pub maxzoom: Option<i32>,
    /// Layer-level visibility: readable without a `layers:` scope.
    pub public: Option<bool>,
    pub renames: Option<HashMap<String, String>>,
    pub restricted: Option<Vec<String>>,
    pub public_fields: Option<Vec<String>>,
    /// Confirms a change of the layer's kind.
    pub change_kind: bool,
    /// Confirms a widening of exposure.
    pub widen_exposure: bool,
}

impl SettingsRequest {
    /// A request for a layer of `kind`, every other setting kept.
    pub fn of_kind(kind: LayerKind) -> Self {
        SettingsRequest {
            kind: Some(kind),
            ..Default::default()
        }
    }
}

/// The settings of the version to publish.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub kind: LayerKind,
    pub title: String,
    pub zoom: (i32, i32),
    pub public: bool,
    /// As stored with the version (what the next import inherits).
    pub settings: LayerSettings,
    pub schema: SchemaOptions,
    /// The live version's kind, when this import changes it.
    pub kind_from: Option<LayerKind>,
}

/// Resolves `req` against the live version of `layer` (`None`: a new layer).
pub fn resolve(
    layer: &str,
    req: &SettingsRequest,
    live: Option<&LiveLayer>,
) -> Result<Resolved, ImportError> {
    let err = |reason: String| ImportError::layer(layer, reason);
    let live_kind = live.map(|l| l.layer.kind);
    if let Some(k) = live_kind.filter(|k| k.api_managed()) {
        return Err(err(format!(
            "this layer is written by the API ({k}); import into another layer name"
        )));
    }
    let kind = req.kind.or(live_kind).unwrap_or(LayerKind::Generic);
    if kind.api_managed() {
        return Err(err(format!(
            "--kind {kind}: layers of this kind are written by the API, not imported"
        )));
    }
    let kind_from = live_kind.filter(|k| *k != kind);
    if let (Some(from), false) = (kind_from, req.change_kind) {
        return Err(err(format!(
            "the live layer is of kind {from} and this import says {kind}: pass --change-kind to change it \
             (its title, zoom range and server indexes follow the kind), or --kind {from} to keep it"
        )));
    }
    let stored = live.map(stored_settings).unwrap_or_default();
    // A title or zoom range that was the old kind's default follows the kind.
    let kept_title = live
        .map(|l| l.layer.title.clone())
        .filter(|t| kind_from.is_none_or(|k| t != k.default_title()));
    let title = req
        .title
        .clone()
        .or(kept_title)
        .unwrap_or_else(|| kind.default_title().to_string());
    let kept_zoom = live
        .map(|l| (l.layer.minzoom, l.layer.maxzoom))
        .filter(|z| kind_from.is_none_or(|k| *z != k.zoom_range()));
    let (d0, d1) = kept_zoom.unwrap_or_else(|| kind.zoom_range());
    let zoom = (req.minzoom.unwrap_or(d0), req.maxzoom.unwrap_or(d1));
    if !(0..=24).contains(&zoom.0) || !(0..=24).contains(&zoom.1) || zoom.0 > zoom.1 {
        return Err(err(format!(
            "--minzoom {} --maxzoom {}: zooms are 0-24 and minzoom <= maxzoom",
            zoom.0, zoom.1
        )));
    }
    let public = req.public.or(live.map(|l| l.layer.public)).unwrap_or(true);
    let inherited = Inherited {
        renames: req.renames.is_none() && live.is_some(),
        restricted: req.restricted.is_none() && live.is_some(),
        public: req.public_fields.is_none() && live.is_some(),
    };
    let renames: BTreeMap<String, String> = match &req.renames {
        Some(r) => r.iter().map(|(a, b)| (a.clone(), b.clone())).collect(),
        None => stored.renames.clone(),
    };
    let mut restricted = req
        .restricted
        .clone()
        .unwrap_or_else(|| stored.restricted.clone());
    let mut public_fields = req
        .public_fields
        .clone()
        .unwrap_or_else(|| stored.public_fields.clone());
    // What the operator names now wins over what was inherited.
    let named = |list: &[String], n: &String| {
        list.iter()
            .any(|x| sanitize_name(x.as_bytes()) == sanitize_name(n.as_bytes()))
    };
    if inherited.public && !inherited.restricted {
        public_fields.retain(|n| !named(&restricted, n));
    }
    if inherited.restricted && !inherited.public {
        restricted.retain(|n| !named(&public_fields, n));
    }
    let settings = LayerSettings {
        description: req.description.clone().or(stored.description),
        renames,
        restricted,
        public_fields,
    };
    let schema = SchemaOptions {
        renames: settings.renames.clone().into_iter().collect(),
        restricted: settings.restricted.clone(),
        public: settings.public_fields.clone(),
        inherited,
    };
    Ok(Resolved {
        kind,
        title,
        zoom,
        public,
        settings,
        schema,
        kind_from,
    })
}

/// The live version's settings; for versions published before settings were
/// stored, read back from its fields (source names, restricted flags).
fn stored_settings(live: &LiveLayer) -> LayerSettings {
    if let Some(s) = &live.settings {
        return s.clone();
    }
    let personal = |f: &Field| is_personal(&f.name) || f.source.as_deref().is_some_and(is_personal);
    LayerSettings {
        description: live.layer.description.clone(),
        renames: live
            .layer
            .fields
            .iter()
            .filter_map(|f| {
                let src = f.source.as_ref()?;
                (sanitize_name(src.as_bytes()) != f.name).then(|| (src.clone(), f.name.clone()))
            })
            .collect(),
        restricted: live
            .layer
            .fields
            .iter()
            .filter(|f| f.restricted && !personal(f))
            .map(|f| f.name.clone())
            .collect(),
        public_fields: live
            .layer
            .fields
            .iter()
            .filter(|f| !f.restricted && personal(f))
            .map(|f| f.name.clone())
            .collect(),
    }
}

/// How the new version would widen exposure against the live one (`None`:
/// a new layer, where only published personal data counts), one line each.
///
/// ```
/// use catalog::{Field, FieldType};
/// let f = |name: &str, restricted| Field { name: name.into(), field_type: FieldType::Text, restricted, source: None };
/// let new = [f("so_thua", false), f("ten_chu", false)];
/// assert_eq!(importer::settings::widening(None, &new, true), ["field ten_chu holds personal data and would be public"]);
/// ```
pub fn widening(live: Option<&LiveLayer>, fields: &[Field], public: bool) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(l) = live.filter(|l| !l.layer.public && public) {
        out.push(format!(
            "layer {} is private and would be public",
            l.layer.name
        ));
    }
    for f in fields.iter().filter(|f| !f.restricted) {
        let before = live.and_then(|l| l.layer.fields.iter().find(|x| x.name == f.name));
        match before {
            Some(b) if b.restricted => out.push(format!(
                "field {} is restricted and would be public",
                f.name
            )),
            Some(_) => {}
            None if is_personal(&f.name) || f.source.as_deref().is_some_and(is_personal) => out
                .push(format!(
                    "field {} holds personal data and would be public",
                    f.name
                )),
            None => {}
        }
    }
    out
}

/// Changes of the schema against the live version's fields, one line each:
/// fields lost (or cut short to a DBF's 10 characters), types changed,
/// fields added, fields newly restricted.
///
/// ```
/// use catalog::{Field, FieldType::*};
/// let f = |name: &str, t| Field { name: name.into(), field_type: t, restricted: false, source: None };
/// let live = [f("tinh_trang_gcn", Text), f("dien_tich", Float8), f("ghi_chu", Text)];
/// let new = [f("tinh_trang", Text), f("dien_tich", Text)];
/// assert_eq!(importer::settings::schema_changes(&live, &new), [
///     "field tinh_trang_gcn lost: the files have tinh_trang, cut short (DBF names hold 10 characters): rename it back with --rename or the manifest's renames",
///     "field ghi_chu lost",
///     "field dien_tich: double precision -> text",
/// ]);
/// ```
pub fn schema_changes(live: &[Field], new: &[Field]) -> Vec<String> {
    let mut out = Vec::new();
    let added: Vec<&Field> = new
        .iter()
        .filter(|f| !live.iter().any(|l| l.name == f.name))
        .collect();
    for lost in lost_fields(live, new) {
        match added.iter().find(|a| lost.starts_with(&a.name)) {
            Some(a) => out.push(format!(
                "field {lost} lost: the files have {}, cut short (DBF names hold 10 characters): \
                 rename it back with --rename or the manifest's renames",
                a.name
            )),
            None => out.push(format!("field {lost} lost")),
        }
    }
    for f in new {
        if let Some(l) = live.iter().find(|l| l.name == f.name) {
            if l.field_type != f.field_type {
                out.push(format!(
                    "field {}: {} -> {}",
                    f.name,
                    l.field_type.sql(),
                    f.field_type.sql()
                ));
            }
            if f.restricted && !l.restricted {
                out.push(format!("field {} is now restricted", f.name));
            }
        }
    }
    for a in added
        .iter()
        .filter(|a| !live.iter().any(|l| l.name.starts_with(&a.name)))
    {
        out.push(format!("new field {}", a.name));
    }
    out
}

/// The fields of `live` that `new` lacks.
pub fn lost_fields(live: &[Field], new: &[Field]) -> Vec<String> {
    live.iter()
        .filter(|l| !new.iter().any(|f| f.name == l.name))
        .map(|l| l.name.clone())
        .collect()
}
