//! `layers.toml`: a batch of layer imports, one table per layer.
//!
//! ```toml
//! [[layer]]
//! name = "thua_dat"
//! kind = "parcels"
//! files = ["thua_dat/*.shp"]      # globs, relative to the manifest
//! srs = "vn2000:tien-giang"       # optional: otherwise each .prj
//! encoding = "auto"               # optional
//! title = "Thửa đất"              # optional
//! description = "Bản đồ địa chính 2024"  # optional
//! renames = { SOTHUA = "so_thua" }   # optional: DBF field -> column
//! restricted = ["ghi_chu"]           # optional: restricted besides personal
//!                                    # data (owner, certificate ...)
//! public_fields = ["so_gcn"]         # optional: personal data published by name
//! minzoom = 12                    # optional
//! public = false                  # optional: readable only with a layers: scope
//! ```
//!
//! Every option but `name` and `files` may be left out: the live version's
//! value is kept (`crate::settings`), or the kind's default for a new layer.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::encoding::TextEncoding;
use crate::error::ImportError;
use crate::settings::SettingsRequest;
use catalog::LayerKind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    layer: Vec<RawLayer>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLayer {
    name: String,
    kind: Option<String>,
    files: Vec<String>,
    srs: Option<String>,
    encoding: Option<String>,
    title: Option<String>,
    description: Option<String>,
    restricted: Option<Vec<String>>,
    public_fields: Option<Vec<String>>,
    renames: Option<HashMap<String, String>>,
    minzoom: Option<i32>,
    maxzoom: Option<i32>,
    public: Option<bool>,
}

/// One layer of a manifest, resolved.
#[derive(Debug, Clone)]
pub struct ManifestLayer {
    pub files: Vec<PathBuf>,
    pub layer: String,
    pub srs: Option<i32>,
    pub encoding: Option<TextEncoding>,
    pub settings: SettingsRequest,
}

impl ManifestLayer {
    /// Its files and the options of a plain import (replace, no dry run,
    /// not skipped when unchanged) over `connections` COPY connections.
    pub fn into_import(self, connections: usize) -> (Vec<PathBuf>, crate::ImportOptions) {
        let mut opts = crate::ImportOptions::new(self.layer, self.settings);
        opts.srs = self.srs;
        opts.encoding = self.encoding;
        opts.connections = connections;
        (self.files, opts)
    }
}

/// Parses `encoding` option values: `auto` means detect.
pub fn parse_encoding(s: &str) -> Result<Option<TextEncoding>, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(None);
    }
    TextEncoding::from_name(s).map(Some).ok_or_else(|| {
        format!("unknown encoding '{s}': use auto, utf8, cp1258, tcvn3, vni or latin1")
    })
}

/// Reads and resolves a manifest.
pub fn load(path: &Path) -> Result<Vec<ManifestLayer>, ImportError> {
    let err = |reason: String| ImportError::Manifest {
        path: path.to_path_buf(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let raw: Raw = toml::from_str(&text).map_err(|e| err(e.to_string().replace('\n', " ")))?;
    let base = path.parent().unwrap_or(Path::new("."));
    raw.layer
        .into_iter()
        .map(|l| {
            let at = |r: String| err(format!("layer {}: {r}", l.name));
            let kind: Option<LayerKind> =
                l.kind.as_deref().map(str::parse).transpose().map_err(at)?;
            let srs = l
                .srs
                .as_deref()
                .map(crate::srs::parse_srs)
                .transpose()
                .map_err(at)?;
            let encoding = match &l.encoding {
                Some(e) => parse_encoding(e).map_err(at)?,
                None => None,
            };
            let mut files = Vec::new();
            for pattern in &l.files {
                let full = base.join(pattern);
                // `FILE:LAYER` names one layer of a dataset: no glob.
                if crate::ogr::split_selector(&full).1.is_some() {
                    files.push(full);
                    continue;
                }
                let matches: Vec<PathBuf> = glob::glob(&full.to_string_lossy())
                    .map_err(|e| at(format!("bad pattern {pattern}: {e}")))?
                    .filter_map(Result::ok)
                    .collect();
                if matches.is_empty() {
                    return Err(at(format!("no file matches {pattern}")));
                }
                files.extend(matches);
            }
            Ok(ManifestLayer {
                files,
                layer: l.name,
                srs,
                encoding,
                settings: SettingsRequest {
                    kind,
                    title: l.title,
                    description: l.description,
                    minzoom: l.minzoom,
                    maxzoom: l.maxzoom,
                    public: l.public,
                    renames: l.renames,
                    restricted: l.restricted,
                    public_fields: l.public_fields,
                    change_kind: false,
                    widen_exposure: false,
                },
            })
        })
        .collect()
}
