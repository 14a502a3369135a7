//! Every vector format GDAL reads besides shapefiles (GeoPackage, GeoJSON,
//! MapInfo TAB/MIF, DGN v7, FileGDB folders, ...), through the `gdal` crate,
//! as sources of the same pipeline: each layer of a dataset is one source.
//!
//! `FILE:LAYER` names one layer of a dataset ([`split_selector`]); a
//! dataset of several layers given without one is refused by [`open`] (the
//! CLI imports each of its layers to its own geokho layer, see [`layers`]).
//! Opening decides the geometry type (scanning the features when the layer
//! does not declare one, as GeoJSON, TAB and DGN may not), the fields and
//! their column types, the CRS (EPSG code or VN-2000 from the layer's SRS)
//! and the text encoding.

mod decide;
mod geom;
mod read;
mod values;

use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::Once;

use gdal::vector::{Layer, LayerAccess, LayerCaps};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use unicode_normalization::UnicodeNormalization;

use crate::encoding::TextEncoding;
use crate::error::ImportError;
use crate::schema;
use crate::source::{Reader, Source, SourceField};
use crate::srs;

use decide::{decide_srid, decide_target, decide_text, family, scan};
pub use geom::{Family, Target};
pub use read::produce;
pub use values::{Kind, TextMode};

/// Extensions of datasets found when a folder or archive is searched (a
/// `.json` or any other file GDAL opens is read when named explicitly).
pub const FOUND_IN_FOLDERS: &[&str] = &["gpkg", "geojson", "tab", "mif", "dgn"];

/// A layer of a GDAL dataset, as planned.
#[derive(Debug)]
pub struct OgrLayer {
    pub dataset: PathBuf,
    pub layer: String,
    pub driver: String,
    /// Per source field: GDAL field index and how it is read.
    pub fields: Vec<(usize, Kind)>,
    /// `None` when no feature has a geometry.
    pub target: Option<Target>,
    pub text: TextMode,
}

/// A layer of a dataset, for listing.
#[derive(Debug, Clone)]
pub struct LayerInfo {
    pub name: String,
    pub has_geometry: bool,
}

/// True for a folder that is one dataset (an ESRI File Geodatabase `.gdb`).
pub fn is_dataset_dir(p: &Path) -> bool {
    p.is_dir()
        && p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("gdb"))
}

/// Splits `FILE:LAYER` into the dataset path and the layer name. A path that
/// exists as given is never split.
///
/// ```
/// use std::path::{Path, PathBuf};
/// let (p, l) = importer::ogr::split_selector(Path::new("/no/such/x.gpkg:thua_dat"));
/// assert_eq!((p, l.as_deref()), (PathBuf::from("/no/such/x.gpkg:thua_dat"), None));
/// let dir = std::env::temp_dir();
/// let (p, l) = importer::ogr::split_selector(&dir.join("..:roads"));
/// assert_eq!((p, l.as_deref()), (dir.join(".."), Some("roads")));
/// ```
pub fn split_selector(p: &Path) -> (PathBuf, Option<String>) {
    if p.exists() {
        return (p.to_path_buf(), None);
    }
    let s = p.to_string_lossy();
    if let Some((file, layer)) = s.rsplit_once(':') {
        let file = PathBuf::from(file);
        if !layer.is_empty() && !layer.contains('/') && file.exists() {
            return (file, Some(layer.to_string()));
        }
    }
    (p.to_path_buf(), None)
}

fn quiet_gdal() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // GDAL's messages would go to stderr; errors reach the user through
        // ImportError, the rest is for the log.
        gdal::config::set_error_handler(|class, no, msg| {
            tracing::debug!(target: "gdal", ?class, no, "{msg}");
        });
    });
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Opens a dataset read-only, as vector data.
pub(crate) fn open_dataset(path: &Path) -> Result<Dataset, ImportError> {
    quiet_gdal();
    Dataset::open_ex(
        path,
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            ..Default::default()
        },
    )
    .map_err(|e| {
        let why = match e {
            gdal::errors::GdalError::NullPointer { msg, .. } if !msg.is_empty() => one_line(&msg),
            _ => "no GDAL driver recognises it as vector data".to_string(),
        };
        ImportError::file(
            path,
            format!(
                "cannot be read as a vector dataset ({why}): damaged, or not a format GDAL reads"
            ),
        )
    })
}

/// The layers of a dataset.
pub fn layers(path: &Path) -> Result<Vec<LayerInfo>, ImportError> {
    let ds = open_dataset(path)?;
    Ok(ds
        .layers()
        .map(|l| LayerInfo {
            name: l.name(),
            has_geometry: l.defn().geom_fields().count() > 0,
        })
        .collect())
}

fn names(ds: &Dataset) -> String {
    ds.layers().map(|l| l.name()).collect::<Vec<_>>().join(", ")
}

/// The layer `selector` names, or the only layer of the dataset.
pub(crate) fn pick_layer<'a>(
    ds: &'a Dataset,
    path: &Path,
    selector: Option<&str>,
) -> Result<Layer<'a>, ImportError> {
    match selector {
        Some(name) => ds.layer_by_name(name).map_err(|_| {
            ImportError::file(
                path,
                format!("has no layer '{name}'; its layers: {}", names(ds)),
            )
        }),
        None => match ds.layer_count() {
            0 => Err(ImportError::file(path, "holds no vector layer")),
            1 => ds
                .layer(0)
                .map_err(|e| ImportError::file(path, one_line(&e.to_string()))),
            n => Err(ImportError::file(
                path,
                format!(
                    "holds {n} layers ({}): name one as {}:<layer>, or import them all without --layer",
                    names(ds),
                    path.display()
                ),
            )),
        },
    }
}

