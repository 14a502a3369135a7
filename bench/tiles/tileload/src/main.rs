//! tileload: fetch every URL of a file once (one "pass"), `--concurrency` at a
//! time over keep-alive connections, sending `Accept-Encoding: gzip` like a
//! browser (the body is not decompressed: `bytes` are bytes on the wire).
//! Prints one JSON object: requests, errors (non-2xx; 204 counts as success),
//! bytes, wall seconds, req/s, latency percentiles in ms.
//!
//!   tileload URLFILE [--concurrency 32] [--passes 1] [--label NAME]
//!            [--identity] [--per-url FILE]
//!
//! `--identity` asks for uncompressed tiles (to measure raw tile sizes);
//! `--per-url FILE` writes `status<TAB>bytes<TAB>ms<TAB>url` per request.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Sample {
    idx: usize,
    status: u16,
    bytes: usize,
    ms: f64,
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut file = None;
    let mut concurrency = 32usize;
    let mut passes = 1usize;
    let mut label = String::new();
    let mut identity = false;
    let mut per_url: Option<String> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--concurrency" | "-c" => concurrency = args.next().and_then(|v| v.parse().ok()).expect("--concurrency N"),
            "--passes" => passes = args.next().and_then(|v| v.parse().ok()).expect("--passes N"),
            "--label" => label = args.next().expect("--label NAME"),
            "--identity" => identity = true,
            "--per-url" => per_url = Some(args.next().expect("--per-url FILE")),
            "-h" | "--help" => {
                eprintln!("usage: tileload URLFILE [--concurrency 32] [--passes 1] [--label NAME] [--identity] [--per-url FILE]");
                return;
            }
            _ if file.is_none() => file = Some(a),
            _ => panic!("unexpected argument {a}"),
        }
    }
    let file = file.expect("usage: tileload URLFILE ...");
    let urls: Arc<Vec<String>> = Arc::new(
        std::fs::read_to_string(&file)
            .expect("cannot read the URL file")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(String::from)
            .collect(),
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("http client");
    let encoding = if identity { "identity" } else { "gzip" };

    let mut all: Vec<Sample> = Vec::with_capacity(urls.len() * passes);
    let start = Instant::now();
    for _ in 0..passes {
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::with_capacity(concurrency);
        for _ in 0..concurrency {
            let (client, urls, next) = (client.clone(), urls.clone(), next.clone());
            tasks.push(tokio::spawn(async move {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= urls.len() {
                        break;
                    }
                    let t0 = Instant::now();
                    let r = client
                        .get(&urls[i])
                        .header("Accept-Encoding", encoding)
                        .send()
                        .await;
                    let (status, bytes) = match r {
                        Ok(resp) => {
                            let s = resp.status().as_u16();
                            match resp.bytes().await {
                                Ok(b) => (s, b.len()),
                                Err(_) => (0, 0),
                            }
                        }
                        Err(_) => (0, 0),
                    };
                    out.push(Sample { idx: i, status, bytes, ms: t0.elapsed().as_secs_f64() * 1000.0 });
                }
                out
            }));
        }
        for t in tasks {
            all.extend(t.await.expect("worker"));
        }
    }
    let wall = start.elapsed().as_secs_f64();

    let ok = |s: u16| (200..300).contains(&s);
    let errors = all.iter().filter(|s| !ok(s.status)).count();
    let empty = all.iter().filter(|s| s.status == 204).count();
    let bytes: usize = all.iter().filter(|s| ok(s.status)).map(|s| s.bytes).sum();
    let nonempty = all.iter().filter(|s| ok(s.status) && s.bytes > 0).count();
    let mut lat: Vec<f64> = all.iter().map(|s| s.ms).collect();
    lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = all.len();
    let mean = if n > 0 { lat.iter().sum::<f64>() / n as f64 } else { 0.0 };

    if let Some(path) = per_url {
        let mut sorted: Vec<&Sample> = all.iter().collect();
        sorted.sort_by_key(|s| s.idx);
        let text: String = sorted
            .iter()
            .map(|s| format!("{}\t{}\t{:.3}\t{}\n", s.status, s.bytes, s.ms, urls[s.idx]))
            .collect();
        std::fs::write(path, text).expect("cannot write --per-url file");
    }

    let j = serde_json::json!({
        "label": label,
        "requests": n,
        "errors": errors,
        "status_204": empty,
        "nonempty": nonempty,
        "bytes": bytes,
        "mean_bytes": if n > errors { round3(bytes as f64 / (n - errors) as f64) } else { 0.0 },
        "encoding": encoding,
        "concurrency": concurrency,
        "wall_s": round3(wall),
        "req_per_s": round3(n as f64 / wall),
        "mean_ms": round3(mean),
        "p50_ms": round3(pct(&lat, 50.0)),
        "p90_ms": round3(pct(&lat, 90.0)),
        "p99_ms": round3(pct(&lat, 99.0)),
        "max_ms": round3(lat.last().copied().unwrap_or(0.0)),
    });
    println!("{j}");
}
