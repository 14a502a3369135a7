//! `geokho seed` (pre-render into the shared tile store) and `geokho export`
//! (a PMTiles or MBTiles file).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Args, Debug)]
pub struct Range {
    /// Layers, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    pub layers: Vec<String>,
    #[arg(long, default_value_t = 0)]
    pub minzoom: u8,
    #[arg(long, default_value_t = 16)]
    pub maxzoom: u8,
    /// west,south,east,north in WGS 84 (default: the layers' bounds).
    #[arg(long, value_delimiter = ',', num_args = 4)]
    pub bbox: Option<Vec<f64>>,
    /// Tiles rendered at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[command(flatten)]
    pub range: Range,
    /// pmtiles or mbtiles.
    #[arg(long)]
    pub format: String,
    /// Output file. `{version}` in it becomes the layers' data versions
    /// (e.g. `planning-v{version}.pmtiles`): a new name per version, so
    /// static storage and CDNs can cache each file forever.
    #[arg(long)]
    pub out: PathBuf,
}

fn bbox(r: &Range) -> anyhow::Result<Option<[f64; 4]>> {
    let Some(b) = &r.bbox else { return Ok(None) };
    let [w, s, e, n] = b[..] else {
        bail!("--bbox needs west,south,east,north")
    };
    if !(w < e
        && s < n
        && (-180.0..=180.0).contains(&w)
        && (-180.0..=180.0).contains(&e)
        && (-90.0..=90.0).contains(&s)
        && (-90.0..=90.0).contains(&n))
    {
        bail!("--bbox {w},{s},{e},{n}: expected west<east, south<north in degrees");
    }
    Ok(Some([w, s, e, n]))
}

async fn layers(pool: &sqlx::PgPool, r: &Range) -> anyhow::Result<Vec<Arc<catalog::Layer>>> {
    if r.minzoom > r.maxzoom || r.maxzoom > 24 {
        bail!(
            "--minzoom {} / --maxzoom {}: need minzoom <= maxzoom <= 24",
            r.minzoom,
            r.maxzoom
        );
    }
    let mut out = Vec::new();
    for n in &r.layers {
        let l = catalog::get_layer(pool, n)
            .await?
            .with_context(|| format!("--layers: no layer named '{n}' (see `geokho layers`)"))?;
        out.push(Arc::new(l));
    }
    Ok(out)
}

fn bar(total: u64) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} tiles {per_sec} eta {eta}")
            .expect("template")
            .progress_chars("=> "),
    );
    pb
}

pub async fn seed(url: &str, r: Range) -> anyhow::Result<()> {
    let pool = super::open_db(
        url,
        &catalog::DbOptions {
            max_connections: r.concurrency as u32 + 2,
            ..Default::default()
        },
    )
    .await?;
    let b = bbox(&r)?;
    for layer in layers(&pool, &r).await? {
        let area = b.or(layer.bounds).unwrap_or([0.0; 4]);
        let pb = bar(tiles::count_tiles(
            area,
            r.minzoom.max(layer.minzoom as u8),
            r.maxzoom.min(layer.maxzoom as u8),
        ));
        pb.set_message(layer.name.clone());
        let rep = tiles::seed(
            &pool,
            layer.clone(),
            (r.minzoom, r.maxzoom),
            b,
            r.concurrency,
            || pb.inc(1),
        )
        .await?;
        pb.finish_and_clear();
        println!(
            "{:<16} {:>8} tiles ({} empty), {:.1} MB stored at version {}",
            layer.name,
            rep.tiles,
            rep.empty,
            rep.bytes as f64 / 1e6,
            layer.version
        );
    }
    Ok(())
}

pub async fn export(url: &str, a: ExportArgs) -> anyhow::Result<()> {
    let format = match a.format.as_str() {
        "pmtiles" => tiles::Format::PmTiles,
        "mbtiles" => tiles::Format::MbTiles,
        f => bail!("--format {f}: use pmtiles or mbtiles"),
    };
    let pool = super::open_db(
        url,
        &catalog::DbOptions {
            max_connections: a.range.concurrency as u32 + 2,
            ..Default::default()
        },
    )
    .await?;
    let ls = layers(&pool, &a.range).await?;
    let out = versioned_path(&a.out, &ls);
    let rep = tiles::export(
        &pool,
        &ls,
        (a.range.minzoom, a.range.maxzoom),
        bbox(&a.range)?,
        format,
        &out,
        a.range.concurrency,
    )
    .await?;
    println!(
        "{}: {} tiles, {:.1} MB of MVT",
        out.display(),
        rep.tiles,
        rep.bytes as f64 / 1e6
    );
    Ok(())
}

/// `out` with `{version}` replaced by the layers' versions joined by `-`
/// (the same string tile URLs carry in `?v=`).
fn versioned_path(out: &std::path::Path, layers: &[std::sync::Arc<catalog::Layer>]) -> PathBuf {
    let v: Vec<String> = layers.iter().map(|l| l.version.to_string()).collect();
    PathBuf::from(out.to_string_lossy().replace("{version}", &v.join("-")))
}