/// A column name from a GDAL field name: Vietnamese letters lose their
/// marks (`Diện tích` -> `dien_tich`), then [`schema::sanitize_name`].
///
/// ```
/// assert_eq!(importer::ogr::column_name("Diện tích"), "dien_tich");
/// assert_eq!(importer::ogr::column_name("Đường"), "duong");
/// ```
pub fn column_name(name: &str) -> String {
    let plain: String = name
        .nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c => c,
        })
        .collect();
    schema::sanitize_name(plain.as_bytes())
}

/// Every file the dataset reads (every file of a folder dataset).
fn files_read(ds: &Dataset, path: &Path) -> Result<Vec<PathBuf>, ImportError> {
    let mut files: Vec<PathBuf> = Vec::new();
    if path.is_dir() {
        let mut stack = vec![path.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).map_err(|e| ImportError::file(&d, e.to_string()))? {
                let p = e.map_err(|e| ImportError::file(&d, e.to_string()))?.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.push(p);
                }
            }
        }
    } else {
        // SAFETY: GDALGetFileList returns a CSL list we own and free.
        unsafe {
            let list = gdal_sys::GDALGetFileList(ds.c_dataset());
            if !list.is_null() {
                let mut i = 0;
                while !(*list.add(i)).is_null() {
                    let p = PathBuf::from(CStr::from_ptr(*list.add(i)).to_string_lossy().as_ref());
                    if p.is_file() {
                        files.push(p);
                    }
                    i += 1;
                }
                gdal_sys::CSLDestroy(list);
            }
        }
        if !files.iter().any(|f| f == path) {
            files.push(path.to_path_buf());
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// Opens layer `selector` of the dataset at `path` (or its only layer) and
/// decides its geometry type, fields, CRS and encoding.
pub fn open(
    path: &Path,
    selector: Option<&str>,
    encoding: Option<TextEncoding>,
    srs_forced: Option<srs::Forced>,
) -> Result<Source, ImportError> {
    let ds = open_dataset(path)?;
    let driver = ds.driver().short_name();
    let mut layer = pick_layer(&ds, path, selector)?;
    let name = layer.name();
    let shown = if ds.layer_count() > 1 {
        PathBuf::from(format!("{}:{name}", path.display()))
    } else {
        path.to_path_buf()
    };
    let mut notes = Vec::new();
    let geom_fields: Vec<_> = layer
        .defn()
        .geom_fields()
        .map(|g| (g.name(), g.field_type()))
        .collect();
    let Some(&(_, declared)) = geom_fields.first() else {
        return Err(ImportError::file(
            &shown,
            "has no geometry column: a geokho layer needs geometry",
        ));
    };
    if geom_fields.len() > 1 {
        notes.push(format!(
            "{} geometry columns: only the first ({}) is imported",
            geom_fields.len(),
            geom_fields[0].0
        ));
    }
    let mut fields = Vec::new();
    let mut read = Vec::new();
    // SAFETY: the layer definition lives as long as the layer.
    unsafe {
        let defn = gdal_sys::OGR_L_GetLayerDefn(layer.c_layer());
        for i in 0..gdal_sys::OGR_FD_GetFieldCount(defn) {
            let fd = gdal_sys::OGR_FD_GetFieldDefn(defn, i);
            let fname = CStr::from_ptr(gdal_sys::OGR_Fld_GetNameRef(fd))
                .to_string_lossy()
                .into_owned();
            let kind = Kind::of(
                gdal_sys::OGR_Fld_GetType(fd),
                gdal_sys::OGR_Fld_GetSubType(fd),
            );
            if kind == Kind::Skip {
                notes.push(format!("field {fname} is binary: not imported"));
                continue;
            }
            fields.push(SourceField {
                column: column_name(&fname),
                name: fname,
                field_type: kind.field_type(),
            });
            read.push((i as usize, kind));
        }
    }
    let need_types = family(declared).is_none();
    let s = scan(&mut layer, &read, need_types, encoding.is_none());
    // Datetimes that only hold dates (FileGDB has no date type) are dates.
    for (j, (gi, kind)) in read.iter_mut().enumerate() {
        if *kind == Kind::DateTime && !s.timed.contains(gi) {
            *kind = Kind::DateTimeAsDate;
            fields[j].field_type = kind.field_type();
        }
    }
    let target = decide_target(declared, &s, &shown)?;
    let utf8_driver = layer.has_capability(LayerCaps::OLCStringsAsUTF8);
    let (enc, text) = decide_text(encoding, utf8_driver, &s.samples, &driver);
    let srid = decide_srid(layer.spatial_ref(), srs_forced, &shown)?;
    let records = layer.feature_count();
    if records > 0 && target.is_some() {
        if let Ok(e) = layer.get_extent() {
            srs::check_plausible(srid.value, [e.MinX, e.MinY, e.MaxX, e.MaxY])
                .map_err(|e| ImportError::file(&shown, e))?;
        }
    }
    if target.is_none() && records > 0 {
        notes.push("no feature has a geometry: every row gets a NULL geometry".into());
    }
    let files = files_read(&ds, path)?;
    Ok(Source {
        path: shown,
        records,
        geometry_type: target.map(|t| t.postgis_type()),
        fields,
        reader: Reader::Ogr(OgrLayer {
            dataset: path.to_path_buf(),
            layer: name,
            driver,
            fields: read,
            target,
            text,
        }),
        encoding: enc,
        srid,
        files,
        notes,
        index_rebuilt: false,
    })
}
